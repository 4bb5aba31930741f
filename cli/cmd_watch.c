/* `fleetcast watch [SESSION]`: follows fleetcastd's event stream
 * (/api/v1/events, Server-Sent Events) and shows one session live: a row
 * per machine and a totals line. On a terminal the table is redrawn in place
 * at most 4 times a second; otherwise a plain block every 2 s; with --json
 * one object per progress event. Ends when the session does: exit 0 if
 * every machine is done, 1 otherwise, 130 on Ctrl-C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/api.h"
#include "common/error.h"
#include "common/meter.h"

#define TTY_PERIOD 0.25
#define PLAIN_PERIOD 2.0
#define STREAM_IDLE_S 40 /* keep-alives come every 15 s */
#define RECONNECT_GIVE_UP 30.0

struct watch {
    struct fc_api api;
    struct fc_api_opts opts;
    const char *want;
    char id[72];
    json_t *session;  /* the latest Session object */
    json_t *machines; /* "id" -> Machine */
    /* the SSE parser: the current line, event name and data */
    char *line;
    size_t line_len, line_cap;
    char event[32];
    char *data;
    size_t data_len, data_cap;
    int first_progress; /* the next progress event is the whole picture */
    /* output */
    int tty, json;
    double last_draw;
    int dirty, drawn;
    int ended;
};

static int grow(char **buf, size_t *cap, size_t need)
{
    char *p;
    size_t n = *cap ? *cap : 256;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if (n > FC_HTTP_MAX_BODY)
        return FC_ENOMEM;
    p = realloc(*buf, n);
    if (!p)
        return FC_ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/* ---------- the model ---------- */

static int is_ended(const char *state)
{
    return !strcmp(state, "finished") || !strcmp(state, "aborted");
}

static void set_session(struct watch *w, json_t *s)
{
    if (!json_is_object(s) || strcmp(fc_jstr(s, "id"), w->id))
        return;
    json_incref(s);
    json_decref(w->session);
    w->session = s;
    w->ended = is_ended(fc_jstr(s, "state"));
    w->dirty = 1;
}

static void set_machine(struct watch *w, json_t *m)
{
    char key[32];

    if (!json_is_object(m) || strcmp(fc_jstr(m, "session"), w->id))
        return;
    snprintf(key, sizeof(key), "%.0f", fc_jnum(m, "id", -1));
    json_object_set(w->machines, key, m);
    w->dirty = 1;
}

static void set_machines(struct watch *w, json_t *list, int replace)
{
    size_t i;
    json_t *m;

    if (replace)
        json_object_clear(w->machines);
    json_array_foreach(list, i, m) set_machine(w, m);
}

static void on_progress(struct watch *w, json_t *d)
{
    size_t i;
    json_t *s;

    json_array_foreach(json_object_get(d, "sessions"), i, s) set_session(w, s);
    set_machines(w, json_object_get(d, "machines"), w->first_progress);
    w->first_progress = 0;
}

/* ---------- drawing ---------- */

static int by_id(const void *a, const void *b)
{
    double x = fc_jnum(*(json_t *const *)a, "id", 0), y = fc_jnum(*(json_t *const *)b, "id", 0);

    return (x > y) - (x < y);
}

/* The machines in id order; *n set. Caller frees the array (not the items). */
static json_t **sorted_machines(struct watch *w, size_t *n)
{
    json_t **v = calloc(json_object_size(w->machines) + 1, sizeof(*v));
    const char *k;
    json_t *m;

    *n = 0;
    if (!v)
        return NULL;
    json_object_foreach(w->machines, k, m) v[(*n)++] = m;
    qsort(v, *n, sizeof(*v), by_id);
    return v;
}

static void bar(char *buf, int width, double pct)
{
    int i, fill = (int)(pct / 100.0 * width + 0.5);

    if (fill > width)
        fill = width;
    for (i = 0; i < width; i++)
        buf[i] = i < fill ? '#' : '.';
    buf[width] = 0;
}

static void machine_row(FILE *f, json_t *m, int bar_w)
{
    char b[128], rate[24];
    const char *name = fc_jstr(m, "name");

    const char *st = fc_jstr(m, "state");
    /* a rate only while writing: fleetcastd keeps the last one after */
    double bps = !strcmp(st, "receiving") ? fc_jnum(m, "rate_bps", 0) : 0;

    bar(b, bar_w, fc_jnum(m, "progress_pct", 0));
    fprintf(f, "%-14.14s %-15.15s %-9s [%s] %5.1f%% %12s %7.0f", *name ? name : fc_jstr(m, "mac"),
            fc_jstr(m, "ip"), fc_jstr(m, "state"), b, fc_jnum(m, "progress_pct", 0),
            fc_human_bits(bps, rate, sizeof(rate)), fc_jnum(m, "repairs_requested", 0));
    if (*fc_jstr(m, "error"))
        fprintf(f, "  %s", fc_jstr(m, "error"));
}

/* "8 machines: 2 done, 6 receiving" */
static void counts(FILE *f, json_t **v, size_t n)
{
    static const char *const states[] = {"waiting", "receiving", "flushing", "checking",
                                         "done",    "failed",    "dropped"};
    size_t i, k, c, shown = 0;

    fprintf(f, "%zu machine%s", n, n == 1 ? "" : "s");
    for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
        for (c = 0, i = 0; i < n; i++)
            c += !strcmp(fc_jstr(v[i], "state"), states[k]);
        if (c)
            fprintf(f, "%s%zu %s", shown++ ? ", " : ": ", c, states[k]);
    }
}

