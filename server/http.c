/* HTTP routing, authentication and the event stream (see http.h). */
#include "server/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "server/web_assets.h"

#define KEEPALIVE_MS 15000
#define COMMAND_TIMEOUT_MS 10000
#define RECENT_ENDED 100 /* ended sessions in the console's picture (older: /history) */
#define SSE_RETRY_MS 3000
/* An event stream whose client reads nothing for this long is closed (the
 * keepalive every 15 s keeps a live one busy). */
#define SSE_IDLE_S 60u
#define IDLE_TIMEOUT_S 30u
#define THREAD_STACK (256u * 1024)
/* Everything the dashboard loads comes from fleetcastd itself; no inline
 * script or style, no frames, no form posts elsewhere. */
#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "               \
    "form-action 'self'; frame-ancestors 'none'"

struct request {
    char *body;
    size_t len;
    int too_big;
};

struct sse {
    struct fc_http *h;
    struct fc_console *con;
    struct timespec end; /* CLOCK_MONOTONIC: the stream's lifetime is over */
    int slot;            /* in h->streams_of */
    uint64_t next;
    char *pending;
    size_t off;
    int sent_snapshot;
};

/* ---- token ---- */

/* An existing token file: read it, and make its mode 0640 (the daemon's
 * group reads it: admins in that group use the CLI without copying it). 1
 * if it is there but not a token (made again), 0 read, FC_EIO unreadable. */
static int read_token(const char *path, const char *name, char token[FC_TOKEN_HEX + 1])
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT
                   ? 1
                   : (fc_error("cannot read the API %s %s: %s", name, path, strerror(errno)),
                      FC_EIO);
    n = read(fd, token, FC_TOKEN_HEX);
    token[n > 0 ? n : 0] = 0;
    if (!fstat(fd, &st) && (st.st_mode & 0777) != 0640 && fchmod(fd, 0640) == 0)
        fc_info("API %s %s: mode %03o made 0640", name, path, (unsigned)(st.st_mode & 0777));
    close(fd);
    if (n == FC_TOKEN_HEX && strspn(token, "0123456789abcdef") == FC_TOKEN_HEX)
        return 0;
    fc_warn("API token file %s is malformed: making a new one", path);
    return 1;
}

int fc_http_load_token(const char *dir, const char *name, char token[FC_TOKEN_HEX + 1])
{
    char path[4096];
    uint8_t raw[FC_TOKEN_HEX / 2];
    int fd, rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = read_token(path, name, token);
    if (rc <= 0) {
        if (!rc)
            fc_info("API %s: %s", name, path);
        return rc;
    }
    /* 0750: the group passes through to the token; the files inside keep
     * their own modes (the signing key and the store are not the group's). */
    if (mkdir(dir, 0750) && errno != EEXIST)
        fc_warn("cannot create the state directory %s: %s", dir, strerror(errno));
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, FC_TOKEN_HEX + 1, raw, sizeof(raw));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    /* the daemon's own group, even in a set-group-id directory */
    if (fd < 0 || fchown(fd, (uid_t)-1, getegid()) || fchmod(fd, 0640) ||
        write(fd, token, FC_TOKEN_HEX) != FC_TOKEN_HEX) {
        fc_error("cannot write the API %s to %s: %s", name, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return FC_EIO;
    }
    close(fd);
    fc_info("API %s created: %s (mode 0640, group %u)", name, path, (unsigned)getegid());
    return 0;
}

/* ---- responses ---- */

/* On every response, the dashboard's files, JSON and event streams alike. */
static void add_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text, mode);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    add_headers(r, type);
    if (status == 503)
        MHD_add_response_header(r, "Retry-After", "30");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (!text)
        return send_text(c, 500, "application/json", "{\"error\":\"out of memory\"}", 25,
                         MHD_RESPMEM_PERSISTENT);
    return send_text(c, status, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---- Host check ---- */

static void add_host(struct fc_http *h, const char *name)
{
    unsigned i;
    size_t j, n = strlen(name);

    if (!n || n > FC_HTTP_HOST_MAX || h->n_hosts >= FC_HTTP_HOST_TABLE)
        return;
    for (i = 0; i < h->n_hosts; i++)
        if (!strcasecmp(h->hosts[i], name))
            return;
    for (j = 0; j <= n; j++)
        h->hosts[h->n_hosts][j] = (char)tolower((unsigned char)name[j]);
    h->n_hosts++;
}

/* 0.0.0.0: every IPv4 address of this host is one the console answers at. */
static void add_own_addresses(struct fc_http *h)
{
    struct ifaddrs *ifs, *i;
    char ip[INET_ADDRSTRLEN];

    if (getifaddrs(&ifs))
        return;
    for (i = ifs; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip)))
            add_host(h, ip);
    freeifaddrs(ifs);
}

