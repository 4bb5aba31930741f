/* The daemon: the shared control and manifest sockets, the list of sessions,
 * signals, and what happens when a session ends. Started with a session on
 * its command line and no --daemon, fleetcastd is one-shot: it exits when
 * that session ends, with its result. With --daemon (or --http) it serves
 * sessions created over the API until it is stopped. An ended session
 * leaves the list at once; its summary goes to the store (--daemon, store.h)
 * or else the in-memory history (history.h) for the console, and the session
 * is freed by its last close callback. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/textfile.h"
#include "common/key.h"
#include "common/log.h"
#include "common/meter.h"
#include "server/server.h"

static void on_signal(uv_signal_t *h, int sig)
{
    struct fc_daemon *d = h->data;
    uint32_t i;

    d->stopping = 1;
    /* With a store, SIGTERM (a service stopped, a reboot) keeps every
     * session as it is: the next fleetcastd resumes them and the receivers
     * re-join. Ctrl-C, and a daemon without a store, abort them. */
    if (sig == SIGTERM && d->store) {
        /* Their rows as they are now (a first join is no state change): resumed from these. */
        for (i = 0; i < d->n_sessions; i++)
            fc_record_session(d->sessions[i]);
        fc_info("terminated: %u live sessions kept in %s for the next start", d->n_sessions,
                fc_store_path(d->store));
        d->exit_code = 0; /* a clean stop for the service manager */
        uv_stop(d->loop);
        return;
    }
    d->exit_code = 2;
    /* Backwards: an aborted session leaves the list, the ones before it stay put. */
    for (i = d->n_sessions; i-- > 0;)
        fc_session_abort(d->sessions[i], FC_REASON_OPERATOR,
                         sig == SIGINT ? "interrupted by the operator" : "fleetcastd terminated");
    uv_stop(d->loop);
}

/* --daemon keeps its state in the store, in the state directory (made
 * here, private to the daemon's user and group). */
static int open_store(struct fc_daemon *d)
{
    char why[512];
    int rc;

    if (mkdir(d->cfg.state_dir, 0750) < 0 && errno != EEXIST) {
        fc_error("cannot make the state directory %s: %s", d->cfg.state_dir, strerror(errno));
        return FC_EIO;
    }
    rc = fc_store_open(d->cfg.state_dir, &d->store, why, sizeof(why));
    if (rc) {
        fc_error("store: %s", why);
        return rc;
    }
    fc_info("store: %s", fc_store_path(d->store));
    return 0;
}

/* SIGHUP: the config file again; what a reload can change takes effect for
 * what comes next (new sessions, the next machine done), nothing running is
 * touched. SIGTERM and SIGINT stay as they are. */
static void on_hangup(uv_signal_t *h, int sig)
{
    struct fc_daemon *d = h->data;

    (void)sig;
    fc_config_reload(&d->cfg, &d->session_defaults);
}

int fc_daemon_init(struct fc_daemon *d, const struct fc_daemon_config *cfg,
                   const struct fc_session_config *session_defaults)
{
    int rc;

    memset(d, 0, sizeof(*d));
    d->cfg = *cfg;
    fc_config_session_defaults(&d->session_defaults, session_defaults);
    d->loop = uv_default_loop();
    d->history = fc_history_new(FC_HISTORY_KEPT);
    if (!d->history)
        return FC_ENOMEM;
    /* fc_daemon_free() closes what was opened, and only that: libuv
     * asserts on closing a handle that was never initialised (a port in
     * use used to end in a core dump here). */
    rc = fc_netio_open_daemon(d);
    if (!rc && cfg->daemon)
        rc = open_store(d);
    if (!rc && cfg->daemon)
        rc = fc_captures_open(d);
    if (rc)
        return rc;
    uv_signal_init(d->loop, &d->sigint);
    uv_signal_init(d->loop, &d->sigterm);
    uv_signal_init(d->loop, &d->sighup);
    d->sigint.data = d->sigterm.data = d->sighup.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sighup, on_hangup, SIGHUP);
    d->signals_on = 1;
    /* Before the console: a watcher that cannot capture (no CAP_NET_RAW)
     * stops the daemon with that reason, not with a half-started console. */
    if (d->cfg.n_watch_ifaces) {
        rc = fc_pxewatch_open(&d->pxe, d->loop, d->cfg.watch_ifaces, d->cfg.n_watch_ifaces);
        if (rc)
            return rc;
    }
    if (cfg->http) {
        rc = fc_console_init(&d->console, d->loop, fc_api_execute, d);
        if (rc)
            return rc;
        rc = fc_http_start(&d->http, cfg->http, &d->console, &cfg->http_opts, cfg->state_dir,
                           d->store ? fc_store_path(d->store) : NULL);
        if (rc) {
            fc_console_close(&d->console);
            return rc;
        }
        d->console_on = 1;
        fc_api_start(d);
    }
    return 0;
}

