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

void fc_session_config_defaults(struct fc_session_config *c)
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
    c->max_per_ip = 4;
    c->repair_budget = 1.0;
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

static int parse_group(const char *v, struct fc_session_config *c)
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

static int set_number(const char *name, const char *v, struct fc_session_config *c)
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
    else if (!strcmp(name, "max-per-ip") && !parse_num(v, 0, FC_MAX_RECEIVERS, &d))
        c->max_per_ip = (uint32_t)d;
    else if (!strcmp(name, "max-time") && !parse_num(v, 0, 7 * 86400, &d))
        c->max_time = d;
    else if (!strcmp(name, "repair-budget") && !parse_num(v, 0, 100, &d))
        c->repair_budget = d / 100;
    else if (!strcmp(name, "deadline") && !parse_num(v, 0, 4e9, &d))
        c->deadline_wall = (int64_t)d;
    else
        return -1;
    return 0;
}

/* One setting, from a flag or a config line. Strings point into argv or
 * into storage that lives as long as the process (config lines are kept). */
static int set_option(struct fc_session_config *c, const char *name, const char *v)
{
    if (!v)
        return fc_error("--%s needs a value", name), -1;
    if (!strcmp(name, "image"))
        c->image_path = v;
    else if (!strcmp(name, "group"))
        return parse_group(v, c) ? (fc_error("bad --group '%s' (want 239.x.y.z:PORT)", v), -1) : 0;
    else if (!strcmp(name, "iface"))
        c->iface = v;
    else if (!strcmp(name, "lab"))
        c->lab = v;
    else if (!strcmp(name, "rate"))
        return parse_rate(v, &c->rate_bps) ? (fc_error("bad --rate '%s' (e.g. 900M)", v), -1) : 0;
    else if (!strcmp(name, "stats"))
        c->stats_path = v;

    else if (set_number(name, v, c))
        return fc_error("bad or unknown setting --%s '%s'", name, v), -1;
    return 0;
}

static int load_config(struct fc_daemon_config *dc, struct fc_session_config *c, const char *path);

/* --http-host NAME: one more name the console answers to (its Host check
 * refuses the rest, so DNS rebinding cannot reach it). */
static int add_http_host(struct fc_http_opts *o, const char *v)
{
    size_t i, n = v ? strlen(v) : 0;

    if (!n || n > FC_HTTP_HOST_MAX || o->n_hosts >= FC_HTTP_MAX_HOSTS)
        return fc_error("bad --http-host '%s' (a name or IPv4 address; at most %d)", v ? v : "",
                        FC_HTTP_MAX_HOSTS),
               -1;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr(".-_", v[i]))
            return fc_error("bad --http-host '%s' (letters, digits, '.', '-', '_'; no port)", v),
                   -1;
    o->hosts[o->n_hosts++] = v;
    return 0;
}

/* The console's settings; 1 if name is one of them. */
static int http_option(struct fc_daemon_config *dc, const char *name, const char *v, int *rc)
{
    double d;

    *rc = 0;
    if (!strcmp(name, "http")) {
        if (!v || !strchr(v, ':'))
            *rc = (fc_error("--http takes ADDR:PORT (e.g. 127.0.0.1:7680)"), -1);
        else
            dc->http = v;
    } else if (!strcmp(name, "http-host")) {
        *rc = add_http_host(&dc->http_opts, v);
    } else if (!strcmp(name, "http-stream-seconds")) {
        if (!v || parse_num(v, 5, 86400, &d))
            *rc = (fc_error("bad --http-stream-seconds (5 to 86400)"), -1);
        else
            dc->http_opts.stream_seconds = (unsigned)d;
    } else {
        return 0;
    }
    return 1;
}

