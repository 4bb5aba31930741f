/* libFuzzer harness of the receiver's reassembly (client/assemble.c). The
 * input is a small synthetic session (payload size, k max, up to 4 chunks
 * of up to 8 KiB, slots and memory bound) and then a sequence of 4-byte
 * records, each a DATA packet or an action of the network thread:
 *   byte 0: bits 0-1 chunk, bits 2-4 action (0-3 genuine packet, 4 forged
 *           packet, 5 hash failure: forget, 6 written, 7 drop every slot);
 *   byte 1: block; byte 2: packet index; byte 3: bit 0 use byte 3's upper
 *           bits as k instead of the cut's, bit 1 next sequence far ahead.
 * Genuine packets carry the chunk's real source bytes or real parity (ISA-L,
 * as the server computes it); every packet goes through fc_data_encode()
 * and fc_data_decode() first, as on the wire.
 * Properties: no crash, leak or UB; a chunk reported complete has exactly
 * its manifest length and, if no forged packet went into it, exactly its
 * bytes; every NAK entry the assembler makes is one the NAK encoder takes. */
#include <string.h>

#include "client/assemble.h"
#include "common/error.h"
#include "common/fec.h"
#include "tests/fuzz/fuzz.h"

#define MAX_CHUNKS 4
#define CHUNK_MAX_LEN 8192

struct session {
    struct fc_manifest m;
    struct fc_chunk chunks[MAX_CHUNKS];
    uint8_t content[MAX_CHUNKS][CHUNK_MAX_LEN + FC_DATA_MAX_PAYLOAD];
    int tainted[MAX_CHUNKS]; /* a forged packet was stored since the last forget */
    uint16_t payload;
    uint8_t k_max;
    uint32_t seq;
    struct fc_fec *fec;
};

static void session_init(struct session *s, struct fuzz_in *in)
{
    struct fc_fec *fec = s->fec;
    uint32_t i, j;

    memset(s, 0, sizeof(*s));
    s->fec = fec;
    s->payload = (uint16_t)(1 + fuzz_u16(in) % FC_DATA_MAX_PAYLOAD);
    s->k_max = (uint8_t)(1 + fuzz_u8(in) % FC_FEC_MAX_K);
    s->m.n_chunks = 1 + fuzz_u8(in) % MAX_CHUNKS;
    s->m.chunks = s->chunks;
    for (i = 0; i < s->m.n_chunks; i++) {
        s->chunks[i].comp_size = 1 + fuzz_u16(in) % CHUNK_MAX_LEN;
        for (j = 0; j < s->chunks[i].comp_size; j++)
            s->content[i][j] = (uint8_t)(i * 131 + j * 7 + (j >> 8));
    }
}

/* The packet's payload as the server would send it: source bytes (the
 * content is zero-padded past the chunk's end, as the last packet is) or
 * parity computed from them. 0 if the index is no packet of this block. */
static int genuine_payload(struct session *s, const struct fc_blocks *cut, uint32_t chunk,
                           uint16_t block, uint8_t index, uint8_t *out)
{
    const uint8_t *src[FC_FEC_MAX_K];
    uint8_t k = fc_blocks_k(cut, block);
    uint32_t first = fc_blocks_first(cut, block);
    unsigned i;

    for (i = 0; i < k; i++)
        src[i] = s->content[chunk] + (size_t)(first + i) * cut->sym_len;
    if (index < k) {
        memcpy(out, src[index], cut->sym_len);
        return 1;
    }
    if (index - k >= fc_fec_max_parity(k))
        return 0;
    return fc_fec_encode(s->fec, k, cut->sym_len, src, index - k, 1, &out) == 0;
}

static void check_complete(struct session *s, struct fc_asm *a, struct fc_asm_chunk *c)
{
    uint32_t idx = c->idx;
    size_t len;
    uint8_t *buf = fc_asm_take(a, c, &len);

    FUZZ_ASSERT(buf != NULL);
    FUZZ_ASSERT(len == s->chunks[idx].comp_size);
    FUZZ_ASSERT(s->tainted[idx] || !memcmp(buf, s->content[idx], len));
    free(buf);
}

