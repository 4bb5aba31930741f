/* Host name rules (hostname.h). Strict on purpose: a name goes into a
 * written system's /etc/hostname and /etc/hosts, and into hook scripts'
 * environment, so nothing but letters, digits, hyphens and dots passes. */
#include "common/hostname.h"

#include <string.h>

static int label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int fc_hostname_valid(const char *name)
{
    size_t i, len, start = 0;

    if (!name)
        return 0;
    len = strlen(name);
    if (len == 0 || len > FC_HOSTNAME_MAX)
        return 0;
    for (i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            if (!label_char(name[i]))
                return 0;
            continue;
        }
        /* the label name[start..i) */
        if (i == start || name[start] == '-' || name[i - 1] == '-')
            return 0;
        start = i + 1;
    }
    return 1;
}
