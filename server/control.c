/* Where every packet fleetcastd receives is parsed and dispatched: the
 * control port (DISCOVER, JOIN, PROGRESS, DONE, ABORT) and the data group
 * (NAKs from receivers). Anything malformed or of another session is
 * counted as a reject and dropped here, before it touches any state. */
#include <arpa/inet.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

/* One buffer for every datagram of every socket: libuv hands each to its
 * callback before reading the next, and the callbacks keep nothing that
 * points into it. */
void fc_control_alloc_daemon(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct fc_daemon *d = h->data;

    (void)suggested;
    buf->base = (char *)d->rxbuf;
    buf->len = sizeof(d->rxbuf);
}

void fc_control_alloc_session(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct fc_session *s = h->data;

    fc_control_alloc_daemon((uv_handle_t *)&s->d->ctrl, suggested, buf);
}

static void announce(struct fc_session *s, const struct sockaddr_in *from,
                     const struct fc_discover *d)
{
    struct fc_announce a;
    uint8_t out[128];
    int len;

    if (s->state == FC_SS_FINISHED || s->state == FC_SS_ABORTED)
        return;
    memset(&a, 0, sizeof(a));
    a.nonce = d->nonce;
    memcpy(a.image_id, s->img.m.image_id, FC_ID_LEN);
    memcpy(a.group, &s->cfg.group.s_addr, 4);
    a.data_port = s->cfg.data_port;
    a.ctrl_port = s->cfg.ctrl_port;
    a.payload_size = s->cfg.payload;
    a.k_max = s->cfg.k_max;
    a.state = s->state == FC_SS_WAITING   ? FC_SESSION_WAITING
              : s->state == FC_SS_SENDING ? FC_SESSION_SENDING
                                          : FC_SESSION_REPAIR;
    a.flags = (s->cfg.zero_free ? FC_ANN_ZERO_FREE : 0) | (s->cfg.readback ? FC_ANN_READBACK : 0);
    /* --grow-part N implies --grow */
    if (s->cfg.grow || s->cfg.grow_part)
        a.flags |= FC_ANN_GROW | (uint8_t)(s->cfg.grow_part << FC_ANN_GROW_PART_SHIFT);
    memcpy(a.signer, s->img.signer, FC_SIGNER_LEN);
    len = fc_announce_encode(out, sizeof(out), s->session_id, ++s->ctrl_seq, &a);
    if (len > 0)
        fc_netio_send_ctrl(s, from, out, (size_t)len);
}

/* A DISCOVER is answered by every session it matches (any, or the one it
 * names). */
static int on_discover(struct fc_daemon *dm, const struct sockaddr_in *from, const uint8_t *p,
                       size_t n)
{
    struct fc_hdr h;
    struct fc_discover d;
    uint32_t i;

    if (fc_discover_decode(p, n, &h, &d))
        return FC_EPROTO;
    for (i = 0; i < dm->n_sessions; i++)
        if (!h.session || h.session == dm->sessions[i]->session_id)
            announce(dm->sessions[i], from, &d);
    return 0;
}

/* NAKs are answered only for active receivers that tagged them. */
static void on_nak(struct fc_session *s, const struct sockaddr_in *from, const uint8_t *p, size_t n,
                   const struct fc_hdr *h, const struct fc_nak *nk)
{
    struct fc_rx *r = fc_rx_authenticate(s, from, p, n, h->seq, nk->receiver_id, 0);

    if (!r || r->status != FC_RXS_ACTIVE) {
        s->st.naks_unauth++;
        return;
    }
    fc_repair_on_nak(s, r, nk);
}

/* Every packet of a joined receiver is decoded first (its shape), then its
 * tag and sequence number are checked (receivers.c); nothing acts on it
 * before both. */
