/* Times an operator types, in the CLI's own time zone (`report --since`,
 * `schedule create --at`): one reader for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

/* N with a unit s/m/h/d in seconds, or -1. */
static long long span(const char *v)
{
    char *end;
    long long n = strtoll(v, &end, 10);

    if (end == v || n < 0 || !end[0] || end[1])
        return -1;
    switch (end[0]) {
    case 's':
        return n;
    case 'm':
        return n * 60;
    case 'h':
        return n * 3600;
    case 'd':
        return n * 86400;
    default:
        return -1;
    }
}

long long fc_cli_time(const char *v, time_t now, int ahead)
{
    struct tm tm;
    char *end;
    long long n;
    int h, m;

    memset(&tm, 0, sizeof(tm));
    end = strptime(v, "%Y-%m-%d %H:%M", &tm);
    if (end && !*end) {
        tm.tm_isdst = -1;
        return (long long)mktime(&tm);
    }
    if (sscanf(v, "%d:%d", &h, &m) == 2 && strlen(v) <= 5 && h >= 0 && h < 24 && m >= 0 && m < 60) {
        localtime_r(&now, &tm);
        tm.tm_hour = h, tm.tm_min = m, tm.tm_sec = 0, tm.tm_isdst = -1;
        n = (long long)mktime(&tm);
        if ((ahead && n > now) || (!ahead && n <= now))
            return n;
        /* the day before or after, by the calendar: 23 or 25 hours across
         * a daylight-saving change */
        localtime_r(&now, &tm);
        tm.tm_mday += ahead ? 1 : -1;
        tm.tm_hour = h, tm.tm_min = m, tm.tm_sec = 0, tm.tm_isdst = -1;
        return (long long)mktime(&tm);
    }
    if (ahead && v[0] == '+')
        return (n = span(v + 1)) < 0 ? -1 : now + n;
    if (!ahead && (n = span(v)) >= 0)
        return now - n;
    n = strtoll(v, &end, 10);
    return end != v && !*end && n > 0 ? n : -1;
}
