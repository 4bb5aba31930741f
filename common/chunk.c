/* Chunk encode/decode with BLAKE2b-256 (libsodium) and zstd. */
#include "common/chunk.h"

#include <sodium.h>

#include "common/error.h"

void fc_hash(const void *buf, size_t len, uint8_t out[FC_HASH_LEN])
{
    crypto_generichash(out, FC_HASH_LEN, buf, len, NULL, 0);
}

int fc_chunk_encode(ZSTD_CCtx *cctx, int level, const uint8_t *raw, uint32_t raw_len, uint8_t *comp,
                    size_t comp_cap, struct fc_chunk *c)
{
    size_t n = ZSTD_compressCCtx(cctx, comp, comp_cap, raw, raw_len, level);

    if (ZSTD_isError(n))
        return FC_ECOMPRESS;
    c->raw_size = raw_len;
    c->comp_size = (uint32_t)n;
    fc_hash(raw, raw_len, c->raw_hash);
    fc_hash(comp, n, c->comp_hash);
    return 0;
}

int fc_chunk_decode(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp, size_t comp_len,
                    uint8_t *raw)
{
    uint8_t h[FC_HASH_LEN];
    size_t n;

    if (comp_len != c->comp_size)
        return FC_EHASH;
    fc_hash(comp, comp_len, h);
    if (sodium_memcmp(h, c->comp_hash, FC_HASH_LEN) != 0)
        return FC_EHASH;
    n = ZSTD_decompressDCtx(dctx, raw, c->raw_size, comp, comp_len);
    /* From here the bytes are the signed ones: a failure is not a forgery
     * on the way (fetching them again would not help) but a bad image. */
    if (ZSTD_isError(n) || n != c->raw_size)
        return FC_ECORRUPT;
    fc_hash(raw, n, h);
    if (sodium_memcmp(h, c->raw_hash, FC_HASH_LEN) != 0)
        return FC_ECORRUPT;
    return 0;
}