/* The names a browser may have used to reach us. DNS rebinding points a
 * name of the attacker's at our address: its requests carry that name in
 * Host, which is in none of these. */
static void set_hosts(struct fc_http *h, const struct sockaddr_in *sin,
                      const struct fc_http_opts *o)
{
    char ip[INET_ADDRSTRLEN];
    unsigned i;

    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
    if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
        add_own_addresses(h);
    else
        add_host(h, ip);
    if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
        add_host(h, "127.0.0.1");
    add_host(h, "localhost");
    for (i = 0; i < o->n_hosts; i++)
        add_host(h, o->hosts[i]);
}

/* Host without its port ("name:7680", "[::1]:7680") or a final dot. */
static int host_ok(const struct fc_http *h, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char name[FC_HTTP_HOST_MAX + 2];
    size_t n;
    unsigned i;

    if (!v)
        return 0;
    if (*v == '[')
        n = strchr(v, ']') ? (size_t)(strchr(v, ']') - v) + 1 : SIZE_MAX;
    else
        n = strcspn(v, ":");
    if (n > FC_HTTP_HOST_MAX + 1 || (v[n] && v[n] != ':'))
        return 0;
    memcpy(name, v, n);
    name[n] = 0;
    if (n > 1 && name[n - 1] == '.')
        name[n - 1] = 0;
    for (i = 0; i < h->n_hosts; i++)
        if (!strcasecmp(name, h->hosts[i]))
            return 1;
    return 0;
}

/* ---- auth ---- */

enum access { ACC_NONE, ACC_READ, ACC_WRITE, ACC_BAD, ACC_URL_WRITE };

static uint32_t client_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
        return 0;
    return ((const struct sockaddr_in *)ci->client_addr)->sin_addr.s_addr;
}

static int from_loopback(struct MHD_Connection *c)
{
    return (ntohl(client_addr(c)) >> 24) == 127;
}

static int same_token(const char *want, const char *t)
{
    return t && strlen(t) == FC_TOKEN_HEX && sodium_memcmp(t, want, FC_TOKEN_HEX) == 0;
}

/* The write token only from the Authorization header: a URL ends up in
 * logs, histories and Referer headers. ?token= takes the viewer token,
 * for a browser's EventSource, which cannot send headers. */
static enum access access_of(const struct fc_http *h, struct MHD_Connection *c)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");

    if (q && same_token(h->token, q))
        return ACC_URL_WRITE;
    if (a) {
        if (strncmp(a, "Bearer ", 7))
            return ACC_BAD;
        if (same_token(h->token, a + 7))
            return ACC_WRITE;
        return same_token(h->viewer, a + 7) ? ACC_READ : ACC_BAD;
    }
    if (q)
        return same_token(h->viewer, q) ? ACC_READ : ACC_BAD;
    return ACC_NONE;
}

/* ---- reads ---- */

static json_t *find_session(json_t *snap, const char *id)
{
    json_t *s;
    size_t i;

    json_array_foreach(json_object_get(snap, "sessions"), i, s)
    {
        if (!strcmp(json_string_value(json_object_get(s, "id")) ?: "", id))
            return s;
    }
    return NULL;
}

static json_t *machines_of(json_t *snap, const char *id)
{
    json_t *out = json_array(), *m;
    size_t i;

    json_array_foreach(json_object_get(snap, "machines"), i, m)
    {
        if (!id || !strcmp(json_string_value(json_object_get(m, "session")) ?: "", id))
            json_array_append(out, m);
    }
    return out;
}

static const char *query_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* Whether the ended run was left out of the picture (with_ended). */
static int shadowed_run(json_t *ended, const char *run)
{
    json_t *e;
    size_t i;

    json_array_foreach(json_object_get(ended, "sessions"), i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "run")) ?: "", run))
            return json_is_true(json_object_get(e, "shadowed"));
    }
    return 0;
}

/* The console's whole picture: the live sessions and machines of the
 * snapshot, then the newest ended ones from the store, as the in-memory
 * history gave them without a store (an id a live session took again
 * shows the live one). A new reference. */
