/* Partition tables on small disk files made here. Parsing: MBR with
 * logicals, GPT, GPT with a damaged primary, GPT with both damaged, garbage.
 * Writing (common/ptwrite.c): the backup GPT moved to a bigger disk's end
 * (fields, both CRCs, entries intact), a disk of the same size untouched,
 * the last partition grown (GPT and MBR), a partition not last refused. */
#include "tests/unit/unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/parttable.h"
#include "common/ptwrite.h"

#define DISK (8u << 20)
#define SS 512

static int make_disk(uint8_t **img)
{
    char path[] = "/tmp/fc-pt-XXXXXX";
    int fd = mkstemp(path);

    unlink(path);
    *img = calloc(1, DISK);
    return fd;
}

static void commit(int fd, const uint8_t *img)
{
    ck_assert_int_eq(fc_pwrite_full(fd, img, DISK, 0), 0);
}

static void mbr_entry(uint8_t *sec, int i, uint8_t type, uint32_t lba, uint32_t n)
{
    uint8_t *p = sec + 446 + 16 * i;
    p[4] = type;
    fc_put32(p + 8, lba);
    fc_put32(p + 12, n);
}

START_TEST(test_crc32)
{
    ck_assert_uint_eq(fc_crc32("123456789", 9), 0xCBF43926u);
}
END_TEST

