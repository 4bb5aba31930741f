/* GPT relocation and partition growth (UEFI spec 2.10, 5.3). The primary
 * GPT is read and checked like capture does (CRCs, bounds), changed in
 * memory, and both copies are written from it, so they cannot disagree. */
#include "common/ptwrite.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/manifest.h"
#include "common/parttable.h"

#define GPT_ENTRIES_MAX 1024
#define MBR_LBA_MAX 0xffffffffull

struct gpt {
    uint8_t hdr[4096];
    uint8_t *ents;
    uint64_t ent_bytes;
    uint64_t ent_secs;
    uint32_t ss;
};

static uint64_t hdr_get(const struct gpt *g, unsigned off)
{
    return fc_get64(g->hdr + off);
}

/* The primary header and its entries, both CRCs checked. */
static int gpt_load(int fd, uint64_t disk_size, uint32_t ss, struct gpt *g)
{
    uint64_t disk_lbas = disk_size / ss, ent_lba;
    uint32_t n, esz;

    memset(g, 0, sizeof(*g));
    g->ss = ss;
    if (ss > sizeof(g->hdr) || fc_pread_full(fd, g->hdr, ss, ss))
        return FC_EIO;
    if (!fc__gpt_header_ok(g->hdr, ss, 1))
        return FC_EFORMAT;
    ent_lba = hdr_get(g, 72);
    n = fc_get32(g->hdr + 80);
    esz = fc_get32(g->hdr + 84);
    if (n == 0 || n > GPT_ENTRIES_MAX || esz < 128 || esz > 4096 || esz % 8 || ent_lba > disk_lbas)
        return FC_EFORMAT;
    g->ent_bytes = (uint64_t)n * esz;
    g->ent_secs = (g->ent_bytes + ss - 1) / ss;
    if (ent_lba + g->ent_secs > disk_lbas)
        return FC_EFORMAT;
    g->ents = calloc(1, g->ent_secs * ss);
    if (!g->ents)
        return FC_ENOMEM;
    if (fc_pread_full(fd, g->ents, g->ent_bytes, ent_lba * ss))
        return FC_EIO;
    if (fc_crc32(g->ents, g->ent_bytes) != fc_get32(g->hdr + 88))
        return FC_EFORMAT;
    return 0;
}

static void hdr_seal(uint8_t *h)
{
    fc_put32(h + 16, 0);
    fc_put32(h + 16, fc_crc32(h, fc_get32(h + 12)));
}

/* Both copies from the primary in memory: the backup's entries just below
 * its header at AlternateLBA (the layout sgdisk and sfdisk write). */
static int gpt_store(int fd, struct gpt *g)
{
    uint8_t backup[4096];
    uint64_t alt = hdr_get(g, 32), bent = alt - g->ent_secs;
    uint32_t ss = g->ss;

    fc_put32(g->hdr + 88, fc_crc32(g->ents, g->ent_bytes));
    hdr_seal(g->hdr);
    memcpy(backup, g->hdr, ss);
    fc_put64(backup + 24, alt);
    fc_put64(backup + 32, 1);
    fc_put64(backup + 72, bent);
    hdr_seal(backup);
    if (fc_pwrite_full(fd, g->ents, g->ent_secs * ss, hdr_get(g, 72) * ss) ||
        fc_pwrite_full(fd, g->hdr, ss, ss) ||
        fc_pwrite_full(fd, g->ents, g->ent_secs * ss, bent * ss) ||
        fc_pwrite_full(fd, backup, ss, alt * ss))
        return FC_EIO;
    return 0;
}

/* The protective MBR's 0xEE entry covers the whole disk (or 2^32-1 sectors). */
static int protective_mbr_fit(int fd, uint64_t disk_lbas, uint32_t ss)
{
    uint8_t sec[4096];
    uint64_t count = disk_lbas - 1 > MBR_LBA_MAX ? MBR_LBA_MAX : disk_lbas - 1;
    int i;

    if (fc_pread_full(fd, sec, ss, 0))
        return FC_EIO;
    for (i = 0; i < 4; i++) {
        uint8_t *p = sec + 446 + 16 * i;
        if (p[4] == 0xee && fc_get32(p + 8) == 1) {
            fc_put32(p + 12, (uint32_t)count);
            return fc_pwrite_full(fd, sec, ss, 0) ? FC_EIO : 0;
        }
    }
    return 0;
}

int fc_gpt_relocate(int fd, uint64_t disk_size, uint32_t ss, int *moved)
{
    struct gpt g;
    uint64_t last_lba = disk_size / ss - 1, old_alt;
    uint8_t zero[4096] = {0};
    int rc;

    *moved = 0;
    rc = gpt_load(fd, disk_size, ss, &g);
    if (rc == FC_EFORMAT)
        rc = 0; /* an MBR disk, or none: nothing to move */
    if (rc || !g.ents)
        goto out;
    old_alt = hdr_get(&g, 32);
    if (old_alt >= last_lba || last_lba - g.ent_secs - 1 < hdr_get(&g, 48))
        goto out; /* already at the end (same size): untouched */
    fc_put64(g.hdr + 32, last_lba);
    fc_put64(g.hdr + 48, last_lba - g.ent_secs - 1);
    /* The old backup header now lies in free space, where a tool would take
     * it for a stale table; cleared first, as the new entries may cover it. */
    rc = fc_pwrite_full(fd, zero, ss, old_alt * ss) ? FC_EIO : 0;
    if (!rc)
        rc = gpt_store(fd, &g);
    if (!rc)
        rc = protective_mbr_fit(fd, last_lba + 1, ss);
    *moved = !rc;
out:
    free(g.ents);
    return rc;
}

