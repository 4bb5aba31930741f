/* `fleetcast session create|start|list|show|cancel` and `fleetcast
 * machines`: fleetcastd's API (docs/api.md) from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "common/error.h"
#include "common/meter.h"
#include "common/textfile.h"

#define NAMES_MAX (1024 * 1024)

struct session_opts {
    struct fc_api_opts api;
    const char *operand; /* the session id */
    const char *image, *group, *iface, *rate, *session;
    const char *names; /* --names FILE: "MAC,hostname" lines, sent as they are */
    long min_receivers, max_wait, fec, grow_part;
    int start_now;
    int readback; /* --readback: every machine reads its disk back after fsync */
    int grow;     /* --grow: a partition fills each bigger disk (--grow-part N: that one) */
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int num_opt(struct fc_args *a, const char *name, long hi, long *out, int *rc)
{
    const char *v;

    if (!fc_opt_value(a, name, &v))
        return 0;
    if (parse_long(v, 0, hi, out))
        *rc = fc_usage_error("%s takes a number from 0 to %ld", name, hi);
    return 1;
}

static int str_opt(struct fc_args *a, const char *name, const char **out, int *rc)
{
    if (!fc_opt_value(a, name, out))
        return 0;
    if (!*out || !**out)
        *rc = fc_usage_error("%s needs a value", name);
    return 1;
}

/* The create options; 1 if argv[pos] was one. */
static int create_opt(struct fc_args *a, struct session_opts *o, int *rc)
{
    if (str_opt(a, "--image", &o->image, rc) || str_opt(a, "--group", &o->group, rc) ||
        str_opt(a, "--iface", &o->iface, rc) || str_opt(a, "--rate", &o->rate, rc) ||
        num_opt(a, "--min-receivers", 100000, &o->min_receivers, rc) ||
        num_opt(a, "--max-wait", 86400 * 7, &o->max_wait, rc) ||
        num_opt(a, "--fec", 100, &o->fec, rc) || str_opt(a, "--names", &o->names, rc) ||
        num_opt(a, "--grow-part", 31, &o->grow_part, rc)) /* the ANNOUNCE flags hold 1-31 */
        return 1;
    if (fc_opt_flag(a, "--start-now")) {
        o->start_now = 1;
        return 1;
    }
    if (fc_opt_flag(a, "--readback")) {
        o->readback = 1;
        return 1;
    }
    if (fc_opt_flag(a, "--grow")) {
        o->grow = 1;
        return 1;
    }
    return 0;
}

/* Options of every subcommand: the API ones, the create ones if CREATE,
 * --session if SESSION_OPT, and at most WANT operands (the session id). */
static int parse(struct fc_args *a, struct session_opts *o, int create, int session_opt, int want)
{
    memset(o, 0, sizeof(*o));
    o->min_receivers = o->max_wait = o->fec = o->grow_part = -1;
    while (a->pos < a->argc) {
        int rc = 0;

        if (fc_api_opt(a, &o->api, &rc) || (create && create_opt(a, o, &rc)) ||
            (session_opt && str_opt(a, "--session", &o->session, &rc))) {
            if (rc)
                return rc;
            continue;
        }
        if ((rc = fc_take_operand(a, &o->operand, want)))
            return rc;
    }
    if (want && !o->operand)
        return fc_usage_error("which session? (an id from 'fleetcast session list')");
    return 0;
}

/* "/api/v1/sessions/ID" + SUFFIX, refusing ids that would change the path. */
static int session_path(const char *id, const char *suffix, char *buf, size_t cap)
{
    if (strspn(id, "0123456789abcdefABCDEF-_") != strlen(id) || strlen(id) > 64)
        return fc_usage_error("'%s' is not a session id", id);
    snprintf(buf, cap, "/api/v1/sessions/%s%s", id, suffix);
    return 0;
}

static const char *when(json_t *o, const char *key, char *buf, size_t cap)
{
    time_t t = (time_t)fc_jnum(o, key, 0);

    if (fc_jnull(o, key) || t <= 0)
        return "-";
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", localtime(&t));
    return buf;
}