/* The assembler's NAK entries for a slot, through the NAK encoder. */
static void check_naks(struct fc_asm_chunk *c)
{
    static struct fc_nak nak;
    static uint8_t pkt[FC_PKT_MAX + 64];
    uint32_t b;

    memset(&nak, 0, sizeof(nak));
    nak.receiver_id = 1;
    for (b = 0; b < c->cut.blocks && nak.count < FC_NAK_MAX_ENTRIES; b++)
        if (fc_asm_missing(c, b))
            fc_asm_nak_entry(c, b, &nak.e[nak.count++]);
    if (nak.count)
        FUZZ_ASSERT(fc_nak_encode(pkt, sizeof(pkt), 1, 1, &nak) > 0);
}

static void add_packet(struct session *s, struct fc_asm *a, const uint8_t *rec, int forged)
{
    static uint8_t payload[FC_DATA_MAX_PAYLOAD], pkt[FC_PKT_MAX];
    uint32_t chunk = rec[0] & 3;
    struct fc_asm_chunk *c;
    struct fc_blocks cut;
    struct fc_data d;
    struct fc_hdr h;
    int n, rc;

    if (chunk >= s->m.n_chunks ||
        fc_blocks_init(&cut, s->chunks[chunk].comp_size, s->payload, s->k_max))
        return;
    d.chunk = chunk;
    d.block = rec[1];
    d.index = rec[2];
    d.k = (rec[3] & 1) ? rec[3] >> 1 : (rec[1] < cut.blocks ? fc_blocks_k(&cut, rec[1]) : 1);
    d.len = cut.sym_len;
    d.payload = payload;
    memset(payload, rec[3], sizeof(payload));
    if (!forged && (rec[3] & 1 || d.block >= cut.blocks ||
                    !genuine_payload(s, &cut, chunk, d.block, d.index, payload)))
        forged = 1;
    n = fc_data_encode(pkt, sizeof(pkt), 7, s->seq, &d);
    if (n < 0 || fc_data_decode(pkt, (size_t)n, &h, &d))
        return;
    s->seq += (rec[3] & 2) ? 0x10000000u : 1;
    rc = fc_asm_add(a, &d, h.seq, 1, &c);
    FUZZ_ASSERT(rc == FC_EPROTO || rc == FC_ENOMEM || (rc >= FC_ASM_STORED && rc <= FC_ASM_CHUNK));
    if (forged && (rc == FC_ASM_STORED || rc == FC_ASM_BLOCK || rc == FC_ASM_CHUNK))
        s->tainted[chunk] = 1;
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "chunk %u block %u index %u k %u: %d\n", chunk, d.block, d.index, d.k, rc);
    if (rc == FC_ASM_CHUNK)
        check_complete(s, a, c);
    else if (c)
        check_naks(c);
}

static void action(struct session *s, struct fc_asm *a, const uint8_t *rec)
{
    uint32_t chunk = rec[0] & 3;
    unsigned act = (rec[0] >> 2) & 7;
    struct fc_asm_chunk *c;

    if (act < 4 || act == 4) {
        add_packet(s, a, rec, act == 4);
    } else if (act == 5) {
        if (fc_asm_forget(a, chunk, &c) == 0)
            s->tainted[chunk < MAX_CHUNKS ? chunk : 0] = 0;
    } else if (act == 6) {
        fc_asm_written(a, chunk);
    } else {
        fc_asm_drop_active(a, s->payload, s->k_max);
    }
}

/* Seeds: a session and the records that bring its chunks in, each block
 * with its first source packet lost and replaced by a parity packet. */
struct seed_buf {
    uint8_t b[8192];
    size_t n;
};

static void put(struct seed_buf *sb, uint8_t v)
{
    if (sb->n < sizeof(sb->b))
        sb->b[sb->n++] = v;
}

