/* What the store is told, and when: a session's row whenever its state
 * changes, a machine's outcome whenever its state changes, everything once
 * more when the session ends; and, when the daemon starts, the sessions a
 * stopped daemon left unfinished, created again under their runs. Without
 * a store (one-shot fleetcastd) every call here does nothing. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

void fc_record_session(struct fc_session *s)
{
    if (!s->d->store)
        return;
    fc_store_put_session(s->d->store, s->run, fc_api_session_json(s), fc_config_to_json(&s->cfg));
}

void fc_record_machine(struct fc_session *s, const struct fc_rx *r)
{
    if (!s->d->store)
        return;
    fc_store_put_outcome(s->d->store, s->run, s->cfg.image_path, fc_api_machine_json(s, r));
}

static int joined(const struct fc_session *s, const char *mac)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++)
        if (!strcasecmp(s->rx[i].mac, mac))
            return 1;
    return 0;
}

/* Why a machine of the lab never joined, from what the PXE watcher heard of it (the operator's
 * first question in the morning: did it even boot from the network?). */
static void absent_reason(struct fc_session *s, const char *mac, char *out, size_t cap)
{
    const struct fc_pxe_seen *e = NULL;
    uint8_t m[6];
    char when[16], buf[32];
    const char *arch = "no client-arch";
    time_t t;

    if (s->d->pxe && !fc_mac_parse(mac, m))
        e = fc_pxewatch_lookup(s->d->pxe, m);
    if (!s->d->pxe) {
        snprintf(out, cap,
                 "never joined the session (not woken, not booted from the network, or "
                 "not on this network)");
        return;
    }
    if (!e) {
        snprintf(out, cap,
                 "never joined; the PXE watcher never heard it boot from the network "
                 "(not woken, powered off, or network boot not first in its order)");
        return;
    }
    t = (time_t)e->last_seen;
    strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
    if (e->has_arch)
        arch = fc_dhcp_arch_name(e->arch, buf, sizeof(buf));
    if (e->last_seen >= (int64_t)s->created_wall)
        snprintf(out, cap,
                 "never joined, but PXE-booted at %s (%s, %llu DHCP messages): its boot file or "
                 "the initramfs did not reach fleetcast-recv (see its screen)",
                 when, arch, (unsigned long long)e->count);
    else
        snprintf(out, cap,
                 "never joined; last heard PXE booting at %s, before this session (%s): not "
                 "booted from the network during it",
                 when, arch);
}

/* A lab's session: its machines that never joined get an outcome too,
 * "absent", so the morning report names them. (One short read of the
 * inventory on the loop, once per session.) */
static json_t *record_absent(struct fc_session *s)
{
    struct fc_store_reader *r = fc_store_reader_open(s->d->store);
    json_t *list = r ? fc_store_machines(r, s->cfg.lab) : NULL, *m, *absent = json_array(), *a;
    char why[256];
    size_t i;

    fc_store_reader_close(r);
    json_array_foreach(list, i, m)
    {
        const char *mac = json_string_value(json_object_get(m, "mac"));
        if (!mac || joined(s, mac))
            continue;
        absent_reason(s, mac, why, sizeof(why));
        fc_info("session %s machine %s (%s): %s", s->id_text, mac,
                json_string_value(json_object_get(m, "name")), why);
        a = json_pack("{s:s, s:i, s:O, s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:o, s:s, s:o, s:o, "
                      "s:i, s:s}",
                      "session", s->id_text, "id", 0, "name", json_object_get(m, "name"), "mac",
                      mac, "ip", "", "state", "absent", "progress_pct", 0.0, "rate_bps", 0,
                      "repairs_requested", 0, "pkts_lost", 0, "disk_size", json_null(), "error",
                      why, "verdict", json_null(), "done_at", json_null(), "bytes_written", 0,
                      "run", s->run);
        fc_pxecfg_absent(s, m);
        if (!a)
            continue; /* json_pack refuses text that is not UTF-8: never from here */
        json_array_append(absent, a);
        fc_store_put_outcome(s->d->store, s->run, NULL, a);
    }
    json_decref(list);
    return absent;
}

/* --keep-history: at start and at each session's end, a cheap DELETE on an index. */
static void prune(struct fc_daemon *d)
{
    if (d->store && d->cfg.keep_history_days)
        fc_store_prune(d->store, (int64_t)time(NULL) - (int64_t)d->cfg.keep_history_days * 86400);
}

json_t *fc_record_ended(struct fc_session *s)
{
    json_t *absent = NULL;
    uint32_t i;

    if (!s->d->store)
        return NULL;
    for (i = 0; i < s->n_rx; i++)
        fc_record_machine(s, &s->rx[i]);
    if (s->cfg.lab)
        absent = record_absent(s);
    fc_record_session(s);
    prune(s->d);
    return absent;
}

/* One unfinished session from the store, created again. */
static int resume_one(struct fc_daemon *d, const json_t *row)
{
    struct fc_session_config cfg;
    struct fc_session *s;
    const char *run = json_string_value(json_object_get(row, "run"));
    char why[256] = "";
    int rc = fc_config_from_json(&cfg, &d->session_defaults, json_object_get(row, "config"), why,
                                 sizeof(why));

    if (!rc)
        rc = fc_daemon_resume_session(d, &cfg, run,
                                      json_integer_value(json_object_get(row, "created_at")), &s,
                                      why, sizeof(why));
    fc_config_free_strings(&cfg);
    if (rc) {
        /* Said in its row, so the report shows why it never finished. */
        fc_error("session %s (run %s): cannot resume: %s",
                 json_string_value(json_object_get(row, "id")), run, why);
        json_t *sess = json_deep_copy(json_object_get(row, "session"));
        if (!json_is_object(sess)) {
            json_decref(sess);
            sess = json_pack("{s:s}", "id", json_string_value(json_object_get(row, "id")) ?: "");
        }
        json_object_update_new(sess, json_pack("{s:s, s:s, s:I, s:s}", "state", "aborted", "result",
                                               "aborted", "ended_at", (json_int_t)time(NULL),
                                               "error", why));
        fc_store_put_session(d->store, run, sess, json_incref(json_object_get(row, "config")));
        return 0;
    }
    fc_session_resume_first_join(s, (int64_t)json_number_value(json_object_get(
                                        json_object_get(row, "session"), "first_join_at")));
    fc_info("session %s: resumed (run %s) from %s", s->id_text, run, fc_store_path(d->store));
    return 1;
}

int fc_record_resume(struct fc_daemon *d)
{
    struct fc_store_reader *r;
    json_t *rows, *row;
    size_t i;
    int n = 0;

    if (!d->store)
        return 0;
    prune(d);
    r = fc_store_reader_open(d->store);
    rows = r ? fc_store_unfinished(r) : NULL;
    fc_store_reader_close(r);
    json_array_foreach(rows, i, row) n += resume_one(d, row);
    json_decref(rows);
    return n;
}