static const char *eta(json_t *s, char *buf, size_t cap)
{
    if (fc_jnull(s, "eta_seconds"))
        return "-";
    return fc_human_secs(fc_jnum(s, "eta_seconds", -1), buf, (unsigned)cap);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static void session_line(json_t *s)
{
    json_t *r = json_object_get(s, "receivers");
    char rate[24], e[24];

    printf("%-10s %-9s %-20.20s %-21s %6.1f%% %14s %6.1f%% %4.0f %4.0f %4.0f %4.0f %8s\n",
           fc_jstr(s, "id"), fc_jstr(s, "state"), base_name(fc_jstr(s, "image")),
           fc_jstr(s, "group"), fc_jnum(s, "progress_pct", 0),
           fc_human_bits(fc_jnum(s, "rate_bps", 0), rate, sizeof(rate)),
           fc_jnum(s, "repair_pct", 0), fc_jnum(r, "active", 0), fc_jnum(r, "done", 0),
           fc_jnum(r, "failed", 0), fc_jnum(r, "dropped", 0), eta(s, e, sizeof(e)));
}

static void sessions_table(json_t *list)
{
    size_t i;
    json_t *s;

    printf("%-10s %-9s %-20s %-21s %7s %14s %7s %4s %4s %4s %4s %8s\n", "SESSION", "STATE", "IMAGE",
           "GROUP", "PROGRESS", "RATE", "REPAIR", "ACT", "DONE", "FAIL", "DROP", "ETA");
    json_array_foreach(list, i, s) session_line(s);
}

/* "pc-07 done": the host name it was given and what came of it; "-" none. */
static const char *identity(json_t *m, char *buf, size_t cap)
{
    if (fc_jnull(m, "hostname"))
        return "-";
    snprintf(buf, cap, "%s%s%s", fc_jstr(m, "hostname"), fc_jnull(m, "identity") ? "" : " ",
             fc_jnull(m, "identity") ? "" : fc_jstr(m, "identity"));
    return buf;
}

/* The grow step a machine's DONE reported: "-" when none (not asked). */
static const char *grow_cell(json_t *m)
{
    json_t *g = json_object_get(m, "grow");

    if (!json_is_object(g))
        return "-";
    return fc_jstr(g, "result");
}

static void machines_table(json_t *list, int with_session)
{
    char rate[24], seen[32], ident[96];
    size_t i;
    json_t *m;

    printf("%s%-4s %-14s %-17s %-15s %-9s %7s %13s %7s %8s  %-24s %s\n",
           with_session ? "SESSION  " : "", "ID", "NAME", "MAC", "IP", "STATE", "PROGRESS", "RATE",
           "REPAIRS", "SEEN", "IDENTITY", "ERROR / GROW");
    json_array_foreach(list, i, m)
    {
        time_t t = (time_t)fc_jnum(m, "last_seen", 0);

        if (t > 0)
            strftime(seen, sizeof(seen), "%H:%M:%S", localtime(&t));
        else
            snprintf(seen, sizeof(seen), "-");
        if (with_session)
            printf("%-8s ", fc_jstr(m, "session"));
        printf("%-4.0f %-14.14s %-17s %-15s %-9s %6.1f%% %13s %7.0f %8s  %-24.24s %s%s%s\n",
               fc_jnum(m, "id", 0), fc_jstr(m, "name"),
               *fc_jstr(m, "mac") ? fc_jstr(m, "mac") : "-", fc_jstr(m, "ip"), fc_jstr(m, "state"),
               fc_jnum(m, "progress_pct", 0),
               fc_human_bits(fc_jnum(m, "rate_bps", 0), rate, sizeof(rate)),
               fc_jnum(m, "repairs_requested", 0), seen, identity(m, ident, sizeof(ident)),
               fc_jstr(m, "error"), *fc_jstr(m, "error") ? " " : "",
               strcmp(grow_cell(m), "-") ? grow_cell(m) : "");
    }
}

static void session_details(json_t *s)
{
    json_t *r = json_object_get(s, "receivers");
    char a[24], b[24], c[24], d[32];

    printf("session:    %s (%s)\n", fc_jstr(s, "id"), fc_jstr(s, "state"));
    printf("image:      %s (%s)\n", fc_jstr(s, "image"),
           fc_human_bytes((uint64_t)fc_jnum(s, "image_bytes", 0), a, sizeof(a)));
    printf("group:      %s on %s, rate cap %s, fec %.0f%%\n", fc_jstr(s, "group"),
           fc_jstr(s, "iface"), fc_human_bits(fc_jnum(s, "rate_cap_bps", 0), b, sizeof(b)),
           fc_jnum(s, "fec", 0));
    printf("start:      %.0f receivers", fc_jnum(s, "min_receivers", 0));
    if (fc_jnum(s, "max_wait", 0) > 0)
        printf(" or %.0f s after the first join", fc_jnum(s, "max_wait", 0));
    if (!fc_jnull(s, "start_deadline") && fc_jnum(s, "start_deadline", 0) > 0)
        printf(" (at %s)", when(s, "start_deadline", d, sizeof(d)));
    printf("\n");
    printf("progress:   %.1f%%, %s sent, now %s, repair %.1f%%, ETA %s\n",
           fc_jnum(s, "progress_pct", 0),
           fc_human_bytes((uint64_t)fc_jnum(s, "bytes_sent", 0), a, sizeof(a)),
           fc_human_bits(fc_jnum(s, "rate_bps", 0), b, sizeof(b)), fc_jnum(s, "repair_pct", 0),
           eta(s, c, sizeof(c)));
    printf("receivers:  %.0f active, %.0f done, %.0f failed, %.0f dropped\n",
           fc_jnum(r, "active", 0), fc_jnum(r, "done", 0), fc_jnum(r, "failed", 0),
           fc_jnum(r, "dropped", 0));
    printf("created:    %s\n", when(s, "created_at", d, sizeof(d)));
    printf("started:    %s\n", when(s, "started_at", d, sizeof(d)));
    printf("ended:      %s\n", when(s, "ended_at", d, sizeof(d)));
}

static int call(const struct session_opts *o, const char *method, const char *path, json_t *body,
                json_t **out)
{
    return fc_api_request(&o->api, method, path, body, out);
}

static json_t *create_body(const struct session_opts *o)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "image", o->image, "group", o->group, "iface",
                          o->iface, "start", o->start_now ? "now" : "policy");

    if (b && o->rate)
        json_object_set_new(b, "rate", json_string(o->rate));
    if (b && o->min_receivers >= 0)
        json_object_set_new(b, "min_receivers", json_integer(o->min_receivers));
    if (b && o->max_wait >= 0)
        json_object_set_new(b, "max_wait", json_integer(o->max_wait));
    if (b && o->fec >= 0)
        json_object_set_new(b, "fec", json_integer(o->fec));
    if (b && o->readback)
        json_object_set_new(b, "readback", json_true());
    if (b && (o->grow || o->grow_part > 0))
        json_object_set_new(b, "grow", json_true());
    if (b && o->grow_part > 0)
        json_object_set_new(b, "grow_part", json_integer(o->grow_part));
    return b;
}

