/* Walking every chunk of an open image on worker threads, for three jobs:
 * verify (hashes only), restore (verify and write to a target), and compare
 * (hash what a target holds in every stored region). */
#ifndef FC_RESTORE_H
#define FC_RESTORE_H

#include <signal.h>
#include <stdint.h>

#include "common/diskwrite.h"
#include "common/image.h"

enum fc_apply_op { FC_OP_VERIFY, FC_OP_RESTORE, FC_OP_COMPARE };

struct fc_apply_opts {
    enum fc_apply_op op;
    struct fc_target *target; /* restore and compare */
    int threads;              /* 0 = one per core */
    int quiet;
    volatile sig_atomic_t *stop;
};

struct fc_apply_result {
    int64_t bad_chunk; /* lowest failing chunk index, or -1 */
    uint64_t bytes;    /* disk bytes processed */
    double seconds;
};

int fc_image_apply(const struct fc_image *img, const struct fc_apply_opts *o,
                   struct fc_apply_result *res);

#endif
