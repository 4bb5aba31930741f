/* A small valid image for the seeds of the image, manifest and chunk
 * harnesses: two chunks of real zstd frames over three extents of a 1 MiB
 * MBR disk, made by the same encoders capture uses. */
#ifndef FC_TESTS_FUZZ_SAMPLE_H
#define FC_TESTS_FUZZ_SAMPLE_H

#include <string.h>
#include <zstd.h>

#include "common/chunk.h"
#include "common/manifest.h"

#define SAMPLE_CHUNKS 2

struct sample {
    struct fc_manifest m;
    struct fc_part parts[2];
    struct fc_chunk chunks[SAMPLE_CHUNKS];
    struct fc_extent extents[3];
    uint8_t raw[SAMPLE_CHUNKS][8192];
    uint8_t comp[SAMPLE_CHUNKS][8192 + 512];
};

static inline void sample_make(struct sample *s)
{
    static const uint32_t raw_len[SAMPLE_CHUNKS] = {8192, 4096};
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    uint64_t off = 256;
    uint32_t i, j;

    memset(s, 0, sizeof(*s));
    memcpy(s->m.image_id, "fuzz-sample-img!", FC_IMAGE_ID_LEN);
    s->m.disk_size = 1 << 20;
    s->m.sector_size = 512;
    s->m.table = FC_TABLE_MBR;
    s->m.level = 3;
    s->m.chunk_size = FC_CHUNK_DEFAULT;
    s->m.created = 1700000000;
    s->m.data_offset = 256;
    strcpy(s->m.source, "/dev/sdz");
    strcpy(s->m.tool, "fleetcast fuzz seed");
    s->parts[0] = (struct fc_part){.index = 0, .start = 0, .size = 1 << 20, .stored_bytes = 4096};
    s->parts[1] = (struct fc_part){.index = 1,
                                   .start = 65536,
                                   .size = 512 << 10,
                                   .fs = FC_FS_EXT4,
                                   .method = FC_METHOD_FSBITMAP,
                                   .stored_bytes = 8192};
    strcpy(s->parts[1].type, "0x83");
    s->m.n_parts = 2;
    s->m.parts = s->parts;
    s->extents[0] = (struct fc_extent){0, 4096};
    s->extents[1] = (struct fc_extent){65536, 4096};
    s->extents[2] = (struct fc_extent){131072, 4096};
    s->m.n_extents = 3;
    s->m.extents = s->extents;
    for (i = 0; i < SAMPLE_CHUNKS; i++) {
        struct fc_chunk *c = &s->chunks[i];

        for (j = 0; j < raw_len[i]; j++)
            s->raw[i][j] = (uint8_t)(j % 251 < 100 ? j : 0);
        fc_chunk_encode(cctx, 3, s->raw[i], raw_len[i], s->comp[i], sizeof(s->comp[i]), c);
        c->file_off = off;
        c->first_extent = i * 2;
        c->n_extents = i ? 1 : 2;
        off += c->comp_size;
        s->m.stored_bytes += c->raw_size;
        s->m.compressed_bytes += c->comp_size;
    }
    s->m.n_chunks = SAMPLE_CHUNKS;
    s->m.chunks = s->chunks;
    ZSTD_freeCCtx(cctx);
}

#endif