static void totals(FILE *f, struct watch *w, json_t **v, size_t n)
{
    json_t *s = w->session;
    char rate[24], eta[24];

    if (fc_jnull(s, "eta_seconds"))
        snprintf(eta, sizeof(eta), "-");
    else
        fc_human_secs(fc_jnum(s, "eta_seconds", -1), eta, sizeof(eta));
    fprintf(f, "session %s %s %5.1f%%  %s  repair %.1f%%  ETA %s  ", w->id, fc_jstr(s, "state"),
            fc_jnum(s, "progress_pct", 0),
            fc_human_bits(is_ended(fc_jstr(s, "state")) ? 0 : fc_jnum(s, "rate_bps", 0), rate,
                          sizeof(rate)),
            fc_jnum(s, "repair_pct", 0), eta);
    counts(f, v, n);
}

static void term_size(int *cols, int *rows)
{
    struct winsize ws;

    *cols = 100;
    *rows = 40;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 && ws.ws_row > 4) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

/* The table into F: totals, header, one row per machine (at most MAX_ROWS,
 * then a line saying how many more); EOL ends each line. */
static void table(FILE *f, struct watch *w, int bar_w, size_t max_rows, const char *eol)
{
    size_t n, i;
    json_t **v = sorted_machines(w, &n);

    if (!v)
        return;
    totals(f, w, v, n);
    fprintf(f, "%s%-14s %-15s %-9s %-*s %6s %12s %7s%s", eol, "MACHINE", "IP", "STATE", bar_w + 2,
            "PROGRESS", "", "RATE", "REPAIRS", eol);
    for (i = 0; i < n && i < max_rows; i++) {
        machine_row(f, v[i], bar_w);
        fputs(eol, f);
    }
    if (i < n)
        fprintf(f, "... and %zu more%s", n - i, eol);
    free(v);
}

static void draw_tty(struct watch *w)
{
    int cols, rows, bar_w;

    term_size(&cols, &rows);
    bar_w = cols - 75;
    bar_w = bar_w < 10 ? 10 : bar_w > 40 ? 40 : bar_w;
    fputs(w->drawn ? "\033[H" : "\033[2J\033[H", stdout);
    table(stdout, w, bar_w, rows > 4 ? (size_t)rows - 4 : 1, "\033[K\n");
    fputs("\033[J", stdout);
    fflush(stdout);
}

static void draw_plain(struct watch *w)
{
    char t[16];
    time_t now = time(NULL);

    strftime(t, sizeof(t), "%H:%M:%S", localtime(&now));
    printf("--- %s\n", t);
    table(stdout, w, 20, (size_t)-1, "\n");
    fflush(stdout);
}

static void print_json_line(struct watch *w)
{
    json_t *list = json_array(), *o;
    size_t n, i;
    json_t **v = sorted_machines(w, &n);

    for (i = 0; v && i < n; i++)
        json_array_append(list, v[i]);
    free(v);
    o = json_pack("{s:I, s:O, s:o}", "time", (json_int_t)time(NULL), "session", w->session,
                  "machines", list);
    if (o) {
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        fflush(stdout);
    }
    json_decref(o);
}