/* Derived from the image and the group, so that a restarted server keeps
 * the id and its receivers keep listening to it. */
static uint32_t derive_session_id(const struct fc_session *s)
{
    uint8_t in[FC_ID_LEN + 6], h[4];
    uint32_t id;

    memcpy(in, s->img.m.image_id, FC_ID_LEN);
    memcpy(in + FC_ID_LEN, &s->cfg.group.s_addr, 4);
    in[FC_ID_LEN + 4] = (uint8_t)(s->cfg.data_port >> 8);
    in[FC_ID_LEN + 5] = (uint8_t)s->cfg.data_port;
    crypto_generichash(h, sizeof(h), in, sizeof(in), NULL, 0);
    id = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    return id ? id : 1;
}

static int conflicts(const struct fc_daemon *d, const struct fc_session *s, char *why, size_t cap)
{
    uint32_t i;

    for (i = 0; i < d->n_sessions; i++) {
        const struct fc_session *o = d->sessions[i];
        if (o->session_id == s->session_id ||
            (o->cfg.group.s_addr == s->cfg.group.s_addr && o->cfg.data_port == s->cfg.data_port)) {
            snprintf(why, cap, "session %08x already uses this group and port", o->session_id);
            return 1;
        }
    }
    return 0;
}

/* With --trusted-key, an image signed by another key is not served: the
 * receivers would refuse it anyway, after the operator went home. */
static int open_image(struct fc_daemon *d, struct fc_session *s, char *why, size_t cap)
{
    uint8_t pk[FC_PUBKEY_LEN];
    int rc;

    if (d->cfg.trusted_key && (rc = fc_key_load_public(d->cfg.trusted_key, pk)))
        return snprintf(why, cap, "cannot read --trusted-key %s: %s", d->cfg.trusted_key,
                        fc_strerror(rc)),
               rc;
    rc = fc_image_open(s->cfg.image_path, d->cfg.trusted_key ? pk : NULL, &s->img);
    if (rc == FC_EKEY)
        return snprintf(why, cap, "image %s is not signed by the trusted key %s; not serving it",
                        s->cfg.image_path, d->cfg.trusted_key),
               rc;
    if (rc)
        return snprintf(why, cap, "cannot open image %s: %s", s->cfg.image_path, fc_strerror(rc)),
               rc;
    return 0;
}

/* Host names by MAC for the JOIN_ACKs, read now, once: the loop never
 * waits on the store after this. */
static int load_names(struct fc_daemon *d, struct fc_session *s, char *why, size_t cap)
{
    struct fc_store_reader *r = d->store ? fc_store_reader_open(d->store) : NULL;
    json_t *inventory = r ? fc_store_machines(r, NULL) : NULL;
    char *text = NULL;
    int rc = 0;

    if (s->cfg.names_file && !s->cfg.names) {
        rc = fc_read_text(s->cfg.names_file, FC_NAMES_TEXT_MAX, &text);
        if (rc)
            snprintf(why, cap, "--names %s: %s", s->cfg.names_file,
                     rc == FC_EFORMAT ? "too large" : strerror(errno));
        s->cfg.names = text; /* the session's own copy from now on */
    }
    if (!rc)
        rc = fc_names_load(&s->names, s->cfg.names, inventory, why, cap);
    json_decref(inventory);
    fc_store_reader_close(r);
    if (!rc && s->names.n)
        fc_info("session %08x: host names for %u machines (%s)", s->session_id, s->names.n,
                !s->cfg.names ? "the inventory"
                : inventory   ? "its names list, then the inventory"
                              : "its names list");
    return rc;
}

static int open_session(struct fc_daemon *d, struct fc_session *s, char *why, size_t cap)
{
    int is_lo = 0, rc = open_image(d, s, why, cap);

    if (rc)
        return rc;
    s->manifest_blob = fc_manifest_blob_new(&s->img);
    if (!s->manifest_blob)
        return snprintf(why, cap, "out of memory"), FC_ENOMEM;
    fc_checkval_expected(&s->img.m, s->expected_check);
    s->session_id = derive_session_id(s);
    snprintf(s->id_text, sizeof(s->id_text), "%08x", s->session_id);
    if (conflicts(d, s, why, cap))
        return FC_ESTATE;
    rc = fc_netio_iface_addr(s->cfg.iface, &s->cfg.iface_addr, &is_lo);
    if (rc)
        return snprintf(why, cap, "interface %s not found or without IPv4", s->cfg.iface), rc;
    s->cfg.loopback |= is_lo;
    if (fc_fec_new(&s->fec))
        return FC_ENOMEM;
    rc = fc_chunkcache_init(&s->cache, s->img.fd, &s->img.m, s->cfg.payload, s->cfg.k_max);
    if (!rc)
        rc = fc_repair_init(s);
    if (!rc)
        rc = fc_joins_init(s);
    if (!rc)
        rc = fc_sender_init(s);
    if (!rc)
        rc = fc_netio_open(s);
    if (rc)
        snprintf(why, cap, "cannot set up the session's sockets on %s: %s", s->cfg.iface,
                 fc_strerror(rc));
    if (!rc)
        rc = load_names(d, s, why, cap);
    return rc ? rc : fc_hooks_load(s, why, cap);
}

