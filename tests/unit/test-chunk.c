/* One chunk: encode, then decode refusing forged bytes (FC_EHASH) before
 * zstd runs, and telling a bad image (FC_ECORRUPT) apart from a forgery. */
#include <stdlib.h>
#include <string.h>

#include "common/chunk.h"
#include "common/error.h"
#include "tests/unit/unit.h"

#define RAW 100000

static uint8_t raw[RAW], out[RAW];

static size_t encode(struct fc_chunk *c, uint8_t **comp)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(RAW), i;

    for (i = 0; i < RAW; i++)
        raw[i] = (uint8_t)(i % 251 ^ (i >> 9));
    *comp = malloc(cap);
    ck_assert_int_eq(fc_chunk_encode(cc, 3, raw, RAW, *comp, cap, c), 0);
    ZSTD_freeCCtx(cc);
    return c->comp_size;
}

START_TEST(test_roundtrip)
{
    struct fc_chunk c;
    uint8_t *comp;
    size_t n = encode(&c, &comp);
    ZSTD_DCtx *d = ZSTD_createDCtx();

    ck_assert_uint_lt(n, RAW);
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), 0);
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
    ck_assert_int_eq(fc_chunk_decode(d, &c, comp, n, out), FC_ECORRUPT);
    ZSTD_freeDCtx(d);
    free(comp);
}
END_TEST

FC_TEST_MAIN("chunk", test_roundtrip, test_forged_byte_is_hash_error,
             test_bad_content_hash_is_corrupt_image)
