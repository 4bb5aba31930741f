/* The paced sender. A 1 ms libuv timer refills a token bucket from the
 * monotonic clock (nanoseconds, so the rate is exact however late the timer
 * fires) and spends the tokens on packets: repairs first, then the pass.
 * Packets are built straight into a batch and leave with one sendmmsg. The
 * first pass sends every chunk some receiver still needs, in order; after
 * it, catch-up passes resend chunks a receiver's progress window still
 * lacks (late joiners, long link cuts) once they have not been sent for a
 * while. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

#define TICK_MS 1
#define CATCHUP_SCAN 512
#define REPAIR_RUN 3

static unsigned proactive(const struct fc_session *s, unsigned k)
{
    unsigned p = (unsigned)ceil(k * s->cfg.fec_pct / 100.0);
    unsigned max = fc_fec_max_parity(k);
    return p > max ? max : p;
}

static void send_timer_cb(uv_timer_t *t);

int fc_sender_init(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    unsigned i;

    snd->chunk_last_sent = calloc(s->img.m.n_chunks ? s->img.m.n_chunks : 1, sizeof(double));
    if (!snd->chunk_last_sent)
        return FC_ENOMEM;
    for (i = 0; i < FC_SEND_BATCH; i++) {
        memset(&snd->msgs[i], 0, sizeof(snd->msgs[i]));
        snd->msgs[i].msg_hdr.msg_name = &snd->dst;
        snd->msgs[i].msg_hdr.msg_namelen = sizeof(snd->dst);
        snd->msgs[i].msg_hdr.msg_iov = &snd->iov[i];
        snd->msgs[i].msg_hdr.msg_iovlen = 1;
        snd->iov[i].iov_base = snd->bufs[i];
    }
    snd->rate_max = s->cfg.rate_bps / 8;
    snd->rate = snd->rate_max;
    snd->last_ns = uv_hrtime();
    return 0;
}

void fc_sender_free(struct fc_session *s)
{
    free(s->snd.chunk_last_sent);
    s->snd.chunk_last_sent = NULL;
}

void fc_sender_set_rate(struct fc_session *s, double bytes_per_s)
{
    s->snd.rate = bytes_per_s;
}

uint32_t fc_sender_seq(const struct fc_session *s)
{
    return s->snd.seq;
}

int fc_sender_in_flight(const struct fc_session *s, uint32_t chunk, uint32_t block)
{
    const struct fc_sender *snd = &s->snd;

    if (snd->catchup)
        return chunk == snd->chunk && block >= snd->block;
    if (!snd->pass_active)
        return 0;
    return chunk > snd->chunk || (chunk == snd->chunk && block >= snd->block);
}

void fc_sender_begin_pass(struct fc_session *s)
{
    s->snd.chunk = s->snd.block = s->snd.index = 0;
    s->snd.pass_active = 1;
    s->snd.catchup = 0;
    s->snd.last_ns = uv_hrtime();
    s->snd.tokens = 0;
    uv_timer_start(&s->send_timer, send_timer_cb, TICK_MS, TICK_MS);
}

static void flush(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    unsigned done = 0;

    while (done < snd->n_batch) {
        int n = sendmmsg(snd->fd, &snd->msgs[done], snd->n_batch - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
            break; /* the socket is full: keep the rest for the next tick */
        if (n < 0) {
            s->st.send_errors++;
            done = snd->n_batch; /* a send error is a loss; repairs cover it */
            break;
        }
        done += (unsigned)n;
    }
    if (done && done < snd->n_batch) {
        unsigned rest = snd->n_batch - done, i;
        for (i = 0; i < rest; i++) {
            memcpy(snd->bufs[i], snd->bufs[done + i], snd->iov[done + i].iov_len);
            snd->iov[i].iov_len = snd->iov[done + i].iov_len;
        }
    }
    snd->n_batch -= done;
}

/* Builds DATA (chunk, block, wire index) into the next batch slot. Source
 * packets are copied from the cached chunk; parity is computed in place. */
static int build(struct fc_session *s, const struct fc_cached_chunk *e, uint32_t block,
                 unsigned index)
{
    struct fc_sender *snd = &s->snd;
    uint8_t *buf = snd->bufs[snd->n_batch];
    unsigned k = fc_blocks_k(&e->bl, block), i;
    const uint8_t *first = e->buf + (size_t)fc_blocks_first(&e->bl, block) * e->bl.sym_len;
    struct fc_data d = {e->chunk, (uint16_t)block, (uint8_t)index, (uint8_t)k, e->bl.sym_len, NULL};
    int n;

    if (index < k) {
        d.payload = first + (size_t)index * e->bl.sym_len;
    } else {
        const uint8_t *src[FC_FEC_MAX_K];
        uint8_t *out = buf + FC_DATA_HDR_LEN;
        for (i = 0; i < k; i++)
            src[i] = first + (size_t)i * e->bl.sym_len;
        if (fc_fec_encode(s->fec, k, e->bl.sym_len, src, index - k, 1, &out))
            return FC_EINVAL;
        d.payload = out;
    }
    n = fc_data_encode(buf, FC_PKT_MAX, s->session_id, ++snd->seq, &d);
    if (n < 0)
        return n;
    snd->iov[snd->n_batch].iov_len = (size_t)n;
    snd->n_batch++;
    s->st.udp_bytes += (uint64_t)n;
    s->st.wire_bytes += (uint64_t)n + FC_IP_UDP_OVERHEAD;
    snd->tokens -= n + FC_IP_UDP_OVERHEAD;
    return 0;
}