static json_t *with_ended(const struct fc_http *h, json_t *snap)
{
    json_t *out = json_deep_copy(snap), *e, *m;
    json_t *ended = h->store_db[0] ? fc_http_store_recent(h->store_db, RECENT_ENDED) : NULL;
    size_t i;

    /* Newest first: an id already listed (live, or a newer run of it) is
     * skipped, with its machines; /history lists every run. */
    json_array_foreach(json_object_get(ended, "sessions"), i, e)
    {
        if (!find_session(out, json_string_value(json_object_get(e, "id")) ?: ""))
            json_array_append(json_object_get(out, "sessions"), e);
        else
            json_object_set_new(e, "shadowed", json_true());
    }
    json_array_foreach(json_object_get(ended, "machines"), i, m)
    {
        if (!find_session(snap, json_string_value(json_object_get(m, "session")) ?: "") &&
            !shadowed_run(ended, json_string_value(json_object_get(m, "run")) ?: ""))
            json_array_append(json_object_get(out, "machines"), m);
    }
    json_decref(ended);
    return out;
}

/* A session's machines: the live ones, or the ended session's from the
 * store; every live machine without a session named. */
static json_t *machines_in(const char *db, json_t *snap, const char *id)
{
    json_t *ended, *m;

    if (!id || find_session(snap, id))
        return machines_of(snap, id);
    ended = fc_http_store_session(db, id);
    m = json_incref(json_object_get(ended, "machines"));
    json_decref(ended);
    return m ? m : json_array();
}

static enum MHD_Result get_api(struct fc_http *h, struct MHD_Connection *c, const char *path)
{
    json_t *snap, *s, *all, *out = NULL;
    const char *db = h->store_db[0] ? h->store_db : NULL;
    unsigned status = 200;
    char id[32];

    if (fc_http_store_get(db, path, query_arg, c, &status, &out))
        return send_json(c, status, out);
    snap = fc_console_snapshot(h->con);
    if (!snap)
        snap = json_pack("{s:[], s:[]}", "sessions", "machines");
    if (!strcmp(path, "health"))
        out = json_pack("{s:b, s:s}", "ok", 1, "version", FC_VERSION);
    else if (!strcmp(path, "sessions") || (!strcmp(path, "machines") && !query_arg(c, "session"))) {
        all = with_ended(h, snap);
        out = json_pack("{s:O}", path, json_object_get(all, path));
        json_decref(all);
    } else if (!strcmp(path, "machines"))
        out = json_pack("{s:o}", "machines", machines_in(db, snap, query_arg(c, "session")));
    else if (!strcmp(path, "schedules"))
        out = json_pack("{s:O}", "schedules", json_object_get(snap, "schedules") ?: json_array());
    else if (!strcmp(path, "captures"))
        out = json_pack("{s:O}", "captures", json_object_get(snap, "captures") ?: json_array());
    else if (!strcmp(path, "pxe"))
        out = fc_http_store_pxe(db, fc_console_pxe(h->con));
    else if (sscanf(path, "sessions/%31[0-9a-fA-F]", id) == 1 &&
             strlen(path) == strlen("sessions/") + strlen(id)) {
        s = find_session(snap, id);
        if (s)
            out = json_pack("{s:O, s:o}", "session", s, "machines", machines_of(snap, id));
        else if (!(out = fc_http_store_session(db, id)))
            status = 404;
    } else
        status = 404;
    json_decref(snap);
    if (status == 404)
        return send_error(c, 404, "no such session or call");
    return send_json(c, status, out);
}

/* ---- events ---- */

static long ms_left(const struct timespec *end)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* The whole state, first on every stream, with how soon to reconnect. */
/* The stream's first event: the whole picture, ended sessions too. */
static char *snapshot_event(const struct fc_http *h)
{
    json_t *snap = fc_console_snapshot(h->con), *all = snap ? with_ended(h, snap) : NULL;
    char *d = all ? json_dumps(all, JSON_COMPACT) : NULL, *out;
    size_t len = strlen(d ? d : "{}") + 64;

    json_decref(snap);
    json_decref(all);
    out = malloc(len);
    if (out)
        snprintf(out, len, "retry: %d\nevent: progress\ndata: %s\n\n", SSE_RETRY_MS, d ? d : "{}");
    free(d);
    return out;
}

