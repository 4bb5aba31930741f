/* The manifest over TCP (docs/protocol.md "Manifest fetch"): read one
 * MANIFEST_REQ, answer with the MANIFEST head, the signed manifest bytes and
 * the signature block, close. A connection that sends nothing useful within
 * the timeout, or sends too much, is closed. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

#define REQ_LEN 30
#define CONN_TIMEOUT_MS 10000

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    struct fc_daemon *d;
    uint8_t req[REQ_LEN];
    size_t got;
    uint8_t head[32];
    int closing;
    int handles;
};

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;

    if (--c->handles == 0)
        free(c);
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
    (void)status;
    conn_close(w->data);
}

static void answer(struct conn *c)
{
    struct fc_session *s;
    struct fc_hdr h;
    struct fc_manifest_req req;
    struct fc_manifest_head mh;
    static const uint8_t zero[FC_ID_LEN];
    uv_buf_t bufs[3];
    int n, nb = 1;

    if (fc_manifest_req_decode(c->req, REQ_LEN, &h, &req) ||
        !(s = fc_daemon_find(c->d, h.session))) {
        conn_close(c);
        return;
    }
    mh = (struct fc_manifest_head){FC_REASON_OK, (uint32_t)s->img.manifest_len};
    if (memcmp(req.image_id, zero, FC_ID_LEN) && memcmp(req.image_id, s->img.m.image_id, FC_ID_LEN))
        mh = (struct fc_manifest_head){FC_REASON_WRONG_IMAGE, 0};
    n = fc_manifest_head_encode(c->head, sizeof(c->head), s->session_id, ++s->ctrl_seq, &mh);
    if (n < 0) {
        conn_close(c);
        return;
    }
    bufs[0] = uv_buf_init((char *)c->head, (unsigned)n);
    if (mh.status == FC_REASON_OK) {
        bufs[1] = uv_buf_init((char *)s->img.manifest_raw, (unsigned)s->img.manifest_len);
        bufs[2] = uv_buf_init((char *)s->sigblock, FC_SIGBLOCK_SIZE);
        nb = 3;
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
    buf->len = REQ_LEN - c->got;
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
    if (c->got == REQ_LEN) {
        uv_read_stop(st);
        answer(c);
    }
}

void fc_manifest_srv_on_connect(uv_stream_t *server, int status)
{
    struct fc_daemon *d = server->data;
    struct conn *c;

    if (status < 0 || !(c = calloc(1, sizeof(*c))))
        return;
    c->d = d;
    uv_tcp_init(d->loop, &c->tcp);
    uv_timer_init(d->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, CONN_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
