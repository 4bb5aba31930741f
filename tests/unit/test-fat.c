/* The FAT parser (common/fat.c): volumes made here with mkfs.vfat -F 12, 16
 * and 32 and files copied in with mtools (type, metadata always stored,
 * exactly the clusters files use stored, the free count), and boot sectors
 * built here: the type at the cluster-count boundaries of the spec (4084 /
 * 4085, 65524 / 65525), bad boot sectors refused with a reason, clusters
 * marked bad not stored, a cluster only the second FAT uses stored. */
#include "tests/unit/unit.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/fat.h"

#define SS 512

/* --- volumes made by mkfs.vfat */

struct vol {
    char path[64];
    int fd;
    uint64_t size;
};

static int fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    return fc_pread_full(*(int *)ctx, buf, len, off);
}

static void sh(const char *fmt, const char *arg1, const char *arg2)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), fmt, arg1, arg2);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* A volume of size_mib MiB: mkfs.vfat -F bits, then a file of file_bytes
 * copied in with mcopy (none if 0). */
static void make_vol(struct vol *v, int bits, unsigned size_mib, size_t file_bytes)
{
    char b[8], fpath[80];

    snprintf(v->path, sizeof(v->path), "/tmp/fc-fat-XXXXXX");
    v->fd = mkstemp(v->path);
    ck_assert_int_ge(v->fd, 0);
    v->size = (uint64_t)size_mib << 20;
    ck_assert_int_eq(ftruncate(v->fd, (off_t)v->size), 0);
    snprintf(b, sizeof(b), "%d", bits);
    sh("PATH=$PATH:/usr/sbin:/sbin mkfs.vfat -F %s %s >/dev/null", b, v->path);
    if (file_bytes) {
        uint8_t *data = malloc(file_bytes);
        int f;
        snprintf(fpath, sizeof(fpath), "%s.file", v->path);
        f = open(fpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        memset(data, 0xA5, file_bytes);
        ck_assert_int_eq(fc_pwrite_full(f, data, file_bytes, 0), 0);
        close(f);
        free(data);
        sh("mcopy -i %s %s ::/DATA.BIN", v->path, fpath);
        unlink(fpath);
    }
}

static void drop_vol(struct vol *v)
{
    close(v->fd);
    unlink(v->path);
}

/* Parses v and checks: its type, the metadata stored from byte 0, and
 * data_clusters clusters in use (the files' and, on FAT32, the root's). */
static void check_vol(struct vol *v, int bits, uint64_t data_clusters)
{
    uint8_t bs[FC_FAT_BOOT_LEN];
    struct fc_fat_geom g;
    struct fc_ranges used = {0};
    uint64_t n_free;
    char why[128] = "";

    ck_assert_int_eq(fc_pread_full(v->fd, bs, sizeof(bs), 0), 0);
    ck_assert_msg(fc_fat_parse_boot(bs, v->size, &g, why, sizeof(why)) == 0, "refused: %s", why);
    ck_assert_uint_eq(g.type, bits);
    ck_assert_int_eq(fc_fat_used(&g, fd_read, &v->fd, 1000000, &used, &n_free), 0);
    ck_assert_uint_ge(used.n, 1);
    ck_assert_uint_eq(used.r[0].off, 1000000); /* boot sector, FATs, root: from the start */
    ck_assert_uint_ge(used.r[0].len, g.data_off);
    ck_assert_uint_eq(fc_ranges_total(&used), g.data_off + data_clusters * g.cluster);
    ck_assert_uint_eq(n_free, g.clusters - data_clusters);
    fc_ranges_free(&used);
}

static uint64_t clusters_of(struct vol *v, uint64_t bytes)
{
    uint8_t bs[FC_FAT_BOOT_LEN];
    struct fc_fat_geom g;
    char why[128];

    ck_assert_int_eq(fc_pread_full(v->fd, bs, sizeof(bs), 0), 0);
    ck_assert_int_eq(fc_fat_parse_boot(bs, v->size, &g, why, sizeof(why)), 0);
    return (bytes + g.cluster - 1) / g.cluster;
}

/* Each type empty, then with one file: the FAT32 root directory is a
 * cluster chain (one cluster), FAT12/16's is metadata. */
START_TEST(test_mkfs)
{
    static const struct {
        int bits;
        unsigned mib;
        size_t file;
        uint64_t root;
    } cases[] = {{12, 2, 100000, 0}, {16, 32, 1000000, 0}, {32, 64, 3000000, 1}};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vol v;
        make_vol(&v, cases[i].bits, cases[i].mib, 0);
        check_vol(&v, cases[i].bits, cases[i].root);
        drop_vol(&v);
        make_vol(&v, cases[i].bits, cases[i].mib, cases[i].file);
        check_vol(&v, cases[i].bits, cases[i].root + clusters_of(&v, cases[i].file));
        drop_vol(&v);
    }
}
END_TEST

