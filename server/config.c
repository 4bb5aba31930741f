/* fleetcastd's settings: command-line flags, and `--config FILE` whose lines
 * are the same flags without the dashes ("rate = 900M"). Defaults are the
 * safe ones an operator expects: a modest rate, one receiver to start. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/key.h"
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

/* The numeric settings of a session, by name: one table for the flags, the
 * config file, the API and the reload's "what changed" line. */
enum num_kind { NUM_U32, NUM_DBL, NUM_U8, NUM_U16, NUM_I64 };
struct num_setting {
    const char *name;
    double lo, hi, div; /* the accepted range as written; stored value / div */
    size_t off;
    enum num_kind kind;
};
#define NUM(n, lo, hi, div, field, kind)                                                           \
    {                                                                                              \
        n, lo, hi, div, offsetof(struct fc_session_config, field), kind                            \
    }
static const struct num_setting num_settings[] = {
    NUM("min-receivers", 1, FC_MAX_RECEIVERS, 1, min_receivers, NUM_U32),
    NUM("max-wait", 0, 86400, 1, max_wait, NUM_DBL),
    NUM("fec", 0, 100, 1, fec_pct, NUM_DBL),
    NUM("k", 1, FC_FEC_MAX_K, 1, k_max, NUM_U8),
    NUM("payload", 256, FC_DATA_MAX_PAYLOAD, 1, payload, NUM_U16),
    NUM("report-ms", 100, 10000, 1, report_ms, NUM_U16),
    NUM("drop-silent", 1, 86400, 1, drop_silent, NUM_DBL),
    NUM("drop-stall", 1, 86400, 1, drop_stall, NUM_DBL),
    NUM("drop-loss", 1, 100, 100, drop_loss, NUM_DBL),
    NUM("ttl", 1, 255, 1, ttl, NUM_U8),
    NUM("max-per-ip", 0, FC_MAX_RECEIVERS, 1, max_per_ip, NUM_U32),
    NUM("max-time", 0, 7 * 86400, 1, max_time, NUM_DBL),
    NUM("repair-budget", 0, 100, 100, repair_budget, NUM_DBL),
    NUM("deadline", 0, 4e9, 1, deadline_wall, NUM_I64),
    NUM("grow-part", 0, FC_ANN_GROW_PART_MAX, 1, grow_part, NUM_U8),
};
#define N_NUM (sizeof(num_settings) / sizeof(num_settings[0]))

static const struct num_setting *find_num(const char *name)
{
    size_t i;

    for (i = 0; i < N_NUM; i++)
        if (!strcmp(num_settings[i].name, name))
            return &num_settings[i];
    return NULL;
}

/* A numeric setting's value as written ("50" for drop-loss 0.5). */
static double num_get(const struct fc_session_config *c, const struct num_setting *n)
{
    const char *p = (const char *)c + n->off;
    uint32_t u32;
    uint16_t u16;
    int64_t i64;
    double d;

    switch (n->kind) {
    case NUM_U32:
        memcpy(&u32, p, sizeof(u32));
        return u32;
    case NUM_I64:
        memcpy(&i64, p, sizeof(i64));
        return (double)i64;
    case NUM_U16:
        memcpy(&u16, p, sizeof(u16));
        return u16;
    case NUM_U8:
        return *(const uint8_t *)p;
    default:
        memcpy(&d, p, sizeof(d));
        return d * n->div;
    }
}

/* v is within the setting's range (checked by the caller); each cast is
 * made only for its own kind: converting a double out of a type's range is
 * undefined (86400 into a uint16_t, say). */
static void num_put(struct fc_session_config *c, const struct num_setting *n, double v)
{
    char *p = (char *)c + n->off;
    uint32_t u32;
    uint16_t u16;
    int64_t i64;
    double d = v / n->div;

    switch (n->kind) {
    case NUM_U32:
        u32 = (uint32_t)v;
        memcpy(p, &u32, sizeof(u32));
        break;
    case NUM_I64:
        i64 = (int64_t)v;
        memcpy(p, &i64, sizeof(i64));
        break;
    case NUM_U16:
        u16 = (uint16_t)v;
        memcpy(p, &u16, sizeof(u16));
        break;
    case NUM_U8:
        *(uint8_t *)p = (uint8_t)v;
        break;
    default:
        memcpy(p, &d, sizeof(d));
        break;
    }
}

