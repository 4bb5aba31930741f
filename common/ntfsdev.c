/* A partition of an open disk as a libntfs-3g device (ntfsdev.h): the
 * library's own unix device would open a path and see the whole disk. */
#include "common/ntfsdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int io_open(struct ntfs_device *dev, int flags)
{
    struct fc_ntfs_part *p = dev->d_private;

    if ((flags & O_ACCMODE) != O_RDONLY && !p->writable) {
        errno = EROFS;
        return -1;
    }
    NDevSetOpen(dev);
    if ((flags & O_ACCMODE) == O_RDONLY)
        NDevSetReadOnly(dev);
    return 0;
}

static int io_sync(struct ntfs_device *dev)
{
    struct fc_ntfs_part *p = dev->d_private;

    if (!NDevReadOnly(dev) && NDevDirty(dev)) {
        if (fsync(p->fd))
            return -1;
        NDevClearDirty(dev);
    }
    return 0;
}

static int io_close(struct ntfs_device *dev)
{
    int rc = io_sync(dev);

    NDevClearOpen(dev);
    return rc;
}

/* count clipped to the partition's end: 0 past it. */
static s64 clip(const struct fc_ntfs_part *p, s64 count, s64 off)
{
    if (off < 0 || count < 0) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)off >= p->size)
        return 0;
    if ((uint64_t)count > p->size - (uint64_t)off)
        count = (s64)(p->size - (uint64_t)off);
    return count;
}

static s64 io_pread(struct ntfs_device *dev, void *buf, s64 count, s64 off)
{
    struct fc_ntfs_part *p = dev->d_private;
    ssize_t n;

    count = clip(p, count, off);
    if (count <= 0)
        return count;
    do
        n = pread(p->fd, buf, (size_t)count, (off_t)(p->base + (uint64_t)off));
    while (n < 0 && errno == EINTR);
    return n;
}

static s64 io_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 off)
{
    struct fc_ntfs_part *p = dev->d_private;
    ssize_t n;

    if (NDevReadOnly(dev) || !p->writable) {
        errno = EROFS;
        return -1;
    }
    count = clip(p, count, off);
    if (count <= 0)
        return count < 0 ? -1 : (errno = ENOSPC, -1);
    do
        n = pwrite(p->fd, buf, (size_t)count, (off_t)(p->base + (uint64_t)off));
    while (n < 0 && errno == EINTR);
    if (n > 0)
        NDevSetDirty(dev);
    return n;
}

static s64 io_read(struct ntfs_device *dev, void *buf, s64 count)
{
    struct fc_ntfs_part *p = dev->d_private;
    s64 n = io_pread(dev, buf, count, p->pos);

    if (n > 0)
        p->pos += n;
    return n;
}

static s64 io_write(struct ntfs_device *dev, const void *buf, s64 count)
{
    struct fc_ntfs_part *p = dev->d_private;
    s64 n = io_pwrite(dev, buf, count, p->pos);

    if (n > 0)
        p->pos += n;
    return n;
}

static s64 io_seek(struct ntfs_device *dev, s64 off, int whence)
{
    struct fc_ntfs_part *p = dev->d_private;
    s64 at = whence == SEEK_SET ? off : whence == SEEK_CUR ? p->pos + off : (s64)p->size + off;

    if (at < 0) {
        errno = EINVAL;
        return -1;
    }
    p->pos = at;
    return at;
}

static int io_stat(struct ntfs_device *dev, struct stat *st)
{
    struct fc_ntfs_part *p = dev->d_private;

    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | (p->writable ? 0600 : 0400);
    st->st_size = (off_t)p->size;
    return 0;
}

static int io_ioctl(struct ntfs_device *dev, unsigned long request, void *arg)
{
    (void)dev, (void)request, (void)arg;
    errno = ENOTTY;
    return -1;
}

struct ntfs_device *fc_ntfs_part_dev(struct fc_ntfs_part *p, int fd, uint64_t base, uint64_t size,
                                     int writable)
{
    const struct ntfs_device_operations ops = {io_open,  io_close,  io_seek, io_read, io_write,
                                               io_pread, io_pwrite, io_sync, io_stat, io_ioctl};

    p->ops = ops;
    p->fd = fd;
    p->base = base;
    p->size = size;
    p->pos = 0;
    p->writable = writable;
    return ntfs_device_alloc("fleetcast-partition", 0, &p->ops, p);
}
