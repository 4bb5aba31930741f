/* The receiver table: who joined, what each has written (its PROGRESS
 * window), whether it finished right (its DONE check value against the one
 * the manifest gives), and dropping the silent and the hopeless so that the
 * others finish. Every change of a receiver's status is logged here. */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/grow.h"
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

static int is_loopback(struct in_addr a)
{
    return (ntohl(a.s_addr) >> 24) == 127;
}

static uint32_t active_from(const struct fc_session *s, struct in_addr ip)
{
    uint32_t i, n = 0;

    for (i = 0; i < s->n_rx; i++)
        n += s->rx[i].status == FC_RXS_ACTIVE && s->rx[i].addr.sin_addr.s_addr == ip.s_addr;
    return n;
}

/* Only active receivers count against the table; and one address may not
 * take more than a few of them (a lab machine runs one receiver; loopback,
 * where tests and the demo run many, cannot be forged from the LAN). */
int fc_rx_room_for(const struct fc_session *s, struct in_addr ip)
{
    if (fc_rx_count(s, FC_RXS_ACTIVE) >= FC_MAX_RECEIVERS)
        return 0;
    return is_loopback(ip) || !s->cfg.max_per_ip || active_from(s, ip) < s->cfg.max_per_ip;
}

/* key: the receiver's to-receiver key, or NULL for an untagged hint. */
static void send_abort_with(struct fc_session *s, const struct sockaddr_in *to, uint32_t id,
                            const uint8_t *key, uint8_t reason, const char *text)
{
    struct fc_abort a;
    uint8_t buf[FC_PKT_MAX];
    int n;

    memset(&a, 0, sizeof(a));
    a.receiver_id = id;
    a.reason = reason;
    a.text_len = (uint8_t)snprintf(a.text, sizeof(a.text), "%s", text);
    if (a.text_len > FC_ABORT_TEXT_MAX)
        a.text_len = FC_ABORT_TEXT_MAX;
    n = fc_abort_encode(buf, sizeof(buf), s->session_id, ++s->ctrl_seq, &a);
    if (n <= 0 || (key && fc_auth_seal(buf, (size_t)n, key)))
        return;
    fc_netio_send_ctrl(s, to, buf, (size_t)n);
}

void fc_rx_send_abort(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *text)
{
    send_abort_with(s, &r->addr, r->id, r->key_down, reason, text);
}

/* "Unknown receiver: join again" cannot be tagged (we do not know its
 * secret: we restarted, or the id is made up), so receivers take it as a
 * hint only; it is rate-limited so forged reports cannot make us spray it. */
static void send_rejoin(struct fc_session *s, const struct sockaddr_in *to, uint32_t id)
{
    if (!fc_bucket_take(&s->rejoin_bucket, fc_server_now(s), 20, 20))
        return;
    send_abort_with(s, to, id, NULL, FC_REASON_REJOIN, "unknown receiver: join again");
}

struct fc_rx *fc_rx_authenticate(struct fc_session *s, const struct sockaddr_in *from,
                                 const uint8_t *pkt, size_t len, uint32_t seq, uint32_t id,
                                 int on_ctrl)
{
    struct fc_rx *r = fc_rx_find(s, id);

    if (r) {
        if (fc_auth_verify(pkt, len, r->key_up) || !fc_replay_accept(&r->replay, seq)) {
            s->st.auth_fail++;
            return NULL;
        }
        if (on_ctrl) /* its control socket: where our answers go */
            r->addr = *from;
        r->last_seen = fc_server_now(s);
        return r;
    }
    r = fc_joins_confirm(s, id, pkt, len, seq);
    if (r)
        return r;
    if (on_ctrl && !fc_joins_known(s, id))
        send_rejoin(s, from, id);
    s->st.auth_fail++;
    return NULL;
}

/* A slot for a new receiver: a new one while the table is small, else the
 * longest-ended one (the table keeps ended receivers for the report, but
 * not without bound). */
static struct fc_rx *new_entry(struct fc_session *s)
{
    struct fc_rx *r;
    uint32_t i, best = UINT32_MAX;

