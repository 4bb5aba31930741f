/* One chunk: encode, then decode refusing forged bytes (FC_EHASH) before
 * zstd runs, and telling a bad image (FC_ECORRUPT) apart from a forgery.
 * Frames carry zstd's content checksum, which alone checks decompression on
 * the hot path; frames of older images without it are checked by the raw
 * hash; fc_chunk_decode_full (image verify) always checks the raw hash.
 * Without read-back, the whole-disk value is that of the chunks written. */
#include <stdlib.h>
#include <string.h>

#include "common/checkval.h"
#include "common/chunk.h"
#include "common/error.h"
#include "tests/unit/unit.h"

#define RAW 100000

static uint8_t raw[RAW], out[RAW];

static void fill_raw(void)
{
    size_t i;

    for (i = 0; i < RAW; i++)
        raw[i] = (uint8_t)(i % 251 ^ (i >> 9));
}

static size_t encode(struct fc_chunk *c, uint8_t **comp)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(RAW);

    fill_raw();
    *comp = malloc(cap);
    ck_assert_int_eq(fc_chunk_encode(cc, 3, raw, RAW, *comp, cap, c), 0);
    ZSTD_freeCCtx(cc);
    return c->comp_size;
}

/* A manifest entry for comp as a signer would record it, with raw_hash set
 * to the hash of `content`: the comp hash check passes whatever comp is. */
static void entry_for(struct fc_chunk *c, const uint8_t *comp, size_t n, const uint8_t *content)
{
    memset(c, 0, sizeof(*c));
    c->raw_size = RAW;
    c->comp_size = (uint32_t)n;
    fc_hash(comp, n, c->comp_hash);
    fc_hash(content, RAW, c->raw_hash);
}

START_TEST(test_roundtrip)
{
    struct fc_chunk c;
    uint8_t *comp;
    size_t n = encode(&c, &comp);
    ZSTD_DCtx *d = ZSTD_createDCtx();

    ck_assert_uint_lt(n, RAW);
    ck_assert_uint_eq(comp[4] & 0x04, 0x04); /* the frame has its content checksum */
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), 0);
    ck_assert_mem_eq(out, raw, RAW);
    memset(out, 0, RAW);
    ck_assert_int_eq(fc_chunk_decode_full(d, &c, comp, n, out), 0);
    ck_assert_mem_eq(out, raw, RAW);
    ZSTD_freeDCtx(d);
    free(comp);
}
END_TEST

START_TEST(test_forged_byte_is_hash_error)
{
    struct fc_chunk c;
    uint8_t *comp;
    size_t n = encode(&c, &comp);
    ZSTD_DCtx *d = ZSTD_createDCtx();

    comp[n / 2] ^= 1;
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), FC_EHASH);
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n - 1, out), FC_EHASH);
    ck_assert_int_eq(fc_chunk_decode_full(d, &c, comp, n, out), FC_EHASH);
    ZSTD_freeDCtx(d);
    free(comp);
}
END_TEST

/* The checksummed frame is the plain one with the descriptor's checksum bit
 * set and 4 bytes appended, so decompressing the damaged frame without them
 * shows what it would put on disk with nobody checking. Finds a flipped byte
 * that still decompresses to RAW bytes, but wrong ones. */
static size_t find_silent_damage(uint8_t *comp, size_t n, uint8_t *damaged_out)
{
    uint8_t *plain = malloc(n);
    size_t p, got = 0;

    for (p = n / 2; p < n - 4; p++) {
        memcpy(plain, comp, n - 4);
        plain[4] &= (uint8_t)~0x04;
        plain[p] ^= 0x10;
        got = ZSTD_decompress(damaged_out, RAW, plain, n - 4);
        if (got == RAW && memcmp(damaged_out, raw, RAW) != 0)
            break;
    }
    free(plain);
    ck_assert_uint_lt(p, n - 4);
    comp[p] ^= 0x10;
    return p;
}

