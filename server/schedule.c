/* Schedules: a lab imaged at a time, once or every given weekday, its
 * machines woken first (Wake-on-LAN), the session failing what is unfinished
 * at a deadline. Kept in the store (a restarted daemon keeps them), run by a
 * one-second timer on the loop. At a run: the lab's machines are read from
 * the inventory, woken if asked, and a session is created that starts when
 * all of them joined or --max-wait after the first join. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

#define SCHEDULES_MAX 256
#define MAX_WAIT_DEFAULT 600 /* s after the first join: the rest are late */
#define MISSED_AFTER 600     /* s late: a run is skipped, not started hours off (a restart) */

static const char *const weekdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* "day" or a comma list of weekdays ("sun", "mon,thu"): a bit per day. */
static int parse_every(const char *v, unsigned *days)
{
    char buf[64], *tok, *save = NULL;
    int i;

    *days = 0;
    if (!v || !*v)
        return 0;
    if (!strcmp(v, "day"))
        return *days = 0x7f, 0;
    if (strlen(v) >= sizeof(buf))
        return FC_EINVAL;
    snprintf(buf, sizeof(buf), "%s", v);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < 7 && strcmp(tok, weekdays[i]); i++)
            ;
        if (i == 7)
            return FC_EINVAL;
        *days |= 1u << i;
    }
    return *days ? 0 : FC_EINVAL;
}

static int parse_hhmm(const char *v, int *h, int *m)
{
    char end;

    return v && sscanf(v, "%2d:%2d%c", h, m, &end) == 2 && *h >= 0 && *h < 24 && *m >= 0 && *m < 60
               ? 0
               : FC_EINVAL;
}

/* The first HH:MM (local time) after t. */
static int64_t next_hhmm(int64_t t, int h, int m)
{
    time_t tt = (time_t)t, r;
    struct tm tm;

    localtime_r(&tt, &tm);
    tm.tm_hour = h, tm.tm_min = m, tm.tm_sec = 0, tm.tm_isdst = -1;
    r = mktime(&tm);
    if (r <= tt) {
        /* mktime normalised tm (a time in a spring-forward gap moves): set
         * the hour again for the next day */
        tm.tm_mday++;
        tm.tm_hour = h, tm.tm_min = m, tm.tm_sec = 0, tm.tm_isdst = -1;
        r = mktime(&tm);
    }
    return (int64_t)r;
}

/* The next run after at: the same local time on the next day in days. */
static int64_t next_run(int64_t at, unsigned days)
{
    time_t tt = (time_t)at;
    struct tm tm;
    int i;

    localtime_r(&tt, &tm);
    for (i = 1; i <= 7; i++) {
        struct tm t = tm;
        t.tm_mday += i;
        t.tm_isdst = -1;
        tt = mktime(&t);
        localtime_r(&tt, &t);
        if (days & (1u << t.tm_wday))
            return (int64_t)tt;
    }
    return 0;
}

json_t *fc_schedule_json(const struct fc_schedule *sc)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:s?, s:b, s:s?, s:O, s:I, s:s?, s:s?}", "id",
                     (json_int_t)sc->id, "state", sc->state, "lab", sc->lab, "at",
                     (json_int_t)sc->at, "every", sc->every[0] ? sc->every : NULL, "wake", sc->wake,
                     "deadline", sc->deadline[0] ? sc->deadline : NULL, "session", sc->session,
                     "created_at", (json_int_t)sc->created_at, "last_run",
                     sc->last_run[0] ? sc->last_run : NULL, "last_error",
                     sc->last_error[0] ? sc->last_error : NULL);
}

json_t *fc_schedules_json(const struct fc_daemon *d)
{
    json_t *a = json_array();
    uint32_t i;

    for (i = 0; a && i < d->n_schedules; i++)
        json_array_append_new(a, fc_schedule_json(&d->schedules[i]));
    return a;
}

static void save(struct fc_daemon *d, const struct fc_schedule *sc)
{
    fc_store_put_schedule(d->store, fc_schedule_json(sc));
}

