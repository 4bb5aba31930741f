/* Repair by erasure coding. NAKs arriving during a round are merged per FEC
 * block into the largest `needed` (the neediest receiver: any parity packet
 * fills any hole of any receiver, so the maximum, not the sum, is owed).
 * At the end of the round each NAKed block is queued once; the sender sends
 * that many packets and records the sequence of the last one, so a NAK made
 * before the receiver could see them is recognised as stale.
 * Which packets: fresh parity while the block has some (255 - k in all);
 * then the packets the neediest NAK's bitmap says it lacks; without a
 * bitmap, every index in turn, sources first.
 * The per-block state is this file's: the sender tells it what the pass
 * sent (fc_repair_proactive_sent) and what went out (fc_repair_sent), and
 * asks for the next repair (fc_repair_peek, fc_repair_next). */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

/* A NAK may be stale (made before the receiver could see the last repair)
 * only this long after that repair: a receiver that lost the very last
 * packet sent sees nothing newer, and must still be heard. */
#define STALE_MS 100

/* RFC 1982 serial comparison: a before b. Not fc_seq_after(b, a): at a
 * distance of exactly 2^31 both say "before", which keeps a forged
 * seq_seen half the space away from ever making a NAK stale. */
static int seq_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static uint32_t now_ms(const struct fc_session *s)
{
    return (uint32_t)(fc_server_now(s) * 1000);
}

/* Made before the block's last repair could be seen. A seq_seen past what
 * we have sent is a forged packet's number, not a receiver's view: then
 * the NAK counts. */
static int stale(const struct fc_session *s, const struct fc_blockstate *b, uint32_t seq_seen)
{
    if (!b->last_repair_seq || now_ms(s) - b->last_repair_ms > STALE_MS)
        return 0;
    if (seq_before(fc_sender_seq(s), seq_seen))
        return 0;
    return seq_before(seq_seen, b->last_repair_seq);
}

int fc_repair_init(struct fc_session *s)
{
    const struct fc_manifest *m = &s->img.m;
    struct fc_repair *r = &s->rep;
    uint32_t i, total = 0;

    memset(r, 0, sizeof(*r));
    r->block_base = calloc((size_t)m->n_chunks + 1, sizeof(*r->block_base));
    if (!r->block_base)
        return FC_ENOMEM;
    for (i = 0; i < m->n_chunks; i++) {
        struct fc_blocks bl;
        int rc = fc_blocks_init(&bl, m->chunks[i].comp_size, s->cfg.payload, s->cfg.k_max);
        if (rc)
            return rc;
        r->block_base[i] = total;
        total += bl.blocks;
        r->src_pkts += bl.packets;
    }
    r->block_base[m->n_chunks] = total;
    r->blocks = calloc(total ? total : 1, sizeof(*r->blocks));
    return r->blocks ? 0 : FC_ENOMEM;
}

void fc_repair_free(struct fc_session *s)
{
    free(s->rep.block_base);
    free(s->rep.blocks);
    free(s->rep.round);
    free(s->rep.queue);
    memset(&s->rep, 0, sizeof(s->rep));
}

uint64_t fc_repair_src_pkts(const struct fc_session *s)
{
    return s->rep.src_pkts;
}

uint32_t fc_repair_gblock(const struct fc_session *s, uint32_t chunk, uint32_t block)
{
    return s->rep.block_base[chunk] + block;
}

static int entry_valid(const struct fc_session *s, const struct fc_nak_entry *e)
{
    const struct fc_manifest *m = &s->img.m;
    struct fc_blocks bl;

    if (e->chunk >= m->n_chunks)
        return 0;
    if (fc_blocks_init(&bl, m->chunks[e->chunk].comp_size, s->cfg.payload, s->cfg.k_max))
        return 0;
    return e->block < bl.blocks && e->k == fc_blocks_k(&bl, e->block);
}

