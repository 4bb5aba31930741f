/* Partition-table writes after an image is written to a disk bigger than
 * the master's: the backup GPT moved to the disk's real end, and one
 * partition's size changed (GPT or a primary MBR partition). Capture only
 * reads tables (common/parttable.c); this is the only code that writes them. */
#ifndef FC_PTWRITE_H
#define FC_PTWRITE_H

#include <stdint.h>

/* What fc_ptable_plan_grow() found, and why a partition cannot grow. */
enum fc_ptgrow_verdict {
    FC_PTGROW_OK = 0,
    FC_PTGROW_NO_TABLE,   /* no partition table (or a damaged one) */
    FC_PTGROW_NO_PART,    /* no partition with that number */
    FC_PTGROW_NOT_LAST,   /* another partition lies after it */
    FC_PTGROW_LOGICAL,    /* an MBR logical partition (inside an extended one) */
    FC_PTGROW_NOT_BIGGER, /* no free space after it */
};

struct fc_ptgrow {
    uint32_t index; /* 1-based, as Linux numbers partitions */
    uint32_t after; /* FC_PTGROW_NOT_LAST: the partition in the way */
    uint64_t start; /* bytes */
    uint64_t old_size;
    uint64_t new_size;
};

/* Moves the backup GPT (entries and header) to the disk's last LBAs and
 * updates the primary header's AlternateLBA and LastUsableLBA, both CRCs,
 * and the protective MBR's size. A disk whose backup is already at its end
 * (the master's size) is not touched: *moved = 0. Not a GPT disk: 0, nothing
 * done. The primary GPT must be valid (it was just written). */
int fc_gpt_relocate(int fd, uint64_t disk_size, uint32_t ss, int *moved);
/* Which partition would grow (index, or 0 for the one that ends last) and to
 * what size: the end of the usable space. Reads only. Returns a verdict, or
 * a negative FC_E* code for an I/O error. */
int fc_ptable_plan_grow(int fd, uint64_t disk_size, uint32_t ss, uint32_t index,
                        struct fc_ptgrow *g);
/* Writes g->new_size into the table (both GPT copies and CRCs; or the MBR
 * entry). Call after fc_gpt_relocate(). */
int fc_ptable_apply_grow(int fd, uint64_t disk_size, uint32_t ss, const struct fc_ptgrow *g);

/* The byte ranges fc_gpt_relocate() and a grow may have changed on a disk
 * of disk_size holding a GPT image of image_size: the protective MBR's table,
 * the primary header and entries, the image's old backup. `image compare`
 * takes the image's bytes there (a bigger disk's table is not the master's).
 * Sets *n (0: nothing changed, same size); at most FC_GPT_FIT_RANGES. */
#define FC_GPT_FIT_RANGES 4
struct fc_byte_range {
    uint64_t off, len;
};
int fc_gpt_fit_ranges(int fd, uint64_t disk_size, uint64_t image_size, uint32_t ss,
                      struct fc_byte_range *r, int *n);

#endif
