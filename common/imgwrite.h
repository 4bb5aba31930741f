/* Capture: a disk (block device or raw disk file) into a signed image file.
 * Reading and chunking run in the calling thread, compression and hashing
 * on worker threads, and a writer thread appends chunks in order. The image
 * is written under a temporary name with a zeroed header, and only gets its
 * real header, fsync and final name once complete. */
#ifndef FC_IMGWRITE_H
#define FC_IMGWRITE_H

#include <signal.h>
#include <stdint.h>

#include "common/key.h"
#include "common/manifest.h"

struct fc_capture_opts {
    const char *source;
    const char *out;
    const struct fc_keypair *key;
    int level;           /* zstd level */
    int threads;         /* compression workers; 0 = one per core */
    uint32_t chunk_size; /* 0 = FC_CHUNK_DEFAULT */
    int quiet;
    int force;                   /* capture filesystems not safe to (hibernated NTFS) as they are */
    volatile sig_atomic_t *stop; /* set by a signal handler: abandon cleanly */
};

struct fc_capture_result {
    uint8_t image_id[FC_IMAGE_ID_LEN];
    uint64_t disk_size;
    uint64_t stored_bytes;
    uint64_t compressed_bytes;
    uint64_t image_bytes;
    uint32_t chunk_count;
    uint32_t n_parts;
    struct fc_part parts[FC_PARTS_MAX];
    uint8_t table;
    double seconds;
};

int fc_image_create(const struct fc_capture_opts *o, struct fc_capture_result *res);

#endif
