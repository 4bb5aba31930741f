/* Filesystem probes: which bytes of a partition are in use. ext2/3/4 through
 * libext2fs's block bitmaps; swap by its header page. A partition whose
 * filesystem is unknown or damaged gets method "nonzero" and, if damaged, a
 * note saying why, so the operator knows that partition was stored whole. */
#ifndef FC_FSPROBE_H
#define FC_FSPROBE_H

#include <stdint.h>

#include "common/manifest.h"
#include "common/ranges.h"

/* Probes [part->start, +part->size) of the disk at path (fd open on it).
 * Sets part->fs, part->method and part->note; for fs-bitmap and swap-header
 * methods appends the used ranges (absolute disk offsets) to used. */
int fc_fsprobe(const char *path, int fd, struct fc_part *part, struct fc_ranges *used);

#endif
