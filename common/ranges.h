/* A growable list of disk byte ranges, kept sorted by the callers adding
 * them in order; adjacent ranges are merged as they are added. */
#ifndef FC_RANGES_H
#define FC_RANGES_H

#include <stddef.h>
#include <stdint.h>

struct fc_range {
    uint64_t off;
    uint64_t len;
};

struct fc_ranges {
    struct fc_range *r;
    size_t n;
    size_t cap;
};

/* Adds [off, off+len); must not start before the end of the last range. */
int fc_ranges_add(struct fc_ranges *rl, uint64_t off, uint64_t len);
/* Adds one range per run of set bits in bits[from, to) (bit i is byte i / 8,
 * bit i % 8): bit i covers [off + (i - from) * unit, + unit). A filesystem's
 * allocation bitmap, read a window at a time, becomes merged byte ranges.
 * *n_set (if not NULL) gets the number of set bits. */
int fc_ranges_add_bits(struct fc_ranges *rl, const uint8_t *bits, size_t from, size_t to,
                       uint64_t off, uint64_t unit, uint64_t *n_set);
uint64_t fc_ranges_total(const struct fc_ranges *rl);
void fc_ranges_free(struct fc_ranges *rl);

#endif