/* --names FILE's text into the body: fleetcastd checks it (a bad line is
 * refused with its number) and may not be able to read the CLI's files. */
static int add_names(json_t *b, const char *path)
{
    char *text = NULL;
    int rc = fc_read_text(path, NAMES_MAX, &text);

    if (rc == FC_EFORMAT)
        return fc_usage_error("--names %s: larger than %d bytes", path, NAMES_MAX);
    if (rc)
        return fc_fail(rc, path);
    json_object_set_new(b, "names", json_string(text));
    free(text);
    return 0;
}

static int cmd_create(struct fc_args *a)
{
    struct session_opts o;
    json_t *body, *out;
    int rc = parse(a, &o, 1, 0, 0);

    if (rc)
        return rc;
    if (!o.image || !o.group || !o.iface)
        return fc_usage_error("session create needs --image, --group and --iface");
    body = create_body(&o);
    if (!body)
        return fc_fail(FC_ENOMEM, "session create");
    if (o.names && (rc = add_names(body, o.names))) {
        json_decref(body);
        return rc;
    }
    rc = call(&o, "POST", "/api/v1/sessions", body, &out);
    json_decref(body);
    if (rc)
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else
        printf("%s\n", fc_jstr(json_object_get(out, "session"), "id"));
    json_decref(out);
    return 0;
}

