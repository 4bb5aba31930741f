/* Receiver reassembly (client/assemble.c): chunks cut into packets and FEC
 * blocks exactly as the server cuts them come back whole in order, out of
 * order, with duplicates, with random loss repaired by parity at several k,
 * with a padded last packet, as a single packet; a forged source packet
 * yields a chunk that fc_chunk_decode rejects; bad packets are rejects;
 * memory bounds evict the chunk with the least progress. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "client/assemble.h"
#include "common/chunk.h"
#include "common/error.h"
#include "common/fec.h"
#include "tests/unit/unit.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One real chunk: zstd frame and hashes, as the image holds it. */
struct tchunk {
    uint8_t *raw, *comp;
    struct fc_chunk c;
};

/* A packet as the server would send it. */
struct tpkt {
    struct fc_data d;
    uint8_t payload[FC_DATA_MAX_PAYLOAD];
};

struct tset {
    struct tpkt *p;
    size_t n, cap;
};

static void chunk_make(struct tchunk *t, uint32_t raw_len)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(raw_len);
    uint32_t i;

    t->raw = malloc(raw_len);
    t->comp = malloc(cap);
    ck_assert_ptr_nonnull(t->raw);
    ck_assert_ptr_nonnull(t->comp);
    /* Half random, half runs: compresses somewhat, like disk data. */
    for (i = 0; i < raw_len; i++)
        t->raw[i] = (i / 64) % 2 ? (uint8_t)rng() : (uint8_t)(i / 256);
    ck_assert_int_eq(fc_chunk_encode(cctx, 3, t->raw, raw_len, t->comp, cap, &t->c), 0);
    ZSTD_freeCCtx(cctx);
}

static void chunk_free(struct tchunk *t)
{
    free(t->raw);
    free(t->comp);
}

static void set_add(struct tset *s, uint32_t chunk, uint32_t block, unsigned index, unsigned k,
                    const uint8_t *bytes, uint16_t len)
{
    struct tpkt *p;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->p = realloc(s->p, s->cap * sizeof(*s->p));
        ck_assert_ptr_nonnull(s->p);
        for (size_t i = 0; i < s->n; i++) /* payloads moved with the array */
            s->p[i].d.payload = s->p[i].payload;
    }
    p = &s->p[s->n++];
    memcpy(p->payload, bytes, len);
    p->d.chunk = chunk;
    p->d.block = (uint16_t)block;
    p->d.index = (uint8_t)index;
    p->d.k = (uint8_t)k;
    p->d.len = len;
    p->d.payload = p->payload;
}

/* Cuts comp into source packets and `parity` parity packets per block,
 * exactly as fc_blocks says. */
static void cut_chunk(struct tset *s, struct fc_fec *f, uint32_t idx, const uint8_t *comp,
                      uint32_t len, uint16_t payload, uint8_t k_max, unsigned parity)
{
    struct fc_blocks b;
    uint32_t blk, i;

    ck_assert_int_eq(fc_blocks_init(&b, len, payload, k_max), 0);
    for (blk = 0; blk < b.blocks; blk++) {
        unsigned k = fc_blocks_k(&b, blk);
        uint8_t *src[FC_FEC_MAX_K], *par[FC_FEC_MAX_N];

        for (i = 0; i < k; i++) {
            size_t off = ((size_t)fc_blocks_first(&b, blk) + i) * b.sym_len;
            src[i] = calloc(1, b.sym_len);
            memcpy(src[i], comp + off, off + b.sym_len <= len ? b.sym_len : len - off);
            set_add(s, idx, blk, i, k, src[i], b.sym_len);
        }
        if (parity > fc_fec_max_parity(k))
            parity = fc_fec_max_parity(k);
        for (i = 0; i < parity; i++)
            par[i] = malloc(b.sym_len);
        if (parity)
            ck_assert_int_eq(
                fc_fec_encode(f, k, b.sym_len, (const uint8_t *const *)src, 0, parity, par), 0);
        for (i = 0; i < parity; i++) {
            set_add(s, idx, blk, k + i, k, par[i], b.sym_len);
            free(par[i]);
        }
        for (i = 0; i < k; i++)
            free(src[i]);
    }
}

