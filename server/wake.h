/* Wake-on-LAN from fleetcastd: a wake job sends the magic packet of each of
 * its machines (proto/wol.h) to a broadcast address, UDP port 9, in a few
 * rounds over about a minute, on the daemon's loop. The daemon owns its
 * jobs (struct fc_daemon's wake list, this file's): one ends by itself
 * after its last round, can be cancelled, and is freed by its last close
 * callback; fc_wake_stop_all() at shutdown. Callers: the API's
 * POST /api/v1/wake (api.c), and schedules before their session. */
#ifndef FC_SERVER_WAKE_H
#define FC_SERVER_WAKE_H

#include <jansson.h>
#include <stddef.h>

#include "proto/wol.h"

#define FC_WAKE_MACS_MAX 1024 /* machines of one job: a lab, FC_MAX_RECEIVERS */
#define FC_WAKE_JOBS_MAX 32   /* jobs at once: the API cannot pile up timers */

struct fc_daemon;
struct fc_wake;

/* Starts waking the n machines macs (text, any spelling fc_mac_parse takes)
 * on iface: to addr ("A.B.C.D" or "A.B.C.D:PORT") if not NULL, else to
 * iface's IPv4 broadcast address, port 9. The first round goes out before
 * this returns. The job's id (> 0), or a negative code with *why saying
 * what is wrong (a bad MAC, no such interface, too many jobs). */
int fc_wake_start(struct fc_daemon *d, const char *iface, const char *addr,
                  const char (*macs)[FC_MAC_TEXT], size_t n, char *why, size_t cap);
/* The job id as JSON (docs/api.md, "Wake"), or NULL if it has ended. */
json_t *fc_wake_json(const struct fc_daemon *d, int id);
/* Stops job id before its remaining rounds; FC_EINVAL if there is none. */
int fc_wake_cancel(struct fc_daemon *d, int id);
/* Every job stops (shutdown); each is freed by its close callbacks. */
void fc_wake_stop_all(struct fc_daemon *d);

#endif
