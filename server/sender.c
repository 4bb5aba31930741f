/* The paced sender. A 1 ms libuv timer refills a token bucket from the
 * monotonic clock (nanoseconds, so the rate is exact however late the timer
 * fires) and spends the tokens on packets: repairs first, then the pass.
 * Packets are built straight into a batch and leave with one sendmmsg. The
 * first pass sends every chunk some receiver still needs, in order, each
 * FEC block followed by proactive parity sized from the worst active
 * receiver's recent loss; after it, catch-up passes resend chunks a
 * receiver's progress window still lacks (late joiners, long link cuts)
 * once they have not been sent for a while.
 * The sender never waits on the disk: chunks are read ahead by the cache's
 * thread-pool reads, and a chunk not read yet makes this tick send repairs
 * or nothing, never block. */
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
#define READ_AHEAD 6 /* chunks of the pass read before the cursor gets there */

/* Proactive parity. The count per block covers the mean loss of the block's
 * packets plus PARITY_Z standard deviations of it (binomial), so at a steady
 * loss rate ~98 % of blocks decode from the pass alone and the rest need one
 * small NAK round. The level follows the worst active receiver's reports
 * with weight PARITY_ALPHA per second, so one bad second moves it by a
 * third of the burst only; it never exceeds PARITY_CAP of k (nor the repair
 * budget, --repair-budget): a receiver lying about its loss costs at most
 * that much on the wire. Below PARITY_MIN_LOSS a NAK for the rare loss is
 * cheaper than parity on every block. */
#define PARITY_Z 2.0
#define PARITY_ALPHA 0.3
#define PARITY_CAP 0.25
#define PARITY_MIN_LOSS 0.002

/* Up to 8 ms of tokens: a timer tick that comes late (a busy loop, a
 * descheduled process) is made up for instead of lost, while a burst stays
 * far below what a receiver's socket buffer holds. */
double fc_pace_burst(double rate)
{
    double burst = rate * 0.008;

    return burst < 8 * FC_PKT_MAX ? 8 * FC_PKT_MAX : burst;
}

double fc_pace_refill(double tokens, double rate, uint64_t elapsed_ns)
{
    double burst = fc_pace_burst(rate);

    tokens += (double)elapsed_ns * rate / 1e9;
    return tokens > burst ? burst : tokens;
}

unsigned fc_parity_count(double loss, unsigned k, double floor_frac, double cap)
{
    unsigned max = fc_fec_max_parity(k), lo, hi, p = 0;

    if (cap < floor_frac)
        cap = floor_frac;
    if (loss > cap)
        loss = cap;
    if (loss > 0.99)
        loss = 0.99; /* k / (1 - loss) stays finite whatever --fec says */
    if (loss >= PARITY_MIN_LOSS) {
        double n = k / (1 - loss); /* sent so that k arrive on average */
        p = (unsigned)ceil(n * loss + PARITY_Z * sqrt(n * loss * (1 - loss)));
    }
    lo = (unsigned)ceil(k * floor_frac - 1e-9);
    /* Rounded down, so a tiny block never gets more than cap of it; the
     * operator's floor (--fec) still wins. */
    hi = (unsigned)floor(k * cap + 1e-9);
    if (hi < lo)
        hi = lo;
    if (p < lo)
        p = lo;
    if (p > hi)
        p = hi;
    return p > max ? max : p;
}

void fc_parity_observe(struct fc_parity_ctl *pc, double sample)
{
    if (sample < 0)
        return; /* nobody has a figure: keep what we know */
    if (sample > pc->cap)
        sample = pc->cap;
    if (!pc->primed) {
        /* The first figure is taken whole: a short first pass (a fast
         * link) is over before a smoothed level would have risen. */
        pc->level = sample;
        pc->primed = 1;
        return;
    }
    pc->level += PARITY_ALPHA * (sample - pc->level);
}

