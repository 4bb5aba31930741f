/* The receiver table: who joined, what each has written (its PROGRESS
 * window), whether it finished right (its DONE check value against the one
 * the manifest gives), and dropping the silent and the hopeless so that the
 * others finish. Every change of a receiver's status is logged here. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "server/server.h"

const char *fc_rx_status_name(enum fc_rx_status st)
{
    static const char *names[] = {"active", "done", "failed", "dropped"};
    return names[st];
}

struct fc_rx *fc_rx_find(struct fc_session *s, uint32_t id)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++)
        if (s->rx[i].id == id)
            return &s->rx[i];
    return NULL;
}

uint32_t fc_rx_count(const struct fc_session *s, enum fc_rx_status st)
{
    uint32_t i, n = 0;

    for (i = 0; i < s->n_rx; i++)
        n += s->rx[i].status == st;
    return n;
}

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
    return buf;
}

void fc_rx_send_abort(struct fc_session *s, const struct sockaddr_in *to, uint32_t rx_id,
                      uint8_t reason, const char *text)
{
    struct fc_abort a;
    uint8_t buf[FC_PKT_MAX];
    int n;

    memset(&a, 0, sizeof(a));
    a.receiver_id = rx_id;
    a.reason = reason;
    a.text_len = (uint8_t)snprintf(a.text, sizeof(a.text), "%s", text);
    if (a.text_len > FC_ABORT_TEXT_MAX)
        a.text_len = FC_ABORT_TEXT_MAX;
    n = fc_abort_encode(buf, sizeof(buf), s->session_id, ++s->ctrl_seq, &a);
    if (n > 0)
        fc_netio_send_ctrl(s, to, buf, (size_t)n);
}

static void send_join_ack(struct fc_session *s, const struct sockaddr_in *to, uint64_t nonce,
                          uint32_t id, uint8_t status)
{
    struct fc_join_ack a = {nonce, id, status, s->cfg.report_ms};
    uint8_t buf[64];
    int n = fc_join_ack_encode(buf, sizeof(buf), s->session_id, ++s->ctrl_seq, &a);

    if (n > 0)
        fc_netio_send_ctrl(s, to, buf, (size_t)n);
}

/* A JOIN repeated because our ACK was lost, or a receiver joining again
 * after a link cut (maybe from a new port), is the same machine: same
 * address and port, or same address and name. It keeps its id. */
static struct fc_rx *find_same(struct fc_session *s, const struct sockaddr_in *from,
                               const char *name)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++) {
        struct fc_rx *r = &s->rx[i];
        if (r->status != FC_RXS_ACTIVE || r->addr.sin_addr.s_addr != from->sin_addr.s_addr)
            continue;
        if (r->addr.sin_port == from->sin_port || !strcmp(r->name, name))
            return r;
    }
    return NULL;
}

static int refuse_join(struct fc_session *s, const struct sockaddr_in *from,
                       const struct fc_join *j, const char *who)
{
    char sz1[16], sz2[16];

    if (memcmp(j->image_id, s->img.m.image_id, FC_ID_LEN) != 0) {
        fc_error("session %08x machine %s: refused: it holds another image's manifest",
                 s->session_id, who);
        send_join_ack(s, from, j->nonce, 0, FC_REASON_WRONG_IMAGE);
        return 1;
    }
    if (j->target_size < s->img.m.disk_size) {
        fc_error("session %08x machine %s: refused: target disk is %s, the image needs %s",
                 s->session_id, who, fc_human_bytes(j->target_size, sz1, sizeof(sz1)),
                 fc_human_bytes(s->img.m.disk_size, sz2, sizeof(sz2)));
        send_join_ack(s, from, j->nonce, 0, FC_REASON_TOO_SMALL);
        return 1;
    }
    if (s->state == FC_SS_FINISHED || s->state == FC_SS_ABORTED || s->n_rx >= FC_MAX_RECEIVERS) {
        send_join_ack(s, from, j->nonce, 0, FC_REASON_FULL);
        return 1;
    }
    return 0;
}