    if (s->n_rx < FC_RX_SLOTS) {
        r = realloc(s->rx, (s->n_rx + 1) * sizeof(*r));
        if (!r)
            return NULL;
        s->rx = r;
        return &s->rx[s->n_rx++];
    }
    for (i = 0; i < s->n_rx; i++)
        if (s->rx[i].status != FC_RXS_ACTIVE &&
            (best == UINT32_MAX || s->rx[i].last_seen < s->rx[best].last_seen))
            best = i;
    return best == UINT32_MAX ? NULL : &s->rx[best];
}

/* The same machine joining again without its old secret (its receiver was
 * restarted): same address, same name. Safe to merge because it proved it
 * holds the new secret, which a host forging that address never sees. */
static struct fc_rx *find_same(struct fc_session *s, const struct fc_pending *p)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++) {
        struct fc_rx *r = &s->rx[i];
        if (r->status == FC_RXS_ACTIVE && r->addr.sin_addr.s_addr == p->addr.sin_addr.s_addr &&
            !strcmp(r->name, p->name))
            return r;
    }
    return NULL;
}

static void take_identity(struct fc_rx *r, const struct fc_pending *p, uint32_t seq)
{
    r->id = p->id;
    memcpy(r->secret, p->secret, FC_SECRET_LEN);
    fc_auth_dir_key(p->secret, FC_AUTH_TO_SERVER, r->key_up);
    fc_auth_dir_key(p->secret, FC_AUTH_TO_RECEIVER, r->key_down);
    memset(&r->replay, 0, sizeof(r->replay));
    fc_replay_accept(&r->replay, seq);
    r->addr = p->addr;
    r->join_nonce = p->nonce;
    memcpy(r->box_pub, p->box_pub, FC_BOXPUB_LEN);
    /* What its JOIN_ACK granted: a re-JOIN is answered with the same. */
    if (p->mac[0])
        memcpy(r->mac, p->mac, sizeof(r->mac));
    snprintf(r->hostname, sizeof(r->hostname), "%s", p->hostname);
    snprintf(r->lab, sizeof(r->lab), "%s", p->lab);
}

struct fc_rx *fc_rx_admit(struct fc_session *s, const struct fc_pending *p, uint32_t seq)
{
    char who[FC_NAME_MAX + 40], a[32];
    struct fc_rx *r = find_same(s, p);

    snprintf(who, sizeof(who), "%s (%s)", p->name, addr_str(&p->addr, a, sizeof(a)));
    if (r) {
        take_identity(r, p, seq);
        r->last_seen = fc_server_now(s);
        fc_info("session %08x machine %s: joined again as receiver %08x, %u chunks written",
                s->session_id, who, r->id, p->chunks_done);
        return r;
    }
    if (!fc_rx_room_for(s, p->addr.sin_addr) || !(r = new_entry(s))) {
        fc_warn("session %08x machine %s: refused: no room (%u active)", s->session_id, who,
                fc_rx_count(s, FC_RXS_ACTIVE));
        uint8_t down[FC_SECRET_LEN];

        fc_auth_dir_key(p->secret, FC_AUTH_TO_RECEIVER, down);
        send_abort_with(s, &p->addr, p->id, down, FC_REASON_FULL, "session full");
        return NULL;
    }
    memset(r, 0, sizeof(*r));
    take_identity(r, p, seq);
    snprintf(r->name, sizeof(r->name), "%s", p->name);
    r->target_size = p->target_size;
    r->join_chunks_done = p->chunks_done;
    r->joined_at = r->last_seen = r->last_advance = fc_server_now(s);
    r->sent_mark = fc_sender_seq(s);
    r->status = FC_RXS_ACTIVE;
    fc_info("session %08x machine %s: joined as receiver %08x%s, %u of %u chunks already written; "
            "host name %s",
            s->session_id, who, r->id, s->state == FC_SS_WAITING ? "" : " (late)", p->chunks_done,
            s->img.m.n_chunks, r->hostname[0] ? r->hostname : "none given");
    fc_api_machine_changed(s, r);
    fc_session_maybe_start(s);
    return r;
}

