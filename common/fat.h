/* FAT12/16/32 by the FAT itself (Microsoft's "FAT: General Overview of
 * On-Disk Format", fatgen103): the boot sector's BPB validated, the FAT type
 * taken from the cluster count as the spec says (never from the type label),
 * and every cluster whose FAT entry is not 0 (free) stored. A pure parser over
 * a read callback, so the fuzzer runs it on memory and capture on a disk. */
#ifndef FC_FAT_H
#define FC_FAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/ranges.h"

#define FC_FAT_BOOT_LEN 512

struct fc_fat_geom {
    uint8_t type;          /* 12, 16 or 32 */
    uint32_t sector;       /* bytes per sector */
    uint32_t cluster;      /* bytes per cluster */
    uint32_t n_fats;       /* FAT copies */
    uint32_t clusters;     /* data clusters (numbered 2 .. clusters + 1) */
    uint64_t fat_off;      /* the first FAT, bytes from the volume's start */
    uint64_t fat_bytes;    /* one FAT copy */
    uint64_t data_off;     /* cluster 2: everything before it is metadata */
    uint64_t volume_bytes; /* total sectors x sector size */
};

/* Reads len bytes at off (bytes from the volume's start); 0 or < 0. */
typedef int (*fc_fat_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* Checks the first FC_FAT_BOOT_LEN bytes of a volume that has size bytes
 * of room. 0 and *g filled; FC_EFORMAT with the reason in why otherwise. */
int fc_fat_parse_boot(const uint8_t *bs, uint64_t size, struct fc_fat_geom *g, char *why,
                      size_t why_cap);

/* Appends to used (as base + volume offset, ascending) the reserved sectors,
 * every FAT copy and the FAT12/16 root directory, then every run of clusters
 * that any FAT copy marks in use (non-zero, except a bad-cluster mark that
 * every copy agrees on). *free_clusters counts the others. */
int fc_fat_used(const struct fc_fat_geom *g, fc_fat_read_fn rd, void *ctx, uint64_t base,
                struct fc_ranges *used, uint64_t *free_clusters);

#endif
