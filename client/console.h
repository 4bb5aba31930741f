/* What fleetcast-recv shows the operator: one log line per event, prefixed
 * with the session id and the machine's name, and the progress bar over the
 * image's disk bytes (common/meter.h), drawn by the network thread only. */
#ifndef FC_CLIENT_CONSOLE_H
#define FC_CLIENT_CONSOLE_H

#include <stdint.h>

#include "common/log.h"

void fc__rlog(uint32_t session, const char *name, enum fc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct fc_console;

struct fc_console *fc__console_new(uint64_t total, int quiet);
/* Redraws at most a few times a second; call as often as convenient. */
void fc__console_update(struct fc_console *c, uint64_t done);
void fc__console_end(struct fc_console *c, uint64_t done);
void fc__console_free(struct fc_console *c);

#endif