/* --- boot sectors built here */

struct mem {
    uint8_t *b;
    size_t len;
};

static int mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct mem *m = ctx;

    if (off > m->len || len > m->len - off)
        return FC_ETRUNC;
    memcpy(buf, m->b + off, len);
    return 0;
}

/* A boot sector of 512-byte sectors, one sector per cluster, two FATs,
 * for exactly `clusters` clusters of a FAT of `bits` bits. */
static uint64_t make_boot(uint8_t *bs, uint32_t clusters, int bits)
{
    uint32_t reserved = bits == 32 ? 32 : 1, root_entries = bits == 32 ? 0 : 512;
    uint32_t fat_sectors = (uint32_t)((((uint64_t)clusters + 2) * bits / 8 + SS - 1) / SS);
    uint64_t total = reserved + 2ull * fat_sectors + root_entries * 32 / SS + clusters;

    memset(bs, 0, FC_FAT_BOOT_LEN);
    bs[0] = 0xEB, bs[1] = 0x3C, bs[2] = 0x90;
    fc_put16(bs + 11, SS);
    bs[13] = 1;
    fc_put16(bs + 14, (uint16_t)reserved);
    bs[16] = 2;
    fc_put16(bs + 17, (uint16_t)root_entries);
    bs[21] = 0xF8;
    if (total < 65536 && bits != 32)
        fc_put16(bs + 19, (uint16_t)total);
    else
        fc_put32(bs + 32, (uint32_t)total);
    if (bits == 32) {
        fc_put32(bs + 36, fat_sectors);
        fc_put32(bs + 44, 2);
    } else {
        fc_put16(bs + 22, (uint16_t)fat_sectors);
    }
    bs[510] = 0x55, bs[511] = 0xAA;
    return total * SS;
}

static int parse(const uint8_t *bs, uint64_t size, struct fc_fat_geom *g, char *why)
{
    return fc_fat_parse_boot(bs, size, g, why, 128);
}

START_TEST(test_type_boundaries)
{
    static const struct {
        uint32_t clusters;
        int bits;
    } cases[] = {{1, 12},     {4084, 12},  {4085, 16},   {65524, 16},
                 {65525, 32}, {70000, 32}, {1000000, 32}};
    uint8_t bs[FC_FAT_BOOT_LEN];
    struct fc_fat_geom g;
    char why[128] = "";
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t size = make_boot(bs, cases[i].clusters, cases[i].bits);
        ck_assert_msg(parse(bs, size, &g, why) == 0, "%u clusters: %s", cases[i].clusters, why);
        ck_assert_uint_eq(g.clusters, cases[i].clusters);
        ck_assert_uint_eq(g.type, cases[i].bits);
    }
    /* one cluster across a boundary with the other type's BPB: refused */
    make_boot(bs, 4085, 12); /* FAT16 by count, a FAT sized for FAT12 */
    ck_assert_int_eq(parse(bs, 64 << 20, &g, why), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "FAT too small"));
    make_boot(bs, 65525, 16); /* FAT32 by count, FAT16 root directory */
    ck_assert_int_eq(parse(bs, 64 << 20, &g, why), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "FAT32"));
    make_boot(bs, 65524, 32); /* FAT16 by count, no root directory */
    ck_assert_int_eq(parse(bs, 64 << 20, &g, why), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "root directory"));
}
END_TEST

