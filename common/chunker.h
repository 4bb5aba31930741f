/* Cuts the stream of stored disk bytes into chunks of at most chunk_size
 * bytes, recording the extents each covers. The capture pipeline supplies
 * the buffers (get) and takes full chunks (emit). */
#ifndef FC_CHUNKER_H
#define FC_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"

#define FC_ZERO_BLOCK 4096 /* granularity of all-zero block skipping */

struct fc_chunk_buf {
    uint8_t *raw;
    uint32_t len;
    struct fc_extent *ext;
    uint32_t n_ext;
    uint32_t cap_ext;
};

struct fc_chunker {
    uint32_t chunk_size;
    struct fc_chunk_buf *cur;
    struct fc_chunk_buf *(*get)(void *ctx);           /* an empty buffer, or NULL to stop */
    int (*emit)(void *ctx, struct fc_chunk_buf *buf); /* a full one */
    void *ctx;
};

/* Stores all len bytes at disk offset off. */
int fc_chunker_add(struct fc_chunker *ch, uint64_t off, const uint8_t *data, size_t len);
/* Stores only the blocks that are not all zero, blocks aligned to absolute
 * disk offsets (multiples of FC_ZERO_BLOCK). Returns bytes kept or < 0. */
int64_t fc_chunker_add_nonzero(struct fc_chunker *ch, uint64_t off, const uint8_t *data,
                               size_t len);
/* Emits a partly filled chunk, if any. */
int fc_chunker_flush(struct fc_chunker *ch);

#endif