static void announce(const struct fc_session *s)
{
    char g[16], b1[16], b2[16];
    const uint8_t *a = (const uint8_t *)&s->cfg.group.s_addr;

    snprintf(g, sizeof(g), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    fc_info("session %08x: image %s (%s in %u chunks, disk %s), group %s:%u on %s, control port "
            "%u, rate cap %.0f Mbit/s, start at %u receivers%s",
            s->session_id, s->cfg.image_path,
            fc_human_bytes(s->img.m.compressed_bytes, b1, sizeof(b1)), s->img.m.n_chunks,
            fc_human_bytes(s->img.m.disk_size, b2, sizeof(b2)), g, s->cfg.data_port, s->cfg.iface,
            s->cfg.ctrl_port, s->cfg.rate_bps / 1e6, s->cfg.min_receivers,
            s->cfg.max_wait > 0 ? " or max-wait" : "");
    fc_info("session %08x: the network must pass UDP multicast to %s:%u and %s:%u (IGMP "
            "snooping needs a querier), and UDP+TCP to port %u",
            s->session_id, g, s->cfg.data_port, FC_DISCOVERY_GROUP, s->cfg.ctrl_port,
            s->cfg.ctrl_port);
}

double fc_server_now(const struct fc_session *s)
{
    (void)s;
    return (double)uv_hrtime() / 1e9;
}

void fc_daemon_free_session(struct fc_session *s)
{
    free((char *)s->cfg.image_path);
    free((char *)s->cfg.iface);
    free((char *)s->cfg.stats_path);
    free((char *)s->cfg.lab);
    free((char *)s->cfg.names);
    free((char *)s->cfg.names_file);
    fc_names_free(&s->names);
    fc_sender_free(s);
    fc_repair_free(s);
    fc_joins_free(s);
    fc_chunkcache_free(&s->cache);
    fc_fec_free(s->fec);
    fc_manifest_blob_unref(s->manifest_blob);
    fc_manifest_blob_unref(s->hooks_blob);
    fc_image_close(&s->img);
    free(s->rx);
    free(s);
}

/* The session keeps its own copies of its strings: they come from argv, or
 * from an API request that is freed when it has been answered. */
static int own_strings(struct fc_session_config *c, const struct fc_session_config *from)
{
    c->image_path = from->image_path ? strdup(from->image_path) : NULL;
    c->iface = from->iface ? strdup(from->iface) : NULL;
    c->stats_path = from->stats_path ? strdup(from->stats_path) : NULL;
    c->lab = from->lab ? strdup(from->lab) : NULL;
    c->names = from->names ? strdup(from->names) : NULL;
    c->names_file = from->names_file ? strdup(from->names_file) : NULL;
    if ((from->image_path && !c->image_path) || (from->iface && !c->iface) ||
        (from->stats_path && !c->stats_path) || (from->lab && !c->lab) ||
        (from->names && !c->names) || (from->names_file && !c->names_file))
        return FC_ENOMEM;
    return 0;
}

/* A run key no other run of any session has: 64 random bits. */
static void new_run(char run[FC_RUN_LEN + 1])
{
    uint8_t b[FC_RUN_LEN / 2];
    size_t i;

    randombytes_buf(b, sizeof(b));
    for (i = 0; i < sizeof(b); i++)
        snprintf(run + 2 * i, 3, "%02x", b[i]);
}

static int add_session(struct fc_daemon *d, const struct fc_session_config *cfg, const char *run,
                       int64_t created_wall, struct fc_session **out, char *why, size_t cap)
{
    struct fc_session *s = calloc(1, sizeof(*s)), **list;
    int rc;

    if (!s)
        return FC_ENOMEM;
    s->cfg = *cfg;
    s->cfg.ctrl_port = d->cfg.ctrl_port;
    s->d = d;
    if (run)
        snprintf(s->run, sizeof(s->run), "%s", run);
    else
        new_run(s->run);
    fc_sender_preinit(s);
    s->img.fd = -1;
    /* Every handle exists from here on, so releasing is always valid. */
    fc_session_init_handles(s, d->loop);
    rc = own_strings(&s->cfg, cfg);
    if (rc)
        snprintf(why, cap, "out of memory");
    else
        rc = open_session(d, s, why, cap);
    list = rc ? NULL : realloc(d->sessions, (d->n_sessions + 1) * sizeof(*list));
    if (rc || !list) {
        fc_error("cannot start a session: %s", rc ? why : "out of memory");
        fc_session_release(s); /* freed by its last close callback */
        return rc ? rc : FC_ENOMEM;
    }
    d->sessions = list;
    d->sessions[d->n_sessions++] = s;
    fc_session_start_tick(s, created_wall);
    announce(s);
    fc_api_session_changed(s);
    *out = s;
    return 0;
}

int fc_daemon_add_session(struct fc_daemon *d, const struct fc_session_config *cfg,
                          struct fc_session **out, char *why, size_t cap)
{
    return add_session(d, cfg, NULL, 0, out, why, cap);
}

int fc_daemon_resume_session(struct fc_daemon *d, const struct fc_session_config *cfg,
                             const char *run, int64_t created_wall, struct fc_session **out,
                             char *why, size_t cap)
{
    return add_session(d, cfg, run, created_wall, out, why, cap);
}

struct fc_session *fc_daemon_find(struct fc_daemon *d, uint32_t session_id)
{
    uint32_t i;

    for (i = d->n_sessions; i-- > 0;) /* only live sessions are listed */
        if (d->sessions[i]->session_id == session_id)
            return d->sessions[i];
    return NULL;
}

/* Takes s out of the list: no lookup (control packets, TCP requests, the
 * console's commands, discovery) finds it from here on. */
static void unlist(struct fc_daemon *d, const struct fc_session *s)
{
    uint32_t i;

    for (i = 0; i < d->n_sessions; i++)
        if (d->sessions[i] == s) {
            memmove(&d->sessions[i], &d->sessions[i + 1],
                    (d->n_sessions - i - 1) * sizeof(*d->sessions));
            d->n_sessions--;
            return;
        }
}

/* The webhook and mail (notify.c) list every machine, those of the lab that
 * never joined too (absent: taken). */
static void notify_ended(struct fc_session *s, json_t *absent)
{
    json_t *session, *machines;

    if (!s->d->cfg.notify_url && !s->d->cfg.notify_mail) {
        json_decref(absent);
        return;
    }
    session = fc_api_session_json(s);
    machines = fc_api_machines_json(s);
    if (absent)
        json_array_extend(machines, absent);
    fc_notify_ended(s, session, machines);
    json_decref(session);
    json_decref(machines);
    json_decref(absent);
}

void fc_daemon_session_ended(struct fc_daemon *d, struct fc_session *s)
{
    fc_stats_log_summary(s);
    if (s->cfg.stats_path)
        fc_stats_write(s, s->cfg.stats_path);
    if (d->exit_code < s->exit_code)
        d->exit_code = s->exit_code;
    notify_ended(s, d->store ? fc_record_ended(s) : NULL);
    if (!d->store &&
        fc_history_add(d->history, s->id_text, fc_api_session_json(s), fc_api_machines_json(s)))
        fc_warn("session %08x: out of memory for its summary; the console forgets it",
                s->session_id);
    unlist(d, s);
    if (!d->cfg.daemon && !d->cfg.http && d->n_sessions == 0)
        uv_stop(d->loop);
}

void fc_daemon_run(struct fc_daemon *d)
{
    uv_run(d->loop, UV_RUN_DEFAULT);
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

void fc_daemon_free(struct fc_daemon *d)
{
    uint32_t i;

    if (d->console_on) {
        fc_http_stop(&d->http);
        uv_close((uv_handle_t *)&d->snap_timer, on_closed);
        fc_console_close(&d->console);
    }
    /* Sessions still live (a failed start of the daemon): each is freed by
     * its last close callback, in the uv_run below. */
    for (i = 0; i < d->n_sessions; i++)
        fc_session_release(d->sessions[i]);
    d->n_sessions = 0;
    fc_wake_stop_all(d);  /* each job is freed by its close callbacks, below */
    fc_captures_close(d); /* uploads cut, partial files removed */
    fc_schedule_stop(d);
    fc_netio_close_daemon(d);
    fc_pxewatch_close(d->pxe); /* freed by its handles' close callbacks, in the uv_run below */
    d->pxe = NULL;
    if (d->signals_on) {
        uv_close((uv_handle_t *)&d->sigint, on_closed);
        uv_close((uv_handle_t *)&d->sigterm, on_closed);
        uv_close((uv_handle_t *)&d->sighup, on_closed);
    }
    uv_run(d->loop, UV_RUN_DEFAULT); /* let the close callbacks run */
    free(d->sessions);
    d->sessions = NULL;
    fc_history_free(d->history);
    d->history = NULL;
    fc_store_close(d->store); /* after every session's last write */
    d->store = NULL;
    fc_config_free(&d->cfg);
}
