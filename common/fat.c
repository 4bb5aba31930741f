/* FAT boot sector validation and used clusters (see fat.h). */
#include "common/fat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/error.h"

/* FAT entries decoded per pass: bounds the buffers (256 KiB of FAT32) and is
 * even, so a FAT12 window always starts on a whole byte. */
#define WIN_ENTRIES (1u << 16)
#define FAT12_MAX_CLUSTERS 4084  /* fatgen103: fewer than 4085 is FAT12 */
#define FAT16_MAX_CLUSTERS 65524 /* fewer than 65525 is FAT16 */

struct bpb {
    uint32_t sector, per_cluster, reserved, n_fats, root_entries, fat_sectors;
    uint64_t total_sectors;
};

static int bad(char *why, size_t cap, const char *reason)
{
    snprintf(why, cap, "%s", reason);
    return FC_EFORMAT;
}

static int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

static void read_bpb(const uint8_t *bs, struct bpb *b)
{
    b->sector = fc_get16(bs + 11);
    b->per_cluster = bs[13];
    b->reserved = fc_get16(bs + 14);
    b->n_fats = bs[16];
    b->root_entries = fc_get16(bs + 17);
    b->total_sectors = fc_get16(bs + 19) ? fc_get16(bs + 19) : fc_get32(bs + 32);
    b->fat_sectors = fc_get16(bs + 22) ? fc_get16(bs + 22) : fc_get32(bs + 36);
}

static const char *check_bpb(const uint8_t *bs, const struct bpb *b)
{
    if (bs[510] != 0x55 || bs[511] != 0xAA)
        return "no boot sector signature 55 AA";
    if (bs[0] != 0xEB && bs[0] != 0xE9)
        return "no x86 jump at the start of the boot sector";
    if (b->sector < 512 || b->sector > 4096 || !is_pow2(b->sector))
        return "bytes per sector not 512, 1024, 2048 or 4096";
    if (!is_pow2(b->per_cluster))
        return "sectors per cluster not a power of two from 1 to 128";
    if (b->reserved == 0 || b->n_fats == 0 || b->fat_sectors == 0 || b->total_sectors == 0)
        return "zero reserved sectors, FATs, FAT size or total sectors";
    if (bs[21] != 0xF0 && bs[21] < 0xF8)
        return "invalid media descriptor";
    return NULL;
}

/* The type follows from the cluster count alone; the rest of the BPB must
 * then agree with that type (FAT32: no fixed root directory, a 32-bit FAT
 * size, a root cluster inside the volume). */
static const char *check_type(const uint8_t *bs, const struct bpb *b, struct fc_fat_geom *g)
{
    uint64_t need;

    g->type = g->clusters <= FAT12_MAX_CLUSTERS ? 12 : g->clusters <= FAT16_MAX_CLUSTERS ? 16 : 32;
    if (g->type == 32) {
        uint32_t root = fc_get32(bs + 44);
        if (b->root_entries != 0 || fc_get16(bs + 22) != 0)
            return "FAT32 by its cluster count, but with a FAT12/16 root directory or FAT size";
        if (fc_get16(bs + 42) != 0)
            return "unknown FAT32 version";
        if (root < 2 || root - 2 >= g->clusters)
            return "FAT32 root directory cluster outside the volume";
    } else if (b->root_entries == 0) {
        return "FAT12/16 by its cluster count, but without a root directory";
    }
    need = ((uint64_t)g->clusters + 2) * g->type;
    if (need > g->fat_bytes * 8)
        return "FAT too small for the volume's clusters";
    return NULL;
}