/* start ID / cancel ID: POST .../ACTION; prints the session's new state. */
static int cmd_action(struct fc_args *a, const char *action)
{
    struct session_opts o;
    char path[128], suffix[16];
    json_t *out;
    int rc = parse(a, &o, 0, 0, 1);

    if (rc)
        return rc;
    snprintf(suffix, sizeof(suffix), "/%s", action);
    rc = session_path(o.operand, suffix, path, sizeof(path));
    if (!rc)
        rc = call(&o, "POST", path, NULL, &out);
    if (rc)
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else
        printf("session %s: %s\n", o.operand, fc_jstr(json_object_get(out, "session"), "state"));
    json_decref(out);
    return 0;
}

static int cmd_list(struct fc_args *a)
{
    struct session_opts o;
    json_t *out;
    int rc = parse(a, &o, 0, 0, 0);

    if (rc || (rc = call(&o, "GET", "/api/v1/sessions", NULL, &out)))
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else if (json_array_size(json_object_get(out, "sessions")) == 0)
        printf("no sessions\n");
    else
        sessions_table(json_object_get(out, "sessions"));
    json_decref(out);
    return 0;
}

static int cmd_show(struct fc_args *a)
{
    struct session_opts o;
    char path[128];
    json_t *out, *ms;
    int rc = parse(a, &o, 0, 0, 1);

    if (rc || (rc = session_path(o.operand, "", path, sizeof(path))) ||
        (rc = call(&o, "GET", path, NULL, &out)))
        return rc;
    if (o.api.json) {
        fc_api_print_json(out);
    } else {
        session_details(json_object_get(out, "session"));
        ms = json_object_get(out, "machines");
        printf("machines:   %zu\n", json_array_size(ms));
        if (json_array_size(ms)) {
            printf("\n");
            machines_table(ms, 0);
        }
    }
    json_decref(out);
    return 0;
}

int fc_cmd_machines(struct fc_args *a)
{
    struct session_opts o;
    char path[160];
    json_t *out;
    int rc;

    if (fc_cmd_inventory_machines(a, &rc))
        return rc;
    rc = parse(a, &o, 0, 1, 0);

    if (rc)
        return rc;
    if (o.session && session_path(o.session, "", path, sizeof(path)))
        return 2;
    if (o.session)
        snprintf(path, sizeof(path), "/api/v1/machines?session=%s", o.session);
    else
        snprintf(path, sizeof(path), "/api/v1/machines");
    if ((rc = call(&o, "GET", path, NULL, &out)))
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else if (json_array_size(json_object_get(out, "machines")) == 0)
        printf("no machines\n");
    else
        machines_table(json_object_get(out, "machines"), 1);
    json_decref(out);
    return 0;
}

int fc_cmd_session(struct fc_args *a)
{
    const char *sub = a->pos < a->argc ? a->argv[a->pos] : NULL;

    if (!sub)
        return fc_usage_error("session needs a subcommand: create, start, list, show, cancel");
    a->pos++;
    if (!strcmp(sub, "create"))
        return cmd_create(a);
    if (!strcmp(sub, "start") || !strcmp(sub, "cancel"))
        return cmd_action(a, sub);
    if (!strcmp(sub, "list"))
        return cmd_list(a);
    if (!strcmp(sub, "show"))
        return cmd_show(a);
    return fc_usage_error("unknown session subcommand '%s'", sub);
}
