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
 * ZSTD_compressBound(raw_len)) and fills the chunk's sizes and hashes. */
int fc_chunk_encode(ZSTD_CCtx *cctx, int level, const uint8_t *raw, uint32_t raw_len, uint8_t *comp,
                    size_t comp_cap, struct fc_chunk *c);

/* Checks comp against c->comp_hash before zstd sees a byte of it
 * (FC_EHASH: forged or damaged on the way, get it again), then decompresses
 * into raw (capacity c->raw_size) and checks c->raw_hash (FC_ECORRUPT: the
 * image itself is bad). */
int fc_chunk_decode(ZSTD_DCtx *dctx, const struct fc_chunk *c, const uint8_t *comp, size_t comp_len,
                    uint8_t *raw);

#endif
