/* Raw disk access shared by capture, restore and the receiver: opening a
 * file or block device and learning its size, and whole-buffer positional
 * reads and writes that retry short transfers and EINTR. */
#ifndef FC_DISK_H
#define FC_DISK_H

#include <stddef.h>
#include <stdint.h>

int fc_disk_open_read(const char *path, int *fd, uint64_t *size, int *is_blockdev);
/* Size of an open file or block device. */
int fc_disk_size(int fd, uint64_t *size, int *is_blockdev);
int fc_pread_full(int fd, void *buf, size_t len, uint64_t off);
int fc_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* 1 if the len bytes at buf are all zero. */
int fc_is_zero(const void *buf, size_t len);

#endif