void fc_rx_on_join(struct fc_session *s, const struct sockaddr_in *from, uint32_t seq,
                   const struct fc_join *j)
{
    char who[FC_NAME_MAX + 40], a[32];
    struct fc_rx *r = find_same(s, from, j->name);

    (void)seq;
    snprintf(who, sizeof(who), "%s (%s)", j->name, addr_str(from, a, sizeof(a)));
    if (r) {
        if (r->addr.sin_port != from->sin_port)
            fc_info("session %08x machine %s: joined again as receiver %u, %u chunks written",
                    s->session_id, who, r->id, j->chunks_done);
        r->addr = *from;
        r->last_seen = fc_server_now(s);
        send_join_ack(s, from, j->nonce, r->id, FC_REASON_OK);
        return;
    }
    if (refuse_join(s, from, j, who))
        return;
    r = realloc(s->rx, (s->n_rx + 1) * sizeof(*r));
    if (!r)
        return;
    s->rx = r;
    r = &s->rx[s->n_rx++];
    memset(r, 0, sizeof(*r));
    r->id = ++s->next_rx_id;
    r->addr = *from;
    snprintf(r->name, sizeof(r->name), "%s", j->name);
    r->target_size = j->target_size;
    r->join_chunks_done = j->chunks_done;
    r->joined_at = r->last_seen = r->last_advance = fc_server_now(s);
    r->status = FC_RXS_ACTIVE;
    fc_info("session %08x machine %s: joined as receiver %u%s, %u of %u chunks already written",
            s->session_id, who, r->id, s->state == FC_SS_WAITING ? "" : " (late)", j->chunks_done,
            s->img.m.n_chunks);
    send_join_ack(s, from, j->nonce, r->id, FC_REASON_OK);
    fc_api_machine_changed(s, r);
    fc_session_maybe_start(s);
}

/* The server restarted or dropped this receiver: tell it to join again
 * (or, if dropped, that it was). */
static struct fc_rx *known(struct fc_session *s, const struct sockaddr_in *from, uint32_t id)
{
    struct fc_rx *r = fc_rx_find(s, id);

    if (!r) {
        fc_rx_send_abort(s, from, id, FC_REASON_REJOIN, "unknown receiver: join again");
        return NULL;
    }
    /* Control packets are not authenticated (docs/protocol.md): a report
     * for this id from another host is a forgery, not a move. */
    if (r->addr.sin_addr.s_addr != from->sin_addr.s_addr) {
        s->st.rejects++;
        return NULL;
    }
    r->addr.sin_port = from->sin_port;
    r->last_seen = fc_server_now(s);
    return r;
}

static void update_loss(struct fc_rx *r, const struct fc_progress *p)
{
    uint64_t dr = p->pkts_received - r->prev_recv, dl = p->pkts_lost - r->prev_lost;

    if (p->pkts_received < r->prev_recv || p->pkts_lost < r->prev_lost) {
        dr = p->pkts_received; /* the receiver restarted its counters */
        dl = p->pkts_lost;
    }
    r->prev_recv = p->pkts_received;
    r->prev_lost = p->pkts_lost;
    if (dr + dl < 64)
        return; /* too few packets for a rate */
    r->loss_recent = (double)dl / (double)(dr + dl);
    /* The floor is the loss this link always has (random or burst loss,
     * not congestion): it follows drops at once and rises within a few
     * seconds, so loss that slowing down does not cure stops counting as
     * congestion and the rate recovers. */
    if (!r->loss_samples++ || r->loss_recent < r->loss_floor)
        r->loss_floor = r->loss_recent;
    else
        r->loss_floor += 0.3 * (r->loss_recent - r->loss_floor);
}

void fc_rx_on_progress(struct fc_session *s, const struct sockaddr_in *from, uint32_t seq,
                       const struct fc_progress *p)
{
    struct fc_rx *r = known(s, from, p->receiver_id);
    int changed = 0;

    if (!r || r->status != FC_RXS_ACTIVE)
        return;
    if (r->have_progress && (int32_t)(seq - r->last_seq) <= 0)
        return; /* older than the report already used */
    if (p->chunks_total != s->img.m.n_chunks) {
        fc_rx_drop(s, r, FC_REASON_WRONG_IMAGE, "reports another chunk count");
        return;
    }
    if (!r->have_progress || r->p.state != p->state)
        changed = 1;
    if (!r->mac[0]) /* by now we have answered it, so the kernel knows its MAC */
        fc_netio_mac_of(r->addr.sin_addr, r->mac);
    update_loss(r, p);
    s->st.rx_rejects += p->rejects > r->p.rejects ? p->rejects - r->p.rejects : 0;
    r->p = *p;
    r->last_seq = seq;
    r->have_progress = 1;
    if (p->chunks_done > r->best_done) {
        r->best_done = p->chunks_done;
        r->last_advance = fc_server_now(s);
    }
    if (changed)
        fc_api_machine_changed(s, r);
    fc_session_maybe_start(s);
}

