/* HTTP routing, authentication and the event stream (see http.h). */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/key.h"
#include "common/log.h"
#include "server/web_assets.h"

#define KEEPALIVE_MS 15000
#define COMMAND_TIMEOUT_MS 10000

struct request {
    char *body;
    size_t len;
    int too_big;
};

struct sse {
    struct fc_console *con;
    uint64_t next;
    char *pending;
    size_t off;
    int sent_snapshot;
};

/* ---- token ---- */

int fc_http_load_token(char token[FC_TOKEN_HEX + 1])
{
    char prefix[4000], path[4096];
    uint8_t raw[FC_TOKEN_HEX / 2];
    FILE *f;
    int fd;

    if (fc_key_default_prefix(prefix, sizeof(prefix)))
        return FC_EINVAL;
    snprintf(path, sizeof(path), "%.*s/api.token", (int)(strrchr(prefix, '/') - prefix), prefix);
    f = fopen(path, "r");
    if (f) {
        int ok = fgets(token, FC_TOKEN_HEX + 1, f) && strlen(token) == FC_TOKEN_HEX;
        fclose(f);
        if (ok) {
            fc_info("API token: %s", path);
            return 0;
        }
        fc_warn("API token file %s is malformed: making a new one", path);
    }
    *strrchr(prefix, '/') = 0;
    mkdir(prefix, 0700);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, FC_TOKEN_HEX + 1, raw, sizeof(raw));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) || write(fd, token, FC_TOKEN_HEX) != FC_TOKEN_HEX) {
        fc_error("cannot write the API token to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return FC_EIO;
    }
    close(fd);
    fc_info("API token created: %s (mode 0600; changing calls need it)", path);
    return 0;
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text, mode);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
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

/* ---- auth ---- */

static int from_loopback(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr_in *sin;

    if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
        return 0;
    sin = (const struct sockaddr_in *)ci->client_addr;
    return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

static int token_ok(const struct fc_http *h, const char *t)
{
    return t && strlen(t) == FC_TOKEN_HEX && sodium_memcmp(t, h->token, FC_TOKEN_HEX) == 0;
}

static int has_token(const struct fc_http *h, struct MHD_Connection *c)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

    return a && !strncmp(a, "Bearer ", 7) && token_ok(h, a + 7);
}

/* A browser's EventSource cannot send headers: reads may carry the token as
 * ?token=, changes never (a URL ends up in logs and histories). */