/* One interface name for the PXE watcher, not given before. */
static int add_watch_iface(struct fc_daemon_config *dc, const char *name, size_t n)
{
    unsigned i;

    if (!n || n >= FC_PXE_IFNAME_MAX || memchr(name, '/', n) || memchr(name, ' ', n))
        return fc_error("bad --watch-iface '%.*s' (an interface name)", (int)n, name), -1;
    for (i = 0; i < dc->n_watch_ifaces; i++)
        if (strlen(dc->watch_ifaces[i]) == n && !memcmp(dc->watch_ifaces[i], name, n))
            return 0;
    if (dc->n_watch_ifaces == FC_WATCH_IFACES_MAX)
        return fc_error("--watch-iface: at most %d interfaces", FC_WATCH_IFACES_MAX), -1;
    memcpy(dc->watch_ifaces[dc->n_watch_ifaces], name, n);
    dc->watch_ifaces[dc->n_watch_ifaces++][n] = 0;
    return 0;
}

/* --watch-iface IF[,IF...], repeatable: the passive PXE watcher (pxewatch.h). */
static int add_watch_ifaces(struct fc_daemon_config *dc, const char *v)
{
    size_t n;

    if (!v)
        return fc_error("--watch-iface needs an interface name"), -1;
    for (;; v += n + 1) {
        n = strcspn(v, ",");
        if (add_watch_iface(dc, v, n))
            return -1;
        if (!v[n])
            return 0;
    }
}

/* Options of the daemon itself; 1 if name is one of them. */
static int daemon_option(struct fc_daemon_config *dc, const char *name, const char *v, int *rc)
{
    double port;

    if (http_option(dc, name, v, rc))
        return 1;
    if (!strcmp(name, "tftp-root")) {
        if (!v || fc_pxecfg_check_root(v))
            *rc = -1;
        else
            dc->tftp_root = v;
        return 1;
    }
    if (!strcmp(name, "watch-iface")) {
        *rc = add_watch_ifaces(dc, v);
        return 1;
    }
    if (!strcmp(name, "trusted-key")) {
        *rc = !v ? (fc_error("--trusted-key needs a public key file"), -1) : 0;
        dc->trusted_key = v;
        return 1;
    }
    if (!strcmp(name, "notify-url") || !strcmp(name, "notify-mail") || !strcmp(name, "sendmail")) {
        if (!v || !*v)
            *rc = (fc_error("--%s needs a value", name), -1);
        else {
            *(!strcmp(name, "notify-url")    ? &dc->notify_url
              : !strcmp(name, "notify-mail") ? &dc->notify_mail
                                             : &dc->sendmail) = v;
            *rc = 0;
        }
        return 1;
    }
    if (!strcmp(name, "state-dir")) {
        if (!v || !*v || strlen(v) >= sizeof(dc->state_dir))
            *rc = (fc_error("bad --state-dir"), -1);
        else {
            snprintf(dc->state_dir, sizeof(dc->state_dir), "%s", v);
            *rc = 0;
        }
        return 1;
    }
    if (!strcmp(name, "ctrl-port")) {
        if (!v || parse_num(v, 1, 65535, &port))
            *rc = (fc_error("bad --ctrl-port"), -1);
        else
            dc->ctrl_port = (uint16_t)port;
        return 1;
    }
    return 0;
}

static int set_any(struct fc_daemon_config *dc, struct fc_session_config *c, const char *name,
                   const char *v)
{
    int rc;

    if (daemon_option(dc, name, v, &rc))
        return rc;
    return set_option(c, name, v);
}

static int apply_args(struct fc_daemon_config *dc, struct fc_session_config *c, int argc,
                      char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq;
        char name[64];

        if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
            c->verbose = 1;
        else if (!strcmp(a, "--loopback"))
            c->loopback = 1;
        else if (!strcmp(a, "--zero-free"))
            c->zero_free = 1;
        else if (!strcmp(a, "--readback"))
            c->readback = 1;
        else if (!strcmp(a, "--daemon"))
            dc->daemon = 1;
        else if (!strcmp(a, "--http-read-open"))
            dc->http_opts.read_open = 1;
        else if (strncmp(a, "--", 2) != 0)
            return fc_error("unexpected argument '%s'", a), -1;
        else {
            eq = strchr(a, '=');
            snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a - 2) : (int)strlen(a + 2),
                     a + 2);
            if (!strcmp(name, "config")) {
                if (load_config(dc, c, eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL)))
                    return -1;
            } else if (set_any(dc, c, name, eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL))) {
                return -1;
            }
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

