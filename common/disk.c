/* Opening sources, sizes (BLKGETSIZE64 for devices), full pread/pwrite. */
#include "common/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

int fc_disk_size(int fd, uint64_t *size, int *is_blockdev)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return FC_EIO;
    *is_blockdev = S_ISBLK(st.st_mode);
    if (S_ISBLK(st.st_mode))
        return ioctl(fd, BLKGETSIZE64, size) < 0 ? FC_EIO : 0;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return FC_EIO;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int fc_disk_open_read(const char *path, int *fd, uint64_t *size, int *is_blockdev)
{
    int rc;

    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        fc_error("cannot open %s: %s", path, strerror(errno));
        return FC_EIO;
    }
    rc = fc_disk_size(*fd, size, is_blockdev);
    if (rc) {
        fc_error("%s is not a disk, partition or regular file", path);
        close(*fd);
        *fd = -1;
        return rc;
    }
    return 0;
}

int fc_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FC_EIO;
        if (n == 0)
            return FC_ETRUNC;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int fc_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FC_EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int fc_is_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t acc = 0, w;
    size_t i;

    /* Word loads through memcpy: no alignment assumption, and the compiler
     * still vectorises the OR loop. The first word alone rejects most data
     * blocks at once. */
    if (len >= 8) {
        memcpy(&w, p, 8);
        if (w)
            return 0;
    }
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < len; i++)
        acc |= p[i];
    return acc == 0;
}
