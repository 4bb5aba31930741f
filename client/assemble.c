/* Chunk and FEC block reassembly of fleetcast-recv (see assemble.h): where a
 * DATA packet's bytes are stored, when a block is decoded, which chunk is
 * evicted, and each chunk's state. */
#include "client/assemble.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int fc_asm_init(struct fc_asm *a, const struct fc_manifest *m, uint16_t payload, uint8_t k_max,
                unsigned max_slots, size_t mem_max)
{
    int rc = FC_ENOMEM;

    memset(a, 0, sizeof(*a));
    a->m = m;
    a->payload = payload;
    a->k_max = k_max;
    a->n_slots = max_slots ? max_slots : 1;
    a->mem_max = mem_max;
    a->state = calloc(m->n_chunks ? m->n_chunks : 1, 1);
    a->slot = calloc(a->n_slots, sizeof(*a->slot));
    if (!a->state || !a->slot)
        goto fail;
    rc = fc_fec_new(&a->fec);
    if (rc)
        goto fail;
    return 0;
fail:
    fc_asm_free(a);
    return rc;
}

static void slot_release(struct fc_asm *a, struct fc_asm_chunk *c)
{
    uint32_t b;

    if (!c->in_use)
        return;
    for (b = 0; c->blk && b < c->cut.blocks; b++) {
        free(c->blk[b].par);
        free(c->blk[b].par_idx);
    }
    free(c->blk);
    free(c->buf);
    a->mem -= c->mem;
    a->n_active--;
    memset(c, 0, sizeof(*c));
}

void fc_asm_free(struct fc_asm *a)
{
    unsigned i;

    for (i = 0; a->slot && i < a->n_slots; i++)
        slot_release(a, &a->slot[i]);
    free(a->slot);
    free(a->state);
    fc_fec_free(a->fec);
    memset(a, 0, sizeof(*a));
}

static struct fc_asm_chunk *slot_find(struct fc_asm *a, uint32_t idx)
{
    unsigned i;

    if (a->slot[a->hint].in_use && a->slot[a->hint].idx == idx)
        return &a->slot[a->hint];
    for (i = 0; i < a->n_slots; i++)
        if (a->slot[i].in_use && a->slot[i].idx == idx) {
            a->hint = i;
            return &a->slot[i];
        }
    return NULL;
}

/* Least progress first: it has cost the least and its packets come again.
 * Complete chunks are never evicted (they only wait for the writer). */
static struct fc_asm_chunk *slot_victim(struct fc_asm *a, uint32_t except)
{
    struct fc_asm_chunk *v = NULL;
    unsigned i;

    for (i = 0; i < a->n_slots; i++) {
        struct fc_asm_chunk *c = &a->slot[i];

        if (!c->in_use || c->idx == except || a->state[c->idx] != FC_CHUNK_ASSEMBLING)
            continue;
        if (!v || c->held < v->held)
            v = c;
    }
    return v;
}

static void evict(struct fc_asm *a, struct fc_asm_chunk *c)
{
    a->state[c->idx] = FC_CHUNK_MISSING;
    slot_release(a, c);
}

/* A free slot with room for `need` more bytes, evicting as needed. With
 * nothing in reassembly one chunk is admitted beyond mem_max (a chunk larger
 * than the cap must still get through), unless the writer's queue alone
 * holds mem_max: then the chunk waits, its packets come again. */
static struct fc_asm_chunk *slot_get(struct fc_asm *a, size_t need, uint32_t idx)
{
    struct fc_asm_chunk *v;
    unsigned i;

    for (;;) {
        if (a->mem + need <= a->mem_max || (a->n_active == 0 && a->queued < a->mem_max))
            for (i = 0; i < a->n_slots; i++)
                if (!a->slot[i].in_use)
                    return &a->slot[i];
        v = slot_victim(a, idx);
        if (!v)
            return NULL;
        evict(a, v);
    }
}

static int slot_open(struct fc_asm *a, uint32_t idx, const struct fc_blocks *cut,
                     struct fc_asm_chunk **out)
{
    size_t need = (size_t)cut->packets * cut->sym_len;
    struct fc_asm_chunk *c = slot_get(a, need, idx);
    uint32_t b;

    if (!c)
        return FC_ASM_REFUSED;
    c->buf = calloc(1, need);
    c->blk = calloc(cut->blocks, sizeof(*c->blk));
    if (!c->buf || !c->blk) {
        free(c->buf);
        free(c->blk);
        c->buf = NULL;
        c->blk = NULL;
        return FC_ENOMEM;
    }
    c->in_use = 1;
    c->idx = idx;
    c->cut = *cut;
    c->mem = need + cut->blocks * sizeof(*c->blk);
    for (b = 0; b < cut->blocks; b++) {
        c->blk[b].k = fc_blocks_k(cut, b);
        fc_naks_init(&c->blk[b].nak);
    }
    a->mem += c->mem;
    a->n_active++;
    a->state[idx] = FC_CHUNK_ASSEMBLING;
    a->hint = (unsigned)(c - a->slot);
    *out = c;
    return 0;
}

