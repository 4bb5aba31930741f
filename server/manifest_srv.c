/* The TCP control port: read one request, answer, close. MANIFEST_REQ
 * (docs/protocol.md "Manifest fetch") gets the MANIFEST head, the signed
 * manifest bytes and the signature block; HOOKS_REQ the image's hooks tar
 * (hooks.c packed it); CHUNK_REQ gets a chunk
 * (chunk_srv.c decides). The header's type says how long the request is. A
 * connection that sends nothing useful within the timeout, or sends too
 * much, is closed. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

#define REQ_LEN 30 /* MANIFEST_REQ, HOOKS_REQ */
#define CONN_TIMEOUT_MS 10000

struct fc_manifest_blob {
    unsigned refs;
    size_t len;
    uint8_t *bytes;
};

struct fc_manifest_blob *fc_manifest_blob_of(uint8_t *bytes, size_t len)
{
    struct fc_manifest_blob *b = malloc(sizeof(*b));

    if (!b) {
        free(bytes);
        return NULL;
    }
    b->refs = 1;
    b->len = len;
    b->bytes = bytes;
    return b;
}

struct fc_manifest_blob *fc_manifest_blob_new(const struct fc_image *img)
{
    uint8_t *bytes = malloc(img->manifest_len + FC_SIGBLOCK_SIZE);

    if (!bytes)
        return NULL;
    memcpy(bytes, img->manifest_raw, img->manifest_len);
    fc_sigblock_encode(img->signer, img->sig, bytes + img->manifest_len);
    return fc_manifest_blob_of(bytes, img->manifest_len + FC_SIGBLOCK_SIZE);
}

void fc_manifest_blob_unref(struct fc_manifest_blob *b)
{
    if (b && --b->refs == 0) {
        free(b->bytes);
        free(b);
    }
}

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    struct fc_daemon *d;
    uint8_t req[FC_CHUNK_REQ_LEN]; /* the longest request */
    size_t got, need;              /* need: the header until its type is known */
    struct sockaddr_in peer;
    struct fc_chunk_reply chunk;       /* a CHUNK answer being written */
    struct fc_manifest_blob *manifest; /* a reference to the manifest being written */
    uint8_t head[32];
    int closing;
    int handles;
};

/* Frees the chunk and lets its receiver ask for the next one. */
static void chunk_done(struct conn *c, int ok)
{
    if (c->chunk.bytes || c->chunk.rid)
        fc_chunk_srv_sent(c->d, &c->chunk, ok);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;

    if (--c->handles == 0) {
        chunk_done(c, 0);
        fc_manifest_blob_unref(c->manifest);
        free(c);
    }
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_written(uv_write_t *w, int status)
{
    struct conn *c = w->data;

    chunk_done(c, status == 0);
    conn_close(c);
}

static void answer_chunk(struct conn *c)
{
    uv_buf_t bufs[2];
    unsigned nb = 1;

    if (fc_chunk_srv_answer(c->d, c->req, c->need, &c->peer, &c->chunk)) {
        conn_close(c);
        return;
    }
    bufs[0] = uv_buf_init((char *)c->chunk.head, FC_CHUNK_HEAD_LEN);
    if (c->chunk.bytes)
        bufs[nb++] = uv_buf_init((char *)c->chunk.bytes, (unsigned)c->chunk.len);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, bufs, nb, on_written)) {
        chunk_done(c, 0);
        conn_close(c);
    }
}

/* The blob a MANIFEST_REQ or HOOKS_REQ asks for, and the head saying so:
 * refused for another image, or for hooks the session has none of. */
static struct fc_manifest_blob *pick(struct conn *c, struct fc_session *s,
                                     const struct fc_manifest_req *req, int hooks,
                                     struct fc_manifest_head *mh)
{
    static const uint8_t zero[FC_ID_LEN];
    struct fc_manifest_blob *b = hooks ? s->hooks_blob : s->manifest_blob;