/* Draws if something changed and the last drawing is old enough (or FORCE). */
static void draw(struct watch *w, int force)
{
    double now = fc_now();

    if (w->json || !w->session || !(w->dirty || force))
        return;
    if (!force && w->drawn && now - w->last_draw < (w->tty ? TTY_PERIOD : PLAIN_PERIOD))
        return;
    if (w->tty)
        draw_tty(w);
    else
        draw_plain(w);
    w->drawn = 1;
    w->dirty = 0;
    w->last_draw = now;
}

/* ---------- the event stream ---------- */

static void dispatch(struct watch *w)
{
    json_t *d;

    if (!w->data_len)
        return;
    w->data[w->data_len] = 0;
    d = json_loads(w->data, 0, NULL);
    if (!json_is_object(d)) {
        json_decref(d);
        return;
    }
    if (!strcmp(w->event, "progress")) {
        on_progress(w, d);
        if (w->json && w->session)
            print_json_line(w);
    } else if (!strcmp(w->event, "session")) {
        set_session(w, json_object_get(d, "session"));
    } else if (!strcmp(w->event, "machine")) {
        set_machine(w, json_object_get(d, "machine"));
    }
    json_decref(d);
}

/* One line of the stream (without its end): "event: X", "data: ...", a
 * comment, or the empty line that ends an event. */
static int sse_line(struct watch *w, char *l)
{
    char *v = strchr(l, ':');

    if (!*l) {
        dispatch(w);
        w->event[0] = 0;
        w->data_len = 0;
        return 0;
    }
    if (v == l)
        return 0; /* ": keepalive" */
    if (v) {
        *v++ = 0;
        if (*v == ' ')
            v++;
    } else {
        v = l + strlen(l);
    }
    if (!strcmp(l, "event")) {
        snprintf(w->event, sizeof(w->event), "%s", v);
    } else if (!strcmp(l, "data")) {
        size_t n = strlen(v);
        if (grow(&w->data, &w->data_cap, w->data_len + n + 2))
            return FC_ENOMEM;
        if (w->data_len)
            w->data[w->data_len++] = '\n';
        memcpy(w->data + w->data_len, v, n);
        w->data_len += n;
    }
    return 0;
}

static int on_data(void *ctx, const char *data, size_t len)
{
    struct watch *w = ctx;
    size_t i;

    for (i = 0; i < len; i++) {
        char c = data[i];
        if (c == '\n') {
            if (w->line_len && w->line[w->line_len - 1] == '\r')
                w->line_len--;
            w->line[w->line_len] = 0;
            if (sse_line(w, w->line))
                return 1;
            w->line_len = 0;
            continue;
        }
        if (grow(&w->line, &w->line_cap, w->line_len + 2))
            return 1;
        w->line[w->line_len++] = c;
    }
    draw(w, 0);
    return w->ended || fc_cli_stop;
}

/* Follows the stream until the session ends, Ctrl-C, or fleetcastd is gone
 * for RECONNECT_GIVE_UP seconds. Returns 0 or an exit status. */
static int follow(struct watch *w)
{
    struct fc_http_reply err;
    double lost_since = 0;
    int rc;

    while (!w->ended && !fc_cli_stop) {
        w->first_progress = 1;
        w->line_len = w->data_len = 0;
        w->event[0] = 0;
        rc = fc_http_stream(&w->api.http, "/api/v1/events", on_data, w, &fc_cli_stop, STREAM_IDLE_S,
                            &err);
        if (!rc && w->api.http.status && (w->api.http.status < 200 || w->api.http.status >= 300)) {
            snprintf(w->api.what, sizeof(w->api.what), "GET /api/v1/events");
            json_t *j = json_loads(err.body ? err.body : "", 0, NULL);
            snprintf(w->api.err, sizeof(w->api.err), "%s", j ? fc_jstr(j, "error") : "");
            json_decref(j);
            fc_http_reply_free(&err);
            return fc_api_fail(&w->api, w->api.http.status == 401 ? FC_EKEY : FC_EREFUSED);
        }
        fc_http_reply_free(&err);
        if (w->ended || fc_cli_stop)
            break;
        if (rc && !lost_since)
            lost_since = fc_now();
        if (rc && fc_now() - lost_since > RECONNECT_GIVE_UP) {
            snprintf(w->api.err, sizeof(w->api.err), "%s (for %.0f s)", w->api.http.error,
                     RECONNECT_GIVE_UP);
            return fc_api_fail(&w->api, FC_EIO);
        }
        if (!rc)
            lost_since = 0;
        sleep(1);
    }
    return 0;
}