static int bit_get(const uint8_t *bits, unsigned i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

/* Parity is kept only until the block decodes, and a block never needs more
 * parity than it has holes, so a store of k slots is the most it grows to. */
static int parity_store(struct fc_asm *a, struct fc_asm_chunk *c, struct fc_asm_block *bk,
                        const struct fc_data *d)
{
    size_t sym = c->cut.sym_len;

    if (bk->n_par == bk->cap_par) {
        unsigned cap = bk->cap_par ? bk->cap_par * 2u : 2u;
        uint8_t *p, *pi;

        if (cap > bk->k)
            cap = bk->k;
        p = realloc(bk->par, cap * sym);
        if (!p)
            return FC_ENOMEM;
        bk->par = p;
        pi = realloc(bk->par_idx, cap);
        if (!pi)
            return FC_ENOMEM;
        bk->par_idx = pi;
        c->mem += (cap - bk->cap_par) * (sym + 1);
        a->mem += (cap - bk->cap_par) * (sym + 1);
        bk->cap_par = (uint8_t)cap;
    }
    memcpy(bk->par + (size_t)bk->n_par * sym, d->payload, sym);
    bk->par_idx[bk->n_par++] = d->index;
    return 0;
}

static void parity_drop(struct fc_asm *a, struct fc_asm_chunk *c, struct fc_asm_block *bk)
{
    size_t freed = (size_t)bk->cap_par * (c->cut.sym_len + 1u);

    free(bk->par);
    free(bk->par_idx);
    bk->par = NULL;
    bk->par_idx = NULL;
    bk->n_par = bk->cap_par = 0;
    c->mem -= freed;
    a->mem -= freed;
}

/* k distinct packets held: rebuild the missing sources in place. Only the
 * holes are computed; held sources stay where they are. */
static int block_decode(struct fc_asm *a, struct fc_asm_chunk *c, uint32_t b)
{
    struct fc_asm_block *bk = &c->blk[b];
    const uint8_t *in[FC_FEC_MAX_K];
    uint8_t idx[FC_FEC_MAX_K], *out[FC_FEC_MAX_K];
    size_t sym = c->cut.sym_len;
    uint8_t *base = c->buf + (size_t)fc_blocks_first(&c->cut, b) * sym;
    unsigned i, n = 0;
    int rc = 0;

    for (i = 0; i < bk->k; i++) {
        out[i] = base + i * sym;
        if (bit_get(bk->held, i)) {
            in[n] = out[i];
            idx[n++] = (uint8_t)i;
        }
    }
    if (n < bk->k) {
        for (i = 0; i < bk->n_par; i++) {
            in[n + i] = bk->par + i * sym;
            idx[n + i] = bk->par_idx[i];
        }
        rc = fc_fec_decode(a->fec, bk->k, sym, in, idx, out);
    }
    parity_drop(a, c, bk);
    if (rc)
        return rc;
    bk->done = 1;
    c->blocks_done++;
    return c->blocks_done == c->cut.blocks ? FC_ASM_CHUNK : FC_ASM_BLOCK;
}

static int packet_store(struct fc_asm *a, struct fc_asm_chunk *c, const struct fc_data *d)
{
    struct fc_asm_block *bk = &c->blk[d->block];
    size_t sym = c->cut.sym_len;
    int rc;

    if (bk->done || bit_get(bk->held, d->index))
        return FC_ASM_DUP;
    if (d->index < bk->k) {
        memcpy(c->buf + ((size_t)fc_blocks_first(&c->cut, d->block) + d->index) * sym, d->payload,
               sym);
    } else {
        rc = parity_store(a, c, bk, d);
        if (rc)
            return rc;
    }
    bk->held[d->index / 8] |= (uint8_t)(1u << (d->index % 8));
    bk->have++;
    c->held++;
    if (d->index > bk->max_index)
        bk->max_index = d->index;
    if (bk->have < bk->k)
        return FC_ASM_STORED;
    rc = block_decode(a, c, d->block);
    if (rc == FC_ASM_CHUNK)
        a->state[c->idx] = FC_CHUNK_COMPLETE;
    return rc;
}

int fc_asm_add(struct fc_asm *a, const struct fc_data *d, uint32_t seq, int allow_new,
               struct fc_asm_chunk **out)
{
    struct fc_asm_chunk *c = NULL;
    struct fc_blocks cut;
    int rc;

    if (out)
        *out = NULL;
    if (d->chunk >= a->m->n_chunks)
        return FC_EPROTO;
    if (a->state[d->chunk] >= FC_CHUNK_COMPLETE)
        return FC_ASM_DUP;
    c = slot_find(a, d->chunk);
    if (c) {
        if (fc_blocks_check(&c->cut, d))
            return FC_EPROTO;
    } else {
        if (fc_blocks_init(&cut, a->m->chunks[d->chunk].comp_size, a->payload, a->k_max) ||
            fc_blocks_check(&cut, d))
            return FC_EPROTO;
        if (!allow_new)
            return FC_ASM_REFUSED;
        rc = slot_open(a, d->chunk, &cut, &c);
        if (rc)
            return rc;
    }
    if (out)
        *out = c;
    if (!c->seq_set || fc_seq_after(seq, c->last_seq))
        c->last_seq = seq;
    c->seq_set = 1;
    if (d->block > c->top)
        c->top = d->block;
    return packet_store(a, c, d);
}

unsigned fc_asm_missing(const struct fc_asm_chunk *c, uint32_t b)
{
    const struct fc_asm_block *bk = &c->blk[b];

    return bk->done ? 0 : (unsigned)(bk->k - bk->have);
}

void fc_asm_nak_entry(const struct fc_asm_chunk *c, uint32_t b, struct fc_nak_entry *e)
{
    const struct fc_asm_block *bk = &c->blk[b];

    memset(e, 0, sizeof(*e));
    e->chunk = c->idx;
    e->block = (uint16_t)b;
    e->k = bk->k;
    e->needed = (uint8_t)fc_asm_missing(c, b);
    /* The bitmap goes with every NAK of a block we hold part of: the
     * server may have spent the block's fresh parity on other receivers
     * (or before a hash failure made us drop it), and then only the bitmap
     * tells it which packets to send again. */
    if (bk->have) {
        e->bitmap_len = (uint8_t)((bk->max_index + 8) / 8);
        memcpy(e->bitmap, bk->held, e->bitmap_len);
    }
}

/* A chunk goes to the writer: its compressed bytes keep counting against
 * mem_max until it is written or dropped. The manifest's size, not the
 * padded buffer's, so that the same amount comes off whatever the cut. */
static void queue_charge(struct fc_asm *a, uint32_t idx)
{
    size_t n = a->m->chunks[idx].comp_size;

    a->state[idx] = FC_CHUNK_QUEUED;
    a->queued += n;
    a->mem += n;
}

static void queue_uncharge(struct fc_asm *a, uint32_t idx)
{
    size_t n = a->m->chunks[idx].comp_size;

    if (a->state[idx] != FC_CHUNK_QUEUED)
        return;
    if (n > a->queued)
        n = a->queued;
    a->queued -= n;
    a->mem -= n;
}

uint8_t *fc_asm_take(struct fc_asm *a, struct fc_asm_chunk *c, size_t *len)
{
    uint8_t *buf = c->buf;
    uint32_t idx = c->idx;

    *len = c->cut.chunk_len;
    c->buf = NULL;
    slot_release(a, c);
    queue_charge(a, idx);
    return buf;
}

void fc_asm_written(struct fc_asm *a, uint32_t idx)
{
    if (idx >= a->m->n_chunks)
        return;
    queue_uncharge(a, idx);
    a->state[idx] = FC_CHUNK_WRITTEN;
}

void fc_asm_dropped(struct fc_asm *a, uint32_t idx)
{
    if (idx >= a->m->n_chunks)
        return;
    queue_uncharge(a, idx);
    a->state[idx] = FC_CHUNK_MISSING;
}

int fc_asm_forget(struct fc_asm *a, uint32_t idx, struct fc_asm_chunk **out)
{
    struct fc_asm_chunk *c;
    struct fc_blocks cut;
    int rc;

    *out = NULL;
    if (idx >= a->m->n_chunks)
        return FC_EINVAL;
    c = slot_find(a, idx);
    if (c)
        slot_release(a, c);
    queue_uncharge(a, idx); /* the writer found it bad and freed it */
    a->state[idx] = FC_CHUNK_MISSING;
    rc = fc_blocks_init(&cut, a->m->chunks[idx].comp_size, a->payload, a->k_max);
    if (rc)
        return rc;
    rc = slot_open(a, idx, &cut, out);
    return rc == FC_ASM_REFUSED ? 0 : rc;
}

void fc_asm_claim(struct fc_asm *a, uint32_t idx)
{
    struct fc_asm_chunk *c;

    if (idx >= a->m->n_chunks)
        return;
    c = slot_find(a, idx);
    if (c)
        slot_release(a, c);
    if (a->state[idx] != FC_CHUNK_QUEUED)
        queue_charge(a, idx);
}

void fc_asm_drop_active(struct fc_asm *a, uint16_t payload, uint8_t k_max)
{
    unsigned i;

    for (i = 0; i < a->n_slots; i++)
        if (a->slot[i].in_use && a->state[a->slot[i].idx] == FC_CHUNK_ASSEMBLING)
            evict(a, &a->slot[i]);
    a->payload = payload;
    a->k_max = k_max;
}