START_TEST(test_damage_caught_by_checksum)
{
    static uint8_t damaged_out[RAW];
    struct fc_chunk c;
    uint8_t *comp;
    size_t n = encode(&c, &comp);
    ZSTD_DCtx *d = ZSTD_createDCtx();

    find_silent_damage(comp, n, damaged_out);
    /* A manifest entry built from the damaged bytes: the comp hash matches,
     * and even the raw hash is that of the wrong content, so only zstd's
     * XXH64 (of the original bytes, in the frame) can catch it. */
    entry_for(&c, comp, n, damaged_out);
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), FC_ECORRUPT);
    ck_assert_int_eq(fc_chunk_decode_full(d, &c, comp, n, out), FC_ECORRUPT);
    /* A damaged checksum itself (the last 4 bytes) is caught the same way. */
    free(comp);
    n = encode(&c, &comp);
    comp[n - 1] ^= 1;
    entry_for(&c, comp, n, raw);
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), FC_ECORRUPT);
    ZSTD_freeDCtx(d);
    free(comp);
}
END_TEST

START_TEST(test_bad_content_hash_is_corrupt_image)
{
    struct fc_chunk c;
    uint8_t *comp;
    size_t n = encode(&c, &comp);
    ZSTD_DCtx *d = ZSTD_createDCtx();

    c.raw_hash[0] ^= 1; /* as if the signer's tool had recorded a wrong hash */
    /* image verify checks every recorded hash; the hot path trusts the
     * frame's checksum, which the signed comp hash covers. */
    ck_assert_int_eq(fc_chunk_decode_full(d, &c, comp, n, out), FC_ECORRUPT);
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), 0);
    ck_assert_mem_eq(out, raw, RAW);
    ZSTD_freeDCtx(d);
    free(comp);
}
END_TEST

START_TEST(test_old_frame_checked_by_raw_hash)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    size_t cap = ZSTD_compressBound(RAW), n;
    uint8_t *comp = malloc(cap);
    struct fc_chunk c;

    fill_raw();
    /* As images were captured before the checksum: no checksum flag. */
    n = ZSTD_compress(comp, cap, raw, RAW, 3);
    ck_assert(!ZSTD_isError(n));
    ck_assert_uint_eq(comp[4] & 0x04, 0);
    entry_for(&c, comp, n, raw);
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), 0);
    ck_assert_mem_eq(out, raw, RAW);
    c.raw_hash[0] ^= 1;
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), FC_ECORRUPT);
    ck_assert_int_eq(fc_chunk_decode_full(d, &c, comp, n, out), FC_ECORRUPT);
    ZSTD_freeDCtx(d);
    free(comp);
}
END_TEST

/* The value a receiver reports without read-back: the expected one when
 * every chunk was verified and written, another one when any is missing. */
START_TEST(test_checkval_of_written_chunks)
{
    struct fc_chunk chunks[5];
    struct fc_manifest m;
    uint8_t written[5] = {1, 1, 1, 1, 1}, want[FC_CHECKVAL_LEN], got[FC_CHECKVAL_LEN];
    int64_t missing;
    unsigned i;

    memset(&m, 0, sizeof(m));
    memset(chunks, 0, sizeof(chunks));
    for (i = 0; i < 5; i++)
        chunks[i].raw_hash[0] = (uint8_t)(i + 1);
    m.n_chunks = 5;
    m.chunks = chunks;
    fc_checkval_expected(&m, want);
    fc_checkval_written(&m, written, got, &missing);
    ck_assert_mem_eq(got, want, FC_CHECKVAL_LEN);
    ck_assert_int_eq(missing, -1);
    written[3] = 0;
    fc_checkval_written(&m, written, got, &missing);
    ck_assert(memcmp(got, want, FC_CHECKVAL_LEN) != 0);
    ck_assert_int_eq(missing, 3);
}
END_TEST

FC_TEST_MAIN("chunk", test_roundtrip, test_forged_byte_is_hash_error,
             test_damage_caught_by_checksum, test_bad_content_hash_is_corrupt_image,
             test_old_frame_checked_by_raw_hash, test_checkval_of_written_chunks)
