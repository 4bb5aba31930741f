/* Target disks: open with size checks, verified chunk writes, free space
 * zeroing/discard (BLKZEROOUT/BLKDISCARD on devices, fallocate on files). */
#include "common/diskwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/chunk.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"

static int open_new_file(const char *path, uint64_t disk_size, struct fc_target *t)
{
    t->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (t->fd < 0) {
        fc_error("cannot create target %s: %s", path, strerror(errno));
        return FC_EIO;
    }
    t->created = 1;
    if (ftruncate(t->fd, (off_t)disk_size) < 0) {
        fc_error("cannot size target %s to %llu bytes: %s", path, (unsigned long long)disk_size,
                 strerror(errno));
        return FC_EIO;
    }
    t->size = disk_size;
    return 0;
}

int fc_target_open(const char *path, uint64_t disk_size, struct fc_target *t)
{
    struct stat st;
    int rc;

    memset(t, 0, sizeof(*t));
    t->fd = -1;
    snprintf(t->path, sizeof(t->path), "%s", path);
    if (stat(path, &st) < 0) {
        if (errno != ENOENT) {
            fc_error("cannot use target %s: %s", path, strerror(errno));
            return FC_EIO;
        }
        rc = open_new_file(path, disk_size, t);
        goto out;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        fc_error("target %s is neither a block device nor a regular file", path);
        return FC_EINVAL;
    }
    /* O_EXCL on a block device fails if it is mounted or otherwise in use. */
    t->fd = open(path, O_RDWR | O_CLOEXEC | (S_ISBLK(st.st_mode) ? O_EXCL : 0));
    if (t->fd < 0) {
        fc_error("cannot open target %s: %s", path,
                 errno == EBUSY ? "device is in use (mounted?)" : strerror(errno));
        return FC_EIO;
    }
    rc = fc_disk_size(t->fd, &t->size, &t->is_blockdev);
    if (!rc && t->size < disk_size) {
        fc_error("target %s is %llu bytes, smaller than the image's disk of %llu bytes; "
                 "nothing written",
                 path, (unsigned long long)t->size, (unsigned long long)disk_size);
        rc = FC_ETOOSMALL;
    }
out:
    if (rc)
        fc_target_close(t);
    return rc;
}

int fc_target_put_chunk(struct fc_target *t, const struct fc_manifest *m, uint32_t idx,
                        const uint8_t *comp, size_t comp_len, uint8_t *scratch, ZSTD_DCtx *dctx)
{
    const struct fc_chunk *c;
    const uint8_t *p = scratch;
    uint32_t i;
    int rc;

    if (idx >= m->n_chunks)
        return FC_EINVAL;
    c = &m->chunks[idx];
    rc = fc_chunk_decode(dctx, c, comp, comp_len, scratch);
    if (rc)
        return rc;
    for (i = 0; i < c->n_extents; i++) {
        const struct fc_extent *e = &m->extents[c->first_extent + i];
        rc = fc_pwrite_full(t->fd, p, e->len, e->off);
        if (rc) {
            fc_error("writing %s at offset %llu: %s", t->path, (unsigned long long)e->off,
                     strerror(errno));
            return FC_EIO;
        }
        /* Start writeback now, so the final fsync does not find the whole
         * disk's data still dirty; the call does not wait. */
        sync_file_range(t->fd, (off64_t)e->off, e->len, SYNC_FILE_RANGE_WRITE);
        p += e->len;
    }
    return 0;
}

static int write_zeros(int fd, uint64_t off, uint64_t len)
{
    static const uint8_t zero[1 << 16];

    while (len > 0) {
        size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
        if (fc_pwrite_full(fd, zero, n, off))
            return FC_EIO;
        off += n;
        len -= n;
    }
    return 0;
}

static int zero_range(struct fc_target *t, uint64_t off, uint64_t len)
{
    uint64_t r[2] = {off, len};

    if (t->is_blockdev && ioctl(t->fd, BLKZEROOUT, r) == 0)
        return 0;
    if (!t->is_blockdev && fallocate(t->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
        return 0;
    return write_zeros(t->fd, off, len);
}

/* Returns 1 if the target cannot discard, so the caller warns once. */
static int discard_range(struct fc_target *t, uint64_t off, uint64_t len)
{
    uint64_t r[2] = {off, len};

    if (t->is_blockdev)
        return ioctl(t->fd, BLKDISCARD, r) == 0 ? 0 : 1;
    return fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0
               ? 0
               : 1;
}

static int fill_gap(struct fc_target *t, enum fc_free_mode mode, uint64_t off, uint64_t end,
                    int *unsupported)
{
    if (end <= off)
        return 0;
    if (mode == FC_FREE_ZERO)
        return zero_range(t, off, end - off);
    if (!*unsupported && discard_range(t, off, end - off)) {
        *unsupported = 1;
        fc_warn("%s does not support discard (%s); free regions left as they are", t->path,
                strerror(errno));
    }
    return 0;
}

int fc_target_fill_free(struct fc_target *t, const struct fc_manifest *m, enum fc_free_mode mode)
{
    uint64_t pos = 0;
    uint32_t i;
    int unsupported = 0, rc = 0;

    if (mode == FC_FREE_KEEP)
        return 0;
    for (i = 0; i < m->n_extents && !rc; i++) {
        rc = fill_gap(t, mode, pos, m->extents[i].off, &unsupported);
        pos = m->extents[i].off + m->extents[i].len;
    }
    if (!rc)
        rc = fill_gap(t, mode, pos, m->disk_size, &unsupported);
    if (rc)
        fc_error("zeroing free regions of %s: %s", t->path, strerror(errno));
    return rc;
}

int fc_target_sync(struct fc_target *t)
{
    if (fsync(t->fd) < 0) {
        fc_error("fsync of %s failed: %s; the disk may not hold the image", t->path,
                 strerror(errno));
        return FC_EIO;
    }
    return 0;
}

void fc_target_close(struct fc_target *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