/* The next text to send, or NULL with *end set when the stream is over:
 * its lifetime is up (the browser reconnects) or fleetcastd is stopping. */
static char *sse_next(struct sse *st, int *end)
{
    long left = ms_left(&st->end);
    char *p;

    *end = 0;
    if (!st->sent_snapshot) {
        st->sent_snapshot = 1;
        return snapshot_event(st->h);
    }
    if (left <= 0 || st->con->stopping) {
        *end = 1;
        return NULL;
    }
    p = fc_console_next_event(st->con, &st->next, left < KEEPALIVE_MS ? (int)left : KEEPALIVE_MS);
    if (!p && st->con->stopping) {
        *end = 1;
        return NULL;
    }
    return p ? p : strdup(": keepalive\n\n");
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse *st = cls;
    size_t n;
    int end;

    (void)pos;
    if (!st->pending) {
        st->pending = sse_next(st, &end);
        st->off = 0;
        if (end)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (!st->pending)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    n = strlen(st->pending + st->off);
    if (n > max)
        n = max;
    memcpy(buf, st->pending + st->off, n);
    st->off += n;
    if (!st->pending[st->off]) {
        free(st->pending);
        st->pending = NULL;
    }
    return (ssize_t)n;
}

/* Event streams hold a thread each for minutes: at most FC_HTTP_MAX_STREAMS
 * (half the connections stay for the API's calls), and FC_HTTP_STREAMS_PER_IP
 * from one address (which keeps most of its connections for its calls).
 * The slot of streams_of[] taken, or -1. */
static int stream_take(struct fc_http *h, uint32_t addr)
{
    int i, slot = -1;

    pthread_mutex_lock(&h->mu);
    for (i = 0; i < FC_HTTP_MAX_STREAMS; i++) {
        if (h->streams_of[i].n && h->streams_of[i].addr == addr) {
            slot = i;
            break;
        }
        if (!h->streams_of[i].n && slot < 0)
            slot = i;
    }
    if (h->n_streams >= FC_HTTP_MAX_STREAMS || slot < 0 ||
        h->streams_of[slot].n >= FC_HTTP_STREAMS_PER_IP) {
        slot = -1;
    } else {
        h->streams_of[slot].addr = addr;
        h->streams_of[slot].n++;
        h->n_streams++;
    }
    pthread_mutex_unlock(&h->mu);
    return slot;
}

static void stream_give(struct fc_http *h, int slot)
{
    pthread_mutex_lock(&h->mu);
    h->streams_of[slot].n--;
    h->n_streams--;
    pthread_mutex_unlock(&h->mu);
}

static void sse_free(void *cls)
{
    struct sse *st = cls;

    stream_give(st->h, st->slot);
    free(st->pending);
    free(st);
}

static enum MHD_Result get_events(struct fc_http *h, struct MHD_Connection *c)
{
    struct sse *st;
    struct MHD_Response *r;
    enum MHD_Result ret;
    int slot = stream_take(h, client_addr(c));

    if (slot < 0)
        return send_error(c, 503, "too many event streams: poll /api/v1/sessions instead");
    st = calloc(1, sizeof(*st));
    r = st ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, st, sse_free)
           : NULL;
    if (!r) {
        free(st);
        stream_give(h, slot);
        return MHD_NO;
    }
    st->h = h;
    st->slot = slot;
    st->con = h->con;
    st->next = fc_console_latest_seq(h->con);
    clock_gettime(CLOCK_MONOTONIC, &st->end);
    st->end.tv_sec += h->stream_seconds;
    add_headers(r, "text/event-stream");
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, SSE_IDLE_S);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- changes ---- */

static enum MHD_Result run_command(struct fc_http *h, struct MHD_Connection *c, struct fc_cmd *cmd)
{
    json_t *ended;

    if (fc_console_submit(h->con, cmd, COMMAND_TIMEOUT_MS)) {
        json_decref(cmd->body);
        return send_error(c, 503, "the session loop did not answer in time");
    }
    /* Not live: an ended session can be shown, not changed. */
    if (cmd->status == 404 && cmd->type != FC_CMD_UNSCHEDULE && cmd->session[0] && h->store_db[0] &&
        (ended = fc_http_store_session(h->store_db, cmd->session))) {
        json_decref(ended);
        json_decref(cmd->result);
        json_decref(cmd->body);
        return send_error(c, 409, "the session has already ended");
    }
    json_decref(cmd->body);
    return send_json(c, (unsigned)cmd->status, cmd->result);
}