void fc_rx_rejoined(struct fc_session *s, struct fc_rx *r, const struct sockaddr_in *from,
                    const struct fc_join *j)
{
    struct fc_grant g;
    char a[32];

    r->addr = *from;
    r->join_nonce = j->nonce;
    memcpy(r->box_pub, j->box_pub, FC_BOXPUB_LEN);
    fc_info("session %08x machine %s: joined again from %s as receiver %08x, %u chunks written",
            s->session_id, r->name, addr_str(from, a, sizeof(a)), r->id, j->chunks_done);
    fc_joins_grant(&g, r->secret, r->mac, r->hostname, r->lab);
    fc_joins_send_ack(s, from, j->nonce, r->id, FC_REASON_OK, &g, r->box_pub);
    sodium_memzero(&g, sizeof(g));
}

/* Loss as the receiver reports it, clamped to what we actually sent since
 * its last report: its counters come from a LAN anyone can send on, and one
 * forged far-future sequence number must not read as a million lost
 * packets (the rate would collapse and every receiver be dropped). */
static void update_loss(struct fc_session *s, struct fc_rx *r, const struct fc_progress *p)
{
    uint64_t dr = p->pkts_received - r->prev_recv, dl = p->pkts_lost - r->prev_lost;
    uint64_t dk = p->pkts_overflow - r->prev_overflow;
    uint32_t mark = fc_sender_seq(s);
    uint64_t sent = (uint32_t)(mark - r->sent_mark);

    if (p->pkts_received < r->prev_recv || p->pkts_lost < r->prev_lost ||
        p->pkts_overflow < r->prev_overflow) {
        dr = p->pkts_received; /* the receiver restarted its counters */
        dl = p->pkts_lost;
        dk = p->pkts_overflow;
    }
    r->prev_recv = p->pkts_received;
    r->prev_lost = p->pkts_lost;
    r->prev_overflow = p->pkts_overflow;
    r->sent_mark = mark;
    if (dr > sent)
        dr = sent;
    if (dl > sent - dr)
        dl = sent - dr;
    if (dr + dl < 64)
        return; /* too few packets for a rate */
    if (dk > dl)
        dk = dl;
    r->overflow_recent = (double)dk / (double)(dr + dl);
    r->loss_link = (double)(dl - dk) / (double)(dr + dl);
    r->loss_fresh = 1;
    /* The floor is the loss this link always has (random or burst loss,
     * not congestion): it follows drops at once and rises within a few
     * seconds, so loss that slowing down does not cure stops counting as
     * congestion and the rate recovers. */
    if (!r->loss_samples++ || r->loss_link < r->loss_floor)
        r->loss_floor = r->loss_link;
    else
        r->loss_floor += 0.3 * (r->loss_link - r->loss_floor);
}

