/* The capture plan: the disk cut into regions (partitions, and the space
 * outside them), each with what to store: the used ranges a filesystem
 * probe found, or the whole region scanned for non-zero blocks. */
#ifndef FC_LAYOUT_H
#define FC_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"

struct fc_scan {
    uint64_t off;
    uint64_t len;
    uint8_t skip_zero; /* drop all-zero blocks while reading */
    uint32_t region;   /* index into fc_layout.parts */
};

struct fc_layout {
    uint64_t disk_size;
    uint32_t sector;
    uint8_t table;
    uint32_t n_parts;
    struct fc_part parts[FC_PARTS_MAX];
    size_t n_scan;
    size_t scan_cap;
    struct fc_scan *scan;
    uint64_t scan_bytes; /* bytes to read: the progress total */
};

/* probe_flags: FC_PROBE_* of fsprobe.h, for every partition. */
int fc_layout_build(const char *path, int fd, uint64_t disk_size, uint32_t sector,
                    unsigned probe_flags, struct fc_layout *lo);
void fc_layout_free(struct fc_layout *lo);

#endif
