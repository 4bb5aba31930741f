/* The passive PXE watcher (issue 10): which machines are PXE booting on the
 * lab's interfaces, from the DHCPDISCOVERs and DHCPREQUESTs their firmware
 * broadcasts. libpcap on each --watch-iface with a BPF filter on DHCP; the
 * capture's descriptor is polled by fleetcastd's libuv loop. It only
 * listens: it opens no socket and never sends a packet (docs/security.md).
 *
 * Two parts:
 *   pxetable.c  the bounded table of MACs seen (at most cap, the least
 *               recently seen evicted): memory fixed when it is made, so a
 *               flood of made-up MACs cannot grow the daemon
 *   pxewatch.c  the captures, each frame into the table, one log line per
 *               machine booting, the on_seen callback
 * Loop thread only: the console reads a JSON copy api.c publishes. */
#ifndef FC_PXEWATCH_H
#define FC_PXEWATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/dhcp.h"
#include "proto/wol.h"

#define FC_PXE_TABLE_DEFAULT 4096 /* MACs remembered */
#define FC_PXE_TEXT_MAX 64        /* vendor class and host name kept, bytes */
#define FC_PXE_IFNAME_MAX 16      /* IFNAMSIZ, with the NUL */
#define FC_WATCH_IFACES_MAX 8     /* --watch-iface interfaces */
/* A machine seen this recently and not yet a receiver is "PXE booting";
 * seen again after a longer quiet, it is booting anew (logged again). */
#define FC_PXE_BOOTING_SECONDS 120

/* One machine as the watcher saw it: its last PXE DHCP message. */
struct fc_pxe_seen {
    uint8_t mac[6];
    char mac_text[FC_MAC_TEXT];    /* "52:54:00:12:34:56", lower case (fc_mac_format) */
    int64_t first_seen, last_seen; /* wall clock, unix seconds */
    double last_mono;              /* monotonic seconds of the last message */
    uint64_t count;                /* PXE DISCOVERs and REQUESTs from it */
    uint8_t msg_type;              /* of the last (enum fc_dhcp_type) */
    uint32_t xid;
    uint8_t has_arch; /* option 93 present; arch is its first entry */
    uint16_t arch;
    uint8_t has_uuid; /* option 97 */
    uint8_t uuid[16];
    char vendor[FC_PXE_TEXT_MAX + 1];   /* option 60, cut at FC_PXE_TEXT_MAX */
    char hostname[FC_PXE_TEXT_MAX + 1]; /* option 12, "" if absent */
    char iface[FC_PXE_IFNAME_MAX];      /* where it was heard last */
};

/* ---- pxetable.c ---- */

struct fc_pxe_table;

/* All of its memory is allocated here, none later. */
struct fc_pxe_table *fc_pxe_table_new(size_t cap);
void fc_pxe_table_free(struct fc_pxe_table *t);
/* Records m (a PXE message) heard on iface. Returns its entry (valid until
 * the next record) and sets *fresh: 1 if the MAC was not in the table or
 * had been quiet for FC_PXE_BOOTING_SECONDS (a new boot), else 0. A new MAC
 * in a full table takes the place of the least recently seen one. */
const struct fc_pxe_seen *fc_pxe_table_record(struct fc_pxe_table *t, const struct fc_dhcp *m,
                                              const char *iface, int64_t wall, double mono,
                                              int *fresh);
const struct fc_pxe_seen *fc_pxe_table_lookup(const struct fc_pxe_table *t, const uint8_t mac[6]);
/* The entries from the most recently seen: next(t, NULL) is the newest,
 * next(t, e) the one seen before e, NULL after the oldest. */
const struct fc_pxe_seen *fc_pxe_table_next(const struct fc_pxe_table *t,
                                            const struct fc_pxe_seen *e);
size_t fc_pxe_table_count(const struct fc_pxe_table *t);
size_t fc_pxe_table_cap(const struct fc_pxe_table *t);
uint64_t fc_pxe_table_evicted(const struct fc_pxe_table *t);
/* Bytes the table holds: fixed from fc_pxe_table_new on. */
size_t fc_pxe_table_bytes(const struct fc_pxe_table *t);

/* ---- pxewatch.c ---- */

struct fc_pxewatch;

struct fc_pxewatch_counters {
    uint64_t frames;     /* captured by the filter */
    uint64_t pxe;        /* PXE DISCOVERs and REQUESTs recorded */
    uint64_t other_dhcp; /* well-formed DHCP that is not a PXE boot (other clients, replies) */
    uint64_t rejected;   /* malformed: not recorded */
    uint64_t not_logged; /* new machines past the log's rate limit (a flood) */
};

typedef void (*fc_pxe_seen_cb)(void *ctx, const struct fc_pxe_seen *e);

/* A watcher with an empty table of cap MACs and no capture yet (loop may be
 * NULL when nothing will be listened to: unit tests feed it frames). */
struct fc_pxewatch *fc_pxewatch_new(uv_loop_t *loop, size_t cap);
/* Starts capturing on iface (needs CAP_NET_RAW; the error says so). */
int fc_pxewatch_listen(struct fc_pxewatch *w, const char *iface);
/* fleetcastd's watcher: a table of FC_PXE_TABLE_DEFAULT MACs listening on
 * each of ifaces; on failure nothing is left open and *out is NULL. */
int fc_pxewatch_open(struct fc_pxewatch **out, uv_loop_t *loop,
                     const char (*ifaces)[FC_PXE_IFNAME_MAX], unsigned n);
/* One callback (the store's, later), called in the loop thread for every
 * message recorded, with the entry as it is now. */
void fc_pxewatch_on_seen(struct fc_pxewatch *w, fc_pxe_seen_cb fn, void *ctx);
/* One captured Ethernet frame heard on iface, at these clocks: recorded if
 * it is a PXE DHCPDISCOVER or DHCPREQUEST. Returns 1 if recorded, 0 if not
 * (counted as other DHCP or rejected). */
int fc_pxewatch_feed(struct fc_pxewatch *w, const uint8_t *frame, size_t len, const char *iface,
                     int64_t wall, double mono);
const struct fc_pxe_table *fc_pxewatch_table(const struct fc_pxewatch *w);
const struct fc_pxe_seen *fc_pxewatch_lookup(const struct fc_pxewatch *w, const uint8_t mac[6]);
/* Bumped by every message recorded: the console rebuilds its list on change. */
uint64_t fc_pxewatch_generation(const struct fc_pxewatch *w);
struct fc_pxewatch_counters fc_pxewatch_counters(const struct fc_pxewatch *w);
/* The interfaces listened to: i < count. */
unsigned fc_pxewatch_iface_count(const struct fc_pxewatch *w);
const char *fc_pxewatch_iface(const struct fc_pxewatch *w, unsigned i);
/* Stops every capture; the watcher is freed when the last poll handle's
 * close callback has run (at once if it had none). */
void fc_pxewatch_close(struct fc_pxewatch *w);

/* Option 97's 16 bytes as UUID text (8-4-4-4-12 hex digits), in the order
 * they came on the wire. */
void fc_pxe_uuid_text(const uint8_t uuid[16], char out[37]);

#endif
