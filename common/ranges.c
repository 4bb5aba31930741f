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
