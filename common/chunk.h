/* One chunk in memory: compressing and hashing it at capture, and checking
 * and decompressing it before anything is written. fc_chunk_decode() is the
 * only way compressed bytes become disk bytes, for restore and receiver. */
#ifndef FC_CHUNK_H
#define FC_CHUNK_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "common/manifest.h"

void fc_hash(const void *buf, size_t len, uint8_t out[FC_HASH_LEN]);

/* Compresses raw[0..raw_len) into comp (capacity comp_cap, at least
 * ZSTD_compressBound(raw_len)) as one zstd frame with its content checksum,
 * and fills the chunk's sizes and hashes. */
int fc_chunk_encode(ZSTD_CCtx *cctx, int level, const uint8_t *raw, uint32_t raw_len, uint8_t *comp,
                    size_t comp_cap, struct fc_chunk *c);

/* Checks comp against c->comp_hash before zstd sees a byte of it
 * (FC_EHASH: forged or damaged on the way, get it again), then decompresses
 * into raw (capacity c->raw_size). The signed comp hash is the security
 * check; what remains is whether decompression gave the right bytes
 * (FC_ECORRUPT: the image itself is bad). A frame written with zstd's
 * content checksum (every capture since the checksum was added) is checked
 * by zstd's XXH64 alone, the hot path of restore and receiver; an older
 * frame by c->raw_hash. */
int fc_chunk_decode(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp, size_t comp_len,
                    uint8_t *raw);
/* The same, always checking c->raw_hash as well: `fleetcast image verify`,
 * which vouches for every hash the manifest records (the raw hashes are what
 * compare and a receiver's read-back check the disk against). */
int fc_chunk_decode_full(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp,
                         size_t comp_len, uint8_t *raw);

#endif