START_TEST(test_bad_boot_sectors)
{
    static const struct {
        size_t off;
        int width; /* 1, 2 or 4 bytes */
        uint32_t value;
        const char *reason;
    } cases[] = {
        {510, 1, 0, "55 AA"},
        {0, 1, 0, "jump"},
        {11, 2, 300, "bytes per sector"},
        {11, 2, 8192, "bytes per sector"},
        {13, 1, 3, "sectors per cluster"},
        {13, 1, 0, "sectors per cluster"},
        {16, 1, 0, "zero"},
        {14, 2, 0, "zero"},
        {22, 2, 0, "zero"},
        {21, 1, 0x12, "media"},
        {19, 2, 40, "no room"},
        {22, 2, 1, "FAT too small"},
    };
    uint8_t good[FC_FAT_BOOT_LEN], bs[FC_FAT_BOOT_LEN];
    struct fc_fat_geom g;
    char why[128];
    uint64_t size = make_boot(good, 20000, 16);
    size_t i;

    ck_assert_int_eq(parse(good, size, &g, why), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(bs, good, sizeof(bs));
        if (cases[i].width == 1)
            bs[cases[i].off] = (uint8_t)cases[i].value;
        else if (cases[i].width == 2)
            fc_put16(bs + cases[i].off, (uint16_t)cases[i].value);
        else
            fc_put32(bs + cases[i].off, cases[i].value);
        why[0] = 0;
        ck_assert_msg(parse(bs, size, &g, why) == FC_EFORMAT, "case %zu accepted", i);
        ck_assert_msg(strstr(why, cases[i].reason) != NULL, "case %zu: '%s'", i, why);
    }
    /* a volume larger than its partition */
    ck_assert_int_eq(parse(good, size - SS, &g, why), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "larger than its partition"));
    /* all zeros */
    memset(bs, 0, sizeof(bs));
    ck_assert_int_eq(parse(bs, size, &g, why), FC_EFORMAT);
}
END_TEST

static void put16_entry(uint8_t *vol, const struct fc_fat_geom *g, int copy, uint32_t e, uint16_t v)
{
    fc_put16(vol + g->fat_off + copy * g->fat_bytes + 2 * e, v);
}

START_TEST(test_bad_marks_and_second_fat)
{
    uint8_t *vol;
    struct fc_fat_geom g;
    struct fc_ranges used = {0};
    struct mem m;
    uint64_t size, n_free;
    char why[128];

    vol = calloc(1, 16 << 20);
    size = make_boot(vol, 20000, 16);
    ck_assert_uint_le(size, 16 << 20);
    ck_assert_int_eq(parse(vol, size, &g, why), 0);
    put16_entry(vol, &g, 0, 2, 3); /* a file in clusters 2 and 3 */
    put16_entry(vol, &g, 0, 3, 0xFFFF);
    put16_entry(vol, &g, 1, 2, 3);
    put16_entry(vol, &g, 1, 3, 0xFFFF);
    put16_entry(vol, &g, 0, 5, 0xFFF7); /* bad in both: not stored */
    put16_entry(vol, &g, 1, 5, 0xFFF7);
    put16_entry(vol, &g, 1, 6, 0xFFFF);     /* only the second FAT: stored */
    put16_entry(vol, &g, 0, 20001, 0xFFFF); /* the last cluster */
    m.b = vol;
    m.len = size;
    ck_assert_int_eq(fc_fat_used(&g, mem_read, &m, 0, &used, &n_free), 0);
    ck_assert_uint_eq(used.n, 3);
    ck_assert_uint_eq(used.r[0].off, 0); /* metadata and clusters 2-3, merged */
    ck_assert_uint_eq(used.r[0].len, g.data_off + 2 * g.cluster);
    ck_assert_uint_eq(used.r[1].off, g.data_off + 4 * g.cluster); /* cluster 6 */
    ck_assert_uint_eq(used.r[1].len, g.cluster);
    ck_assert_uint_eq(used.r[2].off, g.data_off + 19999ull * g.cluster);
    ck_assert_uint_eq(used.r[2].off + used.r[2].len, size);
    ck_assert_uint_eq(n_free, 20000 - 4);
    fc_ranges_free(&used);
    /* a FAT that cannot be read: an error, no ranges half-built by the caller */
    m.len = g.fat_off + 100;
    ck_assert_int_eq(fc_fat_used(&g, mem_read, &m, 0, &used, &n_free), FC_ETRUNC);
    fc_ranges_free(&used);
    free(vol);
}
END_TEST