static void set_item(struct fc_repair_item *it, uint32_t g, const struct fc_nak_entry *e)
{
    it->gblock = g;
    it->count = e->needed;
    it->cursor = 0;
    it->bitmap_len = e->bitmap_len;
    memcpy(it->bitmap, e->bitmap, e->bitmap_len);
}

/* The block's item of this round, made or updated by one NAK entry of rx.
 * rx is charged what its entry adds to the round (the max, not the sum, is
 * sent): past its budget its entries are ignored. */
static int merge(struct fc_session *s, struct fc_rx *rx, struct fc_blockstate *b, uint32_t g,
                 const struct fc_nak_entry *e)
{
    struct fc_repair *r = &s->rep;

    if (b->pending && e->needed <= b->pending)
        return 0;
    if (fc_rx_charge_repair(s, rx, (unsigned)(e->needed - b->pending))) {
        s->st.naks_overbudget++;
        return 0;
    }
    if (b->pending) {
        set_item(&r->round[b->round_slot], g, e);
        b->pending = e->needed;
        return 0;
    }
    if (r->n_round == r->cap_round) {
        uint32_t cap = r->cap_round ? r->cap_round * 2 : 256;
        struct fc_repair_item *p = realloc(r->round, cap * sizeof(*p));
        if (!p)
            return FC_ENOMEM;
        r->round = p;
        r->cap_round = cap;
    }
    b->round_slot = r->n_round;
    set_item(&r->round[r->n_round++], g, e);
    b->pending = e->needed;
    return 0;
}

/* n comes from rx, an active receiver whose tag was checked (control.c). */
void fc_repair_on_nak(struct fc_session *s, struct fc_rx *rx, const struct fc_nak *n)
{
    struct fc_repair *r = &s->rep;
    unsigned i;

    s->st.naks++;
    if (s->state != FC_SS_SENDING && s->state != FC_SS_REPAIR)
        return;
    for (i = 0; i < n->count; i++) {
        const struct fc_nak_entry *e = &n->e[i];
        struct fc_blockstate *b;
        uint32_t g;

        s->st.nak_entries++;
        /* A chunk its own last report says it has written needs nothing. */
        if (!entry_valid(s, e) || !fc_rx_lacks(rx, e->chunk)) {
            s->st.naks_bad++;
            continue;
        }
        g = fc_repair_gblock(s, e->chunk, e->block);
        b = &r->blocks[g];
        /* Stale: an answer still queued was sized for the neediest NAK of
         * its round; a NAK made before the last repair went out; a block
         * the pass has not finished sending (a receiver that fell asleep
         * and woke up NAKing everything in flight). */
        if (b->queued || stale(s, b, n->seq_seen) || fc_sender_in_flight(s, e->chunk, e->block)) {
            s->st.naks_stale++;
            continue;
        }
        merge(s, rx, b, g, e);
    }
}

static int push_queue(struct fc_repair *r, const struct fc_repair_item *item)
{
    if (r->q_len == r->q_cap) {
        uint32_t cap = r->q_cap ? r->q_cap * 2 : 256, i;
        struct fc_repair_item *q = malloc(cap * sizeof(*q));
        if (!q)
            return FC_ENOMEM;
        for (i = 0; i < r->q_len; i++)
            q[i] = r->queue[(r->q_head + i) % r->q_cap];
        free(r->queue);
        r->queue = q;
        r->q_cap = cap;
        r->q_head = 0;
    }
    r->queue[(r->q_head + r->q_len) % r->q_cap] = *item;
    r->q_len++;
    return 0;
}

static int by_gblock(const void *a, const void *b)
{
    uint32_t x = ((const struct fc_repair_item *)a)->gblock;
    uint32_t y = ((const struct fc_repair_item *)b)->gblock;

    return (x > y) - (x < y);
}