int fc_fat_parse_boot(const uint8_t *bs, uint64_t size, struct fc_fat_geom *g, char *why,
                      size_t why_cap)
{
    struct bpb b;
    uint64_t root_sectors, meta;
    const char *reason;

    memset(g, 0, sizeof(*g));
    read_bpb(bs, &b);
    reason = check_bpb(bs, &b);
    if (reason)
        return bad(why, why_cap, reason);
    root_sectors = ((uint64_t)b.root_entries * 32 + b.sector - 1) / b.sector;
    meta = b.reserved + (uint64_t)b.n_fats * b.fat_sectors + root_sectors;
    if (meta + b.per_cluster > b.total_sectors)
        return bad(why, why_cap, "no room for a data cluster after the FATs");
    if (b.total_sectors > size / b.sector)
        return bad(why, why_cap, "filesystem larger than its partition");
    g->sector = b.sector;
    g->cluster = b.sector * b.per_cluster;
    g->n_fats = b.n_fats;
    g->clusters = (uint32_t)((b.total_sectors - meta) / b.per_cluster);
    g->fat_off = (uint64_t)b.reserved * b.sector;
    g->fat_bytes = (uint64_t)b.fat_sectors * b.sector;
    g->data_off = meta * b.sector;
    g->volume_bytes = b.total_sectors * b.sector;
    if ((b.total_sectors - meta) / b.per_cluster > 0x0FFFFFF5u)
        return bad(why, why_cap, "more clusters than FAT32 can number");
    reason = check_type(bs, &b, g);
    return reason ? bad(why, why_cap, reason) : 0;
}

static uint32_t entry_at(const struct fc_fat_geom *g, const uint8_t *win, uint64_t win_byte,
                         uint32_t e)
{
    const uint8_t *p = win + ((uint64_t)e * g->type / 8 - win_byte);

    if (g->type == 12)
        return e & 1 ? fc_get16(p) >> 4 : fc_get16(p) & 0xFFFu;
    if (g->type == 16)
        return fc_get16(p);
    return fc_get32(p) & 0x0FFFFFFFu;
}

static uint32_t bad_mark(const struct fc_fat_geom *g)
{
    return g->type == 12 ? 0xFF7u : g->type == 16 ? 0xFFF7u : 0x0FFFFFF7u;
}

/* One FAT copy's entries [e0, e1) ORed into the window's in-use bits. */
static int mark_copy(const struct fc_fat_geom *g, fc_fat_read_fn rd, void *ctx, uint32_t copy,
                     uint32_t e0, uint32_t e1, uint8_t *raw, uint8_t *bits)
{
    uint64_t b0 = (uint64_t)e0 * g->type / 8, b1 = ((uint64_t)e1 * g->type + 7) / 8;
    uint32_t e;
    int rc;

    rc = rd(ctx, raw, (size_t)(b1 - b0), g->fat_off + (uint64_t)copy * g->fat_bytes + b0);
    if (rc)
        return rc;
    for (e = e0; e < e1; e++) {
        uint32_t v = entry_at(g, raw, b0, e);
        if (v != 0 && v != bad_mark(g))
            bits[(e - e0) / 8] |= (uint8_t)(1u << ((e - e0) % 8));
    }
    return 0;
}

int fc_fat_used(const struct fc_fat_geom *g, fc_fat_read_fn rd, void *ctx, uint64_t base,
                struct fc_ranges *used, uint64_t *free_clusters)
{
    uint8_t *raw = malloc(WIN_ENTRIES * 4 + 8), *bits = malloc(WIN_ENTRIES / 8);
    uint32_t last = g->clusters + 2, e0, copy;
    int rc;

    *free_clusters = 0;
    rc = raw && bits ? fc_ranges_add(used, base, g->data_off) : FC_ENOMEM;
    /* windows start at entry 0 (even: whole bytes of a FAT12); entries 0 and
     * 1 hold the media byte and flags, not clusters: read, never stored */
    for (e0 = 0; !rc && e0 < last; e0 += WIN_ENTRIES) {
        uint32_t e1 = last - e0 > WIN_ENTRIES ? e0 + WIN_ENTRIES : last, from = e0 ? 0 : 2;
        uint64_t n_used = 0;

        memset(bits, 0, WIN_ENTRIES / 8);
        for (copy = 0; copy < g->n_fats && !rc; copy++)
            rc = mark_copy(g, rd, ctx, copy, e0, e1, raw, bits);
        if (!rc)
            rc = fc_ranges_add_bits(used, bits, from, e1 - e0,
                                    base + g->data_off + ((uint64_t)e0 + from - 2) * g->cluster,
                                    g->cluster, &n_used);
        *free_clusters += e1 - e0 - from - n_used;
    }
    free(raw);
    free(bits);
    return rc;
}
