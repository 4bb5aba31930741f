/* Partition tables: MBR (with logical partitions in an extended one) and
 * GPT (primary, or backup when the primary is damaged). A table that cannot
 * be trusted is reported as "none" with a note, so capture falls back to
 * treating the disk as unpartitioned instead of failing. */
#ifndef FC_PARTTABLE_H
#define FC_PARTTABLE_H

#include <stdint.h>

#include "common/manifest.h"

struct fc_ptentry {
    uint32_t index; /* 1-based, as Linux numbers them (logicals from 5) */
    uint64_t start; /* bytes */
    uint64_t size;  /* bytes */
    char type[40];
};

struct fc_ptable {
    uint8_t kind; /* enum fc_table_type */
    uint32_t sector;
    uint32_t n;
    struct fc_ptentry e[FC_PARTS_MAX];
    char note[200];
};

int fc_ptable_read(int fd, uint64_t disk_size, uint32_t sector_size, struct fc_ptable *pt);
uint32_t fc_crc32(const void *buf, uint64_t len);
/* A GPT header (ss bytes at h) whose signature, size, CRC and own LBA are
 * right; for the table writer (common/ptwrite.c). */
int fc__gpt_header_ok(uint8_t *h, uint32_t ss, uint64_t lba);

#endif
