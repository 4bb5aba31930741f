/* NTFS used clusters through libntfs-3g (read-only, on the partition's byte
 * range of the open disk, no FUSE): the clusters $Bitmap marks in use, plus
 * the system files' own runs (belt and braces: a $Bitmap that missed one
 * would lose the filesystem). The data of pagefile.sys, hiberfil.sys and
 * swapfile.sys is don't-care: Windows recreates it; their MFT records and
 * directory entries are metadata and stay. A hibernated or dirty volume
 * (Windows fast start-up) is refused unless forced: its last writes are in
 * the hibernation file or the journal, not where a clone would read them. */
#ifndef FC_NTFSPROBE_H
#define FC_NTFSPROBE_H

#include "common/manifest.h"
#include "common/ranges.h"

/* 1 if the partition's boot sector carries the NTFS OEM id. */
int fc_ntfs_looks(int fd, const struct fc_part *p);

/* 0: used ranges appended, p->fs, method, dontcare_bytes and note set;
 * 1: cannot be read (p->note says why: fall back to non-zero blocks);
 * FC_EUNSAFE: hibernated or dirty and not force (logged with the fix);
 * other < 0: out of memory. */
int fc_ntfs_probe(int fd, int force, struct fc_part *p, struct fc_ranges *used);

/* Before an NTFS volume is changed (grow.c): NULL when the volume on
 * [start, start + size) of fd is clean, else what is wrong with it
 * ("hibernated (...)", "marked dirty (...)", "unreadable by libntfs-3g"). */
const char *fc_ntfs_unsafe(int fd, uint64_t start, uint64_t size);

#endif