START_TEST(test_fat12_packing)
{
    uint8_t *vol = calloc(1, 4 << 20);
    struct fc_fat_geom g;
    struct fc_ranges used = {0};
    struct mem m = {vol, 0};
    uint64_t n_free;
    char why[128];
    uint8_t *fat;

    m.len = make_boot(vol, 4084, 12);
    ck_assert_int_eq(parse(vol, m.len, &g, why), 0);
    fat = vol + g.fat_off;
    /* entries 2 (even) = 0xFFF and 4085 (odd, the last) = 0xFFF; 3 = 0 */
    fat[3] = 0xFF, fat[4] = 0x0F;
    fat[4085 * 3 / 2] |= 0xF0, fat[4085 * 3 / 2 + 1] = 0xFF;
    ck_assert_int_eq(fc_fat_used(&g, mem_read, &m, 0, &used, &n_free), 0);
    ck_assert_uint_eq(used.n, 2);
    ck_assert_uint_eq(used.r[0].len, g.data_off + g.cluster);
    ck_assert_uint_eq(used.r[1].off, g.data_off + 4083ull * g.cluster);
    ck_assert_uint_eq(n_free, 4084 - 2);
    fc_ranges_free(&used);
    free(vol);
}
END_TEST

/* The bitmap-to-ranges helper the FAT and NTFS probes share: runs across
 * whole 0x00 and 0xFF bytes and inside bytes, a window boundary, n_set. */
START_TEST(test_ranges_add_bits)
{
    static const struct fc_range want[] = {{1080, 80}, {1200, 50}, {1310, 100}};
    uint8_t w1[4] = {0x00, 0xFF, 0xF0, 0x81}, w2[2] = {0xFF, 0x01};
    struct fc_ranges rl = {0};
    uint64_t n;
    size_t i;

    /* bits 8-15, 20-24 (across a byte) and 31 of window 1; 0-8 of window 2
     * (which starts at bit 32: it merges with bit 31) */
    ck_assert_int_eq(fc_ranges_add_bits(&rl, w1, 0, 32, 1000, 10, &n), 0);
    ck_assert_uint_eq(n, 8 + 4 + 1 + 1);
    ck_assert_int_eq(fc_ranges_add_bits(&rl, w2, 0, 16, 1000 + 320, 10, &n), 0);
    ck_assert_uint_eq(n, 9);
    ck_assert_uint_eq(rl.n, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_uint_eq(rl.r[i].off, want[i].off);
        ck_assert_uint_eq(rl.r[i].len, want[i].len);
    }
    fc_ranges_free(&rl);
}
END_TEST

FC_TEST_MAIN("fat", test_mkfs, test_type_boundaries, test_bad_boot_sectors,
             test_bad_marks_and_second_fat, test_fat12_packing, test_ranges_add_bits)
