/* Logging sink. The settings are written once at program start, before any
 * thread exists, and only read afterwards; a line is built in one buffer and
 * written with one write() so lines from worker threads never interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "fleetcast";
static enum fc_log_level log_min = FC_LOG_INFO;
static struct timespec log_start; /* tv_sec 0 and tv_nsec 0: no elapsed time shown */
static unsigned log_errors;       /* only ever incremented: a count, not a setting */

void fc_log_init(const char *progname, enum fc_log_level min_level)
{
    log_prog = progname;
    log_min = min_level;
}

void fc_log_set_level(enum fc_log_level min_level)
{
    log_min = min_level;
}

void fc_log_show_elapsed(void)
{
    if (clock_gettime(CLOCK_MONOTONIC, &log_start) != 0 ||
        (log_start.tv_sec == 0 && log_start.tv_nsec == 0))
        log_start.tv_nsec = 1; /* shown from (about) now on, whatever the clock said */
}

/* "[   12.345] " into buf when elapsed time is on, else nothing; returns its length. */
static int log_elapsed(char *buf, size_t size)
{
    struct timespec now;
    long long ms;

    if ((log_start.tv_sec == 0 && log_start.tv_nsec == 0) ||
        clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return 0;
    ms = (long long)(now.tv_sec - log_start.tv_sec) * 1000 +
         (now.tv_nsec - log_start.tv_nsec) / 1000000;
    if (ms < 0)
        ms = 0;
    return snprintf(buf, size, "[%5lld.%03lld] ", ms / 1000, ms % 1000);
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
    n = snprintf(line, sizeof(line), "%s: ", log_prog);
    n += log_elapsed(line + n, sizeof(line) - (size_t)n);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", names[level]);
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