/* Inventory edits: on this thread, in the store (http_store.c). */
static enum MHD_Result change_store(struct fc_http *h, struct MHD_Connection *c, const char *method,
                                    const char *path, const struct request *rq)
{
    json_error_t err;
    json_t *body = NULL, *out = NULL;
    unsigned status;

    if (strcmp(method, "DELETE")) {
        body = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES, &err);
        if (!body)
            return send_error(c, 400, err.text);
    }
    fc_http_store_change(h->store_db[0] ? h->store_db : NULL, method, path, body, &status, &out);
    json_decref(body);
    return send_json(c, status, out);
}

static enum MHD_Result post_api(struct fc_http *h, struct MHD_Connection *c, const char *method,
                                const char *path, const struct request *rq)
{
    struct fc_cmd cmd;
    json_error_t err;
    char id[32], verb[16];

    memset(&cmd, 0, sizeof(cmd));
    if (!strncmp(path, "inventory/", 10))
        return change_store(h, c, method, path, rq);
    if (!strcmp(method, "DELETE")) {
        if (sscanf(path, "schedules/%15[0-9]", id) != 1 ||
            strlen(path) != strlen("schedules/") + strlen(id))
            return send_error(c, 404, "no such call (DELETE takes schedules/ID)");
        cmd.type = FC_CMD_UNSCHEDULE;
        snprintf(cmd.session, sizeof(cmd.session), "%.15s", id);
        return run_command(h, c, &cmd);
    }
    if (!strcmp(path, "sessions") || !strcmp(path, "wake") || !strcmp(path, "schedules") ||
        !strcmp(path, "boot") || !strcmp(path, "captures") || !strcmp(path, "captures/cancel")) {
        cmd.type = !strcmp(path, "wake")              ? FC_CMD_WAKE
                   : !strcmp(path, "schedules")       ? FC_CMD_SCHEDULE
                   : !strcmp(path, "boot")            ? FC_CMD_BOOT
                   : !strcmp(path, "captures")        ? FC_CMD_CAPTURE
                   : !strcmp(path, "captures/cancel") ? FC_CMD_CAPTURE_CANCEL
                                                      : FC_CMD_CREATE;
        cmd.body = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES, &err);
        if (!cmd.body || !json_is_object(cmd.body)) {
            char msg[200];
            json_decref(cmd.body);
            snprintf(msg, sizeof(msg), "bad JSON: %s", cmd.body ? "not an object" : err.text);
            return send_error(c, 400, msg);
        }
        return run_command(h, c, &cmd);
    }
    if (sscanf(path, "sessions/%31[0-9a-fA-F]/%15[a-z]", id, verb) == 2 &&
        strlen(path) == strlen("sessions//") + strlen(id) + strlen(verb) &&
        (!strcmp(verb, "start") || !strcmp(verb, "cancel"))) {
        cmd.type = strcmp(verb, "start") ? FC_CMD_CANCEL : FC_CMD_START;
        snprintf(cmd.session, sizeof(cmd.session), "%.15s", id);
        return run_command(h, c, &cmd);
    }
    return send_error(c, 404, "no such session or call");
}

/* ---- dispatch ---- */

static enum MHD_Result get_asset(struct MHD_Connection *c, const char *url)
{
    const struct fc_web_asset *a;

    for (a = fc_web_assets; a->path; a++)
        if (!strcmp(url, a->path) || (!strcmp(url, "/") && !strcmp(a->path, "/index.html")))
            return send_text(c, 200, a->type, (const char *)a->data, a->len,
                             MHD_RESPMEM_PERSISTENT);
    return send_error(c, 404, "not found");
}

static int collect_body(struct request *rq, const char *data, size_t *size)
{
    if (*size == 0)
        return 0;
    if (rq->too_big || rq->len + *size > FC_HTTP_BODY_MAX) {
        rq->too_big = 1;
    } else {
        char *b = realloc(rq->body, rq->len + *size + 1);
        if (!b)
            return -1;
        memcpy(b + rq->len, data, *size);
        rq->body = b;
        rq->len += *size;
        b[rq->len] = 0;
    }
    *size = 0;
    return 1;
}

/* Who may do what: reads need a token (write or viewer) unless they come
 * from loopback (past the Host check, so not a rebound page) or reads are
 * open; changes need the write token. 0 when allowed, else the refusal was
 * sent and *ret holds it. */
