/* Logging sink. The settings are written once at program start, before any
 * thread exists, and only read afterwards; a line is built in one buffer and
 * written with one write() so lines from worker threads never interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_prog = "fleetcast";
static enum fc_log_level log_min = FC_LOG_INFO;
static unsigned log_errors; /* only ever incremented: a count, not a setting */

void fc_log_init(const char *progname, enum fc_log_level min_level)
{
    log_prog = progname;
    log_min = min_level;
}

void fc_log_set_level(enum fc_log_level min_level)
{
    log_min = min_level;
}

void fc_log(enum fc_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char line[1024];
    va_list ap;
    int n;

    if (level == FC_LOG_ERROR)
        __atomic_add_fetch(&log_errors, 1, __ATOMIC_RELAXED);
    if (level < log_min)
        return;
    n = snprintf(line, sizeof(line), "%s: %s: ", log_prog, names[level]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}

unsigned fc_log_error_count(void)
{
    return __atomic_load_n(&log_errors, __ATOMIC_RELAXED);
}
