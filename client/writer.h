/* The receiver's writer thread and the bounded queue that feeds it: complete
 * chunks in, results (written, or failed its hash) back out, and at the end
 * the fsync and the whole-disk check value: read back from the target when
 * the session asks for it, else that of the verified chunks written. The
 * network thread never blocks on it: fc_writer_push() refuses when full. */
#ifndef FC_CLIENT_WRITER_H
#define FC_CLIENT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/checkval.h"
#include "common/diskwrite.h"
#include "common/grow.h"
#include "common/manifest.h"

struct fc_writer;

/* A chunk written (rc 0), or not (rc FC_EHASH: receive it again; FC_EIO:
 * the target failed; anything else: the image itself is unusable). */
struct fc_wres {
    uint32_t idx;
    int rc;
    uint64_t bytes; /* disk bytes written */
};

/* Where the end of the work stands, for PROGRESS: 0 writing, 1 fsync,
 * 2 reading the disk back (only with read-back), 3 finished
 * (fc_writer_final() is ready). */
enum fc_writer_stage { FC_WSTAGE_WRITING = 0, FC_WSTAGE_SYNC, FC_WSTAGE_CHECK, FC_WSTAGE_END };

struct fc_wopts {
    int readback;       /* after fsync, read every stored region back for the check */
    int grow;           /* then grow a partition to fill a bigger disk (common/grow.h) */
    uint32_t grow_part; /* which, 0: the one that ends last */
};

struct fc_wfinal {
    int rc; /* 0, or the error of fsync or the read-back */
    uint8_t check[FC_CHECKVAL_LEN];
    int64_t first_bad; /* first chunk read back different (or not written), or -1 */
    int readback;      /* check was computed from the bytes read back */
    struct fc_fit fit; /* the backup GPT moved, the grow step (after a good check) */
};

/* readback: after fsync, read every stored region back for the check value.
 * Without it the verdict is "every chunk verified, written, and fsync
 * succeeded", and the check value is the one the manifest's hashes give:
 * it is only reached once every chunk has passed fc_target_put_chunk(). */
int fc_writer_start(struct fc_writer **out, struct fc_target *t, const struct fc_manifest *m,
                    unsigned qcap, const struct fc_wopts *o);
/* Takes ownership of buf (malloc'd; freed by the writer) unless it returns
 * FC_ESTATE (queue full). */
int fc_writer_push(struct fc_writer *w, uint32_t idx, uint8_t *buf, size_t len);
int fc_writer_full(struct fc_writer *w);
/* Readable (poll POLLIN) when a result or the end of the disk has been
 * posted since the last fc_writer_results(), which clears it. */
int fc_writer_fd(struct fc_writer *w);
/* Up to max results, without waiting. */
unsigned fc_writer_results(struct fc_writer *w, struct fc_wres *out, unsigned max);
/* After the last chunk (every one written): fsync, then the check value. */
void fc_writer_finish(struct fc_writer *w);
int fc_writer_stage(struct fc_writer *w);
void fc_writer_final(struct fc_writer *w, struct fc_wfinal *f);
/* Stops the thread (after the chunk being written, if any) and frees what
 * is still queued. */
void fc_writer_stop(struct fc_writer *w);

#endif