/* One schedule from its JSON (an API body, or a row of the store). */
static int from_json(struct fc_schedule *sc, const json_t *j, char *why, size_t cap)
{
    const char *lab = json_string_value(json_object_get(j, "lab"));
    const char *every = json_string_value(json_object_get(j, "every"));
    const char *deadline = json_string_value(json_object_get(j, "deadline"));
    const json_t *sess = json_object_get(j, "session"), *at = json_object_get(j, "at");
    unsigned days;
    int h, m;

    memset(sc, 0, sizeof(*sc));
    if (!lab || !*lab || strlen(lab) >= sizeof(sc->lab))
        return snprintf(why, cap, "lab is required"), FC_EINVAL;
    if (!json_is_integer(at) || json_integer_value(at) <= 0)
        return snprintf(why, cap, "at must be a time (unix seconds)"), FC_EINVAL;
    if (parse_every(every, &days))
        return snprintf(why, cap, "every takes day or weekdays: sun,mon,tue,wed,thu,fri,sat"),
               FC_EINVAL;
    if (deadline && parse_hhmm(deadline, &h, &m))
        return snprintf(why, cap, "deadline takes HH:MM"), FC_EINVAL;
    if (!json_is_object(sess) || json_object_get(sess, "lab") ||
        json_object_get(sess, "min_receivers") || json_object_get(sess, "deadline"))
        return snprintf(why, cap,
                        "session must be a create body without lab, min_receivers and "
                        "deadline (the schedule sets them)"),
               FC_EINVAL;
    snprintf(sc->lab, sizeof(sc->lab), "%s", lab);
    snprintf(sc->every, sizeof(sc->every), "%s", every ? every : "");
    snprintf(sc->deadline, sizeof(sc->deadline), "%s", deadline ? deadline : "");
    sc->at = json_integer_value(at);
    sc->wake = json_is_true(json_object_get(j, "wake"));
    sc->session = json_deep_copy(sess);
    return sc->session ? 0 : FC_ENOMEM;
}

/* The session body of a run: the schedule's, with its lab, who must join
 * before it starts, and when it must be over. */
static json_t *run_body(const struct fc_schedule *sc, size_t n_machines, int64_t now)
{
    json_t *b = json_deep_copy(sc->session);
    int h, m;

    json_object_set_new(b, "lab", json_string(sc->lab));
    json_object_set_new(b, "min_receivers", json_integer((json_int_t)n_machines));
    if (!json_object_get(b, "max_wait"))
        json_object_set_new(b, "max_wait", json_integer(MAX_WAIT_DEFAULT));
    if (sc->deadline[0] && !parse_hhmm(sc->deadline, &h, &m))
        json_object_set_new(b, "deadline", json_integer(next_hhmm(now, h, m)));
    return b;
}

/* The lab's machines' MACs, from the inventory (a short read on the loop,
 * once per run). */
static json_t *lab_machines(struct fc_daemon *d, const char *lab)
{
    struct fc_store_reader *r = fc_store_reader_open(d->store);
    json_t *list = r ? fc_store_machines(r, lab) : NULL;

    fc_store_reader_close(r);
    return list;
}

/* Wake-on-LAN for the lab's machines (wake.c), on the session's interface. */
static int wake_lab(struct fc_daemon *d, const char *iface, const json_t *machines, char *why,
                    size_t cap)
{
    size_t i, n = json_array_size(machines);
    char(*macs)[FC_MAC_TEXT] = calloc(n ? n : 1, sizeof(*macs));
    int rc;

    if (!macs)
        return snprintf(why, cap, "out of memory"), FC_ENOMEM;
    for (i = 0; i < n; i++)
        snprintf(macs[i], sizeof(macs[i]), "%s",
                 json_string_value(json_object_get(json_array_get(machines, i), "mac")) ?: "");
    rc = fc_wake_start(d, iface, NULL, (const char(*)[FC_MAC_TEXT])macs, n, why, cap);
    free(macs);
    return rc < 0 ? rc : 0; /* else the job's id */
}