static void shuffle(struct tset *s)
{
    size_t i;

    for (i = s->n; i > 1; i--) {
        size_t j = rng() % i;
        struct tpkt t = s->p[i - 1];

        s->p[i - 1] = s->p[j];
        s->p[j] = t;
    }
    for (i = 0; i < s->n; i++)
        s->p[i].d.payload = s->p[i].payload;
}

struct world {
    struct fc_manifest m;
    struct tchunk ch[4];
    struct fc_asm a;
    struct fc_fec *f;
    ZSTD_DCtx *dctx;
    uint8_t *scratch;
};

static void world_make(struct world *w, unsigned n, const uint32_t *raw_len, uint16_t payload,
                       uint8_t k_max, unsigned slots, size_t mem)
{
    unsigned i;

    memset(w, 0, sizeof(*w));
    w->m.n_chunks = n;
    w->m.chunks = calloc(n, sizeof(*w->m.chunks));
    for (i = 0; i < n; i++) {
        chunk_make(&w->ch[i], raw_len[i]);
        w->m.chunks[i] = w->ch[i].c;
    }
    ck_assert_int_eq(fc_asm_init(&w->a, &w->m, payload, k_max, slots, mem), 0);
    ck_assert_int_eq(fc_fec_new(&w->f), 0);
    w->dctx = ZSTD_createDCtx();
    w->scratch = malloc(FC_CHUNK_MAX);
}

static void world_free(struct world *w)
{
    unsigned i;

    fc_asm_free(&w->a);
    fc_fec_free(w->f);
    ZSTD_freeDCtx(w->dctx);
    free(w->scratch);
    for (i = 0; i < w->m.n_chunks; i++)
        chunk_free(&w->ch[i]);
    free(w->m.chunks);
}

/* Feeds the set; returns how many packets completed a chunk, and checks
 * each completed chunk with fc_chunk_decode (expect: 0 or FC_EHASH). */
static unsigned feed(struct world *w, struct tset *s, int expect, unsigned *dups)
{
    unsigned done = 0;
    size_t i;

    for (i = 0; i < s->n; i++) {
        struct fc_asm_chunk *c;
        int rc;

        s->p[i].d.payload = s->p[i].payload; /* the set may have moved since */
        rc = fc_asm_add(&w->a, &s->p[i].d, (uint32_t)i, 1, &c);
        ck_assert_int_ge(rc, 0);
        if (rc == FC_ASM_DUP && dups)
            (*dups)++;
        if (rc == FC_ASM_CHUNK) {
            uint32_t idx = c->idx;
            size_t len;
            uint8_t *buf = fc_asm_take(&w->a, c, &len);

            ck_assert_uint_eq(len, w->m.chunks[idx].comp_size);
            ck_assert_int_eq(fc_chunk_decode(w->dctx, &w->m.chunks[idx], buf, len, w->scratch),
                             expect);
            if (!expect) {
                ck_assert_mem_eq(buf, w->ch[idx].comp, len);
                ck_assert_mem_eq(w->scratch, w->ch[idx].raw, w->m.chunks[idx].raw_size);
                fc_asm_written(&w->a, idx);
            }
            free(buf);
            done++;
        }
    }
    return done;
}

START_TEST(in_order)
{
    const uint32_t raw[] = {20000, 5000};
    struct world w;
    struct tset s = {0};

    world_make(&w, 2, raw, 100, 7, 8, 1 << 24);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 100, 7, 0);
    cut_chunk(&s, w.f, 1, w.ch[1].comp, w.m.chunks[1].comp_size, 100, 7, 0);
    ck_assert_uint_eq(feed(&w, &s, 0, NULL), 2);
    ck_assert_uint_eq(w.a.state[0], FC_CHUNK_WRITTEN);
    ck_assert_uint_eq(w.a.n_active, 0);
    ck_assert_uint_eq(w.a.mem, 0);
    free(s.p);
    world_free(&w);
}
END_TEST

START_TEST(out_of_order)
{
    const uint32_t raw[] = {30000, 7000, 100000};
    struct world w;
    struct tset s = {0};
    unsigned i;

    world_make(&w, 3, raw, 200, 13, 8, 1 << 24);
    for (i = 0; i < 3; i++)
        cut_chunk(&s, w.f, i, w.ch[i].comp, w.m.chunks[i].comp_size, 200, 13, 2);
    shuffle(&s);
    ck_assert_uint_eq(feed(&w, &s, 0, NULL), 3);
    free(s.p);
    world_free(&w);
}
END_TEST

