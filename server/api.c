/* Sessions and machines as the console sees them (docs/api.md): the JSON
 * objects, the snapshot published every 250 ms with a progress event every
 * second, the PXE watcher's machines published every second, state-change
 * events, and the commands the HTTP threads queue (create, start now,
 * cancel, wake, boot), which run here, in the loop thread. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/error.h"
#include "common/grow.h"
#include "common/log.h"
#include "server/server.h"

#define SNAP_MS 250
#define PROGRESS_EVERY 4 /* snapshots */

static const char *machine_state(const struct fc_rx *r)
{
    static const char *rx[] = {"?",        "waiting", "receiving", "flushing",
                               "checking", "done",    "failed"};

    if (r->status == FC_RXS_DONE)
        return "done";
    if (r->status == FC_RXS_FAILED)
        return "failed";
    if (r->status == FC_RXS_DROPPED)
        return "dropped";
    if (!r->have_progress || r->p.state > FC_RX_STATE_MAX)
        return "waiting";
    return rx[r->p.state];
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n, i;
    unsigned lo = 0x80, hi = 0xbf;

    if (s[0] < 0x80)
        return 1;
    if (s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* A JSON string for text that came from the wire (a machine's name, its
 * error) or the disk (an image path). jansson refuses invalid UTF-8, and
 * json_pack would then drop the whole object: a machine would vanish from
 * the console. Each invalid byte becomes the four characters \xNN instead. */
static json_t *text(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t cap = strlen((const char *)p) * 4 + 1, o = 0, n;
    char *buf = malloc(cap);
    json_t *j;

    if (!buf)
        return NULL;
    for (; *p; p += n) {
        n = utf8_len(p);
        if (n) {
            memcpy(buf + o, p, n);
            o += n;
        } else {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p);
            n = 1;
        }
    }
    j = json_stringn(buf, o);
    free(buf);
    return j;
}

/* The clone's identity step: the host name given in its JOIN_ACK, and what
 * its DONE (or ABORT) said came of it; null while not known. */
static void identity_json(json_t *j, const struct fc_rx *r)
{
    static const char *const what[] = {NULL, "done", "skipped", "failed"};
    const char *id = r->identity < 4 ? what[r->identity] : NULL;

    json_object_set_new(j, "hostname", r->hostname[0] ? json_string(r->hostname) : json_null());
    json_object_set_new(j, "identity", id ? json_string(id) : json_null());
    /* what its DONE said was set where ("windows: unattend ComputerName=LAB-07
     * (partition 3)"); null when it said nothing */
    json_object_set_new(j, "identity_detail",
                        r->identity_detail[0] ? json_string(r->identity_detail) : json_null());
}

json_t *fc_api_machine_json(const struct fc_session *s, const struct fc_rx *r)
{
    char ip[INET_ADDRSTRLEN];
    uint32_t total = s->img.m.n_chunks;
    uint32_t done = r->status == FC_RXS_DONE ? total : r->p.chunks_done;
    double now = fc_server_now(s), wall = (double)time(NULL);
    double wall_last_seen = wall - (now - r->last_seen);
    json_t *verdict = json_null(), *done_at = json_null(), *j;

    inet_ntop(AF_INET, &r->addr.sin_addr, ip, sizeof(ip));
    /* The verdict its DONE gave: the disk read back, or the verified chunks
     * as written and fsynced; null until it is done. */
    if (r->status == FC_RXS_DONE) {
        verdict = json_string(r->readback ? "readback" : "written");
        done_at = json_integer((json_int_t)(wall - (now - r->done_at)));
    }
    j = json_pack(
        "{s:s, s:I, s:o, s:o, s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o, s:I, "
        "s:s}",
        "session", s->id_text, "id", (json_int_t)r->id, "name", text(r->name), "mac", text(r->mac),
        "ip", ip, "state", machine_state(r), "progress_pct", total ? 100.0 * done / total : 100.0,
        "rate_bps", (json_int_t)(r->p.rate * 8), "repairs_requested",
        (json_int_t)r->repairs_requested, "pkts_lost", (json_int_t)r->p.pkts_lost, "last_seen",
        (json_int_t)wall_last_seen, "disk_size", (json_int_t)r->target_size, "error",
        text(r->error), "verdict", verdict, "joined_at", (json_int_t)(wall - (now - r->joined_at)),
        "done_at", done_at, "bytes_written", (json_int_t)r->p.bytes_written, "run", s->run);
    if (j)
        identity_json(j, r);
    /* The grow step, beside the verdict: null until a DONE reported one. */
    if (j)
        json_object_set_new(j, "grow",
                            r->grow_reported
                                ? json_pack("{s:b, s:s}", "done", r->grow_result == FC_GROW_DONE,
                                            "result", fc_grow_result_text(r->grow_result))
                                : json_null());
    return j;
}

json_t *fc_api_machines_json(const struct fc_session *s)
{
    json_t *arr = json_array();
    uint32_t i;

    for (i = 0; arr && i < s->n_rx; i++)
        json_array_append_new(arr, fc_api_machine_json(s, &s->rx[i]));
    return arr;
}

static double mean_progress(const struct fc_session *s, double *min)
{
    double sum = 0;
    uint32_t i, n = 0;

    *min = 100;
    for (i = 0; i < s->n_rx; i++) {
        const struct fc_rx *r = &s->rx[i];
        double p;
        if (r->status == FC_RXS_DROPPED || r->status == FC_RXS_FAILED)
            continue;
        p = r->status == FC_RXS_DONE || !s->img.m.n_chunks
                ? 100.0
                : 100.0 * r->p.chunks_done / s->img.m.n_chunks;
        sum += p;
        n++;
        if (p < *min)
            *min = p;
    }
    return n ? sum / n : 0;
}

/* Whole numbers as JSON integers: 600, not 600.0. */
static json_t *number(double v)
{
    return v == (double)(json_int_t)v ? json_integer((json_int_t)v) : json_real(v);
}

static json_t *optional_time(int64_t t)
{
    return t ? json_integer(t) : json_null();
}

/* How it ended, from its exit status; null while it runs. */
static json_t *result(const struct fc_session *s)
{
    if (s->state == FC_SS_ABORTED)
        return json_string("aborted");
    if (s->state != FC_SS_FINISHED)
        return json_null();
    return json_string(s->exit_code ? "incomplete" : "done");
}

json_t *fc_api_session_json(const struct fc_session *s)
{
    const struct fc_stats *st = &s->st;
    uint64_t data = st->data_pkts + st->catchup_pkts;
    char group[32];
    const uint8_t *a = (const uint8_t *)&s->cfg.group.s_addr;
    double min, progress = mean_progress(s, &min);
    int live = s->state == FC_SS_SENDING || s->state == FC_SS_REPAIR;
    double rate_bps = live ? fc_sender_rate(s) * 8 : 0;
    json_t *eta = json_null();

    snprintf(group, sizeof(group), "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], s->cfg.data_port);
    if (live && rate_bps > 0 && s->n_rx)
        eta = json_integer(
            (json_int_t)((100.0 - min) / 100.0 * (double)s->img.m.compressed_bytes * 8 / rate_bps));
    return json_pack(
        "{s:s, s:s, s:o, s:I, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:f, s:f, "
        "s:o, s:{s:I, s:I, s:I, s:I}, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:I, s:f, s:s}",
        "id", s->id_text, "state", fc_session_state_name(s->state), "image",
        text(s->cfg.image_path), "image_bytes", (json_int_t)s->img.m.compressed_bytes, "group",
        group, "iface", text(s->cfg.iface), "rate_cap_bps", (json_int_t)s->cfg.rate_bps, "rate_bps",
        (json_int_t)rate_bps, "min_receivers", (json_int_t)s->cfg.min_receivers, "max_wait",
        number(s->cfg.max_wait), "fec", number(s->cfg.fec_pct), "bytes_sent",
        (json_int_t)st->udp_bytes, "data_pkts", (json_int_t)st->data_pkts, "repair_pkts",
        (json_int_t)st->repair_pkts, "catchup_pkts", (json_int_t)st->catchup_pkts, "repair_pct",
        data ? 100.0 * (double)st->repair_pkts / (double)data : 0.0, "progress_pct", progress,
        "eta_seconds", eta, "receivers", "active", (json_int_t)fc_rx_count(s, FC_RXS_ACTIVE),
        "done", (json_int_t)fc_rx_count(s, FC_RXS_DONE), "failed",
        (json_int_t)fc_rx_count(s, FC_RXS_FAILED), "dropped",
        (json_int_t)fc_rx_count(s, FC_RXS_DROPPED), "created_at", (json_int_t)s->created_wall,
        "first_join_at", optional_time(s->first_join_wall), "start_deadline",
        optional_time(s->state == FC_SS_WAITING ? fc_session_start_deadline(s) : 0), "started_at",
        optional_time(s->started_wall), "ended_at", optional_time(s->ended_wall), "result",
        result(s), "readback", s->cfg.readback != 0, "zero_free", s->cfg.zero_free != 0, "grow",
        s->cfg.grow || s->cfg.grow_part, "grow_part", (json_int_t)s->cfg.grow_part, "parity_pct",
        fc_sender_parity_level(s), "run", s->run);
}

/* An ended session whose id a live one took again (the same image on the
 * same group) is not shown: the id names the live one. */
static int shadowed(const struct fc_daemon *d, const char *id)
{
    uint32_t i;

    for (i = 0; i < d->n_sessions; i++)
        if (!strcmp(d->sessions[i]->id_text, id))
            return 1;
    return 0;
}

/* The live sessions, then the ended ones newest first. Ended ones are their
 * summaries, shared (not copied) with the history: neither side changes
 * them, and jansson's reference counts are atomic, so an HTTP thread may
 * hold a snapshot after the history dropped the summary. */
static json_t *snapshot(const struct fc_daemon *d)
{
    json_t *sessions = json_array(), *machines = json_array();
    const struct fc_summary *e;
    uint32_t i;
    size_t k;

    for (i = 0; i < d->n_sessions; i++) {
        const struct fc_session *s = d->sessions[i];
        json_t *m = fc_api_machines_json(s);
        json_array_append_new(sessions, fc_api_session_json(s));
        json_array_extend(machines, m);
        json_decref(m);
    }
    for (k = 0; (e = fc_history_at(d->history, k)); k++) {
        if (shadowed(d, e->id))
            continue;
        json_array_append(sessions, e->session);
        json_array_extend(machines, e->machines);
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "sessions", sessions, "machines", machines,
                     "schedules", fc_schedules_json(d), "captures", fc_captures_json(d->captures));
}

/* ---- the PXE watcher's machines (GET /api/v1/pxe) ---- */

static int mac_cmp(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* The MACs of the receivers of live sessions, sorted; free() the array. */
static const char **receiver_macs(const struct fc_daemon *d, size_t *n)
{
    size_t cap = 1;
    uint32_t i, k;
    const char **v;

    for (i = 0; i < d->n_sessions; i++)
        cap += d->sessions[i]->n_rx;
    v = malloc(cap * sizeof(*v));
    *n = 0;
    for (i = 0; v && i < d->n_sessions; i++)
        for (k = 0; k < d->sessions[i]->n_rx; k++)
            if (d->sessions[i]->rx[k].mac[0])
                v[(*n)++] = d->sessions[i]->rx[k].mac;
    if (v)
        qsort(v, *n, sizeof(*v), mac_cmp);
    return v;
}

/* "receiver" once it joined a live session; "PXE booting" if its firmware
 * asked lately; "seen" when it has been quiet since. */
static const char *pxe_machine_state(const struct fc_pxe_seen *e, const char **rx, size_t n_rx,
                                     double now)
{
    const char *mac = e->mac_text;

    if (rx && bsearch(&mac, rx, n_rx, sizeof(*rx), mac_cmp))
        return "receiver";
    return now - e->last_mono < FC_PXE_BOOTING_SECONDS ? "PXE booting" : "seen";
}

/* "known" and "name" say whether the MAC is in the inventory: the HTTP
 * thread fills them from the store (http_store.c, fc_http_store_pxe), which
 * the loop does not read. */
static json_t *pxe_machine_json(const struct fc_pxe_seen *e, const char *state)
{
    char arch[24], type[24], uuid[37];

    fc_pxe_uuid_text(e->uuid, uuid);
    return json_pack(
        "{s:s, s:o, s:o, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:s, s:s, s:b, s:n}", "mac",
        e->mac_text, "arch",
        e->has_arch ? json_string(fc_dhcp_arch_name(e->arch, arch, sizeof(arch))) : json_null(),
        "arch_code", e->has_arch ? json_integer(e->arch) : json_null(), "message",
        fc_dhcp_type_name(e->msg_type, type, sizeof(type)), "uuid",
        e->has_uuid ? json_string(uuid) : json_null(), "first_seen", (json_int_t)e->first_seen,
        "last_seen", (json_int_t)e->last_seen, "count", (json_int_t)e->count, "vendor",
        text(e->vendor), "hostname", e->hostname[0] ? text(e->hostname) : json_null(), "iface",
        e->iface, "machine", state, "known", 0, "name");
}

static json_t *pxe_counters_json(const struct fc_daemon *d)
{
    struct fc_pxewatch_counters c = {0};
    const struct fc_pxe_table *t = d->pxe ? fc_pxewatch_table(d->pxe) : NULL;

    if (d->pxe)
        c = fc_pxewatch_counters(d->pxe);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "frames", (json_int_t)c.frames, "pxe",
                     (json_int_t)c.pxe, "other_dhcp", (json_int_t)c.other_dhcp, "rejected",
                     (json_int_t)c.rejected, "table_size",
                     (json_int_t)(t ? fc_pxe_table_count(t) : 0), "table_cap",
                     (json_int_t)(t ? fc_pxe_table_cap(t) : 0), "evicted",
                     (json_int_t)(t ? fc_pxe_table_evicted(t) : 0));
}

/* The document of GET /api/v1/pxe: the interfaces watched, the machines
 * newest first, the counters (docs/api.md). */
static json_t *pxe_snapshot(const struct fc_daemon *d)
{
    json_t *ifaces = json_array(), *list = json_array();
    const struct fc_pxe_seen *e = NULL;
    const char **rx = NULL;
    size_t n_rx = 0;
    double now = (double)uv_hrtime() / 1e9;
    unsigned i;

    if (d->pxe) {
        rx = receiver_macs(d, &n_rx);
        for (i = 0; i < fc_pxewatch_iface_count(d->pxe); i++)
            json_array_append_new(ifaces, json_string(fc_pxewatch_iface(d->pxe, i)));
        while ((e = fc_pxe_table_next(fc_pxewatch_table(d->pxe), e)))
            json_array_append_new(list, pxe_machine_json(e, pxe_machine_state(e, rx, n_rx, now)));
        free(rx);
    }
    return json_pack("{s:o, s:o, s:o, s:i}", "watching", ifaces, "machines", list, "counters",
                     pxe_counters_json(d), "booting_seconds", FC_PXE_BOOTING_SECONDS);
}

static void snap_cb(uv_timer_t *t)
{
    struct fc_daemon *d = t->data;
    json_t *snap = snapshot(d);

    if (++d->snap_ticks % PROGRESS_EVERY == 0) {
        fc_console_event(&d->console, "progress", json_incref(snap));
        /* Every second: "PXE booting" turns into "seen" with time alone. */
        if (d->pxe)
            fc_console_publish_pxe(&d->console, pxe_snapshot(d));
    }
    fc_console_publish(&d->console, snap);
}

void fc_api_start(struct fc_daemon *d)
{
    fc_console_publish_pxe(&d->console, pxe_snapshot(d));
    uv_timer_init(d->loop, &d->snap_timer);
    d->snap_timer.data = d;
    uv_timer_start(&d->snap_timer, snap_cb, 0, SNAP_MS);
}

/* A change goes to the store (record.c) and to the console's events. */
void fc_api_session_changed(struct fc_session *s)
{
    fc_record_session(s);
    if (!s->d->console_on)
        return;
    fc_console_event(&s->d->console, "session",
                     json_pack("{s:o}", "session", fc_api_session_json(s)));
}

void fc_api_machine_changed(struct fc_session *s, const struct fc_rx *r)
{
    fc_record_machine(s, r);
    if (!s->d->console_on)
        return;
    fc_console_event(&s->d->console, "machine",
                     json_pack("{s:o}", "machine", fc_api_machine_json(s, r)));
}

static void answer(struct fc_cmd *cmd, int status, json_t *body)
{
    cmd->status = status;
    cmd->result = body;
}

static void answer_error(struct fc_cmd *cmd, int status, const char *msg)
{
    answer(cmd, status, json_pack("{s:s}", "error", msg));
}

static void run_create(struct fc_daemon *d, struct fc_cmd *cmd)
{
    struct fc_session_config cfg;
    struct fc_session *s;
    char why[256] = "";
    int bad = fc_config_from_json(&cfg, &d->session_defaults, cmd->body, why, sizeof(why));
    int rc = bad ? 0 : fc_daemon_add_session(d, &cfg, &s, why, sizeof(why));

    /* The request's strings: the session made its own copies. */
    fc_config_free_strings(&cfg);
    if (bad)
        return answer_error(cmd, 400, why);
    if (rc)
        return answer_error(cmd, rc == FC_ESTATE ? 409 : 400, why);
    fc_info("session %08x: created over the API", s->session_id);
    answer(cmd, 201, json_pack("{s:o}", "session", fc_api_session_json(s)));
}

/* The MACs of a wake request: an array of 1..FC_WAKE_MACS_MAX strings, each
 * checked by fc_wake_start (one place says what a MAC is). */
static int wake_macs(json_t *arr, char (**out)[FC_MAC_TEXT], size_t *n, char *why, size_t cap)
{
    size_t i, len = json_array_size(arr);
    json_t *v;

    if (!json_is_array(arr) || len == 0 || len > FC_WAKE_MACS_MAX)
        return snprintf(why, cap, "macs must be an array of 1 to %d MACs", FC_WAKE_MACS_MAX),
               FC_EINVAL;
    *out = calloc(len, sizeof(**out));
    if (!*out)
        return snprintf(why, cap, "out of memory"), FC_ENOMEM;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) != FC_MAC_TEXT - 1)
            return snprintf(why, cap, "macs[%zu] is not a MAC (52:54:00:ab:cd:ef)", i), FC_EINVAL;
        memcpy((*out)[i], json_string_value(v), FC_MAC_TEXT);
    }
    *n = len;
    return 0;
}

