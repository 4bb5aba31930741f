/* fleetcast-recv's console (see console.h): event lines with the session and
 * machine, and the progress bar (common/progress.c), network thread only. */
#include "client/console.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/meter.h"

void fc__rlog(uint32_t session, const char *name, enum fc_log_level level, const char *fmt, ...)
{
    char msg[900];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (session)
        fc_log(level, "session %08x %s: %s", (unsigned)session, name, msg);
    else
        fc_log(level, "%s: %s", name, msg);
}

struct fc_console {
    struct fc_meter bar;
    int started;
};

struct fc_console *fc__console_new(uint64_t total, int quiet)
{
    struct fc_console *c = calloc(1, sizeof(*c));

    if (c)
        fc_meter_start(&c->bar, "receiving", total, quiet);
    return c;
}

void fc__console_update(struct fc_console *c, uint64_t done)
{
    if (c)
        fc_meter_update(&c->bar, done);
}

void fc__console_end(struct fc_console *c, uint64_t done)
{
    if (c)
        fc_meter_end(&c->bar, done);
}

void fc__console_free(struct fc_console *c)
{
    free(c);
}
