/* Chunk encode/decode with BLAKE2b-256 (libsodium) and zstd. */
#include "common/chunk.h"

#include <sodium.h>

#include "common/bytes.h"
#include "common/error.h"

void fc_hash(const void *buf, size_t len, uint8_t out[FC_HASH_LEN])
{
    crypto_generichash(out, FC_HASH_LEN, buf, len, NULL, 0);
}

int fc_chunk_encode(ZSTD_CCtx *cctx, int level, const uint8_t *raw, uint32_t raw_len, uint8_t *comp,
                    size_t comp_cap, struct fc_chunk *c)
{
    size_t n;

    /* The frame's own XXH64 of the raw bytes: what lets a receiver check
     * its decompression without a second BLAKE2b (fc_chunk_decode). */
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)))
        return FC_ECOMPRESS;
    n = ZSTD_compress2(cctx, comp, comp_cap, raw, raw_len);
    if (ZSTD_isError(n))
        return FC_ECOMPRESS;
    c->raw_size = raw_len;
    c->comp_size = (uint32_t)n;
    fc_hash(raw, raw_len, c->raw_hash);
    fc_hash(comp, n, c->comp_hash);
    return 0;
}

/* A single frame that carries its content checksum: zstd then checks the
 * decompressed bytes itself. Anything else (images captured before the
 * checksum, several frames) is checked by the raw hash. The flag is read
 * from the frame header as RFC 8878 lays it out (magic, then the descriptor
 * byte, bit 2): ZSTD_getFrameHeader() is in zstd's unstable API. */
static int frame_self_checked(const uint8_t *comp, size_t comp_len)
{
    if (comp_len < 5 || fc_get32(comp) != ZSTD_MAGICNUMBER || !(comp[4] & 0x04))
        return 0;
    return ZSTD_findFrameCompressedSize(comp, comp_len) == comp_len;
}

static int decode(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp, size_t comp_len,
                  uint8_t *raw, int full)
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
     * on the way (fetching them again would not help) but a bad image. A
     * checksum mismatch is a zstd error too, so it lands here. */
    if (ZSTD_isError(n) || n != c->raw_size)
        return FC_ECORRUPT;
    if (!full && frame_self_checked(comp, comp_len))
        return 0;
    fc_hash(raw, n, h);
    if (sodium_memcmp(h, c->raw_hash, FC_HASH_LEN) != 0)
        return FC_ECORRUPT;
    return 0;
}

int fc_chunk_decode(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp, size_t comp_len,
                    uint8_t *raw)
{
    return decode(dctx, c, comp, comp_len, raw, 0);
}

int fc_chunk_decode_full(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp,
                         size_t comp_len, uint8_t *raw)
{
    return decode(dctx, c, comp, comp_len, raw, 1);
}
