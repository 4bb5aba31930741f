/* fleetcastd's settings: command-line flags, and `--config FILE` whose lines
 * are the same flags without the dashes ("rate = 900M"). Defaults are the
 * safe ones an operator expects: a modest rate, one receiver to start. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

#define LINE_MAX_LEN 512

static void defaults(struct fc_server_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ctrl_port = FC_PORT_DEFAULT;
    c->rate_bps = 100e6;
    c->min_receivers = 1;
    c->k_max = 200;
    c->payload = FC_DATA_MAX_PAYLOAD;
    c->report_ms = 1000;
    c->drop_silent = 15;
    c->drop_stall = 120;
    c->drop_loss = 0.5;
    c->catchup_holdoff = 2.5;
    c->ttl = 1;
}

/* "900M", "1G", "100000k", "5e8" (bits per second) */
static int parse_rate(const char *v, double *out)
{
    char *end;
    double r = strtod(v, &end);

    if (end == v || r <= 0)
        return -1;
    switch (toupper((unsigned char)*end)) {
    case 'K':
        r *= 1e3, end++;
        break;
    case 'M':
        r *= 1e6, end++;
        break;
    case 'G':
        r *= 1e9, end++;
        break;
    default:
        break;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || r < 64e3 || r > 100e9)
        return -1;
    *out = r;
    return 0;
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);

    if (end == v || *end || d < lo || d > hi)
        return -1;
    *out = d;
    return 0;
}

static int parse_group(const char *v, struct fc_server_config *c)
{
    char host[64];
    const char *colon = strrchr(v, ':');
    double port;

    if (!colon || (size_t)(colon - v) >= sizeof(host))
        return -1;
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = 0;
    if (inet_pton(AF_INET, host, &c->group) != 1 || parse_num(colon + 1, 1, 65535, &port))
        return -1;
    /* 239.0.0.0/8 is the administratively scoped range: never routed off
     * the site, which is what a lab imaging session wants. */
    if ((ntohl(c->group.s_addr) >> 24) != 239) {
        fc_error("--group %s: use a group in 239.0.0.0/8 (administratively scoped)", v);
        return -1;
    }
    c->data_port = (uint16_t)port;
    return 0;
}

static int set_number(const char *name, const char *v, struct fc_server_config *c)
{
    double d;

    if (!strcmp(name, "min-receivers") && !parse_num(v, 1, FC_MAX_RECEIVERS, &d))
        c->min_receivers = (uint32_t)d;
    else if (!strcmp(name, "max-wait") && !parse_num(v, 0, 86400, &d))
        c->max_wait = d;
    else if (!strcmp(name, "fec") && !parse_num(v, 0, 100, &d))
        c->fec_pct = d;
    else if (!strcmp(name, "k") && !parse_num(v, 1, FC_FEC_MAX_K, &d))
        c->k_max = (uint8_t)d;
    else if (!strcmp(name, "payload") && !parse_num(v, 256, FC_DATA_MAX_PAYLOAD, &d))
        c->payload = (uint16_t)d;
    else if (!strcmp(name, "ctrl-port") && !parse_num(v, 1, 65535, &d))
        c->ctrl_port = (uint16_t)d;
    else if (!strcmp(name, "report-ms") && !parse_num(v, 100, 10000, &d))
        c->report_ms = (uint16_t)d;
    else if (!strcmp(name, "drop-silent") && !parse_num(v, 1, 86400, &d))
        c->drop_silent = d;
    else if (!strcmp(name, "drop-stall") && !parse_num(v, 1, 86400, &d))
        c->drop_stall = d;
    else if (!strcmp(name, "drop-loss") && !parse_num(v, 1, 100, &d))
        c->drop_loss = d / 100;
    else if (!strcmp(name, "ttl") && !parse_num(v, 1, 255, &d))
        c->ttl = (uint8_t)d;
    else
        return -1;
    return 0;
}

/* One setting, from a flag or a config line. Strings point into argv or
 * into storage that lives as long as the process (config lines are kept). */
static int set_option(struct fc_server_config *c, const char *name, const char *v)
{
    if (!v)
        return fc_error("--%s needs a value", name), -1;
    if (!strcmp(name, "image"))
        c->image_path = v;
    else if (!strcmp(name, "group"))
        return parse_group(v, c) ? (fc_error("bad --group '%s' (want 239.x.y.z:PORT)", v), -1) : 0;
    else if (!strcmp(name, "iface"))
        c->iface = v;
    else if (!strcmp(name, "rate"))
        return parse_rate(v, &c->rate_bps) ? (fc_error("bad --rate '%s' (e.g. 900M)", v), -1) : 0;
    else if (!strcmp(name, "stats"))
        c->stats_path = v;
    else if (set_number(name, v, c))
        return fc_error("bad or unknown setting --%s '%s'", name, v), -1;
    return 0;
}

static int load_config(struct fc_server_config *c, const char *path);

static int apply_args(struct fc_server_config *c, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq;
        char name[64];

        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            c->verbose = 1;
            continue;
        }
        if (!strcmp(a, "--loopback")) {
            c->loopback = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return fc_error("unexpected argument '%s'", a), -1;
        eq = strchr(a, '=');
        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a - 2) : (int)strlen(a + 2), a + 2);
        if (!strcmp(name, "config")) {
            if (load_config(c, eq ? eq + 1 : argv[++i]))
                return -1;
        } else if (set_option(c, name, eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL))) {
            return -1;
        }
    }
    return 0;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int load_config(struct fc_server_config *c, const char *path)
{
    char line[LINE_MAX_LEN];
    FILE *f;
    int n = 0, rc = 0;

    if (!path || !(f = fopen(path, "r")))
        return fc_error("cannot read config %s: %s", path ? path : "(none)", strerror(errno)), -1;
    while (!rc && fgets(line, sizeof(line), f)) {
        char *s = trim(line), *eq = strchr(s, '=');
        n++;
        if (!*s || *s == '#')
            continue;
        if (!eq) {
            fc_error("%s:%d: expected 'name = value'", path, n);
            rc = -1;
            break;
        }
        *eq = 0;
        /* strdup: the setting outlives this buffer, as long as the daemon */
        rc = set_option(c, trim(s), strdup(trim(eq + 1)));
    }
    fclose(f);
    return rc;
}

int fc_server_config_parse(struct fc_server_config *c, int argc, char **argv)
{
    defaults(c);
    if (apply_args(c, argc, argv))
        return FC_EINVAL;
    if (!c->image_path || !c->data_port || !c->iface) {
        fc_error("--image, --group and --iface are required");
        return FC_EINVAL;
    }
    return 0;
}