START_TEST(test_mbr_with_logicals)
{
    uint8_t *img;
    int fd = make_disk(&img);
    struct fc_ptable pt;

    mbr_entry(img, 0, 0x83, 2048, 4096);
    mbr_entry(img, 1, 0x05, 8192, 8192); /* extended */
    img[510] = 0x55, img[511] = 0xaa;
    /* first EBR at 8192: logical at +64, next EBR at ext+4096 */
    mbr_entry(img + 8192 * SS, 0, 0x83, 64, 1000);
    mbr_entry(img + 8192 * SS, 1, 0x05, 4096, 2048);
    img[8192 * SS + 510] = 0x55, img[8192 * SS + 511] = 0xaa;
    mbr_entry(img + 12288 * SS, 0, 0x82, 64, 500);
    img[12288 * SS + 510] = 0x55, img[12288 * SS + 511] = 0xaa;
    commit(fd, img);
    ck_assert_int_eq(fc_ptable_read(fd, DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_MBR);
    ck_assert_uint_eq(pt.n, 3);
    ck_assert_uint_eq(pt.e[0].index, 1);
    ck_assert_uint_eq(pt.e[1].index, 5);
    ck_assert_uint_eq(pt.e[1].start, (8192 + 64) * SS);
    ck_assert_uint_eq(pt.e[2].index, 6);
    ck_assert_uint_eq(pt.e[2].start, (12288 + 64) * SS);
    ck_assert_str_eq(pt.e[2].type, "0x82");
    close(fd);
    free(img);
}
END_TEST

START_TEST(test_mbr_outside_disk_is_none)
{
    uint8_t *img;
    int fd = make_disk(&img);
    struct fc_ptable pt;

    mbr_entry(img, 0, 0x83, 2048, 1u << 30);
    img[510] = 0x55, img[511] = 0xaa;
    commit(fd, img);
    ck_assert_int_eq(fc_ptable_read(fd, DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_NONE);
    ck_assert_uint_eq(pt.n, 0);
    ck_assert(strstr(pt.note, "unpartitioned") != NULL);
    close(fd);
    free(img);
}
END_TEST

static void gpt_header(uint8_t *h, uint64_t my, uint64_t alt, uint64_t ent_lba, uint32_t ent_crc)
{
    memset(h, 0, SS);
    memcpy(h, "EFI PART", 8);
    fc_put32(h + 8, 0x00010000);
    fc_put32(h + 12, 92);
    fc_put64(h + 24, my);
    fc_put64(h + 32, alt);
    fc_put64(h + 40, 34);
    fc_put64(h + 48, DISK / SS - 34);
    fc_put64(h + 72, ent_lba);
    fc_put32(h + 80, 128);
    fc_put32(h + 84, 128);
    fc_put32(h + 88, ent_crc);
    fc_put32(h + 16, fc_crc32(h, 92));
}

static uint8_t *make_gpt(int fd)
{
    uint8_t *img = calloc(1, DISK);
    uint8_t *ent = img + 2 * SS, *bent = img + DISK - 33 * SS;
    uint64_t last = DISK / SS - 1;
    uint32_t crc;

    mbr_entry(img, 0, 0xee, 1, (uint32_t)last);
    img[510] = 0x55, img[511] = 0xaa;
    memset(ent, 0x11, 16); /* type GUID */
    fc_put64(ent + 32, 2048);
    fc_put64(ent + 40, 4095);
    memset(ent + 128, 0x22, 16);
    fc_put64(ent + 128 + 32, 6000);
    fc_put64(ent + 128 + 40, 7999);
    crc = fc_crc32(ent, 128 * 128);
    memcpy(bent, ent, 128 * 128);
    gpt_header(img + SS, 1, last, 2, crc);
    gpt_header(img + last * SS, last, 1, last - 32, crc);
    commit(fd, img);
    return img;
}

START_TEST(test_gpt)
{
    uint8_t *img;
    int fd = make_disk(&img);
    struct fc_ptable pt;

    free(img);
    img = make_gpt(fd);
    ck_assert_int_eq(fc_ptable_read(fd, DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_GPT);
    ck_assert_uint_eq(pt.n, 2);
    ck_assert_uint_eq(pt.e[0].start, 2048 * SS);
    ck_assert_uint_eq(pt.e[0].size, 2048 * SS);
    ck_assert_uint_eq(pt.e[1].index, 2);
    ck_assert_str_eq(pt.e[0].type, "11111111-1111-1111-1111-111111111111");
    ck_assert_str_eq(pt.note, "");
    close(fd);
    free(img);
}
END_TEST

START_TEST(test_gpt_backup_used)
{
    uint8_t *img;
    int fd = make_disk(&img);
    struct fc_ptable pt;

    free(img);
    img = make_gpt(fd);
    img[SS + 40] ^= 0xff; /* primary header CRC now wrong */
    commit(fd, img);
    ck_assert_int_eq(fc_ptable_read(fd, DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_GPT);
    ck_assert_uint_eq(pt.n, 2);
    ck_assert(strstr(pt.note, "backup") != NULL);
    close(fd);
    free(img);
}
END_TEST

START_TEST(test_gpt_both_damaged)
{
    uint8_t *img;
    int fd = make_disk(&img);
    struct fc_ptable pt;

    free(img);
    img = make_gpt(fd);
    img[SS + 40] ^= 0xff;
    img[DISK - SS + 40] ^= 0xff;
    commit(fd, img);
    ck_assert_int_eq(fc_ptable_read(fd, DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_NONE);
    ck_assert(strstr(pt.note, "GPT") != NULL);
    close(fd);
    free(img);
}
END_TEST

/* The disk in fd reads as unpartitioned, without a note. */
static void assert_plain_none(int fd)
{
    struct fc_ptable pt;

    ck_assert_int_eq(fc_ptable_read(fd, DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_NONE);
    ck_assert_str_eq(pt.note, "");
}

START_TEST(test_no_signature_is_plain_none)
{
    uint8_t *img;
    int fd = make_disk(&img);

    memset(img, 0x5a, 4096);
    commit(fd, img);
    assert_plain_none(fd);
    close(fd);
    free(img);
}
END_TEST

/* A bare filesystem (a superfloppy stick, a partition image) also ends its
 * first sector with 55 AA: not an MBR, no note. */
START_TEST(test_bare_filesystem_is_plain_none)
{
    uint8_t *img;
    int fd = make_disk(&img);
    char cmd[128];

    memcpy(img + 3, "NTFS    ", 8);
    memset(img + 446, 0x33, 64); /* boot code where MBR entries would be */
    img[510] = 0x55, img[511] = 0xaa;
    commit(fd, img);
    assert_plain_none(fd);
    snprintf(cmd, sizeof(cmd),
             "PATH=$PATH:/usr/sbin:/sbin mkfs.vfat -s 1 -F 16 /proc/%d/fd/%d >/dev/null",
             (int)getpid(), fd);
    ck_assert_int_eq(system(cmd), 0);
    assert_plain_none(fd);
    close(fd);
    free(img);
}
END_TEST

/* The master's GPT disk (make_gpt) on a file of twice its size. */
static uint8_t *make_gpt_on_bigger(int *fd)
{
    uint8_t *img;

    *fd = make_disk(&img);
    free(img);
    img = make_gpt(*fd);
    ck_assert_int_eq(ftruncate(*fd, 2 * DISK), 0);
    return img;
}

static void read_sectors(int fd, uint8_t *buf, uint64_t lba, uint64_t n)
{
    ck_assert_int_eq(fc_pread_full(fd, buf, n * SS, lba * SS), 0);
}

START_TEST(test_gpt_relocate)
{
    const uint64_t last = 2 * DISK / SS - 1, old_last = DISK / SS - 1;
    uint8_t h[SS], b[SS], ents[128 * 128], bents[128 * 128], zero[SS] = {0};
    int fd, moved = -1;
    uint8_t *img = make_gpt_on_bigger(&fd);
    struct fc_ptable pt;

    ck_assert_int_eq(fc_gpt_relocate(fd, 2 * DISK, SS, &moved), 0);
    ck_assert_int_eq(moved, 1);
    read_sectors(fd, h, 1, 1);
    ck_assert(fc__gpt_header_ok(h, SS, 1));         /* primary CRC right */
    ck_assert_uint_eq(fc_get64(h + 32), last);      /* AlternateLBA */
    ck_assert_uint_eq(fc_get64(h + 48), last - 33); /* LastUsableLBA */
    ck_assert_uint_eq(fc_get64(h + 40), 34);        /* FirstUsableLBA kept */
    read_sectors(fd, b, last, 1);
    ck_assert(fc__gpt_header_ok(b, SS, last)); /* backup CRC right, MyLBA = last */
    ck_assert_uint_eq(fc_get64(b + 32), 1);
    ck_assert_uint_eq(fc_get64(b + 72), last - 32);
    ck_assert_uint_eq(fc_get64(b + 48), last - 33);
    read_sectors(fd, ents, 2, 32);
    read_sectors(fd, bents, last - 32, 32);
    ck_assert_mem_eq(ents, img + 2 * SS, sizeof(ents)); /* entries intact */
    ck_assert_mem_eq(bents, ents, sizeof(ents));
    ck_assert_uint_eq(fc_get32(h + 88), fc_crc32(ents, sizeof(ents)));
    ck_assert_uint_eq(fc_get32(b + 88), fc_get32(h + 88));
    read_sectors(fd, b, old_last, 1);
    ck_assert_mem_eq(b, zero, SS); /* the old backup header is gone */
    read_sectors(fd, b, 0, 1);
    ck_assert_uint_eq(fc_get32(b + 446 + 12), last); /* protective MBR covers the disk */
    /* The moved backup alone still gives the same table. */
    ck_assert_int_eq(fc_pwrite_full(fd, zero, SS, SS), 0);
    ck_assert_int_eq(fc_ptable_read(fd, 2 * DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.kind, FC_TABLE_GPT);
    ck_assert_uint_eq(pt.n, 2);
    ck_assert_uint_eq(pt.e[1].start, 6000 * SS);
    ck_assert(strstr(pt.note, "backup") != NULL);
    close(fd);
    free(img);
}
END_TEST

START_TEST(test_gpt_same_size_untouched)
{
    uint8_t *img, *after = malloc(DISK);
    int fd = make_disk(&img), moved = -1;

    free(img);
    img = make_gpt(fd);
    ck_assert_int_eq(fc_gpt_relocate(fd, DISK, SS, &moved), 0);
    ck_assert_int_eq(moved, 0);
    ck_assert_int_eq(fc_pread_full(fd, after, DISK, 0), 0);
    ck_assert_mem_eq(after, img, DISK);
    close(fd);
    free(img);
    free(after);
}
END_TEST

START_TEST(test_gpt_grow_last)
{
    const uint64_t last = 2 * DISK / SS - 1;
    uint8_t h[SS], b[SS];
    int fd, moved;
    uint8_t *img = make_gpt_on_bigger(&fd);
    struct fc_ptgrow g;
    struct fc_ptable pt;

    ck_assert_int_eq(fc_gpt_relocate(fd, 2 * DISK, SS, &moved), 0);
    ck_assert_int_eq(fc_ptable_plan_grow(fd, 2 * DISK, SS, 1, &g), FC_PTGROW_NOT_LAST);
    ck_assert_uint_eq(g.after, 2);
    ck_assert_int_eq(fc_ptable_plan_grow(fd, 2 * DISK, SS, 7, &g), FC_PTGROW_NO_PART);
    ck_assert_int_eq(fc_ptable_plan_grow(fd, 2 * DISK, SS, 0, &g), FC_PTGROW_OK);
    ck_assert_uint_eq(g.index, 2);
    ck_assert_uint_eq(g.old_size, 2000 * SS);
    ck_assert_uint_eq(g.new_size, (last - 33 + 1 - 6000) * SS);
    ck_assert_int_eq(fc_ptable_apply_grow(fd, 2 * DISK, SS, &g), 0);
    read_sectors(fd, h, 1, 1);
    read_sectors(fd, b, last, 1);
    ck_assert(fc__gpt_header_ok(h, SS, 1));
    ck_assert(fc__gpt_header_ok(b, SS, last));
    ck_assert_int_eq(fc_ptable_read(fd, 2 * DISK, SS, &pt), 0);
    ck_assert_str_eq(pt.note, ""); /* read from the primary: its entries' CRC is right */
    ck_assert_uint_eq(pt.e[0].size, 2048 * SS);
    ck_assert_uint_eq(pt.e[1].size, g.new_size);
    /* Grown to the end: nothing more to grow. */
    ck_assert_int_eq(fc_ptable_plan_grow(fd, 2 * DISK, SS, 2, &g), FC_PTGROW_NOT_BIGGER);
    close(fd);
    free(img);
}
END_TEST

START_TEST(test_mbr_grow_last)
{
    uint8_t *img;
    int fd = make_disk(&img), moved = -1;
    struct fc_ptgrow g;
    struct fc_ptable pt;

    mbr_entry(img, 0, 0x83, 2048, 4096);
    mbr_entry(img, 1, 0x83, 8192, 4096);
    img[510] = 0x55, img[511] = 0xaa;
    commit(fd, img);
    ck_assert_int_eq(ftruncate(fd, 2 * DISK), 0);
    ck_assert_int_eq(fc_gpt_relocate(fd, 2 * DISK, SS, &moved), 0);
    ck_assert_int_eq(moved, 0); /* MBR: nothing to move */
    ck_assert_int_eq(fc_ptable_plan_grow(fd, 2 * DISK, SS, 0, &g), FC_PTGROW_OK);
    ck_assert_uint_eq(g.index, 2);
    ck_assert_int_eq(fc_ptable_apply_grow(fd, 2 * DISK, SS, &g), 0);
    ck_assert_int_eq(fc_ptable_read(fd, 2 * DISK, SS, &pt), 0);
    ck_assert_uint_eq(pt.e[1].size, 2 * DISK - 8192 * SS);
    ck_assert_uint_eq(pt.e[0].size, 4096 * SS);
    close(fd);
    free(img);
}
END_TEST

FC_TEST_MAIN("parttable", test_crc32, test_mbr_with_logicals, test_mbr_outside_disk_is_none,
             test_gpt, test_gpt_backup_used, test_gpt_both_damaged, test_no_signature_is_plain_none,
             test_bare_filesystem_is_plain_none, test_gpt_relocate, test_gpt_same_size_untouched,
             test_gpt_grow_last, test_mbr_grow_last)
