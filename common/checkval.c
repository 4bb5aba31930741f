/* Whole-disk check value (see checkval.h). */
#include "common/checkval.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/chunk.h"
#include "common/disk.h"
#include "common/error.h"

void fc_checkval_written(const struct fc_manifest *m, const uint8_t *written,
                         uint8_t out[FC_CHECKVAL_LEN], int64_t *first_missing)
{
    static const uint8_t none[FC_HASH_LEN];
    crypto_generichash_state st;
    uint32_t i;

    if (first_missing)
        *first_missing = -1;
    crypto_generichash_init(&st, NULL, 0, FC_CHECKVAL_LEN);
    for (i = 0; i < m->n_chunks; i++) {
        int have = !written || written[i];
        if (!have && first_missing && *first_missing < 0)
            *first_missing = i;
        /* A chunk not written counts as a hash no content has: the value
         * then differs from the expected one, as a read-back's would. */
        crypto_generichash_update(&st, have ? m->chunks[i].raw_hash : none, FC_HASH_LEN);
    }
    crypto_generichash_final(&st, out, FC_CHECKVAL_LEN);
}

void fc_checkval_expected(const struct fc_manifest *m, uint8_t out[FC_CHECKVAL_LEN])
{
    fc_checkval_written(m, NULL, out, NULL);
}

static int chunk_hash_from_disk(const struct fc_manifest *m, uint32_t idx, int fd, uint8_t *buf,
                                uint8_t h[FC_HASH_LEN])
{
    const struct fc_chunk *c = &m->chunks[idx];
    uint8_t *p = buf;
    uint32_t i;

    for (i = 0; i < c->n_extents; i++) {
        const struct fc_extent *e = &m->extents[c->first_extent + i];
        if (fc_pread_full(fd, p, e->len, e->off))
            return FC_EIO;
        p += e->len;
    }
    fc_hash(buf, c->raw_size, h);
    return 0;
}

int fc_checkval_read_back(const struct fc_manifest *m, int fd, uint8_t out[FC_CHECKVAL_LEN],
                          int64_t *first_bad)
{
    crypto_generichash_state st;
    uint8_t h[FC_HASH_LEN];
    uint8_t *buf = malloc(FC_CHUNK_MAX);
    uint32_t i;
    int rc = 0;

    if (first_bad)
        *first_bad = -1;
    if (!buf)
        return FC_ENOMEM;
    /* After the fsync, drop the cached pages so the reads below come from
     * the disk itself, not from the memory the writes went through. */
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    crypto_generichash_init(&st, NULL, 0, FC_CHECKVAL_LEN);
    for (i = 0; i < m->n_chunks && !rc; i++) {
        rc = chunk_hash_from_disk(m, i, fd, buf, h);
        if (!rc && first_bad && *first_bad < 0 && memcmp(h, m->chunks[i].raw_hash, FC_HASH_LEN))
            *first_bad = i;
        crypto_generichash_update(&st, h, FC_HASH_LEN);
    }
    crypto_generichash_final(&st, out, FC_CHECKVAL_LEN);
    free(buf);
    return rc;
}