static int config_flag(struct fc_daemon_config *dc, struct fc_session_config *c, const char *name,
                       const char *v)
{
    int on = !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1");

    if (!strcmp(name, "daemon"))
        dc->daemon = on;
    else if (!strcmp(name, "http-read-open"))
        dc->http_opts.read_open = on;
    else if (!strcmp(name, "verbose"))
        c->verbose = on;
    else if (!strcmp(name, "loopback"))
        c->loopback = on;
    else if (!strcmp(name, "zero-free"))
        c->zero_free = on;
    else if (!strcmp(name, "readback"))
        c->readback = on;
    else
        return 0;
    return 1;
}

static int load_config(struct fc_daemon_config *dc, struct fc_session_config *c, const char *path)
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
        if (config_flag(dc, c, trim(s), trim(eq + 1)))
            continue;
        /* strdup: the setting outlives this buffer, as long as the daemon */
        rc = set_any(dc, c, trim(s), strdup(trim(eq + 1)));
    }
    fclose(f);
    return rc;
}

int fc_session_config_check(const struct fc_session_config *c, char *why, size_t cap)
{
    if (!c->image_path || !c->data_port || !c->iface) {
        snprintf(why, cap, "image, group and iface are required");
        return FC_EINVAL;
    }
    return 0;
}

/* The default state directory: systemd's, then the user's fleetcast home. */
static void default_state_dir(struct fc_daemon_config *dc)
{
    const char *v = getenv("STATE_DIRECTORY"), *home = getenv("HOME");
    char *colon;

    if (v && *v) {
        /* several directories are separated by ':'; the first is ours */
        snprintf(dc->state_dir, sizeof(dc->state_dir), "%s", v);
        colon = strchr(dc->state_dir, ':');
        if (colon)
            *colon = 0;
    } else if ((v = getenv("FLEETCAST_HOME")) && *v) {
        snprintf(dc->state_dir, sizeof(dc->state_dir), "%s", v);
    } else {
        snprintf(dc->state_dir, sizeof(dc->state_dir), "%s/.fleetcast", home ? home : ".");
    }
}

int fc_config_parse(struct fc_daemon_config *dc, struct fc_session_config *c, int *has_session,
                    int argc, char **argv)
{
    char why[128];

    memset(dc, 0, sizeof(*dc));
    dc->ctrl_port = FC_PORT_DEFAULT;
    fc_session_config_defaults(c);
    if (apply_args(dc, c, argc, argv))
        return FC_EINVAL;
    if (!dc->state_dir[0])
        default_state_dir(dc);
    *has_session = c->image_path || c->data_port || c->iface;
    if (*has_session && fc_session_config_check(c, why, sizeof(why))) {
        fc_error("%s (--image, --group, --iface)", why);
        return FC_EINVAL;
    }
    if (!*has_session && !dc->daemon && !dc->http) {
        fc_error("nothing to do: give a session (--image, --group, --iface) or --daemon");
        return FC_EINVAL;
    }
    return 0;
}

/* API create requests: the same settings as the flags, as JSON members;
 * unknown members and wrong types are refused, not ignored. */
/* Only the strings a session keeps (image, iface) are copied here; the
 * caller frees them once the session has made its own copies (api.c), and
 * everything else is parsed on the spot from the request's own buffer or a
 * stack buffer, so a client repeating POST /api/sessions cannot grow the
 * daemon. */
