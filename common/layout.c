/* Builds the capture plan from the partition table and filesystem probes. */
#include "common/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fsprobe.h"
#include "common/log.h"
#include "common/parttable.h"
#include "common/ranges.h"

static int add_scan(struct fc_layout *lo, uint64_t off, uint64_t len, int skip_zero,
                    uint32_t region)
{
    struct fc_scan *s;

    if (len == 0)
        return 0;
    if (lo->n_scan == lo->scan_cap) {
        size_t cap = lo->scan_cap ? lo->scan_cap * 2 : 256;
        s = realloc(lo->scan, cap * sizeof(*s));
        if (!s)
            return FC_ENOMEM;
        lo->scan = s;
        lo->scan_cap = cap;
    }
    s = lo->scan;
    s[lo->n_scan].off = off;
    s[lo->n_scan].len = len;
    s[lo->n_scan].skip_zero = (uint8_t)skip_zero;
    s[lo->n_scan].region = region;
    lo->n_scan++;
    lo->scan_bytes += len;
    return 0;
}

static struct fc_part *new_region(struct fc_layout *lo, uint32_t index, uint64_t start,
                                  uint64_t size, const char *type)
{
    struct fc_part *p;

    if (lo->n_parts >= FC_PARTS_MAX)
        return NULL;
    p = &lo->parts[lo->n_parts++];
    memset(p, 0, sizeof(*p));
    p->index = index;
    p->start = start;
    p->size = size;
    snprintf(p->type, sizeof(p->type), "%s", type);
    return p;
}

/* Probes one region and queues what to read from it. */
static int plan_region(const char *path, int fd, unsigned flags, struct fc_layout *lo,
                       struct fc_part *p)
{
    struct fc_ranges used = {0};
    uint32_t region = (uint32_t)(p - lo->parts);
    size_t i;
    int rc;

    rc = fc_fsprobe(path, fd, flags, p, &used);
    if (rc)
        goto out;
    if (p->method == FC_METHOD_NONZERO) {
        rc = add_scan(lo, p->start, p->size, 1, region);
        goto out;
    }
    for (i = 0; i < used.n && !rc; i++)
        rc = add_scan(lo, used.r[i].off, used.r[i].len, 0, region);
out:
    fc_ranges_free(&used);
    return rc;
}

static int plan_gap(struct fc_layout *lo, uint64_t start, uint64_t end)
{
    struct fc_part *p;

    if (end <= start)
        return 0;
    p = new_region(lo, 0, start, end - start, "");
    if (!p)
        return FC_EFORMAT;
    return add_scan(lo, start, end - start, 1, (uint32_t)(p - lo->parts));
}

int fc_layout_build(const char *path, int fd, uint64_t disk_size, uint32_t sector,
                    unsigned probe_flags, struct fc_layout *lo)
{
    struct fc_ptable *pt = malloc(sizeof(*pt));
    uint64_t pos = 0;
    uint32_t i;
    int rc = 0;

    memset(lo, 0, sizeof(*lo));
    lo->disk_size = disk_size;
    if (!pt)
        return FC_ENOMEM;
    fc_ptable_read(fd, disk_size, sector, pt);
    lo->table = pt->kind;
    lo->sector = pt->sector;
    if (pt->note[0])
        fc_warn("%s: %s", path, pt->note);
    if (pt->kind == FC_TABLE_NONE) {
        struct fc_part *p = new_region(lo, 0, 0, disk_size, "");
        snprintf(p->note, sizeof(p->note), "%s", pt->note);
        rc = plan_region(path, fd, probe_flags, lo, p);
        goto out;
    }
    for (i = 0; i < pt->n && !rc; i++) {
        struct fc_part *p;
        rc = plan_gap(lo, pos, pt->e[i].start);
        if (rc)
            break;
        p = new_region(lo, pt->e[i].index, pt->e[i].start, pt->e[i].size, pt->e[i].type);
        rc = p ? plan_region(path, fd, probe_flags, lo, p) : FC_EFORMAT;
        pos = pt->e[i].start + pt->e[i].size;
    }
    if (!rc)
        rc = plan_gap(lo, pos, disk_size);
    if (!rc && pt->note[0] && lo->n_parts > 0 && !lo->parts[0].note[0])
        snprintf(lo->parts[0].note, sizeof(lo->parts[0].note), "%s", pt->note);
out:
    free(pt);
    if (rc)
        fc_layout_free(lo);
    return rc;
}

void fc_layout_free(struct fc_layout *lo)
{
    free(lo->scan);
    lo->scan = NULL;
    lo->n_scan = 0;
}