void fc_rx_on_progress(struct fc_session *s, struct fc_rx *r, uint32_t seq,
                       const struct fc_progress *p)
{
    int changed = 0;

    if (r->status != FC_RXS_ACTIVE)
        return;
    if (r->have_progress && !fc_seq_after(seq, r->last_seq))
        return; /* older than the report already used */
    if (p->chunks_total != s->img.m.n_chunks) {
        fc_rx_drop(s, r, FC_REASON_WRONG_IMAGE, "reports another chunk count");
        return;
    }
    if (!r->have_progress || r->p.state != p->state)
        changed = 1;
    /* The MAC that names its boot file comes from the network (the kernel's
     * neighbour table, filled by our answers to it), never from its report. */
    if (!r->mac[0])
        fc_netio_mac_of(r->addr.sin_addr, r->mac);
    update_loss(s, r, p);
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

/* The grow step is reported beside the verdict, never instead of it: the
 * check value covers the image as written, before growing. */
static void note_grow(struct fc_session *s, struct fc_rx *r, const struct fc_done *d)
{
    int asked = s->cfg.grow || s->cfg.grow_part;

    r->grow_reported = !!(d->flags & FC_DONE_GROW);
    if (r->grow_reported) {
        r->grow_result = (d->flags & FC_DONE_GROW_MASK) >> FC_DONE_GROW_SHIFT;
        fc_log(r->grow_result == FC_GROW_DONE ? FC_LOG_INFO : FC_LOG_WARN,
               "session %08x machine %s: grow: %s", s->session_id, r->name,
               fc_grow_result_text(r->grow_result));
    } else if (asked && d->status == FC_REASON_OK) {
        fc_warn("session %08x machine %s: grow: not reported (a receiver without --grow support)",
                s->session_id, r->name);
    }
}

void fc_rx_on_done(struct fc_session *s, struct fc_rx *r, const struct fc_done *d)
{
    struct fc_done ack = *d;
    uint8_t buf[128];
    int n;

    ack.flags = FC_DONE_ACK;
    ack.identity_len = 0;
    n = fc_done_encode(buf, sizeof(buf), s->session_id, ++s->ctrl_seq, &ack);
    if (n > 0 && !fc_auth_seal(buf, (size_t)n, r->key_down))
        fc_netio_send_ctrl(s, &r->addr, buf, (size_t)n);
    if (r->status != FC_RXS_ACTIVE)
        return;
    r->done_at = fc_server_now(s);
    r->p.bytes_written = d->bytes_written;
    r->readback = !!(d->flags & FC_DONE_READBACK);
    r->identity = (d->flags & FC_DONE_IDENTITY)     ? FC_RXI_DONE
                  : (d->flags & FC_DONE_ID_SKIPPED) ? FC_RXI_SKIPPED
                                                    : FC_RXI_NONE;
    snprintf(r->identity_detail, sizeof(r->identity_detail), "%s", d->identity);
    note_grow(s, r, d);
    /* The operator asked for the disk to be read back: a receiver that did
     * not (an old or modified one) has not given the verdict asked for. */
    if (d->status == FC_REASON_OK && s->cfg.readback && !r->readback) {
        fc_rx_fail(s, r, FC_REASON_VERIFY,
                   "the session asks for a read-back and the receiver did not do one");
        return;
    }
    if (d->status == FC_REASON_OK && !memcmp(d->check, s->expected_check, FC_CHECK_LEN)) {
        r->status = FC_RXS_DONE;
        r->p.chunks_done = s->img.m.n_chunks;
        /* Which verdict: the disk read back after fsync (--readback), or
         * every chunk verified, written and fsynced (the default). */
        fc_info("session %08x machine %s: done, disk verified (%s; %.1f s after joining); "
                "identity: %s%s%s%s%s",
                s->session_id, r->name,
                r->readback ? "read back after fsync"
                            : "every chunk checked before writing, synced; no read-back",
                r->done_at - r->joined_at, fc_rx_identity_text(r->identity),
                r->identity == FC_RXI_DONE ? r->hostname : "", r->identity_detail[0] ? " (" : "",
                r->identity_detail, r->identity_detail[0] ? ")" : "");
        fc_pxecfg_machine_done(s, r);
    } else {
        r->status = FC_RXS_FAILED;
        r->reason = d->status ? d->status : FC_REASON_VERIFY;
        snprintf(r->error, sizeof(r->error), "%s",
                 d->status     ? "receiver reported a failure"
                 : r->readback ? "whole-disk check value differs (read back from the disk)"
                               : "whole-disk check value differs");
        fc_error("session %08x machine %s: FAILED: %s", s->session_id, r->name, r->error);
    }
    fc_api_machine_changed(s, r);
    fc_session_check_end(s);
}

const char *fc_rx_identity_text(uint8_t identity)
{
    switch (identity) {
    case FC_RXI_DONE:
        return "host name set to ";
    case FC_RXI_SKIPPED:
        return "skipped (no Linux root or Windows system volume found)";
    case FC_RXI_FAILED:
        return "failed";
    default:
        return "none (no host name given)";
    }
}

void fc_rx_on_abort(struct fc_session *s, struct fc_rx *r, const struct fc_abort *a)
{
    if (r->status != FC_RXS_ACTIVE)
        return;
    r->status = FC_RXS_FAILED;
    r->reason = a->reason;
    if (a->reason == FC_REASON_IDENTITY)
        r->identity = FC_RXI_FAILED;
    snprintf(r->error, sizeof(r->error), "%s", a->text);
    fc_error("session %08x machine %s: FAILED: %s", s->session_id, r->name, a->text);
    fc_api_machine_changed(s, r);
    fc_session_check_end(s);
}

static void end_rx(struct fc_session *s, struct fc_rx *r, enum fc_rx_status st, uint8_t reason,
                   const char *why)
{
    if (r->status != FC_RXS_ACTIVE)
        return;
    r->status = st;
    r->reason = reason;
    snprintf(r->error, sizeof(r->error), "%s", why);
    fc_warn("session %08x machine %s: %s: %s (%u of %u chunks written)", s->session_id, r->name,
            st == FC_RXS_DROPPED ? "DROPPED" : "FAILED", why, r->p.chunks_done, s->img.m.n_chunks);
    fc_rx_send_abort(s, r, reason, why);
    fc_api_machine_changed(s, r);
    fc_session_check_end(s);
}

void fc_rx_drop(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *why)
{
    end_rx(s, r, FC_RXS_DROPPED, reason, why);
}

void fc_rx_fail(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *why)
{
    end_rx(s, r, FC_RXS_FAILED, reason, why);
}

/* Whether r, by its last report, lacks chunk c. A receiver that has not
 * reported yet needs everything if it joined fresh; a re-joining one is
 * waited for (its report comes within a second). */
#define REPAIR_BUDGET_FLOOR 2048 /* packets: a small image still gets real repairs */

static double repair_budget(const struct fc_session *s)
{
    return s->cfg.repair_budget * (double)fc_repair_src_pkts(s) + REPAIR_BUDGET_FLOOR;
}

int fc_rx_charge_repair(struct fc_session *s, struct fc_rx *rx, unsigned pkts)
{
    double budget = repair_budget(s);

    rx->repairs_requested += pkts;
    if ((double)(rx->repair_granted + pkts) > budget) {
        if ((double)rx->repair_granted <= budget) /* the first time only */
            fc_warn("session %08x machine %s: past its repair budget (%.0f packets); its NAKs "
                    "are ignored, catch-up passes still serve it",
                    s->session_id, rx->name, budget);
        rx->repair_granted = (uint64_t)budget + 1;
        return FC_EREFUSED;
    }
    rx->repair_granted += pkts;
    return 0;
}

double fc_rx_recent_loss(const struct fc_session *s, const struct fc_rx *r)
{
    if (r->status != FC_RXS_ACTIVE || !r->loss_samples)
        return -1;
    if ((double)r->repair_granted > repair_budget(s))
        return -1;
    /* It has every chunk (finishing its disk, maybe reading it back for
     * minutes): its last figure no longer says anything of the link. */
    if (r->have_progress && r->p.chunks_done >= s->img.m.n_chunks)
        return -1;
    /* The link's loss only: what its own socket dropped is cured by
     * sending slower (ratectl.c), and more parity would only add to it. */
    return r->loss_link;
}

void fc_rx_loss_used(struct fc_session *s)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++)
        s->rx[i].loss_fresh = 0;
}

