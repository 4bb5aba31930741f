/* MBR and GPT parsing (UEFI spec 2.10 ch. 5). Every field read from the
 * disk is range-checked before use: a damaged table must never make us read
 * or store outside the disk. */
#include "common/parttable.h"

#include <isa-l/crc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/fat.h"

#define GPT_HDR_MIN 92
#define GPT_ENTRIES_MAX 1024
#define EBR_CHAIN_MAX 128

uint32_t fc_crc32(const void *buf, uint64_t len)
{
    return crc32_gzip_refl(0, buf, len);
}

static int add_entry(struct fc_ptable *pt, uint32_t index, uint64_t start, uint64_t size,
                     const char *type)
{
    struct fc_ptentry *e;

    if (pt->n >= FC_PARTS_MAX - 1)
        return FC_EFORMAT;
    e = &pt->e[pt->n++];
    e->index = index;
    e->start = start;
    e->size = size;
    snprintf(e->type, sizeof(e->type), "%s", type);
    return 0;
}

static int cmp_start(const void *a, const void *b)
{
    const struct fc_ptentry *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorted by start, inside the disk, non-overlapping: what capture relies on. */
static int check_entries(struct fc_ptable *pt, uint64_t disk_size)
{
    uint32_t i;

    qsort(pt->e, pt->n, sizeof(pt->e[0]), cmp_start);
    for (i = 0; i < pt->n; i++) {
        const struct fc_ptentry *e = &pt->e[i];
        if (e->size == 0 || e->start > disk_size || e->size > disk_size - e->start)
            return FC_EFORMAT;
        if (i > 0 && pt->e[i - 1].start + pt->e[i - 1].size > e->start)
            return FC_EFORMAT;
    }
    return 0;
}

static int is_extended(uint8_t type)
{
    return type == 0x05 || type == 0x0f || type == 0x85;
}

static void mbr_entry(const uint8_t *sec, int i, uint8_t *type, uint64_t *lba, uint64_t *count)
{
    const uint8_t *p = sec + 446 + 16 * i;
    *type = p[4];
    *lba = fc_get32(p + 8);
    *count = fc_get32(p + 12);
}

static int read_logicals(int fd, uint64_t disk_size, uint32_t ss, uint64_t ext_lba,
                         struct fc_ptable *pt)
{
    uint8_t sec[4096];
    uint64_t ebr = ext_lba, lba, count;
    uint32_t index = 5;
    uint8_t type;
    int hops;

    for (hops = 0; hops < EBR_CHAIN_MAX; hops++) {
        char t[8];
        if (ebr * ss + ss > disk_size || fc_pread_full(fd, sec, ss, ebr * ss))
            return FC_EFORMAT;
        if (sec[510] != 0x55 || sec[511] != 0xaa)
            return FC_EFORMAT;
        mbr_entry(sec, 0, &type, &lba, &count);
        if (type && count) {
            snprintf(t, sizeof(t), "0x%02x", type);
            if (add_entry(pt, index++, (ebr + lba) * ss, count * ss, t))
                return FC_EFORMAT;
        }
        mbr_entry(sec, 1, &type, &lba, &count);
        if (!is_extended(type) || !count)
            return 0;
        ebr = ext_lba + lba;
    }
    return FC_EFORMAT; /* a loop in the chain */
}

static int parse_mbr(int fd, uint64_t disk_size, uint32_t ss, const uint8_t *sec,
                     struct fc_ptable *pt)
{
    int i;

    pt->kind = FC_TABLE_MBR;
    for (i = 0; i < 4; i++) {
        uint64_t lba, count;
        uint8_t type;
        char t[8];

        mbr_entry(sec, i, &type, &lba, &count);
        if (!type || !count)
            continue;
        if ((sec[446 + 16 * i] & 0x7f) != 0)
            return FC_EFORMAT; /* boot flag must be 0x00 or 0x80 */
        if (is_extended(type)) {
            if (read_logicals(fd, disk_size, ss, lba, pt))
                return FC_EFORMAT;
            continue;
        }
        snprintf(t, sizeof(t), "0x%02x", type);
        if (add_entry(pt, (uint32_t)i + 1, lba * ss, count * ss, t))
            return FC_EFORMAT;
    }
    return check_entries(pt, disk_size);
}

static void guid_str(const uint8_t *g, char *out, size_t cap)
{
    snprintf(out, cap, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", fc_get32(g),
             fc_get16(g + 4), fc_get16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
             g[15]);
}

int fc__gpt_header_ok(uint8_t *h, uint32_t ss, uint64_t lba)
{
    uint32_t hsize = fc_get32(h + 12), crc = fc_get32(h + 16), got;

    if (memcmp(h, "EFI PART", 8) != 0 || hsize < GPT_HDR_MIN || hsize > ss)
        return 0;
    fc_put32(h + 16, 0);
    got = fc_crc32(h, hsize);
    fc_put32(h + 16, crc);
    return got == crc && fc_get64(h + 24) == lba;
}

static int gpt_entries(int fd, uint64_t disk_size, uint32_t ss, const uint8_t *h,
                       struct fc_ptable *pt)
{
    uint64_t ent_lba = fc_get64(h + 72), disk_lbas = disk_size / ss;
    uint32_t n = fc_get32(h + 80), esz = fc_get32(h + 84), i;
    uint64_t bytes = (uint64_t)n * esz;
    uint8_t *buf;
    int rc = FC_EFORMAT;

    /* LBAs are 64-bit on disk: compare them in sectors, since lba * ss
     * wraps for a forged one and would pass a check in bytes. */
    if (n == 0 || n > GPT_ENTRIES_MAX || esz < 128 || esz > 4096 || esz % 8 ||
        ent_lba > disk_lbas || bytes > disk_size - ent_lba * ss)
        return FC_EFORMAT;
    buf = malloc(bytes);
    if (!buf)
        return FC_ENOMEM;
    if (fc_pread_full(fd, buf, bytes, ent_lba * ss) || fc_crc32(buf, bytes) != fc_get32(h + 88))
        goto out;
    for (i = 0; i < n; i++) {
        const uint8_t *e = buf + (uint64_t)i * esz;
        static const uint8_t zero[16];
        uint64_t first = fc_get64(e + 32), last = fc_get64(e + 40);
        char type[40];

        if (memcmp(e, zero, 16) == 0)
            continue;
        if (last < first || last >= disk_lbas)
            goto out;
        guid_str(e, type, sizeof(type));
        if (add_entry(pt, i + 1, first * ss, (last - first + 1) * ss, type))
            goto out;
    }
    rc = check_entries(pt, disk_size);
out:
    free(buf);
    return rc;
}

static int parse_gpt(int fd, uint64_t disk_size, uint32_t ss, struct fc_ptable *pt)
{
    uint8_t h[4096];
    uint64_t last_lba = disk_size / ss - 1;

    pt->kind = FC_TABLE_GPT;
    pt->n = 0;
    if (!fc_pread_full(fd, h, ss, ss) && fc__gpt_header_ok(h, ss, 1) &&
        !gpt_entries(fd, disk_size, ss, h, pt))
        return 0;
    pt->n = 0;
    if (!fc_pread_full(fd, h, ss, last_lba * ss) && fc__gpt_header_ok(h, ss, last_lba) &&
        !gpt_entries(fd, disk_size, ss, h, pt)) {
        snprintf(pt->note, sizeof(pt->note),
                 "primary GPT header or entries damaged; used the backup GPT");
        return 0;
    }
    return FC_EFORMAT;
}

static int has_protective(const uint8_t *sec)
{
    int i;
    for (i = 0; i < 4; i++)
        if (sec[446 + 16 * i + 4] == 0xee)
            return 1;
    return 0;
}

/* A bare NTFS or FAT (a superfloppy USB stick, a partition image) ends its
 * boot sector with 55 AA too; its "partition entries" are boot code. */
static int is_fs_boot_sector(const uint8_t *sec, uint64_t disk_size)
{
    struct fc_fat_geom g;
    char why[128];

    return memcmp(sec + 3, "NTFS    ", 8) == 0 ||
           fc_fat_parse_boot(sec, disk_size, &g, why, sizeof(why)) == 0;
}

int fc_ptable_read(int fd, uint64_t disk_size, uint32_t sector_size, struct fc_ptable *pt)
{
    uint8_t sec[4096];
    uint32_t ss = sector_size ? sector_size : 512;

    memset(pt, 0, sizeof(*pt));
    pt->sector = ss;
    if (disk_size < 4ull * ss || fc_pread_full(fd, sec, ss, 0))
        return 0;
    if (sec[510] != 0x55 || sec[511] != 0xaa)
        return 0; /* no table: an unpartitioned disk or a bare filesystem */
    if (is_fs_boot_sector(sec, disk_size))
        return 0;
    if (has_protective(sec)) {
        if (parse_gpt(fd, disk_size, ss, pt) == 0)
            return 0;
        snprintf(pt->note, sizeof(pt->note),
                 "GPT headers or entries damaged (primary and backup); falling back to the whole "
                 "disk as unpartitioned (non-zero blocks)");
    } else {
        if (parse_mbr(fd, disk_size, ss, sec, pt) == 0)
            return 0;
        snprintf(pt->note, sizeof(pt->note),
                 "MBR partition table is inconsistent; falling back to the whole disk as "
                 "unpartitioned (non-zero blocks)");
    }
    pt->kind = FC_TABLE_NONE;
    pt->n = 0;
    return 0;
}