START_TEST(duplicates)
{
    const uint32_t raw[] = {30000};
    struct world w;
    struct tset s = {0};
    unsigned dups = 0;
    size_t n, i;

    world_make(&w, 1, raw, 128, 10, 8, 1 << 24);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 128, 10, 0);
    n = s.n;
    for (i = 0; i < n; i++) {
        struct tpkt t = s.p[i]; /* set_add may move s.p */

        set_add(&s, t.d.chunk, t.d.block, t.d.index, t.d.k, t.payload, t.d.len);
    }
    shuffle(&s);
    /* The chunk completes once; every packet after that, or seen twice, is
     * a duplicate. */
    ck_assert_uint_eq(feed(&w, &s, 0, &dups), 1);
    ck_assert_uint_eq(dups, n);
    free(s.p);
    world_free(&w);
}
END_TEST

/* Random holes in every block, each filled by parity, at several k. */
START_TEST(loss_repaired)
{
    static const uint8_t kmax[] = {1, 2, 5, 17, 64, 200};
    unsigned t, round;

    for (t = 0; t < sizeof(kmax); t++) {
        for (round = 0; round < 4; round++) {
            const uint32_t raw[] = {60000 + (uint32_t)(rng() % 40000)};
            uint16_t payload = (uint16_t)(kmax[t] >= 64 ? 100 : 300);
            struct world w;
            struct tset s = {0}, lossy = {0};
            size_t i;

            world_make(&w, 1, raw, payload, kmax[t], 4, 1 << 24);
            cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, payload, kmax[t], 40);
            /* Drop about a third of the sources; parity (40 per block, or all
             * there is) covers it, so keep the total above k per block. */
            for (i = 0; i < s.n; i++) {
                const struct fc_data *d = &s.p[i].d;
                unsigned parity = fc_fec_max_parity(d->k) < 40 ? fc_fec_max_parity(d->k) : 40;
                unsigned drop_pct = d->k <= parity ? 60 : 15;

                if (d->index < d->k && rng() % 100 < drop_pct)
                    continue;
                set_add(&lossy, d->chunk, d->block, d->index, d->k, s.p[i].payload, d->len);
            }
            shuffle(&lossy);
            ck_assert_uint_eq(feed(&w, &lossy, 0, NULL), 1);
            free(s.p);
            free(lossy.p);
            world_free(&w);
        }
    }
}
END_TEST

START_TEST(forged_source)
{
    const uint32_t raw[] = {40000};
    struct world w;
    struct tset s = {0};
    struct fc_asm_chunk *c;

    world_make(&w, 1, raw, 256, 16, 4, 1 << 24);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 256, 16, 4);
    /* A forged packet with the right header and wrong bytes. */
    s.p[3].payload[10] ^= 0x5a;
    ck_assert_uint_eq(feed(&w, &s, FC_EHASH, NULL), 1);
    /* Forget it and receive again, right this time. */
    ck_assert_int_eq(fc_asm_forget(&w.a, 0, &c), 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(w.a.state[0], FC_CHUNK_ASSEMBLING);
    ck_assert_uint_eq(fc_asm_missing(c, 0), c->blk[0].k);
    s.p[3].payload[10] ^= 0x5a;
    ck_assert_uint_eq(feed(&w, &s, 0, NULL), 1);
    free(s.p);
    world_free(&w);
}
END_TEST

/* A forged parity packet spoils the decode of its block: also caught. */
START_TEST(forged_parity)
{
    const uint32_t raw[] = {40000};
    struct world w;
    struct tset s = {0}, t = {0};
    size_t i;

    world_make(&w, 1, raw, 256, 16, 4, 1 << 24);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 256, 16, 1);
    for (i = 0; i < s.n; i++) {
        const struct fc_data *d = &s.p[i].d;

        if (d->block == 0 && d->index == 0)
            continue; /* lost; the parity below fills it */
        set_add(&t, d->chunk, d->block, d->index, d->k, s.p[i].payload, d->len);
        if (d->block == 0 && d->index == d->k)
            t.p[t.n - 1].payload[0] ^= 1;
    }
    ck_assert_uint_eq(feed(&w, &t, FC_EHASH, NULL), 1);
    free(s.p);
    free(t.p);
    world_free(&w);
}
END_TEST

