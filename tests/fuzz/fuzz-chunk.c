/* libFuzzer harness of chunk decoding (common/chunk.c), the only way
 * compressed bytes become disk bytes. The input is a raw size and a zstd
 * frame; the harness gives the chunk the frame's own compressed-bytes hash,
 * as a signed manifest would, so that zstd itself is fuzzed past the hash
 * check. Properties: no overflow of the raw buffer (exactly raw_size bytes),
 * a frame that does not decompress to exactly raw_size bytes is FC_ECORRUPT,
 * one that does decodes with the right content hash (the full check refuses
 * any other hash; the hot path may accept a frame zstd's checksum vouches
 * for); and what
 * fc_chunk_encode() makes decodes back to the same bytes. */
#include <string.h>

#include "common/bytes.h"
#include "common/chunk.h"
#include "common/error.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/sample.h"

#define RAW_MAX (128u << 10) /* enough to exercise zstd; FC_CHUNK_MAX would slow the fuzzer */

static void encode_decode(ZSTD_CCtx *cctx, ZSTD_DCtx *dctx, const uint8_t *raw, uint32_t len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *comp = malloc(cap), *back = malloc(len ? len : 1);
    struct fc_chunk c;

    FUZZ_ASSERT(fc_chunk_encode(cctx, 1, raw, len, comp, cap, &c) == 0);
    FUZZ_ASSERT(fc_chunk_decode(dctx, &c, comp, c.comp_size, back) == 0);
    FUZZ_ASSERT(!memcmp(raw, back, len));
    free(comp);
    free(back);
}

/* Seeds: the raw size as a u32, then the frame. */
static void seed_frame(const char *name, uint32_t raw_size, const uint8_t *frame, size_t len)
{
    uint8_t buf[4 + sizeof(((struct sample *)0)->comp[0])];

    fc_put32(buf, raw_size);
    memcpy(buf + 4, frame, len);
    fuzz_seed(name, buf, 4 + len);
}

static void write_seeds(void)
{
    static struct sample s;
    static const uint8_t empty_frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00};
    static uint8_t plain[sizeof(s.comp[0])];
    size_t n;

    sample_make(&s);
    seed_frame("chunk0.bin", s.chunks[0].raw_size, s.comp[0], s.chunks[0].comp_size);
    seed_frame("chunk1.bin", s.chunks[1].raw_size, s.comp[1], s.chunks[1].comp_size);
    seed_frame("short-raw.bin", s.chunks[0].raw_size - 1, s.comp[0], s.chunks[0].comp_size);
    seed_frame("empty-frame.bin", 0, empty_frame, sizeof(empty_frame));
    /* A frame as images captured before the content checksum have them. */
    n = ZSTD_compress(plain, sizeof(plain), s.raw[0], s.chunks[0].raw_size, 3);
    if (!ZSTD_isError(n))
        seed_frame("chunk0-nochecksum.bin", s.chunks[0].raw_size, plain, n);
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ZSTD_DCtx *dctx;
    static ZSTD_CCtx *cctx;
    struct fuzz_in in = {data, size};
    struct fc_chunk c;
    uint8_t *comp, *raw;
    int rc;

    fuzz_quiet();
    if (!dctx) {
        dctx = ZSTD_createDCtx();
        cctx = ZSTD_createCCtx();
    }
    memset(&c, 0, sizeof(c));
    c.raw_size = fuzz_u32(&in) % (RAW_MAX + 1);
    c.comp_size = (uint32_t)in.left;
    comp = malloc(in.left ? in.left : 1);
    memcpy(comp, in.p, in.left);
    raw = malloc(c.raw_size ? c.raw_size : 1);
    fc_hash(comp, in.left, c.comp_hash);
    rc = fc_chunk_decode_full(dctx, &c, comp, in.left, raw);
    FUZZ_ASSERT(rc == FC_ECORRUPT); /* raw_hash is zero: no content has that hash */
    /* The hot path may take a checksummed frame on zstd's word alone. */
    rc = fc_chunk_decode(dctx, &c, comp, in.left, raw);
    FUZZ_ASSERT(rc == FC_ECORRUPT || rc == 0);
    if (ZSTD_decompressDCtx(dctx, raw, c.raw_size, comp, in.left) == c.raw_size) {
        fc_hash(raw, c.raw_size, c.raw_hash);
        FUZZ_ASSERT(fc_chunk_decode(dctx, &c, comp, in.left, raw) == 0);
        FUZZ_ASSERT(fc_chunk_decode_full(dctx, &c, comp, in.left, raw) == 0);
    }
    c.comp_hash[0] ^= 1; /* a forged packet: refused before zstd */
    FUZZ_ASSERT(fc_chunk_decode(dctx, &c, comp, in.left, raw) == FC_EHASH);
    encode_decode(cctx, dctx, in.p, (uint32_t)(in.left < RAW_MAX ? in.left : RAW_MAX));
    free(comp);
    free(raw);
    return 0;
}