    if (memcmp(req->image_id, zero, FC_ID_LEN) &&
        memcmp(req->image_id, s->img.m.image_id, FC_ID_LEN)) {
        *mh = (struct fc_manifest_head){FC_REASON_WRONG_IMAGE, 0};
        return NULL;
    }
    if (!b) {
        *mh = (struct fc_manifest_head){FC_REASON_INTERNAL, 0};
        return NULL;
    }
    if (hooks)
        fc_info("session %08x: hooks tar (%zu bytes) sent to %s", s->session_id, b->len,
                inet_ntoa(c->peer.sin_addr));
    /* The manifest's length, not the blob's: the signature block follows it. */
    *mh = (struct fc_manifest_head){FC_REASON_OK, (uint32_t)(hooks ? b->len : s->img.manifest_len)};
    return b;
}

static void answer(struct conn *c)
{
    int hooks = c->req[5] == FC_PKT_HOOKS_REQ, n, nb = 1;
    struct fc_session *s;
    struct fc_hdr h;
    struct fc_manifest_req req;
    struct fc_manifest_head mh;
    struct fc_manifest_blob *b;
    uv_buf_t bufs[2];

    if ((hooks ? fc_hooks_req_decode(c->req, REQ_LEN, &h, &req)
               : fc_manifest_req_decode(c->req, REQ_LEN, &h, &req)) ||
        !(s = fc_daemon_find(c->d, h.session))) {
        conn_close(c);
        return;
    }
    b = pick(c, s, &req, hooks, &mh);
    n = hooks
            ? fc_hooks_head_encode(c->head, sizeof(c->head), s->session_id, ++s->ctrl_seq, &mh)
            : fc_manifest_head_encode(c->head, sizeof(c->head), s->session_id, ++s->ctrl_seq, &mh);
    if (n < 0) {
        conn_close(c);
        return;
    }
    bufs[0] = uv_buf_init((char *)c->head, (unsigned)n);
    /* A reference, not the session's memory: the write may outlast the
     * session (it ends and is freed while a slow receiver still reads). */
    if (b) {
        c->manifest = b;
        b->refs++;
        bufs[1] = uv_buf_init((char *)b->bytes, (unsigned)b->len);
        nb = 2;
    }
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, bufs, (unsigned)nb, on_written))
        conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;

    (void)suggested;
    buf->base = (char *)c->req + c->got;
    buf->len = c->need - c->got;
}

/* A capture upload (CAP_HELLO): the socket goes to capture.c's thread,
 * the handle here closes on a copy of it. */
static void hand_to_capture(struct conn *c)
{
    uv_os_fd_t fd;
    int own;

    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && (own = dup(fd)) >= 0)
        fc_captures_adopt(c->d, own, &c->peer, c->req);
    conn_close(c);
}

/* Once the header is in: the request's full length, or 0 for a type not
 * asked over TCP. */
static size_t req_len(const uint8_t *hdr)
{
    struct fc_hdr h;

    if (fc_hdr_decode(hdr, FC_HDR_LEN, &h) < 0)
        return 0;
    if (h.type == FC_PKT_MANIFEST_REQ || h.type == FC_PKT_HOOKS_REQ)
        return REQ_LEN;
    return h.type == FC_PKT_CHUNK_REQ ? FC_CHUNK_REQ_LEN : 0;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct conn *c = st->data;

    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->got += (size_t)n;
    if (c->got == FC_HDR_LEN && c->need == FC_HDR_LEN && c->req[5] == FC_PKT_CAP_HELLO) {
        uv_read_stop(st);
        hand_to_capture(c);
        return;
    }
    if (c->got == FC_HDR_LEN && c->need == FC_HDR_LEN && !(c->need = req_len(c->req))) {
        conn_close(c);
        return;
    }
    if (c->got == c->need) {
        uv_read_stop(st);
        if (c->req[5] == FC_PKT_CHUNK_REQ)
            answer_chunk(c);
        else
            answer(c);
    }
}

void fc_manifest_srv_on_connect(uv_stream_t *server, int status)
{
    struct fc_daemon *d = server->data;
    struct conn *c;
    int namelen;

    if (status < 0 || !(c = calloc(1, sizeof(*c))))
        return;
    c->d = d;
    c->need = FC_HDR_LEN;
    uv_tcp_init(d->loop, &c->tcp);
    uv_timer_init(d->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        conn_close(c);
        return;
    }
    namelen = sizeof(c->peer);
    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &namelen);
    uv_timer_start(&c->timer, on_timeout, CONN_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