static int start_run(struct fc_daemon *d, struct fc_schedule *sc, int64_t now, char *why,
                     size_t cap)
{
    struct fc_session_config cfg;
    struct fc_session *s;
    json_t *machines = lab_machines(d, sc->lab), *body;
    size_t n = json_array_size(machines);
    int rc;

    if (!n) {
        json_decref(machines);
        return snprintf(why, cap, "lab %s has no machines in the inventory", sc->lab), FC_EINVAL;
    }
    body = run_body(sc, n, now);
    rc = fc_config_from_json(&cfg, &d->session_defaults, body, why, cap);
    if (!rc)
        rc = fc_daemon_add_session(d, &cfg, &s, why, cap);
    if (!rc) {
        snprintf(sc->last_run, sizeof(sc->last_run), "%s", s->run);
        fc_info("schedule %lld: session %s (run %s) for lab %s, waiting for its %zu machines",
                (long long)sc->id, s->id_text, s->run, sc->lab, n);
        /* Before the wake: a machine that boots its disk would never join. */
        snprintf(why, cap, "schedule %lld, session %s", (long long)sc->id, s->id_text);
        fc_pxecfg_lab_deploy(d, machines, why);
        why[0] = 0;
        if (sc->wake)
            rc = wake_lab(d, cfg.iface, machines, why, cap);
    }
    fc_config_free_strings(&cfg);
    json_decref(body);
    json_decref(machines);
    return rc;
}

static void fire(struct fc_daemon *d, struct fc_schedule *sc, int64_t now)
{
    char why[256] = "";
    unsigned days = 0;

    sc->last_error[0] = 0;
    if (now - sc->at > MISSED_AFTER) {
        /* fleetcastd was not running at the time: a 02:00 rollout is not
         * started at 09:00, in the middle of a class. */
        snprintf(why, sizeof(why), "missed: fleetcastd was not running at the time (%lld s late)",
                 (long long)(now - sc->at));
        fc_warn("schedule %lld (lab %s): %s", (long long)sc->id, sc->lab, why);
        snprintf(sc->last_error, sizeof(sc->last_error), "%s", why);
    } else if (start_run(d, sc, now, why, sizeof(why))) {
        fc_error("schedule %lld (lab %s): %s", (long long)sc->id, sc->lab, why);
        snprintf(sc->last_error, sizeof(sc->last_error), "%s", why);
    }
    parse_every(sc->every, &days);
    if (days) {
        /* Runs missed while the daemon was down are not made up: the next
         * one is the first still ahead. */
        while (sc->at <= now)
            sc->at = next_run(sc->at, days);
    } else {
        snprintf(sc->state, sizeof(sc->state), "done");
    }
    save(d, sc);
}

/* Done and cancelled schedules leave the list (the store keeps them). */
static void prune(struct fc_daemon *d)
{
    uint32_t i = 0;

    while (i < d->n_schedules) {
        struct fc_schedule *sc = &d->schedules[i];
        if (strcmp(sc->state, "scheduled")) {
            json_decref(sc->session);
            memmove(sc, sc + 1, (d->n_schedules - i - 1) * sizeof(*sc));
            d->n_schedules--;
        } else {
            i++;
        }
    }
}

static void tick_cb(uv_timer_t *t)
{
    struct fc_daemon *d = t->data;
    int64_t now = (int64_t)time(NULL);
    uint32_t i;

    for (i = 0; i < d->n_schedules; i++)
        if (!strcmp(d->schedules[i].state, "scheduled") && d->schedules[i].at <= now)
            fire(d, &d->schedules[i], now);
    prune(d);
}

static int add(struct fc_daemon *d, const struct fc_schedule *sc)
{
    struct fc_schedule *list;

    if (d->n_schedules >= SCHEDULES_MAX)
        return FC_ESTATE;
    list = realloc(d->schedules, (d->n_schedules + 1) * sizeof(*list));
    if (!list)
        return FC_ENOMEM;
    d->schedules = list;
    d->schedules[d->n_schedules++] = *sc;
    return 0;
}