static unsigned proactive(const struct fc_session *s, unsigned k)
{
    const struct fc_parity_ctl *pc = &s->snd.parity;

    return fc_parity_count(pc->level, k, pc->floor, pc->cap);
}

static void send_timer_cb(uv_timer_t *t);

static void init_batch(struct fc_sender *snd)
{
    unsigned i;

    for (i = 0; i < FC_SEND_BATCH; i++) {
        struct fc_batch_pkt *p = &snd->pkts[i];

        memset(&snd->msgs[i], 0, sizeof(snd->msgs[i]));
        snd->msgs[i].msg_hdr.msg_name = &snd->dst;
        snd->msgs[i].msg_hdr.msg_namelen = sizeof(snd->dst);
        snd->msgs[i].msg_hdr.msg_iov = p->iov;
        snd->msgs[i].msg_hdr.msg_iovlen = 2;
        p->iov[0].iov_base = p->hdr;
        p->pin = NULL;
        snd->order[i] = (uint8_t)i;
    }
}

void fc_sender_preinit(struct fc_session *s)
{
    s->snd.fd = -1;
}

int fc_sender_init(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    double cap = PARITY_CAP;

    snd->chunk_last_sent = calloc(s->img.m.n_chunks ? s->img.m.n_chunks : 1, sizeof(double));
    if (!snd->chunk_last_sent)
        return FC_ENOMEM;
    init_batch(snd);
    snd->rate_max = s->cfg.rate_bps / 8;
    snd->rate = snd->rate_max;
    snd->last_ns = uv_hrtime();
    /* The operator's --fec is a floor; the repair budget bounds the cap. */
    if (s->cfg.repair_budget > 0 && s->cfg.repair_budget < cap)
        cap = s->cfg.repair_budget;
    snd->parity.floor = s->cfg.fec_pct / 100.0;
    snd->parity.cap = cap > snd->parity.floor ? cap : snd->parity.floor;
    return fc_chunkcache_async(&s->cache, s->loop);
}

static void release(struct fc_session *s, unsigned from, unsigned to);

void fc_sender_free(struct fc_session *s)
{
    release(s, 0, s->snd.n_batch);
    s->snd.n_batch = 0;
    free(s->snd.chunk_last_sent);
    s->snd.chunk_last_sent = NULL;
}

void fc_sender_attach(struct fc_session *s, int fd, const struct sockaddr_in *dst)
{
    s->snd.fd = fd;
    s->snd.dst = *dst;
}

int fc_sender_take_fd(struct fc_session *s)
{
    int fd = s->snd.fd;

    s->snd.fd = -1;
    return fd;
}

void fc_sender_set_rate(struct fc_session *s, double bytes_per_s)
{
    s->snd.rate = bytes_per_s;
}

double fc_sender_rate(const struct fc_session *s)
{
    return s->snd.rate;
}

double fc_sender_rate_max(const struct fc_session *s)
{
    return s->snd.rate_max;
}

uint32_t fc_sender_seq(const struct fc_session *s)
{
    return s->snd.seq;
}

void fc_sender_observe_loss(struct fc_session *s, double worst)
{
    struct fc_parity_ctl *pc = &s->snd.parity;
    unsigned before = proactive(s, s->cfg.k_max), after;

    fc_parity_observe(pc, worst);
    after = proactive(s, s->cfg.k_max);
    if (after != before)
        fc_debug("session %08x: worst loss %.2f%%, smoothed %.2f%%: %u parity per block of %u",
                 s->session_id, worst * 100, pc->level * 100, after, s->cfg.k_max);
}