void fc_rx_on_done(struct fc_session *s, const struct sockaddr_in *from, const struct fc_done *d)
{
    struct fc_rx *r = known(s, from, d->receiver_id);
    struct fc_done ack = *d;
    uint8_t buf[128];
    int n;

    if (!r)
        return;
    ack.flags = FC_DONE_ACK;
    n = fc_done_encode(buf, sizeof(buf), s->session_id, ++s->ctrl_seq, &ack);
    if (n > 0)
        fc_netio_send_ctrl(s, from, buf, (size_t)n);
    if (r->status != FC_RXS_ACTIVE)
        return;
    r->done_at = fc_server_now(s);
    r->p.bytes_written = d->bytes_written;
    if (d->status == FC_REASON_OK && !memcmp(d->check, s->expected_check, FC_CHECK_LEN)) {
        r->status = FC_RXS_DONE;
        r->p.chunks_done = s->img.m.n_chunks;
        fc_info("session %08x machine %s: done, disk verified (%.1f s after joining)",
                s->session_id, r->name, r->done_at - r->joined_at);
        fc_pxecfg_machine_done(s, r);
    } else {
        r->status = FC_RXS_FAILED;
        r->reason = d->status ? d->status : FC_REASON_VERIFY;
        snprintf(r->error, sizeof(r->error), "%s",
                 d->status ? "receiver reported a failure" : "whole-disk check value differs");
        fc_error("session %08x machine %s: FAILED: %s", s->session_id, r->name, r->error);
    }
    fc_api_machine_changed(s, r);
    fc_session_check_end(s);
}

void fc_rx_on_abort(struct fc_session *s, const struct sockaddr_in *from, const struct fc_abort *a)
{
    struct fc_rx *r = fc_rx_find(s, a->receiver_id);

    if (!r || r->addr.sin_addr.s_addr != from->sin_addr.s_addr || r->status != FC_RXS_ACTIVE)
        return;
    r->status = FC_RXS_FAILED;
    r->reason = a->reason;
    snprintf(r->error, sizeof(r->error), "%s", a->text);
    fc_error("session %08x machine %s: FAILED: %s", s->session_id, r->name, a->text);
    fc_api_machine_changed(s, r);
    fc_session_check_end(s);
}

void fc_rx_drop(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *why)
{
    if (r->status != FC_RXS_ACTIVE)
        return;
    r->status = FC_RXS_DROPPED;
    r->reason = reason;
    snprintf(r->error, sizeof(r->error), "%s", why);
    fc_warn("session %08x machine %s: DROPPED: %s (%u of %u chunks written)", s->session_id,
            r->name, why, r->p.chunks_done, s->img.m.n_chunks);
    fc_rx_send_abort(s, &r->addr, r->id, reason, why);
    fc_api_machine_changed(s, r);
    fc_session_check_end(s);
}

/* Whether r, by its last report, lacks chunk c. A receiver that has not
 * reported yet needs everything if it joined fresh; a re-joining one is
 * waited for (its report comes within a second). */
static int rx_needs(const struct fc_rx *r, uint32_t c)
{
    uint32_t off;

    if (r->status != FC_RXS_ACTIVE)
        return 0;
    if (!r->have_progress)
        return r->join_chunks_done == 0;
    if (c < r->p.win_base)
        return 0;
    off = c - r->p.win_base;
    if (off >= FC_PROGRESS_WINDOW)
        return 1;
    return !(r->p.window[off / 8] & (1u << (off % 8)));
}

int fc_rx_chunk_needed(const struct fc_session *s, uint32_t c)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++)
        if (rx_needs(&s->rx[i], c))
            return 1;
    return 0;
}