START_TEST(padding)
{
    const uint32_t raw[] = {12345};
    struct world w;
    struct tset s = {0};
    struct fc_blocks b;

    world_make(&w, 1, raw, 333, 4, 4, 1 << 24);
    ck_assert_int_eq(fc_blocks_init(&b, w.m.chunks[0].comp_size, 333, 4), 0);
    ck_assert_uint_ne(w.m.chunks[0].comp_size % 333, 0);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 333, 4, 1);
    /* Lose the last (padded) source packet: parity rebuilds it. */
    {
        size_t i;
        for (i = 0; i < s.n; i++)
            if (s.p[i].d.block == b.blocks - 1 &&
                s.p[i].d.index == fc_blocks_k(&b, b.blocks - 1) - 1)
                s.p[i].d.chunk = 99; /* out of the manifest: a reject */
    }
    {
        size_t i;
        unsigned done = 0;
        for (i = 0; i < s.n; i++) {
            struct fc_asm_chunk *c;
            int rc;

            s.p[i].d.payload = s.p[i].payload;
            rc = fc_asm_add(&w.a, &s.p[i].d, (uint32_t)i, 1, &c);

            if (s.p[i].d.chunk == 99) {
                ck_assert_int_eq(rc, FC_EPROTO);
                continue;
            }
            if (rc == FC_ASM_CHUNK) {
                size_t len;
                uint8_t *buf = fc_asm_take(&w.a, c, &len);

                ck_assert_int_eq(fc_chunk_decode(w.dctx, &w.m.chunks[0], buf, len, w.scratch), 0);
                free(buf);
                done++;
            }
        }
        ck_assert_uint_eq(done, 1);
    }
    free(s.p);
    world_free(&w);
}
END_TEST

START_TEST(one_packet)
{
    const uint32_t raw[] = {300};
    struct world w;
    struct tset s = {0};

    world_make(&w, 1, raw, 1448, 200, 4, 1 << 24);
    ck_assert_uint_lt(w.m.chunks[0].comp_size, 1448);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 1448, 200, 2);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.p[0].d.k, 1);
    ck_assert_uint_eq(s.p[0].d.len, w.m.chunks[0].comp_size);
    /* The source lost: either parity packet alone is the chunk. */
    s.p[0].d.chunk = 7;
    ck_assert_int_eq(fc_asm_add(&w.a, &s.p[0].d, 0, 1, NULL), FC_EPROTO);
    s.p[0].d.chunk = 0;
    {
        struct fc_asm_chunk *c;
        size_t len;
        uint8_t *buf;

        ck_assert_int_eq(fc_asm_add(&w.a, &s.p[2].d, 1, 1, &c), FC_ASM_CHUNK);
        buf = fc_asm_take(&w.a, c, &len);
        ck_assert_int_eq(fc_chunk_decode(w.dctx, &w.m.chunks[0], buf, len, w.scratch), 0);
        free(buf);
        ck_assert_int_eq(fc_asm_add(&w.a, &s.p[0].d, 2, 1, NULL), FC_ASM_DUP);
    }
    free(s.p);
    world_free(&w);
}
END_TEST

START_TEST(rejects)
{
    const uint32_t raw[] = {20000};
    struct world w;
    struct tset s = {0};
    struct fc_data d;

    world_make(&w, 1, raw, 100, 7, 4, 1 << 24);
    cut_chunk(&s, w.f, 0, w.ch[0].comp, w.m.chunks[0].comp_size, 100, 7, 0);
    d = s.p[0].d;
    d.k = 6; /* disagrees with the cut */
    ck_assert_int_eq(fc_asm_add(&w.a, &d, 0, 1, NULL), FC_EPROTO);
    d = s.p[0].d;
    d.len = 99;
    ck_assert_int_eq(fc_asm_add(&w.a, &d, 0, 1, NULL), FC_EPROTO);
    d = s.p[0].d;
    d.block = 60000;
    ck_assert_int_eq(fc_asm_add(&w.a, &d, 0, 1, NULL), FC_EPROTO);
    ck_assert_uint_eq(w.a.n_active, 0); /* nothing allocated for rejects */
    /* Not admitted while the writer is full; admitted later. */
    ck_assert_int_eq(fc_asm_add(&w.a, &s.p[0].d, 0, 0, NULL), FC_ASM_REFUSED);
    ck_assert_int_eq(fc_asm_add(&w.a, &s.p[0].d, 0, 1, NULL), FC_ASM_STORED);
    ck_assert_int_eq(fc_asm_add(&w.a, &s.p[1].d, 1, 0, NULL), FC_ASM_STORED);
    free(s.p);
    world_free(&w);
}
END_TEST