static int dispatch_ctrl(struct fc_session *s, const struct sockaddr_in *from, const uint8_t *p,
                         size_t n, const struct fc_hdr *hdr)
{
    struct fc_hdr h;
    struct fc_rx *r;
    union {
        struct fc_join j;
        struct fc_progress pr;
        struct fc_done d;
        struct fc_abort a;
        struct fc_nak nk;
    } u;

    switch (hdr->type) {
    case FC_PKT_JOIN:
        if (fc_join_decode(p, n, &h, &u.j))
            return FC_EPROTO;
        fc_joins_on_join(s, from, p, n, h.seq, &u.j);
        return 0;
    case FC_PKT_PROGRESS:
        if (fc_progress_decode(p, n, &h, &u.pr))
            return FC_EPROTO;
        if ((r = fc_rx_authenticate(s, from, p, n, h.seq, u.pr.receiver_id, 1)))
            fc_rx_on_progress(s, r, h.seq, &u.pr);
        return 0;
    case FC_PKT_DONE:
        if (fc_done_decode(p, n, &h, &u.d) || (u.d.flags & FC_DONE_ACK))
            return FC_EPROTO;
        if ((r = fc_rx_authenticate(s, from, p, n, h.seq, u.d.receiver_id, 1)))
            fc_rx_on_done(s, r, &u.d);
        return 0;
    case FC_PKT_ABORT:
        if (fc_abort_decode(p, n, &h, &u.a))
            return FC_EPROTO;
        if ((r = fc_rx_authenticate(s, from, p, n, h.seq, u.a.receiver_id, 1)))
            fc_rx_on_abort(s, r, &u.a);
        return 0;
    case FC_PKT_NAK:
        if (fc_nak_decode(p, n, &h, &u.nk))
            return FC_EPROTO;
        on_nak(s, from, p, n, &h, &u.nk);
        return 0;
    default:
        return FC_EPROTO;
    }
}

/* A DISCOVER or JOIN of another wire version (a receiver or PXE image from
 * another build) is answered with our version alone, so that the receiver
 * says so and stops instead of waiting for an answer it cannot read, and it
 * is logged, at most once a second (a flood of them costs one line). The
 * answer is shorter than what it answers: nothing to amplify. 1 if it was
 * one. */
static int refuse_version(struct fc_daemon *d, const struct sockaddr_in *from, const uint8_t *p,
                          size_t n)
{
    uint8_t out[FC_HDR_LEN], type;
    int v = fc_hdr_peek_version(p, n, &type), len;
    char addr[INET_ADDRSTRLEN];

    if (v < 0 || v == FC_PROTO_VERSION || (type != FC_PKT_DISCOVER && type != FC_PKT_JOIN))
        return 0;
    len = fc_version_refusal_encode(out, sizeof(out),
                                    type == FC_PKT_JOIN ? FC_PKT_JOIN_ACK : FC_PKT_ANNOUNCE);
    if (len > 0)
        fc_netio_send_daemon(d, from, out, (size_t)len);
    d->version_refused++;
    if (uv_now(d->loop) - d->version_log_ms >= 1000 || d->version_refused == 1) {
        d->version_log_ms = uv_now(d->loop);
        inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
        fc_warn("%s from %s:%u speaks wire protocol version %d, this fleetcastd version %d: "
                "refused (%llu so far); update fleetcast-recv (the PXE image) and fleetcastd "
                "together",
                type == FC_PKT_JOIN ? "JOIN" : "DISCOVER", addr, ntohs(from->sin_port), v,
                FC_PROTO_VERSION, (unsigned long long)d->version_refused);
    }
    return 1;
}

void fc_control_on_ctrl(uv_udp_t *hd, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags)
{
    struct fc_daemon *d = hd->data;
    const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
    const uint8_t *p = (const uint8_t *)buf->base;
    struct fc_session *s;
    struct fc_hdr h;

    (void)flags;
    if (n <= 0 || !addr || addr->sa_family != AF_INET)
        return;
    if (fc_hdr_decode(p, (size_t)n, &h) < 0) {
        if (refuse_version(d, from, p, (size_t)n))
            return;
        if (d->n_sessions) /* no session named: the newest one counts it */
            d->sessions[d->n_sessions - 1]->st.rejects++;
        return;
    }
    if (h.type == FC_PKT_DISCOVER) {
        on_discover(d, from, p, (size_t)n);
        return;
    }
    s = fc_daemon_find(d, h.session);
    if (!s) {
        if (d->n_sessions)
            d->sessions[d->n_sessions - 1]->st.rejects++;
        return;
    }
    if (dispatch_ctrl(s, from, p, (size_t)n, &h))
        s->st.rejects++;
}

void fc_control_on_group(uv_udp_t *hd, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                         unsigned flags)
{
    struct fc_session *s = hd->data;
    struct fc_hdr h;
    struct fc_nak nk;

    (void)flags;
    if (n > 0 && addr && addr->sa_family == AF_INET) {
        const uint8_t *p = (const uint8_t *)buf->base;
        if (fc_hdr_decode(p, (size_t)n, &h) < 0 || h.session != s->session_id)
            s->st.rejects++;
        else if (h.type == FC_PKT_NAK && !fc_nak_decode(p, (size_t)n, &h, &nk))
            on_nak(s, (const struct sockaddr_in *)addr, p, (size_t)n, &h, &nk);
        else if (h.type != FC_PKT_DATA) /* our own DATA, looped back on one host */
            s->st.rejects++;
    }
}