int fc_schedule_create(struct fc_daemon *d, const json_t *body, json_t **out, char *why, size_t cap)
{
    struct fc_schedule sc;
    struct fc_session_config cfg;
    json_t *probe;
    int rc;

    if (!d->store)
        return snprintf(why, cap, "schedules need fleetcastd --daemon (a store)"), FC_ESTATE;
    rc = from_json(&sc, body, why, cap);
    if (rc)
        return rc;
    /* The session body is checked now, not at 02:00. */
    probe = run_body(&sc, 1, sc.at);
    rc = fc_config_from_json(&cfg, &d->session_defaults, probe, why, cap);
    fc_config_free_strings(&cfg);
    json_decref(probe);
    if (!rc && d->n_schedules >= SCHEDULES_MAX)
        rc = FC_ESTATE, snprintf(why, cap, "%d schedules already", SCHEDULES_MAX);
    if (rc) {
        json_decref(sc.session);
        return rc;
    }
    sc.id = ++d->schedule_last_id;
    sc.created_at = (int64_t)time(NULL);
    snprintf(sc.state, sizeof(sc.state), "scheduled");
    rc = add(d, &sc);
    if (rc) {
        json_decref(sc.session);
        return snprintf(why, cap, "out of memory"), rc;
    }
    save(d, &sc);
    fc_info("schedule %lld: lab %s at %lld%s%s%s", (long long)sc.id, sc.lab, (long long)sc.at,
            sc.every[0] ? ", every " : "", sc.every, sc.wake ? ", waking its machines" : "");
    *out = fc_schedule_json(&sc);
    return 0;
}

int fc_schedule_cancel(struct fc_daemon *d, int64_t id, json_t **out)
{
    uint32_t i;

    for (i = 0; i < d->n_schedules; i++) {
        struct fc_schedule *sc = &d->schedules[i];
        if (sc->id != id)
            continue;
        snprintf(sc->state, sizeof(sc->state), "cancelled");
        save(d, sc);
        fc_info("schedule %lld: cancelled", (long long)id);
        *out = fc_schedule_json(sc);
        prune(d);
        return 0;
    }
    return FC_EINVAL;
}

/* The schedules a stopped daemon left, from the store. */
static void load(struct fc_daemon *d)
{
    struct fc_store_reader *r = fc_store_reader_open(d->store);
    json_t *rows = r ? fc_store_schedules(r, &d->schedule_last_id) : NULL, *row;
    struct fc_schedule sc;
    char why[256];
    size_t i;

    fc_store_reader_close(r);
    json_array_foreach(rows, i, row)
    {
        if (from_json(&sc, row, why, sizeof(why))) {
            fc_warn("schedule %lld in the store is unreadable: %s",
                    (long long)json_integer_value(json_object_get(row, "id")), why);
            continue;
        }
        sc.id = json_integer_value(json_object_get(row, "id"));
        sc.created_at = json_integer_value(json_object_get(row, "created_at"));
        snprintf(sc.state, sizeof(sc.state), "scheduled");
        if (add(d, &sc))
            json_decref(sc.session);
    }
    json_decref(rows);
    if (d->n_schedules)
        fc_info("%u schedules from %s", d->n_schedules, fc_store_path(d->store));
}

void fc_schedule_start(struct fc_daemon *d)
{
    if (!d->store)
        return;
    load(d);
    uv_timer_init(d->loop, &d->schedule_timer);
    d->schedule_timer.data = d;
    uv_timer_start(&d->schedule_timer, tick_cb, 1000, 1000);
    d->schedule_on = 1;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

void fc_schedule_stop(struct fc_daemon *d)
{
    uint32_t i;

    if (d->schedule_on)
        uv_close((uv_handle_t *)&d->schedule_timer, on_closed);
    d->schedule_on = 0;
    for (i = 0; i < d->n_schedules; i++)
        json_decref(d->schedules[i].session);
    free(d->schedules);
    d->schedules = NULL;
    d->n_schedules = 0;
}
