/* A session's host names by MAC (names.h). */
#include "server/names.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/hostname.h"
#include "common/log.h"

static struct fc_name *slot(struct fc_names *nm, const uint8_t mac[FC_MAC_LEN])
{
    struct fc_name *e;
    uint32_t i;

    for (i = 0; i < nm->n; i++)
        if (!memcmp(nm->e[i].mac, mac, FC_MAC_LEN))
            return &nm->e[i];
    if (nm->n == FC_NAMES_MAX)
        return NULL;
    e = realloc(nm->e, (nm->n + 1) * sizeof(*e));
    if (!e)
        return NULL;
    nm->e = e;
    memset(&e[nm->n], 0, sizeof(*e));
    memcpy(e[nm->n].mac, mac, FC_MAC_LEN);
    return &e[nm->n++];
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return FC_EINVAL;
}

enum { LINE_OK, LINE_SKIP, LINE_NO_COMMA, LINE_BAD_MAC };

/* One "MAC,hostname" line, trimmed; LINE_SKIP for a blank, a comment or
 * the header. */
static int parse_line(char *line, uint8_t mac[FC_MAC_LEN], char **host)
{
    char *comma, *end;

    line += strspn(line, " \t\r");
    end = line + strlen(line);
    while (end > line && strchr(" \t\r", end[-1]))
        *--end = 0;
    if (!*line || *line == '#')
        return LINE_SKIP;
    comma = strchr(line, ',');
    if (!comma)
        return LINE_NO_COMMA;
    *comma = 0;
    *host = comma + 1 + strspn(comma + 1, " \t");
    for (end = comma; end > line && strchr(" \t", end[-1]);)
        *--end = 0;
    if (!strcasecmp(line, "mac"))
        return LINE_SKIP;
    return fc_mac_parse(line, mac) ? LINE_BAD_MAC : LINE_OK;
}

int fc_names_parse(const char *csv, struct fc_names *out, char *why, size_t cap)
{
    char *copy = strdup(csv ? csv : ""), *line, *save = NULL;
    unsigned no = 0;
    int rc = copy ? 0 : FC_ENOMEM;

    for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line && !rc;
         line = strtok_r(NULL, "\n", &save)) {
        uint8_t mac[FC_MAC_LEN];
        struct fc_name *e;
        char *host = NULL;
        int r = parse_line(line, mac, &host);

        no++;
        if (r == LINE_SKIP)
            continue;
        if (r == LINE_NO_COMMA)
            rc = bad(why, cap, "names line %u: want MAC,hostname", no);
        else if (r == LINE_BAD_MAC)
            rc = bad(why, cap, "names line %u: bad MAC '%.20s'", no, line);
        else if (!fc_hostname_valid(host))
            rc = bad(why, cap, "names line %u: '%.64s' is not a host name (RFC 1123)", no, host);
        else if (out && !(e = slot(out, mac)))
            rc = bad(why, cap, "names: more than %d machines", FC_NAMES_MAX);
        else if (out) {
            snprintf(e->hostname, sizeof(e->hostname), "%s", host);
            e->from_list = 1;
        }
    }
    free(copy);
    return rc;
}

/* The inventory's machines, where the session's list says nothing. */
static void add_inventory(struct fc_names *nm, const json_t *list)
{
    json_t *m;
    size_t i;

    json_array_foreach((json_t *)list, i, m)
    {
        const char *mac = json_string_value(json_object_get(m, "mac"));
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *lab = json_string_value(json_object_get(m, "lab"));
        uint8_t b[FC_MAC_LEN];
        struct fc_name *e;

        if (!mac || fc_mac_parse(mac, b) || !(e = slot(nm, b)) || e->from_list)
            continue;
        if (name && fc_hostname_valid(name))
            snprintf(e->hostname, sizeof(e->hostname), "%s", name);
        if (lab && strlen(lab) <= FC_GRANT_TEXT_MAX)
            snprintf(e->lab, sizeof(e->lab), "%s", lab);
    }
}

int fc_names_load(struct fc_names *nm, const char *csv, const json_t *inventory, char *why,
                  size_t cap)
{
    int rc;

    memset(nm, 0, sizeof(*nm));
    rc = csv ? fc_names_parse(csv, nm, why, cap) : 0;
    if (!rc && inventory)
        add_inventory(nm, inventory);
    if (rc)
        fc_names_free(nm);
    return rc;
}

const struct fc_name *fc_names_find(const struct fc_names *nm, const uint8_t mac[FC_MAC_LEN])
{
    uint32_t i;

    for (i = 0; i < nm->n; i++)
        if (!memcmp(nm->e[i].mac, mac, FC_MAC_LEN))
            return &nm->e[i];
    return NULL;
}

void fc_names_free(struct fc_names *nm)
{
    free(nm->e);
    nm->e = NULL;
    nm->n = 0;
}