void fc_repair_end_round(struct fc_session *s)
{
    struct fc_repair *r = &s->rep;
    uint32_t i;

    if (r->n_round)
        s->st.rounds++;
    /* In image order, not in the order the NAKs came: the sender then walks
     * the chunks once, each read once into the cache, instead of hopping
     * between chunks (a 4 MiB read for a few packets) per receiver. */
    if (r->n_round > 1) /* round is NULL until a first NAK: qsort wants a pointer */
        qsort(r->round, r->n_round, sizeof(*r->round), by_gblock);
    for (i = 0; i < r->n_round; i++) {
        struct fc_blockstate *b = &r->blocks[r->round[i].gblock];
        if (!push_queue(r, &r->round[i]))
            b->queued = 1;
        b->pending = 0;
    }
    r->n_round = 0;
}

static uint32_t chunk_of(const struct fc_session *s, uint32_t g)
{
    const uint32_t *base = s->rep.block_base;
    uint32_t lo = 0, hi = s->img.m.n_chunks;

    while (hi - lo > 1) { /* last chunk whose base <= g */
        uint32_t mid = lo + (hi - lo) / 2;
        if (base[mid] <= g)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int held(const struct fc_repair_item *it, unsigned i)
{
    return i < it->bitmap_len * 8u && (it->bitmap[i / 8] >> (i % 8)) & 1;
}

/* Wire index of the next repair packet of a block of k source packets. */
static uint8_t pick(struct fc_blockstate *b, struct fc_repair_item *it, unsigned k)
{
    unsigned max_parity = fc_fec_max_parity(k), i;

    if (b->next_parity < max_parity)
        return (uint8_t)(k + b->next_parity++);
    if (it->bitmap_len) {
        for (i = it->cursor; i < FC_FEC_MAX_N; i++)
            if (!held(it, i)) {
                it->cursor = (uint16_t)(i + 1);
                return (uint8_t)i;
            }
    }
    /* Every index in turn, 0..254: the sources first, then the parity. */
    if (b->next_resend >= FC_FEC_MAX_N)
        b->next_resend = 0;
    return b->next_resend++;
}

int fc_repair_peek(const struct fc_session *s, uint32_t *chunk)
{
    const struct fc_repair *r = &s->rep;

    if (!r->q_len)
        return 0;
    *chunk = chunk_of(s, r->queue[r->q_head].gblock);
    return 1;
}

int fc_repair_next(struct fc_session *s, uint32_t *chunk, uint32_t *block, uint8_t *wire_index)
{
    struct fc_repair *r = &s->rep;
    struct fc_repair_item *it;
    struct fc_blockstate *b;
    struct fc_blocks bl;

    if (!r->q_len)
        return 0;
    it = &r->queue[r->q_head];
    *chunk = chunk_of(s, it->gblock);
    *block = it->gblock - r->block_base[*chunk];
    fc_blocks_init(&bl, s->img.m.chunks[*chunk].comp_size, s->cfg.payload, s->cfg.k_max);
    b = &r->blocks[it->gblock];
    *wire_index = pick(b, it, fc_blocks_k(&bl, *block));
    if (--it->count == 0) {
        b->queued = 0;
        r->q_head = (r->q_head + 1) % r->q_cap;
        r->q_len--;
    }
    return 1;
}

void fc_repair_sent(struct fc_session *s, uint32_t chunk, uint32_t block, uint32_t seq)
{
    struct fc_blockstate *b = &s->rep.blocks[fc_repair_gblock(s, chunk, block)];

    b->last_repair_seq = seq;
    b->last_repair_ms = now_ms(s);
}

void fc_repair_proactive_sent(struct fc_session *s, uint32_t chunk, uint32_t block, unsigned parity)
{
    struct fc_blockstate *b = &s->rep.blocks[fc_repair_gblock(s, chunk, block)];

    /* A later pass may send less than an earlier one did: fresh parity
     * stays past the most any pass sent, which every receiver may hold. */
    if (parity > FC_FEC_MAX_N)
        parity = FC_FEC_MAX_N;
    if (b->next_parity < parity)
        b->next_parity = (uint8_t)parity;
}