/* The partition to grow in a table read like capture reads it: index, or the
 * one that starts last (check_entries sorted them and ruled out overlaps). */
static int pick_part(const struct fc_ptable *pt, uint32_t index, struct fc_ptgrow *g)
{
    uint32_t i;

    if (pt->kind == FC_TABLE_NONE || pt->n == 0)
        return FC_PTGROW_NO_TABLE;
    for (i = 0; i < pt->n; i++)
        if (index == 0 ? i == pt->n - 1 : pt->e[i].index == index)
            break;
    if (i == pt->n)
        return FC_PTGROW_NO_PART;
    g->index = pt->e[i].index;
    g->start = pt->e[i].start;
    g->old_size = pt->e[i].size;
    if (i + 1 < pt->n) {
        g->after = pt->e[i + 1].index;
        return FC_PTGROW_NOT_LAST;
    }
    if (pt->kind == FC_TABLE_MBR && g->index > 4)
        return FC_PTGROW_LOGICAL;
    return FC_PTGROW_OK;
}

int fc_ptable_plan_grow(int fd, uint64_t disk_size, uint32_t ss, uint32_t index,
                        struct fc_ptgrow *g)
{
    struct fc_ptable *pt = calloc(1, sizeof(*pt));
    uint64_t end = 0;
    struct gpt gp;
    int rc;

    memset(g, 0, sizeof(*g));
    if (!pt)
        return FC_ENOMEM;
    rc = fc_ptable_read(fd, disk_size, ss, pt);
    if (!rc)
        rc = pick_part(pt, index, g);
    if (rc == FC_PTGROW_OK && pt->kind == FC_TABLE_GPT) {
        rc = gpt_load(fd, disk_size, ss, &gp);
        end = (hdr_get(&gp, 48) + 1) * ss;
        free(gp.ents);
    } else if (rc == FC_PTGROW_OK) {
        end = (disk_size / ss > MBR_LBA_MAX ? MBR_LBA_MAX : disk_size / ss) * ss;
    }
    if (rc == FC_PTGROW_OK && end <= g->start + g->old_size)
        rc = FC_PTGROW_NOT_BIGGER;
    if (rc == FC_PTGROW_OK)
        g->new_size = end - g->start;
    free(pt);
    return rc;
}

static int gpt_apply(int fd, uint64_t disk_size, uint32_t ss, const struct fc_ptgrow *g)
{
    struct gpt gp;
    uint8_t *e;
    int rc = gpt_load(fd, disk_size, ss, &gp);

    if (rc)
        goto out;
    rc = FC_EINVAL;
    if (g->index < 1 || g->index > fc_get32(gp.hdr + 80))
        goto out;
    e = gp.ents + (uint64_t)(g->index - 1) * fc_get32(gp.hdr + 84);
    if (fc_get64(e + 32) * ss != g->start || (g->start + g->new_size) / ss - 1 > hdr_get(&gp, 48))
        goto out;
    fc_put64(e + 40, (g->start + g->new_size) / ss - 1);
    rc = gpt_store(fd, &gp);
out:
    free(gp.ents);
    return rc;
}

static int mbr_apply(int fd, uint32_t ss, const struct fc_ptgrow *g)
{
    uint8_t sec[4096];
    uint8_t *p;

    if (g->index < 1 || g->index > 4 || fc_pread_full(fd, sec, ss, 0))
        return g->index < 1 || g->index > 4 ? FC_EINVAL : FC_EIO;
    p = sec + 446 + 16 * (g->index - 1);
    if ((uint64_t)fc_get32(p + 8) * ss != g->start)
        return FC_EINVAL;
    fc_put32(p + 12, (uint32_t)(g->new_size / ss));
    /* CHS end past what CHS can say: the "use LBA" marker fdisk writes. */
    p[5] = 0xfe;
    p[6] = 0xff;
    p[7] = 0xff;
    return fc_pwrite_full(fd, sec, ss, 0) ? FC_EIO : 0;
}

int fc_gpt_fit_ranges(int fd, uint64_t disk_size, uint64_t image_size, uint32_t ss,
                      struct fc_byte_range *r, int *n)
{
    struct gpt g;
    uint64_t old_alt = image_size / ss - 1, ent_lba = 2, ent_secs = 16384 / ss;
    int rc;

    *n = 0;
    if (disk_size <= image_size)
        return 0;
    /* The target's own primary says where the entries are; the standard
     * place when it is unreadable (then compare finds it different anyway). */
    rc = gpt_load(fd, disk_size, ss, &g);
    if (!rc) {
        ent_lba = hdr_get(&g, 72);
        ent_secs = g.ent_secs;
    }
    free(g.ents);
    if (rc == FC_EIO || rc == FC_ENOMEM)
        return rc;
    r[0] = (struct fc_byte_range){446, 64};
    r[1] = (struct fc_byte_range){ss, ss};
    r[2] = (struct fc_byte_range){ent_lba * ss, ent_secs * ss};
    r[3] = (struct fc_byte_range){(old_alt - ent_secs) * ss, (ent_secs + 1) * ss};
    *n = 4;
    return 0;
}

int fc_ptable_apply_grow(int fd, uint64_t disk_size, uint32_t ss, const struct fc_ptgrow *g)
{
    uint8_t sec[4096];

    if (fc_pread_full(fd, sec, ss, ss))
        return FC_EIO;
    if (memcmp(sec, "EFI PART", 8) == 0)
        return gpt_apply(fd, disk_size, ss, g);
    return mbr_apply(fd, ss, g);
}