static int send_repair(struct fc_session *s)
{
    const struct fc_cached_chunk *e;
    uint32_t chunk, block;
    uint8_t index;

    if (!fc_repair_next(s, &chunk, &block, &index))
        return 0;
    e = fc_chunkcache_get(&s->cache, chunk);
    if (!e || build(s, e, block, index))
        return -1;
    fc_repair_sent(s, chunk, block, s->snd.seq);
    s->st.repair_pkts++;
    return 1;
}

/* The next chunk of a catch-up pass: needed by someone, not sent lately. */
static int find_catchup(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    uint32_t n = s->img.m.n_chunks, i;
    double now = fc_server_now(s);

    for (i = 0; i < CATCHUP_SCAN && i < n; i++) {
        uint32_t c = (snd->catchup_scan + i) % n;
        if (now - snd->chunk_last_sent[c] >= s->cfg.catchup_holdoff && fc_rx_chunk_needed(s, c)) {
            snd->chunk = c;
            snd->block = snd->index = 0;
            snd->catchup = 1;
            snd->catchup_scan = (c + 1) % n;
            return 1;
        }
    }
    snd->catchup_scan = (snd->catchup_scan + i) % n;
    return 0;
}

static void end_chunk(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;

    snd->chunk_last_sent[snd->chunk] = fc_server_now(s);
    snd->block = snd->index = 0;
    if (snd->catchup) {
        snd->catchup = 0;
        snd->chunk = s->img.m.n_chunks;
    } else {
        snd->chunk++;
    }
}

/* Moves the cursor to a chunk worth sending; 0 when there is none now. */
static int position(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    uint32_t n = s->img.m.n_chunks;

    while (snd->pass_active && snd->chunk < n && snd->block == 0 && snd->index == 0 &&
           !fc_rx_chunk_needed(s, snd->chunk))
        snd->chunk++;
    if (snd->pass_active && snd->chunk >= n) {
        snd->pass_active = 0;
        fc_session_pass_done(s);
    }
    if (snd->pass_active || snd->catchup)
        return snd->chunk < n;
    return s->state == FC_SS_REPAIR && find_catchup(s);
}

static int send_pass(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    const struct fc_cached_chunk *e;
    unsigned k;

    if (!position(s))
        return 0;
    e = fc_chunkcache_get(&s->cache, snd->chunk);
    if (!e)
        return -1;
    k = fc_blocks_k(&e->bl, snd->block);
    if (build(s, e, snd->block, snd->index))
        return -1;
    if (snd->index >= k)
        s->st.fec_pkts++;
    else if (snd->catchup)
        s->st.catchup_pkts++;
    else
        s->st.data_pkts++;
    if (++snd->index >= k + proactive(s, k)) {
        struct fc_blockstate *b = &s->rep.blocks[fc_repair_gblock(s, snd->chunk, snd->block)];
        if (b->next_parity < proactive(s, k))
            b->next_parity = (uint8_t)proactive(s, k);
        snd->index = 0;
        if (++snd->block >= e->bl.blocks)
            end_chunk(s);
    }
    return 1;
}

/* Repairs go first, but never more than REPAIR_RUN in a row while the pass
 * has data to send: a storm of NAKs must not stop the pass. */
static int next_packet(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    int rc;

    if (snd->repair_run >= REPAIR_RUN) {
        rc = send_pass(s);
        if (rc) {
            snd->repair_run = 0;
            return rc;
        }
    }
    rc = send_repair(s);
    if (rc > 0) {
        snd->repair_run++;
        return rc;
    }
    if (rc == 0) {
        rc = send_pass(s);
        if (rc > 0)
            snd->repair_run = 0;
    }
    return rc;
}

static void send_timer_cb(uv_timer_t *t)
{
    struct fc_session *s = t->data;
    struct fc_sender *snd = &s->snd;
    uint64_t now = uv_hrtime();
    /* Up to 8 ms of tokens: a timer tick that comes late (a busy loop, a
     * descheduled process) is made up for instead of lost, while a burst
     * stays far below what a receiver's socket buffer holds. */
    double burst = snd->rate * 0.008;

    if (burst < 8 * FC_PKT_MAX)
        burst = 8 * FC_PKT_MAX;
    snd->tokens += (double)(now - snd->last_ns) * snd->rate / 1e9;
    if (snd->tokens > burst)
        snd->tokens = burst;
    snd->last_ns = now;
    if (s->state != FC_SS_SENDING && s->state != FC_SS_REPAIR)
        return;
    while (snd->tokens > 0) {
        int rc;
        if (snd->n_batch == FC_SEND_BATCH) {
            flush(s);
            if (snd->n_batch == FC_SEND_BATCH)
                break;
        }
        rc = next_packet(s);
        if (rc < 0) {
            fc_session_abort(s, FC_REASON_INTERNAL, "cannot read the image");
            return;
        }
        if (rc == 0)
            break;
    }
    flush(s);
}