static void seed_session(struct seed_buf *sb, uint16_t payload, uint8_t k_max, uint8_t n,
                         const uint16_t *sizes, uint8_t slots, uint16_t mem)
{
    uint8_t i;

    sb->n = 0;
    put(sb, (uint8_t)(payload - 1)), put(sb, (uint8_t)((payload - 1) >> 8));
    put(sb, (uint8_t)(k_max - 1));
    put(sb, (uint8_t)(n - 1));
    for (i = 0; i < n; i++)
        put(sb, (uint8_t)(sizes[i] - 1)), put(sb, (uint8_t)((sizes[i] - 1) >> 8));
    put(sb, (uint8_t)(slots - 1));
    put(sb, (uint8_t)mem), put(sb, (uint8_t)(mem >> 8));
}

static void seed_chunk(struct seed_buf *sb, uint16_t payload, uint8_t k_max, uint8_t chunk,
                       uint16_t size, uint8_t act)
{
    struct fc_blocks cut;
    uint32_t b;
    unsigned i;

    fc_blocks_init(&cut, size, payload, k_max);
    for (b = 0; b < cut.blocks; b++) {
        uint8_t k = fc_blocks_k(&cut, b);
        for (i = 1; i <= k; i++) { /* sources 1..k-1, then parity index k */
            put(sb, (uint8_t)(chunk | act << 2)), put(sb, (uint8_t)b);
            put(sb, (uint8_t)i), put(sb, 0);
        }
    }
}

static void write_seeds(void)
{
    static const uint16_t sizes[] = {5000, 700, 8192, 1};
    static struct seed_buf sb;

    seed_session(&sb, 1000, 4, 4, sizes, 4, 0xffff);
    seed_chunk(&sb, 1000, 4, 0, sizes[0], 0);
    seed_chunk(&sb, 1000, 4, 1, sizes[1], 0);
    seed_chunk(&sb, 1000, 4, 2, sizes[2], 0);
    seed_chunk(&sb, 1000, 4, 3, sizes[3], 0);
    fuzz_seed("four-chunks.bin", sb.b, sb.n);
    /* small packets, many blocks, one slot: evictions between chunks */
    seed_session(&sb, 64, 16, 2, sizes, 1, 4096);
    seed_chunk(&sb, 64, 16, 0, sizes[0], 0);
    seed_chunk(&sb, 64, 16, 1, sizes[1], 1);
    fuzz_seed("evict.bin", sb.b, sb.n);
    /* a forged packet, the hash failure (forget), then the chunk again */
    seed_session(&sb, 1448, 200, 1, sizes + 2, 2, 0xffff);
    put(&sb, 4 << 2), put(&sb, 0), put(&sb, 0), put(&sb, 0x80);
    seed_chunk(&sb, 1448, 200, 0, sizes[2], 0);
    put(&sb, 5 << 2), put(&sb, 0), put(&sb, 0), put(&sb, 0);
    seed_chunk(&sb, 1448, 200, 0, sizes[2], 2);
    put(&sb, 6 << 2), put(&sb, 0), put(&sb, 0), put(&sb, 0);
    put(&sb, 7 << 2), put(&sb, 0), put(&sb, 0), put(&sb, 2);
    fuzz_seed("forged-forget.bin", sb.b, sb.n);
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct session s;
    struct fuzz_in in = {data, size};
    struct fc_asm a;
    unsigned slots;
    size_t mem_max;

    fuzz_quiet();
    if (!s.fec && fc_fec_new(&s.fec))
        abort();
    session_init(&s, &in);
    slots = 1 + fuzz_u8(&in) % 4;
    mem_max = (size_t)fuzz_u16(&in) * 4;
    FUZZ_ASSERT(fc_asm_init(&a, &s.m, s.payload, s.k_max, slots, mem_max) == 0);
    /* One decoder for every run: a fresh one is a 0.5 MiB calloc that would
     * cost more than the run itself; its tables depend on k only. */
    fc_fec_free(a.fec);
    a.fec = s.fec;
    while (in.left >= 4) {
        action(&s, &a, in.p);
        in.p += 4;
        in.left -= 4;
    }
    a.fec = NULL;
    fc_asm_free(&a);
    return 0;
}
