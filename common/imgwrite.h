/* Capture: a disk (block device or raw disk file) into a signed image.
 * One pipeline (fc_capture_stream): reading and chunking run in the calling
 * thread, compression and hashing on worker threads, and a sink takes the
 * chunks in disk order and then the manifest. `fleetcast image create` uses
 * the file sink (fc_image_create, imgfile.h); network capture an upload
 * sink that sends them to fleetcastd (client/capture.c). */
#ifndef FC_IMGWRITE_H
#define FC_IMGWRITE_H

#include <signal.h>
#include <stdint.h>

#include "common/key.h"
#include "common/manifest.h"

struct fc_capture_opts {
    const char *source;
    const char *out;              /* fc_image_create only */
    const struct fc_keypair *key; /* fc_image_create only */
    int level;                    /* zstd level */
    int threads;                  /* compression workers; 0 = one per core */
    uint32_t chunk_size;          /* 0 = FC_CHUNK_DEFAULT */
    int quiet;
    int force;                   /* capture filesystems not safe to (hibernated NTFS) as they are */
    volatile sig_atomic_t *stop; /* set by a signal handler: abandon cleanly */
};

/* Where the pipeline's output goes. Called from one thread, in order. */
struct fc_capture_sink {
    void *ctx;
    /* Chunk idx: its sizes and hashes in meta (meta->file_off is where the
     * image file holds it: chunks back to back from FC_HEADER_SIZE), its
     * meta->comp_size compressed bytes in comp, its extents in ext. */
    int (*chunk)(void *ctx, uint32_t idx, const struct fc_chunk *meta, const uint8_t *comp,
                 const struct fc_extent *ext);
    /* Every chunk taken: the complete manifest, not signed. */
    int (*finish)(void *ctx, const struct fc_manifest *m);
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

/* Reads o->source and hands everything to sink; o->out and o->key unused. */
int fc_capture_stream(const struct fc_capture_opts *o, const struct fc_capture_sink *sink,
                      struct fc_capture_result *res);
/* The file sink: o->out signed with o->key, written as OUT.partial-PID and
 * renamed when complete. */
int fc_image_create(const struct fc_capture_opts *o, struct fc_capture_result *res);

#endif
