/* PROGRESS: a receiver's report to the server, every report interval (the
 * JOIN_ACK's): its state, counters (chunks, bytes, rate, packets received,
 * lost, rejected) and a window of per-chunk completion starting at its
 * lowest missing chunk, without its trailing zero bytes (most of it, on
 * an image of a few hundred chunks, or once the receiver is in order). */
#include "proto/packet.h"

#include <string.h>

#include "common/error.h"

static int bit(const uint8_t *bits, uint32_t i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

/* The window must agree with the counts: chunks below win_base are done,
 * win_base itself is not (it is the lowest missing one), no bit lies past the
 * last chunk, and the done count covers at least what the window shows. */
static int window_ok(const struct fc_progress *p)
{
    uint64_t shown;
    uint32_t i;

    if (p->win_base > p->chunks_total)
        return 0;
    if (p->win_base < p->chunks_total && bit(p->window, 0))
        return 0;
    for (i = 0; i < FC_PROGRESS_WINDOW; i++)
        if ((uint64_t)p->win_base + i >= p->chunks_total && bit(p->window, i))
            return 0;
    shown = (uint64_t)p->win_base + fc__popcount(p->window, sizeof(p->window));
    return p->chunks_done >= shown;
}

/* Bytes of the window up to its last nonzero one: what goes on the wire. */
static size_t window_len(const struct fc_progress *p)
{
    size_t n = sizeof(p->window);

    while (n > 0 && p->window[n - 1] == 0)
        n--;
    return n;
}

static int progress_ok(const struct fc_progress *p)
{
    return p->receiver_id != 0 && p->state >= 1 && p->state <= FC_RX_STATE_MAX &&
           p->chunks_done <= p->chunks_total && p->pkts_overflow <= p->pkts_lost && window_ok(p);
}

int fc_progress_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_progress *p)
{
    struct fc_wr w;
    int rc;

    if (!progress_ok(p))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_PROGRESS, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, p->receiver_id);
    fc_wr_u8(&w, p->state);
    fc_wr_u32(&w, p->chunks_total);
    fc_wr_u32(&w, p->chunks_done);
    fc_wr_u32(&w, p->win_base);
    fc_wr_u32(&w, p->seq_seen);
    fc_wr_u32(&w, p->rejects);
    fc_wr_u64(&w, p->bytes_written);
    fc_wr_u64(&w, p->rate);
    fc_wr_u64(&w, p->pkts_received);
    fc_wr_u64(&w, p->pkts_lost);
    fc_wr_u64(&w, p->pkts_overflow);
    fc_wr_u8(&w, (uint8_t)window_len(p));
    fc_wr_copy(&w, p->window, window_len(p));
    return fc__pkt_end_tagged(&w);
}

int fc_progress_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_progress *p)
{
    struct fc_rd r;
    size_t wlen;

    if (fc__pkt_open(&r, buf, len, FC_PKT_PROGRESS, h) < 0)
        return FC_EPROTO;
    p->receiver_id = fc_rd_u32(&r);
    p->state = fc_rd_u8(&r);
    p->chunks_total = fc_rd_u32(&r);
    p->chunks_done = fc_rd_u32(&r);
    p->win_base = fc_rd_u32(&r);
    p->seq_seen = fc_rd_u32(&r);
    p->rejects = fc_rd_u32(&r);
    p->bytes_written = fc_rd_u64(&r);
    p->rate = fc_rd_u64(&r);
    p->pkts_received = fc_rd_u64(&r);
    p->pkts_lost = fc_rd_u64(&r);
    p->pkts_overflow = fc_rd_u64(&r);
    /* At most the whole window, and never ending in a zero byte: one
     * encoding per report. */
    wlen = fc_rd_u8(&r);
    if (wlen > sizeof(p->window))
        return FC_EPROTO;
    memset(p->window, 0, sizeof(p->window));
    fc_rd_copy(&r, p->window, wlen);
    if (fc__pkt_close_tagged(&r) < 0 || !progress_ok(p) || window_len(p) != wlen)
        return FC_EPROTO;
    return 0;
}