double fc_sender_parity_level(const struct fc_session *s)
{
    return s->cfg.k_max ? 100.0 * proactive(s, s->cfg.k_max) / s->cfg.k_max : 0;
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

/* The packets msgs[from..to) are sent (or lost): their cache slots may go. */
static void release(struct fc_session *s, unsigned from, unsigned to)
{
    struct fc_sender *snd = &s->snd;

    for (; from < to; from++) {
        struct fc_batch_pkt *p = &snd->pkts[snd->order[from]];
        if (p->pin)
            fc_chunkcache_unpin(&s->cache, p->pin);
        p->pin = NULL;
    }
}

/* Keeps what a full socket did not take at the front of the batch by
 * rotating the messages, not the bytes: the sent packets go to the back,
 * free for the next ones. With many receivers the socket is full at most
 * ticks (the kernel copies each packet to every one of them in our
 * sendmmsg), and the waiting packets were copied forward at every one. */
static void keep_rest(struct fc_sender *snd, unsigned done)
{
    struct mmsghdr sent[FC_SEND_BATCH];
    uint8_t sent_order[FC_SEND_BATCH];
    unsigned rest = snd->n_batch - done;

    memcpy(sent, snd->msgs, done * sizeof(*sent));
    memmove(snd->msgs, snd->msgs + done, rest * sizeof(*sent));
    memcpy(snd->msgs + rest, sent, done * sizeof(*sent));
    memcpy(sent_order, snd->order, done);
    memmove(snd->order, snd->order + done, rest);
    memcpy(snd->order + rest, sent_order, done);
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
            n = (int)(snd->n_batch - done); /* a send error is a loss; repairs cover it */
        }
        release(s, done, done + (unsigned)n);
        done += (unsigned)n;
    }
    if (done && done < snd->n_batch)
        keep_rest(snd, done);
    snd->n_batch -= done;
}

/* Builds DATA (chunk, block, wire index) as the batch's next packet: its
 * header in the packet's own bytes; a source packet's payload where it is,
 * in the cached chunk, which stays pinned until the packet is sent (no copy:
 * it was the top user-space entry of fleetcastd's profile); parity encoded
 * into the packet's parity buffer. */
static int build(struct fc_session *s, const struct fc_cached_chunk *e, uint32_t block,
                 unsigned index)
{
    struct fc_sender *snd = &s->snd;
    struct fc_batch_pkt *p = &snd->pkts[snd->order[snd->n_batch]]; /* rotated: see keep_rest */
    unsigned k = fc_blocks_k(&e->bl, block), i;
    const uint8_t *first = e->buf + (size_t)fc_blocks_first(&e->bl, block) * e->bl.sym_len;
    struct fc_data d = {e->chunk, (uint16_t)block, (uint8_t)index, (uint8_t)k, e->bl.sym_len, NULL};
    int n;

    if (index < k) {
        d.payload = first + (size_t)index * e->bl.sym_len;
    } else {
        const uint8_t *src[FC_FEC_MAX_K];
        uint8_t *out = p->parity;
        for (i = 0; i < k; i++)
            src[i] = first + (size_t)i * e->bl.sym_len;
        if (fc_fec_encode(s->fec, k, e->bl.sym_len, src, index - k, 1, &out))
            return FC_EINVAL;
        d.payload = out;
    }
    n = fc_data_encode_head(p->hdr, sizeof(p->hdr), s->session_id, ++snd->seq, &d);
    if (n < 0)
        return n;
    p->iov[0].iov_len = FC_DATA_HDR_LEN;
    p->iov[1].iov_base = (void *)(uintptr_t)d.payload; /* sendmmsg only reads it */
    p->iov[1].iov_len = d.len;
    if (index < k) {
        fc_chunkcache_pin(&s->cache, e);
        p->pin = e;
    }
    snd->n_batch++;
    s->st.udp_bytes += (uint64_t)n;
    s->st.wire_bytes += (uint64_t)n + FC_IP_UDP_OVERHEAD;
    snd->tokens -= n + FC_IP_UDP_OVERHEAD;
    return 0;
}

/* 1 sent, 0 nothing to send now (none queued, or its chunk not read yet:
 * the pass goes on meanwhile), negative on error. */