static int in_list(const char *const *names, const char *name)
{
    int i;

    for (i = 0; names[i]; i++)
        if (!strcmp(name, names[i]))
            return 1;
    return 0;
}

/* The session's settings that are not numbers; 1 if name is one of them. */
static int is_session_text(const char *name)
{
    static const char *const names[] = {"image", "group", "iface", "lab",
                                        "rate",  "stats", "names", NULL};

    return in_list(names, name);
}

/* The daemon's own settings that take a value (daemon_option). */
static int is_daemon_setting(const char *name)
{
    static const char *const names[] = {
        "http",      "http-host",   "http-stream-seconds", "tftp-root",   "trusted-key",
        "state-dir", "capture-key", "ctrl-port",           "notify-url",  "notify-mail",
        "sendmail",  "watch-iface", "keep-history",        "capture-dir", NULL};

    return in_list(names, name);
}

/* One setting, from a flag or a config line: 0, or -1 for a bad or missing
 * value or an unknown name (said; the callers check names first, with
 * is_setting, to say which flag or line it was). Strings point into argv or
 * into storage the config keeps (fc_config_free). */
static int set_option(struct fc_session_config *c, const char *name, const char *v)
{
    const struct num_setting *n = find_num(name);
    double d;

    if (!n && !is_session_text(name))
        return fc_error("unknown setting --%s", name), -1;
    if (!v)
        return fc_error("--%s needs a value", name), -1;
    if (n) {
        if (parse_num(v, n->lo, n->hi, &d))
            return fc_error("bad --%s '%s' (%g to %g)", name, v, n->lo, n->hi), -1;
        num_put(c, n, d);
    } else if (!strcmp(name, "image"))
        c->image_path = v;
    else if (!strcmp(name, "group"))
        return parse_group(v, c) ? (fc_error("bad --group '%s' (want 239.x.y.z:PORT)", v), -1) : 0;
    else if (!strcmp(name, "iface"))
        c->iface = v;
    else if (!strcmp(name, "lab"))
        c->lab = v;
    else if (!strcmp(name, "names"))
        c->names_file = v;
    else if (!strcmp(name, "rate"))
        return parse_rate(v, &c->rate_bps) ? (fc_error("bad --rate '%s' (e.g. 900M)", v), -1) : 0;
    else
        c->stats_path = v;
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
    if (!strcmp(name, "capture-key")) {
        *rc = !v || !*v ? (fc_error("--capture-key needs a secret key file"), -1) : 0;
        dc->capture_key = v;
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
    if (!strcmp(name, "state-dir") || !strcmp(name, "capture-dir")) {
        char *dir = !strcmp(name, "state-dir") ? dc->state_dir : dc->capture_dir;

        if (!v || !*v || strlen(v) >= sizeof(dc->state_dir) - 8)
            *rc = (fc_error("bad --%s", name), -1);
        else {
            snprintf(dir, sizeof(dc->state_dir), "%s", v);
            *rc = 0;
        }
        return 1;
    }
    if (!strcmp(name, "keep-history")) {
        if (!v || parse_num(v, 0, 36500, &port))
            *rc = (fc_error("bad --keep-history (days, 0: forever)"), -1);
        else
            dc->keep_history_days = (unsigned)port;
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

/* 1 if name is a setting that takes a value. */
static int is_setting(const char *name)
{
    return find_num(name) || is_session_text(name) || is_daemon_setting(name);
}

/* The yes/no settings: a bare flag on the command line, "name = yes|no" in
 * a file. NULL if name is not one of them. */
static int *bool_slot(struct fc_daemon_config *dc, struct fc_session_config *c, const char *name)
{
    if (!strcmp(name, "daemon"))
        return &dc->daemon;
    if (!strcmp(name, "http-read-open"))
        return &dc->http_opts.read_open;
    if (!strcmp(name, "verbose"))
        return &c->verbose;
    if (!strcmp(name, "loopback"))
        return &c->loopback;
    if (!strcmp(name, "zero-free"))
        return &c->zero_free;
    if (!strcmp(name, "readback"))
        return &c->readback;
    if (!strcmp(name, "grow"))
        return &c->grow;
    if (!strcmp(name, "check-config"))
        return &dc->check_only;
    return NULL;
}

/* One "--name[=value] [value]" at argv[*i]; advances *i past a value it takes. */
static int apply_flag(struct fc_daemon_config *dc, struct fc_session_config *c, int argc,
                      char **argv, int *i)
{
    const char *a = argv[*i], *eq = strchr(a, '='), *v;
    char name[64];
    int *slot, rc;

    snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a - 2) : (int)strlen(a + 2), a + 2);
    slot = bool_slot(dc, c, name);
    if (slot && !eq) {
        *slot = 1;
        return 0;
    }
    /* An unknown name is refused before anything is taken as its value. */
    if (!slot && strcmp(name, "config") && !is_setting(name))
        return fc_error("unknown option --%s", name), -1;
    if (slot)
        return fc_error("--%s takes no value", name), -1;
    v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!strcmp(name, "config"))
        return load_config(dc, c, v);
    rc = set_any(dc, c, name, v);
    return rc ? -1 : 0;
}

