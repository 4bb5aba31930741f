/* A partition of an open disk as a libntfs-3g device: the library reads
 * (and, when asked, writes) the partition's byte range of the fd through
 * positional I/O, never past its end, never with FUSE or a mount. Used by
 * capture (ntfsprobe.c, read-only) and the Windows identity
 * (winidentity.c, read-write). */
#ifndef FC_NTFSDEV_H
#define FC_NTFSDEV_H

/* libntfs-3g's headers lean on these being included first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/device.h>

struct fc_ntfs_part {
    /* here, not in a file-scope table: the library keeps a pointer to them
     * from mount to umount, and this struct lives that long */
    struct ntfs_device_operations ops;
    int fd;
    uint64_t base, size;
    int64_t pos;
    int writable; /* 0: every write fails with EROFS */
};

/* A device for bytes [base, base + size) of fd, to pass to
 * ntfs_device_mount; NULL when out of memory. p must outlive the mount;
 * the device is freed by ntfs_umount (or ntfs_device_free if the mount
 * failed). */
struct ntfs_device *fc_ntfs_part_dev(struct fc_ntfs_part *p, int fd, uint64_t base, uint64_t size,
                                     int writable);

#endif