/* ---------- start and end ---------- */

/* Without SESSION: the only session, else the newest one. */
static int pick_session(struct watch *w)
{
    json_t *out, *s, *best = NULL;
    size_t i;
    int tries = 0, rc;

    /* fleetcastd publishes its state every 250 ms: a session created just
     * now may need a moment to be listed. */
    while ((rc = fc_api_call(&w->api, "GET", "/api/v1/sessions", NULL, &out)) == 0 &&
           json_array_size(json_object_get(out, "sessions")) == 0 && ++tries < 5 && !fc_cli_stop) {
        json_decref(out);
        usleep(300 * 1000);
    }
    if (rc)
        return fc_api_fail(&w->api, rc);
    json_array_foreach(json_object_get(out, "sessions"), i, s)
    {
        if (!best || fc_jnum(s, "created_at", 0) >= fc_jnum(best, "created_at", 0))
            best = s;
    }
    if (best)
        snprintf(w->id, sizeof(w->id), "%s", fc_jstr(best, "id"));
    json_decref(out);
    if (!best) {
        fprintf(stderr, "fleetcast: error: no session on fleetcastd at %s\n", w->api.http.base);
        return FC_API_EXIT_NOTFOUND;
    }
    return 0;
}

static int load_session(struct watch *w)
{
    char path[128];
    json_t *out;
    int rc = 0, tries;

    if (strspn(w->id, "0123456789abcdefABCDEF-_") != strlen(w->id) || !w->id[0])
        return fc_usage_error("'%s' is not a session id", w->id);
    snprintf(path, sizeof(path), "/api/v1/sessions/%s", w->id);
    for (tries = 0; tries < 5 && !fc_cli_stop; tries++) {
        rc = fc_api_call(&w->api, "GET", path, NULL, &out);
        if (rc != FC_EREFUSED || w->api.http.status != 404)
            break;
        usleep(300 * 1000); /* just created: not published yet? */
    }
    if (rc)
        return fc_api_fail(&w->api, rc);
    set_session(w, json_object_get(out, "session"));
    set_machines(w, json_object_get(out, "machines"), 1);
    json_decref(out);
    if (!w->session) {
        fprintf(stderr, "fleetcast: error: GET %s: no session in the reply\n", path);
        return 1;
    }
    return 0;
}

static int parse(struct fc_args *a, struct watch *w)
{
    while (a->pos < a->argc) {
        const char *arg = a->argv[a->pos];
        int rc = 0;

        if (fc_api_opt(a, &w->opts, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        if (arg[0] == '-' && arg[1])
            return fc_unknown_option(a, arg);
        if (w->want)
            return fc_usage_error("unexpected argument '%s'", arg);
        w->want = arg;
        a->pos++;
    }
    return 0;
}

/* 0 when the session ended with every machine done, 1 otherwise. */
static int outcome(struct watch *w)
{
    size_t n, i, done = 0;
    json_t **v = sorted_machines(w, &n);

    for (i = 0; v && i < n; i++)
        done += !strcmp(fc_jstr(v[i], "state"), "done");
    free(v);
    return n > 0 && done == n && !strcmp(fc_jstr(w->session, "state"), "finished") ? 0 : 1;
}

static int run(struct fc_args *a, struct watch *w)
{
    int rc = parse(a, w);

    if (rc || (rc = fc_api_open(&w->api, &w->opts)))
        return rc;
    w->json = w->opts.json;
    w->tty = !w->json && isatty(STDOUT_FILENO);
    if (w->want)
        snprintf(w->id, sizeof(w->id), "%s", w->want);
    else if ((rc = pick_session(w)))
        return rc;
    if ((rc = load_session(w)))
        return rc;
    draw(w, 1);
    if (!w->ended && (rc = follow(w)))
        return rc;
    if (w->json)
        print_json_line(w);
    else
        draw(w, 1);
    if (fc_cli_stop && !w->ended)
        return 130;
    return outcome(w);
}

int fc_cmd_watch(struct fc_args *a)
{
    struct watch w;
    int rc;

    memset(&w, 0, sizeof(w));
    w.machines = json_object();
    if (!w.machines)
        return fc_fail(FC_ENOMEM, "watch");
    rc = run(a, &w);
    json_decref(w.session);
    json_decref(w.machines);
    free(w.line);
    free(w.data);
    return rc;
}