/* {"iface": "br0", "macs": [...], "addr": "A.B.C.D[:PORT]"}: addr optional,
 * anything else refused. */
static int wake_request(json_t *body, const char **iface, const char **addr, char *why, size_t cap)
{
    const char *key;
    json_t *v;

    *iface = *addr = NULL;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "iface") && strcmp(key, "addr") && strcmp(key, "macs"))
            return snprintf(why, cap, "unknown field \"%.32s\"", key), FC_EINVAL;
        if (strcmp(key, "macs") && !json_is_string(v))
            return snprintf(why, cap, "%s must be a string", key), FC_EINVAL;
    }
    *iface = json_string_value(json_object_get(body, "iface"));
    *addr = json_string_value(json_object_get(body, "addr"));
    if (!*iface)
        return snprintf(why, cap, "wake needs iface"), FC_EINVAL;
    return 0;
}

static void run_wake(struct fc_daemon *d, struct fc_cmd *cmd)
{
    char(*macs)[FC_MAC_TEXT] = NULL;
    const char *iface, *addr;
    char why[256] = "";
    size_t n = 0;
    int id = wake_request(cmd->body, &iface, &addr, why, sizeof(why));

    if (!id)
        id = wake_macs(json_object_get(cmd->body, "macs"), &macs, &n, why, sizeof(why));
    if (!id)
        id = fc_wake_start(d, iface, addr, (const char(*)[FC_MAC_TEXT])macs, n, why, sizeof(why));
    free(macs);
    if (id < 0)
        return answer_error(cmd, id == FC_ESTATE ? 409 : id == FC_EINVAL ? 400 : 500, why);
    fc_info("wake: job %d (%zu machines on %s) asked over the API", id, n, iface);
    answer(cmd, 202, json_pack("{s:o}", "wake", fc_wake_json(d, id)));
}