START_TEST(evict_least_progress)
{
    const uint32_t raw[] = {20000, 20000, 20000};
    struct world w;
    struct tset s[3] = {{0}};
    unsigned i;

    world_make(&w, 3, raw, 100, 7, 2, 1 << 24);
    for (i = 0; i < 3; i++)
        cut_chunk(&s[i], w.f, i, w.ch[i].comp, w.m.chunks[i].comp_size, 100, 7, 0);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(fc_asm_add(&w.a, &s[0].p[i].d, i, 1, NULL), FC_ASM_STORED);
    ck_assert_int_eq(fc_asm_add(&w.a, &s[1].p[0].d, 5, 1, NULL), FC_ASM_STORED);
    /* Two slots: chunk 2 evicts chunk 1 (1 packet), not chunk 0 (5). */
    ck_assert_int_eq(fc_asm_add(&w.a, &s[2].p[0].d, 6, 1, NULL), FC_ASM_STORED);
    ck_assert_uint_eq(w.a.state[0], FC_CHUNK_ASSEMBLING);
    ck_assert_uint_eq(w.a.state[1], FC_CHUNK_MISSING);
    ck_assert_uint_eq(w.a.state[2], FC_CHUNK_ASSEMBLING);
    /* A memory cap smaller than two chunks keeps one in flight. */
    fc_asm_free(&w.a);
    ck_assert_int_eq(fc_asm_init(&w.a, &w.m, 100, 7, 8, w.m.chunks[0].comp_size + 200), 0);
    ck_assert_int_eq(fc_asm_add(&w.a, &s[0].p[0].d, 0, 1, NULL), FC_ASM_STORED);
    ck_assert_int_eq(fc_asm_add(&w.a, &s[1].p[0].d, 1, 1, NULL), FC_ASM_STORED);
    ck_assert_uint_eq(w.a.n_active, 1);
    for (i = 0; i < 3; i++)
        free(s[i].p);
    world_free(&w);
}
END_TEST

/* The NAK entry: needed = k - held; the bitmap only when fresh parity could
 * run out (highest index + needed > 254). */
START_TEST(nak_entry)
{
    const uint32_t raw[] = {1000};
    struct world w;
    struct fc_asm_chunk *c = NULL;
    struct fc_nak_entry e;
    struct fc_data d = {.chunk = 0, .block = 0, .k = 200, .len = 100};
    uint8_t bytes[100] = {0}, buf[FC_PKT_MAX];
    struct fc_nak n = {.receiver_id = 1, .seq_seen = 5, .count = 1};
    unsigned i;

    world_make(&w, 1, raw, 100, 200, 4, 1 << 24);
    w.m.chunks[0].comp_size = 200 * 100; /* one block of k = 200: only the cut matters here */
    d.payload = bytes;
    for (i = 0; i < 200; i++) {
        if (i >= 3 && i < 13)
            continue;
        d.index = (uint8_t)i;
        ck_assert_int_eq(fc_asm_add(&w.a, &d, i, 1, &c), FC_ASM_STORED);
    }
    fc_asm_nak_entry(c, 0, &e);
    ck_assert_uint_eq(e.needed, 10);
    /* The bitmap of what is held goes with the NAK (up to index 199): the
     * server may have no fresh parity left for this block. */
    ck_assert_uint_eq(e.bitmap_len, 25);
    ck_assert_uint_eq(e.bitmap[0], 0x07);
    ck_assert_uint_eq(e.bitmap[1], 0xe0);
    for (i = 250; i < 255; i++) {
        d.index = (uint8_t)i;
        ck_assert_int_eq(fc_asm_add(&w.a, &d, i, 1, &c), FC_ASM_STORED);
    }
    fc_asm_nak_entry(c, 0, &e);
    ck_assert_uint_eq(e.needed, 5);
    ck_assert_uint_eq(e.bitmap_len, 32); /* up to index 254 now */
    ck_assert_uint_eq(e.bitmap[0], 0x07);
    n.e[0] = e;
    ck_assert_int_gt(fc_nak_encode(buf, sizeof(buf), 1, 1, &n), 0);
    world_free(&w);
}
END_TEST

