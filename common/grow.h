/* Fitting a written image to a disk bigger than the master's: after the
 * whole-disk check, the backup GPT moves to the disk's end (always), and
 * with --grow one partition and its filesystem grow to fill the disk
 * (ext2/3/4: e2fsck -f -p then resize2fs; NTFS: ntfsresize's test run,
 * then ntfsresize and ntfsfix -d; swap: its header rewritten with the same
 * UUID and label). `fleetcast image restore` and fleetcast-recv
 * both call fc_target_fit(); the grow step's outcome is a result, never an
 * error: the disk holds the image either way. */
#ifndef FC_GROW_H
#define FC_GROW_H

#include <stdint.h>

#include "common/diskwrite.h"
#include "common/manifest.h"

/* Sent in DONE (3 bits: proto/packet.h FC_DONE_GROW_*): keep below 8. */
enum fc_grow_result {
    FC_GROW_DONE = 0,
    FC_GROW_NOT_BIGGER,     /* no space after the partition */
    FC_GROW_NTFS,           /* the NTFS volume is hibernated or dirty */
    FC_GROW_FS_UNSUPPORTED, /* no ext2/3/4, NTFS or swap on it */
    FC_GROW_NOT_LAST,       /* another partition lies after it */
    FC_GROW_NO_PART,        /* no such partition, or a logical one */
    FC_GROW_NO_TABLE,       /* the disk has no partition table */
    FC_GROW_FAILED,         /* a tool, or a table write, failed */
};
#define FC_GROW_RESULT_MAX 7

struct fc_fit {
    int grow;      /* in: grow a partition */
    uint32_t part; /* in: which (1-based), 0 = the one that ends last */
    int gpt_moved; /* out: the backup GPT was moved to the disk's end */
    int result;    /* out: enum fc_grow_result (with grow) */
    uint32_t grown_part;
    uint64_t old_size, new_size;
    char detail[200]; /* out: one line, for logs and the CLI */
};

/* "done", "not possible: another partition lies after it", ... */
const char *fc_grow_result_text(int result);
/* After the image is written and checked. Returns 0, or an FC_E* code when
 * the GPT could not be moved (the disk's table is then suspect). */
int fc_target_fit(struct fc_target *t, const struct fc_manifest *m, struct fc_fit *f);

#endif