static const char *json_text(const char *key, json_t *v, char *num, size_t cap)
{
    if (json_is_number(v)) {
        snprintf(num, cap, strcmp(key, "rate") ? "%g" : "%.0f", json_number_value(v));
        return num;
    }
    if (!strcmp(key, "image") || !strcmp(key, "iface") || !strcmp(key, "lab"))
        return strdup(json_string_value(v));
    return json_string_value(v);
}

static int json_member(struct fc_session_config *c, const char *key, json_t *v, char *why,
                       size_t cap)
{
    static const char *strings[] = {"image", "group", "iface", "rate", "lab", NULL};
    static const char *numbers[] = {"min_receivers", "max_wait", "fec",
                                    "max_time",      "deadline", NULL};
    char name[32], num[32];
    const char *text = NULL;
    int i;

    for (i = 0; strings[i]; i++)
        if (!strcmp(key, strings[i])) {
            if (!json_is_string(v) && !(json_is_number(v) && !strcmp(key, "rate")))
                return snprintf(why, cap, "%s must be a string", key), FC_EINVAL;
            text = json_text(key, v, num, sizeof(num));
        }
    for (i = 0; numbers[i]; i++)
        if (!strcmp(key, numbers[i])) {
            if (!json_is_number(v))
                return snprintf(why, cap, "%s must be a number", key), FC_EINVAL;
            text = json_text(key, v, num, sizeof(num));
        }
    if (!strcmp(key, "zero_free") || !strcmp(key, "readback")) {
        if (!json_is_boolean(v))
            return snprintf(why, cap, "%s must be true or false", key), FC_EINVAL;
        *(!strcmp(key, "readback") ? &c->readback : &c->zero_free) = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "start")) {
        if (!json_is_string(v) ||
            (strcmp(json_string_value(v), "now") && strcmp(json_string_value(v), "policy")))
            return snprintf(why, cap, "start must be \"now\" or \"policy\""), FC_EINVAL;
        if (!strcmp(json_string_value(v), "now"))
            c->min_receivers = 1;
        return 0;
    }
    if (!text)
        return snprintf(why, cap, "unknown field \"%s\"", key), FC_EINVAL;
    snprintf(name, sizeof(name), "%s", key);
    for (i = 0; name[i]; i++)
        if (name[i] == '_')
            name[i] = '-';
    if (set_option(c, name, text))
        return snprintf(why, cap, "bad value for %s", key), FC_EINVAL;
    return 0;
}

int fc_config_from_json(struct fc_session_config *c, const json_t *body, char *why, size_t cap)
{
    const char *key;
    json_t *v;

    fc_session_config_defaults(c);
    json_object_foreach((json_t *)body, key, v)
    {
        if (json_member(c, key, v, why, cap))
            return FC_EINVAL;
    }
    return fc_session_config_check(c, why, cap);
}

/* The other way: the API create body that makes this session again (the
 * store keeps it, so that a restarted daemon resumes the session with the
 * settings it was created with). Only the API's members: a setting only the
 * command line or config file can give takes the daemon's default then. */
json_t *fc_config_to_json(const struct fc_session_config *c)
{
    char group[32];
    const uint8_t *a = (const uint8_t *)&c->group.s_addr;
    json_t *j;

    snprintf(group, sizeof(group), "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], c->data_port);
    j = json_pack("{s:s, s:s, s:s, s:f, s:I, s:f, s:f, s:f, s:b, s:b}", "image",
                  c->image_path ? c->image_path : "", "group", group, "iface",
                  c->iface ? c->iface : "", "rate", c->rate_bps, "min_receivers",
                  (json_int_t)c->min_receivers, "max_wait", c->max_wait, "fec", c->fec_pct,
                  "max_time", c->max_time, "zero_free", c->zero_free != 0, "readback",
                  c->readback != 0);
    if (j && c->lab)
        json_object_set_new(j, "lab", json_string(c->lab));
    if (j && c->deadline_wall)
        json_object_set_new(j, "deadline", json_integer(c->deadline_wall));
    return j;
}