/* The bytes bound covers the writer's queue: a chunk handed to the writer
 * counts (its compressed size) until written, forgotten or dropped, and
 * while the queue alone fills mem_max no new chunk is admitted. */
START_TEST(queued_bytes_bounded)
{
    const uint32_t raw[] = {20000, 20000, 20000};
    struct world w;
    struct tset s[3] = {{0}};
    struct fc_asm_chunk *c = NULL;
    size_t len, q0;
    uint8_t *buf;
    unsigned i;
    int rc = 0;

    world_make(&w, 3, raw, 100, 7, 8, 1 << 24);
    for (i = 0; i < 3; i++)
        cut_chunk(&s[i], w.f, i, w.ch[i].comp, w.m.chunks[i].comp_size, 100, 7, 0);
    q0 = w.m.chunks[0].comp_size;
    /* mem_max just the size of chunk 0: queued, it fills the cap. */
    fc_asm_free(&w.a);
    ck_assert_int_eq(fc_asm_init(&w.a, &w.m, 100, 7, 8, q0), 0);
    for (i = 0; i < s[0].n && rc != FC_ASM_CHUNK; i++)
        rc = fc_asm_add(&w.a, &s[0].p[i].d, i, 1, &c);
    ck_assert_int_eq(rc, FC_ASM_CHUNK);
    buf = fc_asm_take(&w.a, c, &len);
    ck_assert_uint_eq(w.a.queued, q0);
    ck_assert_uint_eq(w.a.mem, q0);
    ck_assert_uint_eq(w.a.n_active, 0);
    /* The queue holds mem_max: chunk 1 waits (its packets come again). */
    ck_assert_int_eq(fc_asm_add(&w.a, &s[1].p[0].d, 100, 1, NULL), FC_ASM_REFUSED);
    ck_assert_uint_eq(w.a.state[1], FC_CHUNK_MISSING);
    /* Written: the bytes come off and chunk 1 gets in. */
    fc_asm_written(&w.a, 0);
    free(buf);
    ck_assert_uint_eq(w.a.queued, 0);
    ck_assert_uint_eq(w.a.mem, 0);
    ck_assert_int_eq(fc_asm_add(&w.a, &s[1].p[0].d, 101, 1, NULL), FC_ASM_STORED);
    /* A queued chunk that failed its hash: forgotten, it no longer counts
     * as queued (it may be in reassembly again). */
    rc = 0;
    for (i = 1; i < s[1].n && rc != FC_ASM_CHUNK; i++)
        rc = fc_asm_add(&w.a, &s[1].p[i].d, 101 + i, 1, &c);
    ck_assert_int_eq(rc, FC_ASM_CHUNK);
    buf = fc_asm_take(&w.a, c, &len);
    free(buf);
    ck_assert_uint_eq(w.a.queued, w.m.chunks[1].comp_size);
    ck_assert_int_eq(fc_asm_forget(&w.a, 1, &c), 0);
    ck_assert_uint_eq(w.a.queued, 0);
    /* Claimed (over TCP), then refused by the writer: dropped, MISSING. */
    fc_asm_claim(&w.a, 2);
    ck_assert_uint_eq(w.a.state[2], FC_CHUNK_QUEUED);
    ck_assert_uint_eq(w.a.queued, w.m.chunks[2].comp_size);
    fc_asm_dropped(&w.a, 2);
    ck_assert_uint_eq(w.a.state[2], FC_CHUNK_MISSING);
    ck_assert_uint_eq(w.a.queued, 0);
    fc_asm_dropped(&w.a, 2); /* not queued: nothing comes off twice */
    ck_assert_uint_eq(w.a.queued, 0);
    for (i = 0; i < 3; i++)
        free(s[i].p);
    world_free(&w);
}
END_TEST

FC_TEST_MAIN("assemble", in_order, out_of_order, duplicates, loss_repaired, forged_source,
             forged_parity, padding, one_packet, rejects, evict_least_progress, nak_entry,
             queued_bytes_bounded)