static int refused(struct fc_http *h, struct MHD_Connection *c, int is_get, enum MHD_Result *ret)
{
    enum access a = access_of(h, c);

    if (a == ACC_URL_WRITE)
        *ret = send_error(c, 403,
                          "the write token is never accepted in the URL (it leaks to logs and "
                          "histories): send it as Authorization: Bearer, or use the viewer token");
    else if (a == ACC_BAD)
        *ret = send_error(c, 401, "wrong token");
    else if (is_get && a == ACC_NONE && !h->read_open && !from_loopback(c))
        *ret = send_error(c, 401, "a token is needed to read from this address");
    else if (!is_get && a == ACC_NONE)
        *ret = send_error(c, 401, "missing or wrong bearer token");
    else if (!is_get && a == ACC_READ)
        *ret = send_error(c, 403, "the viewer token can only read");
    else
        return 0;
    return 1;
}

static enum MHD_Result route(struct fc_http *h, struct MHD_Connection *c, const char *url,
                             const char *method, struct request *rq)
{
    int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    const char *path = url + strlen("/api/v1/");
    enum MHD_Result ret;

    if (!host_ok(h, c))
        return send_error(c, 421,
                          "unknown Host: this console answers only to its configured names "
                          "(fleetcastd --http-host NAME adds one)");
    if (strncmp(url, "/api/v1/", 8) != 0)
        return is_get ? get_asset(c, url) : send_error(c, 405, "method not allowed");
    if (refused(h, c, is_get, &ret))
        return ret;
    if (is_get)
        return !strcmp(path, "events") ? get_events(h, c) : get_api(h, c, path);
    if (strcmp(method, "POST") && strcmp(method, "DELETE"))
        return send_error(c, 405, "method not allowed");
    if (rq->too_big)
        return send_error(c, 413, "request body over 64 KiB");
    return post_api(h, c, method, path, rq);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct request *rq = *con_cls;

    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        *con_cls = rq;
        return rq ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        return collect_body(rq, upload_data, upload_size) < 0 ? MHD_NO : MHD_YES;
    }
    return route(cls, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *rq = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

static int parse_listen(const char *addr_port, struct sockaddr_in *sin)
{
    char host[64];
    const char *colon = strrchr(addr_port, ':');
    int port;

    memset(sin, 0, sizeof(*sin));
    if (!colon || (size_t)(colon - addr_port) >= sizeof(host) || (port = atoi(colon + 1)) <= 0 ||
        port > 65535)
        return FC_EINVAL;
    memcpy(host, addr_port, (size_t)(colon - addr_port));
    host[colon - addr_port] = 0;
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        return FC_EINVAL;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    return 0;
}

int fc_http_start(struct fc_http *h, const char *addr_port, struct fc_console *con,
                  const struct fc_http_opts *o, const char *state_dir, const char *store_db)
{
    struct sockaddr_in sin;

    if (parse_listen(addr_port, &sin))
        return FC_EINVAL;
    h->con = con;
    snprintf(h->store_db, sizeof(h->store_db), "%s", store_db ? store_db : "");
    h->read_open = o->read_open;
    h->stream_seconds = o->stream_seconds ? o->stream_seconds : FC_HTTP_STREAM_SECONDS;
    h->n_streams = 0;
    h->n_hosts = 0;
    set_hosts(h, &sin, o);
    pthread_mutex_init(&h->mu, NULL);
    if (fc_http_load_token(state_dir, "api.token", h->token) ||
        fc_http_load_token(state_dir, "viewer.token", h->viewer))
        return FC_EIO;
    h->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                              ntohs(sin.sin_port), NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT,
                              FC_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                              FC_HTTP_MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
                              MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->mhd) {
        fc_error("cannot listen for HTTP on %s", addr_port);
        return FC_EIO;
    }
    fc_info("console: http://%s/ (API under /api/v1/; answers to %u host names, %u connections, "
            "%u per address)%s",
            addr_port, h->n_hosts, FC_HTTP_MAX_CONNECTIONS, FC_HTTP_MAX_PER_IP,
            o->read_open ? ", reads open to every address" : "");
    return 0;
}

void fc_http_stop(struct fc_http *h)
{
    if (!h->mhd)
        return;
    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
    pthread_mutex_destroy(&h->mu);
}