/* Reports the server takes per second from the whole lab, at most (unless
 * --report-ms asks for more): 25 of ~90 bytes, against DATA at tens of
 * megabytes per second. A longer interval costs nothing the receivers
 * need: repairs go by NAK, and a report is sent at once on every change of
 * state (joined, all chunks in, done). */
#define REPORTS_PER_SEC 25
#define REPORT_MS_MAX 5000 /* and a third of --drop-silent: never dropped as silent */

uint16_t fc_rx_report_ms(const struct fc_session *s)
{
    uint32_t expected = fc_rx_count(s, FC_RXS_ACTIVE) + 1; /* with the one joining */
    double ms, cap = s->cfg.drop_silent * 1000 / 3;

    if (expected < s->cfg.min_receivers)
        expected = s->cfg.min_receivers;
    ms = expected * 1000.0 / REPORTS_PER_SEC;
    if (ms > REPORT_MS_MAX)
        ms = REPORT_MS_MAX;
    if (ms > cap)
        ms = cap;
    return ms > s->cfg.report_ms ? (uint16_t)ms : s->cfg.report_ms;
}

int fc_rx_lacks(const struct fc_rx *r, uint32_t c)
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
        if (fc_rx_lacks(&s->rx[i], c))
            return 1;
    return 0;
}
