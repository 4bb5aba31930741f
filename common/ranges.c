/* Range list used by the filesystem probes and the capture plan. */
#include "common/ranges.h"

#include <stdlib.h>

#include "common/error.h"

int fc_ranges_add(struct fc_ranges *rl, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (rl->n > 0) {
        struct fc_range *last = &rl->r[rl->n - 1];
        if (off < last->off + last->len)
            return FC_EINVAL;
        if (off == last->off + last->len) {
            last->len += len;
            return 0;
        }
    }
    if (rl->n == rl->cap) {
        size_t cap = rl->cap ? rl->cap * 2 : 64;
        struct fc_range *r = realloc(rl->r, cap * sizeof(*r));
        if (!r)
            return FC_ENOMEM;
        rl->r = r;
        rl->cap = cap;
    }
    rl->r[rl->n].off = off;
    rl->r[rl->n].len = len;
    rl->n++;
    return 0;
}

static int bit_at(const uint8_t *bits, size_t i)
{
    return bits[i / 8] >> (i % 8) & 1;
}

/* The end of the run of bits equal to bit `from`, whole bytes at a time
 * where it can (free space is long runs of zero bytes, used space of 0xFF). */
static size_t run_end(const uint8_t *bits, size_t from, size_t to)
{
    int v = bit_at(bits, from);
    uint8_t whole = v ? 0xFF : 0;
    size_t i = from + 1;

    while (i < to) {
        if (i % 8 == 0 && to - i >= 8 && bits[i / 8] == whole)
            i += 8;
        else if (bit_at(bits, i) == v)
            i++;
        else
            break;
    }
    return i;
}

int fc_ranges_add_bits(struct fc_ranges *rl, const uint8_t *bits, size_t from, size_t to,
                       uint64_t off, uint64_t unit, uint64_t *n_set)
{
    size_t i = from;
    int rc = 0;

    if (n_set)
        *n_set = 0;
    while (i < to && !rc) {
        size_t end = run_end(bits, i, to);
        if (bit_at(bits, i)) {
            rc = fc_ranges_add(rl, off + (i - from) * unit, (end - i) * unit);
            if (n_set)
                *n_set += end - i;
        }
        i = end;
    }
    return rc;
}

uint64_t fc_ranges_total(const struct fc_ranges *rl)
{
    uint64_t t = 0;
    size_t i;

    for (i = 0; i < rl->n; i++)
        t += rl->r[i].len;
    return t;
}

void fc_ranges_free(struct fc_ranges *rl)
{
    free(rl->r);
    rl->r = NULL;
    rl->n = rl->cap = 0;
}