static void execute(struct fc_daemon *d, struct fc_cmd *cmd);

/* Runs a command, then publishes at once: a read right after a change must
 * see it. */
void fc_api_execute(void *ctx, struct fc_cmd *cmd)
{
    struct fc_daemon *d = ctx;

    execute(d, cmd);
    fc_console_publish(&d->console, snapshot(d));
}

static void run_schedule(struct fc_daemon *d, struct fc_cmd *cmd)
{
    json_t *out = NULL;
    char why[256] = "";
    int rc;

    if (cmd->type == FC_CMD_UNSCHEDULE) {
        if (fc_schedule_cancel(d, strtoll(cmd->session, NULL, 10), &out))
            return answer_error(cmd, 404, "no such schedule waiting");
        return answer(cmd, 200, json_pack("{s:o}", "schedule", out));
    }
    rc = fc_schedule_create(d, cmd->body, &out, why, sizeof(why));
    if (rc)
        return answer_error(cmd, rc == FC_ESTATE ? 409 : 400, why);
    answer(cmd, 201, json_pack("{s:o}", "schedule", out));
}

static void run_boot(struct fc_daemon *d, struct fc_cmd *cmd)
{
    json_t *out = NULL;
    char why[256] = "";
    int rc = fc_pxecfg_request(d, cmd->body, &out, why, sizeof(why));

    if (rc == FC_EINVAL)
        return json_decref(out), answer_error(cmd, 400, why);
    if (rc) {
        json_object_set_new(out, "error", json_string(why));
        return answer(cmd, 409, out);
    }
    answer(cmd, 200, out);
}

