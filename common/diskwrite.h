/* The write path: a target (file or block device) opened for an image's
 * disk, and the one function that turns a received or stored chunk into
 * disk bytes: fc_target_put_chunk() checks it against the manifest and
 * writes its extents. `fleetcast image restore` and fleetcast-recv both end
 * here. */
#ifndef FC_DISKWRITE_H
#define FC_DISKWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "common/manifest.h"

enum fc_free_mode { FC_FREE_KEEP = 0, FC_FREE_ZERO, FC_FREE_DISCARD };

struct fc_target {
    int fd;
    uint64_t size;
    int is_blockdev;
    int created;
    /* What fc_target_finish() does with the space the image does not store;
     * a receiver learns it after opening (a session may ask for zeroing). */
    enum fc_free_mode free_mode;
    char path[4096];
};

/* Opens path for a disk of disk_size bytes: creates a missing file at that
 * size; refuses (FC_ETOOSMALL, nothing written) a smaller file or device;
 * opens a block device exclusively so a mounted disk is refused. */
int fc_target_open(const char *path, uint64_t disk_size, struct fc_target *t);
/* Verifies chunk idx (fc_chunk_decode into scratch, m->chunk_size bytes)
 * and writes its extents. Nothing is written unless both hashes match. */
int fc_target_put_chunk(struct fc_target *t, const struct fc_manifest *m, uint32_t idx,
                        const uint8_t *comp, size_t comp_len, uint8_t *scratch, ZSTD_DCtx *dctx);
/* Before the first chunk is written: zeroes what the image does not store but
 * an old disk may still hold and a machine would read later -- the first and
 * last MiB of the target (partition tables: an old backup GPT at the end of a
 * larger disk) and of every partition (md, LVM, ZFS and filesystem labels).
 * Stored extents are left out, so this can never undo image data; logs one
 * line. Used by `image restore` and fleetcast-recv alike. */
int fc_target_clear_stale(struct fc_target *t, const struct fc_manifest *m);
/* Zeroes (hole punch on files, BLKZEROOUT on devices) or discards every
 * region no chunk covers (the don't-care space), to the end of the target. */
int fc_target_fill_free(struct fc_target *t, const struct fc_manifest *m, enum fc_free_mode mode);
/* fsync: success is only claimed after the data is on stable storage. */
int fc_target_sync(struct fc_target *t);
/* After the last chunk: fc_target_fill_free() with t->free_mode, then fsync. */
int fc_target_finish(struct fc_target *t, const struct fc_manifest *m);
void fc_target_close(struct fc_target *t);

#endif