static int may_read(const struct fc_http *h, struct MHD_Connection *c)
{
    return has_token(h, c) || h->read_open || from_loopback(c) ||
           token_ok(h, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"));
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

static enum MHD_Result get_api(struct fc_http *h, struct MHD_Connection *c, const char *path)
{
    json_t *snap = fc_console_snapshot(h->con), *s, *out = NULL;
    unsigned status = 200;
    char id[32];

    if (!snap)
        snap = json_pack("{s:[], s:[]}", "sessions", "machines");
    if (!strcmp(path, "health"))
        out = json_pack("{s:b, s:s}", "ok", 1, "version", FC_VERSION);
    else if (!strcmp(path, "sessions"))
        out = json_pack("{s:O}", "sessions", json_object_get(snap, "sessions"));
    else if (!strcmp(path, "machines"))
        out = json_pack(
            "{s:o}", "machines",
            machines_of(snap, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "session")));
    else if (sscanf(path, "sessions/%31[0-9a-fA-F]", id) == 1 &&
             strlen(path) == strlen("sessions/") + strlen(id)) {
        s = find_session(snap, id);
        if (s)
            out = json_pack("{s:O, s:o}", "session", s, "machines", machines_of(snap, id));
        else
            status = 404;
    } else
        status = 404;
    json_decref(snap);
    if (status == 404)
        return send_error(c, 404, "no such session or call");
    return send_json(c, status, out);
}

/* ---- events ---- */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse *st = cls;
    size_t n;

    (void)pos;
    if (!st->pending) {
        if (!st->sent_snapshot) {
            json_t *snap = fc_console_snapshot(st->con);
            char *d = snap ? json_dumps(snap, JSON_COMPACT) : strdup("{}");
            size_t len = strlen(d ? d : "") + 32;
            json_decref(snap);
            st->pending = malloc(len);
            if (st->pending)
                snprintf(st->pending, len, "event: progress\ndata: %s\n\n", d ? d : "{}");
            free(d);
            st->sent_snapshot = 1;
        } else {
            st->pending = fc_console_next_event(st->con, &st->next, KEEPALIVE_MS);
            if (!st->pending && st->con->stopping)
                return MHD_CONTENT_READER_END_OF_STREAM;
            if (!st->pending)
                st->pending = strdup(": keepalive\n\n");
        }
        st->off = 0;
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

static void sse_free(void *cls)
{
    struct sse *st = cls;

    free(st->pending);
    free(st);
}

static enum MHD_Result get_events(struct fc_http *h, struct MHD_Connection *c)
{
    struct sse *st = calloc(1, sizeof(*st));
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (!st)
        return MHD_NO;
    st->con = h->con;
    st->next = fc_console_latest_seq(h->con);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, st, sse_free);
    if (!r) {
        free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- changes ---- */

static enum MHD_Result run_command(struct fc_http *h, struct MHD_Connection *c, struct fc_cmd *cmd)
{
    if (fc_console_submit(h->con, cmd, COMMAND_TIMEOUT_MS)) {
        json_decref(cmd->body);
        return send_error(c, 503, "the session loop did not answer in time");
    }
    json_decref(cmd->body);
    return send_json(c, (unsigned)cmd->status, cmd->result);
}

static enum MHD_Result post_api(struct fc_http *h, struct MHD_Connection *c, const char *path,
                                const struct request *rq)
{
    struct fc_cmd cmd;
    json_error_t err;
    char id[32], verb[16];

    memset(&cmd, 0, sizeof(cmd));
    if (!strcmp(path, "sessions")) {
        cmd.type = FC_CMD_CREATE;
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

static enum MHD_Result route(struct fc_http *h, struct MHD_Connection *c, const char *url,
                             const char *method, struct request *rq)
{
    int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    const char *path = url + strlen("/api/v1/");

    if (strncmp(url, "/api/v1/", 8) != 0)
        return is_get ? get_asset(c, url) : send_error(c, 405, "method not allowed");
    if (is_get && !may_read(h, c))
        return send_error(c, 401, "a bearer token is needed to read from this address");
    if (is_get)
        return !strcmp(path, "events") ? get_events(h, c) : get_api(h, c, path);
    if (strcmp(method, "POST") && strcmp(method, "DELETE"))
        return send_error(c, 405, "method not allowed");
    if (!has_token(h, c))
        return send_error(c, 401, "missing or wrong bearer token");
    if (rq->too_big)
        return send_error(c, 413, "request body over 64 KiB");
    return post_api(h, c, path, rq);
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

int fc_http_start(struct fc_http *h, const char *addr_port, struct fc_console *con, int read_open)
{
    struct sockaddr_in sin;
    char host[64];
    const char *colon = strrchr(addr_port, ':');
    int port;

    memset(&sin, 0, sizeof(sin));
    if (!colon || (size_t)(colon - addr_port) >= sizeof(host) || (port = atoi(colon + 1)) <= 0 ||
        port > 65535)
        return FC_EINVAL;
    memcpy(host, addr_port, (size_t)(colon - addr_port));
    host[colon - addr_port] = 0;
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        return FC_EINVAL;
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    h->con = con;
    h->read_open = read_open;
    if (fc_http_load_token(h->token))
        return FC_EIO;
    h->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                              (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT, 64u,
                              MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
                              on_completed, h, MHD_OPTION_END);
    if (!h->mhd) {
        fc_error("cannot listen for HTTP on %s", addr_port);
        return FC_EIO;
    }
    fc_info("console: http://%s/ (API under /api/v1/)%s", addr_port,
            read_open ? ", reads open to every address" : "");
    return 0;
}

void fc_http_stop(struct fc_http *h)
{
    if (h->mhd)
        MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
}