static int apply_args(struct fc_daemon_config *dc, struct fc_session_config *c, int argc,
                      char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            c->verbose = 1;
        else if (strncmp(argv[i], "--", 2) != 0 || !argv[i][2])
            return fc_error("unexpected argument '%s'", argv[i]), -1;
        else if (apply_flag(dc, c, argc, argv, &i))
            return -1;
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

/* A copy of a config file's value that lives as long as the settings that
 * point to it (fc_config_free). */
static const char *keep(struct fc_daemon_config *dc, const char *v)
{
    size_t n = strlen(v);
    struct fc_config_str *k = malloc(sizeof(*k) + n + 1);

    if (!k)
        return NULL;
    memcpy(k->s, v, n + 1);
    k->next = dc->owned;
    dc->owned = k;
    return k->s;
}

static int config_line(struct fc_daemon_config *dc, struct fc_session_config *c, char *s,
                       const char *path, int n)
{
    char *eq = strchr(s, '='), *name, *v;
    int *slot, rc;

    if (!eq)
        return fc_error("%s:%d: expected 'name = value'", path, n), -1;
    *eq = 0;
    name = trim(s);
    v = trim(eq + 1);
    slot = bool_slot(dc, c, name);
    if (slot) {
        if (strcmp(v, "yes") && strcmp(v, "true") && strcmp(v, "1") && strcmp(v, "no") &&
            strcmp(v, "false") && strcmp(v, "0"))
            return fc_error("%s:%d: %s takes yes or no", path, n, name), -1;
        *slot = !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1");
        return 0;
    }
    if (!strcmp(name, "config"))
        return fc_error("%s:%d: a config file cannot include another", path, n), -1;
    if (!is_setting(name))
        return fc_error("%s:%d: unknown setting '%s'", path, n, name), -1;
    if (!(v = (char *)keep(dc, v)))
        return fc_error("out of memory"), -1;
    rc = set_any(dc, c, name, v);
    return rc ? (fc_error("%s:%d: setting '%s' refused", path, n, name), -1) : 0;
}

static int load_config(struct fc_daemon_config *dc, struct fc_session_config *c, const char *path)
{
    char line[LINE_MAX_LEN];
    FILE *f;
    int n = 0, rc = 0;

    if (!path || !(f = fopen(path, "r")))
        return fc_error("cannot read config %s: %s", path ? path : "(none)", strerror(errno)), -1;
    dc->config_path = path;
    while (!rc && fgets(line, sizeof(line), f)) {
        char *s = trim(line);
        n++;
        if (*s && *s != '#')
            rc = config_line(dc, c, s, path, n);
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
    dc->keep_history_days = FC_KEEP_HISTORY_DEFAULT;
    dc->argc = argc;
    dc->argv = argv;
    fc_session_config_defaults(c);
    if (apply_args(dc, c, argc, argv))
        return FC_EINVAL;
    if (!dc->state_dir[0])
        default_state_dir(dc);
    if (!dc->capture_dir[0])
        snprintf(dc->capture_dir, sizeof(dc->capture_dir), "%.1000s/images", dc->state_dir);
    if (dc->daemon && !dc->http)
        dc->http = FC_HTTP_DEFAULT;
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

void fc_config_free(struct fc_daemon_config *dc)
{
    struct fc_config_str *k;

    while ((k = dc->owned)) {
        dc->owned = k->next;
        free(k);
    }
}

void fc_config_session_defaults(struct fc_session_config *out, const struct fc_session_config *c)
{
    *out = *c;
    /* what names one session: never a default for another */
    out->image_path = out->iface = out->stats_path = out->lab = out->names = NULL;
    out->deadline_wall = 0;
    out->group.s_addr = 0;
    out->data_port = 0;
}

/* Appends "name old -> new" to buf (comma-separated). */
static void said(char *buf, size_t cap, const char *name, const char *from, const char *to)
{
    size_t n = strlen(buf);

    if (n < cap)
        snprintf(buf + n, cap - n, "%s%s %s -> %s", n ? ", " : "", name, from, to);
}

static int same_text(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

static void text_change(char *buf, size_t cap, const char *name, const char *a, const char *b)
{
    if (!same_text(a, b))
        said(buf, cap, name, a && *a ? a : "(none)", b && *b ? b : "(none)");
}

static void number_change(char *buf, size_t cap, const char *name, double a, double b)
{
    char x[32], y[32];

    if (a == b)
        return;
    snprintf(x, sizeof(x), "%g", a);
    snprintf(y, sizeof(y), "%g", b);
    said(buf, cap, name, x, y);
}

/* What differs between two sessions' defaults, as "name old -> new" items. */
static void session_changes(const struct fc_session_config *a, const struct fc_session_config *b,
                            char *buf, size_t cap)
{
    static const char *const bools[] = {"verbose",  "loopback", "zero-free",
                                        "readback", "grow",     NULL};
    const int av[] = {a->verbose, a->loopback, a->zero_free, a->readback, a->grow};
    const int bv[] = {b->verbose, b->loopback, b->zero_free, b->readback, b->grow};
    size_t i;

    number_change(buf, cap, "rate (Mbit/s)", a->rate_bps / 1e6, b->rate_bps / 1e6);
    for (i = 0; i < N_NUM; i++)
        number_change(buf, cap, num_settings[i].name, num_get(a, &num_settings[i]),
                      num_get(b, &num_settings[i]));
    for (i = 0; bools[i]; i++)
        if (av[i] != bv[i])
            said(buf, cap, bools[i], av[i] ? "yes" : "no", bv[i] ? "yes" : "no");
}

/* 1 if the PXE watcher's interfaces differ (it captures from the start). */
static int ifaces_differ(const struct fc_daemon_config *a, const struct fc_daemon_config *b)
{
    unsigned i;

    if (a->n_watch_ifaces != b->n_watch_ifaces)
        return 1;
    for (i = 0; i < a->n_watch_ifaces; i++)
        if (strcmp(a->watch_ifaces[i], b->watch_ifaces[i]))
            return 1;
    return 0;
}

/* The settings a reload cannot change: sockets, threads and files opened
 * at the start. Named in buf when they differ. */
static void restart_changes(const struct fc_daemon_config *a, const struct fc_daemon_config *b,
                            char *buf, size_t cap)
{
    const struct fc_http_opts *ha = &a->http_opts, *hb = &b->http_opts;
    unsigned i;
    int hosts = ha->n_hosts != hb->n_hosts;

    for (i = 0; !hosts && i < ha->n_hosts; i++)
        hosts = strcmp(ha->hosts[i], hb->hosts[i]) != 0;
    text_change(buf, cap, "http", a->http, b->http);
    text_change(buf, cap, "state-dir", a->state_dir, b->state_dir);
    text_change(buf, cap, "capture-dir", a->capture_dir, b->capture_dir);
    number_change(buf, cap, "ctrl-port", a->ctrl_port, b->ctrl_port);
    number_change(buf, cap, "http-read-open", ha->read_open, hb->read_open);
    number_change(buf, cap, "http-stream-seconds", ha->stream_seconds, hb->stream_seconds);
    if (hosts)
        said(buf, cap, "http-host", "(old list)", "(new list)");
    if (ifaces_differ(a, b))
        said(buf, cap, "watch-iface", "(old list)", "(new list)");
}

int fc_config_reload(struct fc_daemon_config *cur, struct fc_session_config *defaults)
{
    struct fc_daemon_config dc;
    struct fc_session_config sc, nd;
    uint8_t pk[FC_PUBKEY_LEN];
    char now[1024] = "", later[512] = "";
    int has_session, rc;

    rc = fc_config_parse(&dc, &sc, &has_session, cur->argc, cur->argv);
    if (!rc && dc.trusted_key && (rc = fc_key_load_public(dc.trusted_key, pk)))
        fc_error("cannot read --trusted-key %s: %s", dc.trusted_key, fc_strerror(rc));
    if (rc) {
        fc_config_free(&dc);
        fc_error("reload of %s refused: the settings in use are kept",
                 cur->config_path ? cur->config_path : "the settings");
        return FC_EINVAL;
    }
    fc_config_session_defaults(&nd, &sc);
    text_change(now, sizeof(now), "trusted-key", cur->trusted_key, dc.trusted_key);
    text_change(now, sizeof(now), "tftp-root", cur->tftp_root, dc.tftp_root);
    text_change(now, sizeof(now), "notify-url", cur->notify_url, dc.notify_url);
    text_change(now, sizeof(now), "notify-mail", cur->notify_mail, dc.notify_mail);
    text_change(now, sizeof(now), "sendmail", cur->sendmail, dc.sendmail);
    number_change(now, sizeof(now), "keep-history", cur->keep_history_days, dc.keep_history_days);
    session_changes(defaults, &nd, now, sizeof(now));
    restart_changes(cur, &dc, later, sizeof(later));
    fc_info("reloaded %s: %s%s%s", dc.config_path ? dc.config_path : "the settings",
            now[0] ? now : "nothing a reload applies changed",
            later[0] ? "; needs a restart, not applied: " : "", later);
    cur->trusted_key = dc.trusted_key;
    cur->tftp_root = dc.tftp_root;
    cur->notify_url = dc.notify_url;
    cur->notify_mail = dc.notify_mail;
    cur->sendmail = dc.sendmail;
    cur->keep_history_days = dc.keep_history_days;
    *defaults = nd;
    /* The old strings stay too: what a reload does not apply still points
     * to them. A reload keeps at most one file's worth more. */
    while (dc.owned) {
        struct fc_config_str *k = dc.owned;
        dc.owned = k->next;
        k->next = cur->owned;
        cur->owned = k;
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
        snprintf(num, cap, strcmp(key, "rate") ? "%.17g" : "%.0f", json_number_value(v));
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
    static const char *numbers[] = {"min_receivers", "max_wait",  "fec", "max_time",
                                    "deadline",      "grow_part", NULL};
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
    if (!strcmp(key, "zero_free") || !strcmp(key, "readback") || !strcmp(key, "grow")) {
        if (!json_is_boolean(v))
            return snprintf(why, cap, "%s must be true or false", key), FC_EINVAL;
        *(!strcmp(key, "readback") ? &c->readback
          : !strcmp(key, "grow")   ? &c->grow
                                   : &c->zero_free) = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "names")) {
        if (!json_is_string(v))
            return snprintf(why, cap, "names must be a string"), FC_EINVAL;
        if (fc_names_parse(json_string_value(v), NULL, why, cap))
            return FC_EINVAL;
        free((char *)c->names); /* a body naming it twice */
        c->names = strdup(json_string_value(v));
        return c->names ? 0 : (snprintf(why, cap, "out of memory"), FC_ENOMEM);
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

void fc_config_free_strings(struct fc_session_config *c)
{
    free((char *)c->image_path);
    free((char *)c->iface);
    free((char *)c->lab);
    free((char *)c->names);
    c->image_path = c->iface = c->lab = c->names = NULL;
}

int fc_config_from_json(struct fc_session_config *c, const struct fc_session_config *defaults,
                        const json_t *body, char *why, size_t cap)
{
    const char *key;
    json_t *v;

    if (defaults)
        *c = *defaults;
    else
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
    if (j && (c->grow || c->grow_part))
        json_object_set_new(j, "grow", json_true());
    if (j && c->grow_part)
        json_object_set_new(j, "grow_part", json_integer(c->grow_part));
    if (j && c->lab)
        json_object_set_new(j, "lab", json_string(c->lab));
    if (j && c->names)
        json_object_set_new(j, "names", json_string(c->names));
    if (j && c->deadline_wall)
        json_object_set_new(j, "deadline", json_integer(c->deadline_wall));
    return j;
}