static void run_capture(struct fc_daemon *d, struct fc_cmd *cmd)
{
    json_t *out = NULL;
    char why[256] = "";
    int rc = cmd->type == FC_CMD_CAPTURE ? fc_captures_arm(d, cmd->body, &out, why, sizeof(why))
                                         : fc_captures_cancel(d, cmd->body, &out, why, sizeof(why));

    if (rc) {
        json_decref(out);
        return answer_error(cmd, rc == FC_EINVAL ? 400 : rc == FC_EREFUSED ? 404 : 409, why);
    }
    answer(cmd, cmd->type == FC_CMD_CAPTURE ? 201 : 200, json_pack("{s:o}", "capture", out));
}

static void execute(struct fc_daemon *d, struct fc_cmd *cmd)
{
    struct fc_session *s;
    unsigned long id;

    if (cmd->type == FC_CMD_CREATE)
        return run_create(d, cmd);
    if (cmd->type == FC_CMD_WAKE)
        return run_wake(d, cmd);
    if (cmd->type == FC_CMD_BOOT)
        return run_boot(d, cmd);
    if (cmd->type == FC_CMD_CAPTURE || cmd->type == FC_CMD_CAPTURE_CANCEL)
        return run_capture(d, cmd);
    if (cmd->type == FC_CMD_SCHEDULE || cmd->type == FC_CMD_UNSCHEDULE)
        return run_schedule(d, cmd);
    id = strtoul(cmd->session, NULL, 16);
    s = fc_daemon_find(d, (uint32_t)id);
    if (!s) {
        char text[16];
        snprintf(text, sizeof(text), "%08lx", id & 0xffffffffUL);
        /* Ended sessions can be shown, not changed. */
        if (fc_history_get(d->history, text))
            return answer_error(cmd, 409, "the session has already ended");
        return answer_error(cmd, 404, "no such session");
    }
    if (cmd->type == FC_CMD_START) {
        if (s->state != FC_SS_WAITING)
            return answer_error(cmd, 409, "the session is not waiting");
        fc_info("session %08x: start now, asked over the API", s->session_id);
        fc_session_force_start(s);
    } else {
        fc_session_abort(s, FC_REASON_OPERATOR, "cancelled by the operator");
    }
    answer(cmd, 200, json_pack("{s:o}", "session", fc_api_session_json(s)));
}