static int send_repair(struct fc_session *s)
{
    const struct fc_cached_chunk *e;
    uint32_t chunk, block;
    uint8_t index;
    int rc = 0;

    if (!fc_repair_peek(s, &chunk))
        return 0;
    e = fc_chunkcache_get(&s->cache, chunk, &rc);
    if (!e)
        return rc;
    fc_repair_next(s, &chunk, &block, &index);
    if (build(s, e, block, index))
        return FC_EINVAL;
    fc_repair_sent(s, chunk, block, s->snd.seq);
    s->snd.chunk_last_sent[chunk] = fc_server_now(s);
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
        fc_info("session %08x: pass sent; it found the next chunk not read yet %llu times; "
                "proactive parity %.1f%% of a full block",
                s->session_id, (unsigned long long)snd->disk_waits, fc_sender_parity_level(s));
        fc_session_pass_done(s);
    }
    if (snd->pass_active || snd->catchup)
        return snd->chunk < n;
    return s->state == FC_SS_REPAIR && find_catchup(s);
}

/* The pass's next chunks that someone needs start reading now, so that the
 * cursor finds them in memory. */
static void read_ahead(struct fc_session *s)
{
    uint32_t n = s->img.m.n_chunks, c = s->snd.chunk + 1, got = 0;

    for (; c < n && got < READ_AHEAD; c++) {
        if (!fc_rx_chunk_needed(s, c))
            continue;
        fc_chunkcache_prefetch(&s->cache, c);
        got++;
    }
}

/* The block under the cursor is done (sources and its parity): the repair
 * side learns which parity went out, the cursor moves on. */
static void end_block(struct fc_session *s, const struct fc_cached_chunk *e)
{
    struct fc_sender *snd = &s->snd;

    if (snd->block_parity)
        fc_repair_proactive_sent(s, snd->chunk, snd->block, snd->block_parity);
    snd->index = 0;
    if (++snd->block >= e->bl.blocks)
        end_chunk(s);
}

static int send_pass(struct fc_session *s)
{
    struct fc_sender *snd = &s->snd;
    const struct fc_cached_chunk *e;
    unsigned k;
    int rc = 0;

    if (!position(s))
        return 0;
    /* Before the get: the read-ahead may take the least recently used
     * slot, which must not be the one this packet is built from. */
    if (snd->block == 0 && snd->index == 0 && snd->pass_active)
        read_ahead(s);
    e = fc_chunkcache_get(&s->cache, snd->chunk, &rc);
    if (!e) {
        snd->disk_waits += !rc;
        return rc; /* not read yet: 0, this tick sends repairs or nothing */
    }
    k = fc_blocks_k(&e->bl, snd->block);
    if (snd->index == 0) {
        /* Sized once per block: the level may move while it is sent. */
        snd->block_parity = proactive(s, k);
        if (snd->block == 0 && snd->pass_active) {
            /* No figure yet: look for a first report at every chunk, not
             * only at the 1 s tick; a fast first pass is short. */
            if (!snd->parity.primed)
                fc_sender_observe_loss(s, fc_ratectl_worst_loss(s));
        }
    }
    if (build(s, e, snd->block, snd->index))
        return FC_EINVAL;
    if (snd->index >= k)
        s->st.fec_pkts++;
    else if (snd->catchup)
        s->st.catchup_pkts++;
    else
        s->st.data_pkts++;
    if (++snd->index >= k + snd->block_parity)
        end_block(s, e);
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

    snd->tokens = fc_pace_refill(snd->tokens, snd->rate, now - snd->last_ns);
    snd->last_ns = now;
    if (s->state != FC_SS_SENDING && s->state != FC_SS_REPAIR)
        return;
    /* A packet can end the session (the pass's last chunk, nobody left):
     * nothing more is built or sent for it then. */
    while (snd->tokens > 0 && !s->closed &&
           (s->state == FC_SS_SENDING || s->state == FC_SS_REPAIR)) {
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
    if (!s->closed)
        flush(s);
}
