/* Target disks: open with size checks, clearing the old disk's stale labels,
 * verified chunk writes, free space zeroing/discard (BLKZEROOUT/BLKDISCARD on
 * devices, fallocate on files). */
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
#include "common/meter.h"

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
        char h1[16], h2[16];

        fc_error("target %s is %s (%llu bytes), smaller than the image's disk of %s (%llu "
                 "bytes); nothing written",
                 path, fc_human_bytes(t->size, h1, sizeof(h1)), (unsigned long long)t->size,
                 fc_human_bytes(disk_size, h2, sizeof(h2)), (unsigned long long)disk_size);
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

/* Reads back as zeros afterwards. Files: a hole (no space used, as a fresh
 * target has), else zeroed space; devices: BLKZEROOUT, which the kernel turns
 * into write-zeroes or discard-with-zeroes where the device has them. The
 * plain write is the fallback for whatever refuses both. */
static int zero_range(struct fc_target *t, uint64_t off, uint64_t len)
{
    uint64_t r[2] = {off, len};

    if (t->is_blockdev && ioctl(t->fd, BLKZEROOUT, r) == 0)
        return 0;
    if (!t->is_blockdev && (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                                      (off_t)len) == 0 ||
                            fallocate(t->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0))
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
                    int *unsupported, uint64_t *bytes)
{
    if (end <= off)
        return 0;
    *bytes += end - off;
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
    uint64_t pos = 0, bytes = 0;
    uint32_t i;
    int unsupported = 0, rc = 0;
    char h[16];

    if (mode == FC_FREE_KEEP)
        return 0;
    for (i = 0; i < m->n_extents && !rc; i++) {
        rc = fill_gap(t, mode, pos, m->extents[i].off, &unsupported, &bytes);
        pos = m->extents[i].off + m->extents[i].len;
    }
    if (!rc)
        rc = fill_gap(t, mode, pos, t->size, &unsupported, &bytes); /* a larger disk: all */
    if (rc)
        fc_error("zeroing free regions of %s: %s", t->path, strerror(errno));
    else if (!unsupported)
        fc_info("%s: %s the %s the image does not store", t->path,
                mode == FC_FREE_ZERO ? "zeroed" : "discarded", fc_human_bytes(bytes, h, sizeof(h)));
    return rc;
}

/* The areas an old disk keeps what a machine reads before (or instead of) the
 * image's data: partition tables at both ends of the disk (the backup GPT of
 * a larger disk is at its very end, far from the image's), and at both ends of
 * every partition the md, LVM, ZFS and filesystem superblocks and labels. */
#define STALE_EDGE (1ull << 20)

struct span {
    uint64_t off, end;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;

    return x->off < y->off ? -1 : x->off > y->off;
}

/* Appends [off, off + len) clipped to [lo, hi), if anything is left. */
static void add_span(struct span *s, size_t *n, uint64_t off, uint64_t len, uint64_t lo,
                     uint64_t hi)
{
    uint64_t end = off + len;

    if (off < lo)
        off = lo;
    if (end > hi)
        end = hi;
    if (end > off)
        s[(*n)++] = (struct span){off, end};
}

/* Both ends of the target and of every partition, sorted and merged; s has
 * room for 2 + 2 * m->n_parts spans. */
static size_t stale_spans(const struct fc_target *t, const struct fc_manifest *m, struct span *s)
{
    size_t n = 0, i, out = 0;
    uint32_t p;

    add_span(s, &n, 0, STALE_EDGE, 0, t->size);
    add_span(s, &n, t->size > STALE_EDGE ? t->size - STALE_EDGE : 0, STALE_EDGE, 0, t->size);
    for (p = 0; p < m->n_parts; p++) {
        const struct fc_part *q = &m->parts[p];
        uint64_t end = q->start + q->size;

        /* Index 0 is the space between partitions: stored by its non-zero
         * blocks, so what it leaves out was zero on the master anyway. */
        if (q->index == 0 || q->start >= t->size)
            continue;
        if (end > t->size || end < q->start)
            end = t->size;
        add_span(s, &n, q->start, STALE_EDGE, q->start, end);
        add_span(s, &n, end - q->start > STALE_EDGE ? end - STALE_EDGE : q->start, STALE_EDGE,
                 q->start, end);
    }
    qsort(s, n, sizeof(*s), span_cmp);
    for (i = 0; i < n; i++) {
        if (out && s[i].off <= s[out - 1].end) {
            if (s[i].end > s[out - 1].end)
                s[out - 1].end = s[i].end;
        } else {
            s[out++] = s[i];
        }
    }
    return out;
}

/* Index of the first extent ending after off (extents are sorted, disjoint). */
static uint32_t first_extent_after(const struct fc_manifest *m, uint64_t off)
{
    uint32_t lo = 0, hi = m->n_extents;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (m->extents[mid].off + m->extents[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Zeroes the parts of s no extent covers; adds their size to *bytes. */
static int clear_unstored(struct fc_target *t, const struct fc_manifest *m, const struct span *s,
                          uint64_t *bytes)
{
    uint64_t pos = s->off;
    uint32_t i;
    int rc = 0;

    for (i = first_extent_after(m, pos); i < m->n_extents && !rc && pos < s->end; i++) {
        const struct fc_extent *e = &m->extents[i];

        if (e->off >= s->end)
            break;
        if (e->off > pos) {
            rc = zero_range(t, pos, e->off - pos);
            *bytes += e->off - pos;
        }
        pos = e->off + e->len;
    }
    if (!rc && pos < s->end) {
        rc = zero_range(t, pos, s->end - pos);
        *bytes += s->end - pos;
    }
    return rc;
}

int fc_target_clear_stale(struct fc_target *t, const struct fc_manifest *m)
{
    struct span *s = calloc(2 + 2 * (size_t)m->n_parts, sizeof(*s));
    char where[512] = "", h[16];
    uint64_t bytes = 0;
    size_t n, i, len = 0;
    int rc = 0;

    if (!s)
        return FC_ENOMEM;
    n = stale_spans(t, m, s);
    for (i = 0; i < n && !rc; i++) {
        rc = clear_unstored(t, m, &s[i], &bytes);
        if (len + 32 < sizeof(where))
            len += (size_t)snprintf(where + len, sizeof(where) - len, " %.1f-%.1f",
                                    (double)s[i].off / (1 << 20), (double)s[i].end / (1 << 20));
    }
    if (rc)
        fc_error("clearing old labels on %s: %s", t->path, strerror(errno));
    else
        fc_info("%s: cleared %s not stored by the image where an old disk keeps partition "
                "tables and RAID/LVM/ZFS/filesystem labels (ends of the disk and of each "
                "partition; MiB:%s)",
                t->path, fc_human_bytes(bytes, h, sizeof(h)), where);
    free(s);
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

int fc_target_finish(struct fc_target *t, const struct fc_manifest *m)
{
    int rc = fc_target_fill_free(t, m, t->free_mode);

    return rc ? rc : fc_target_sync(t);
}

void fc_target_close(struct fc_target *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
