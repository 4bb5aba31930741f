/* Filesystem probes: which bytes of a partition are in use. ext2/3/4 through
 * libext2fs's block bitmaps; NTFS through libntfs-3g's $Bitmap
 * (ntfsprobe.h); FAT12/16/32 by the FAT (fat.h); swap by its header page.
 * A partition whose
 * filesystem is unknown or damaged gets method "nonzero" and, if damaged, a
 * note saying why, so the operator knows that partition was stored whole. */
#ifndef FC_FSPROBE_H
#define FC_FSPROBE_H

#include <stdint.h>

#include "common/manifest.h"
#include "common/ranges.h"

/* Capture a filesystem that is not safe to (hibernated, dirty) as it is. */
#define FC_PROBE_FORCE 1u

/* Probes [part->start, +part->size) of the disk at path (fd open on it).
 * Sets part->fs, part->method, part->dontcare_bytes and part->note; for
 * fs-bitmap and swap-header methods appends the used ranges (absolute disk
 * offsets) to used, which must be empty. A probe that fails leaves method
 * "nonzero", a note and a warning saying why; FC_EUNSAFE refuses a
 * filesystem that is not safe to capture (unless FC_PROBE_FORCE). */
int fc_fsprobe(const char *path, int fd, unsigned flags, struct fc_part *part,
               struct fc_ranges *used);

#endif
