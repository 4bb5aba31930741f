/* libFuzzer harness of MBR/GPT reading (common/parttable.c). Input: a mode
 * byte (sector size 512..4096; a claimed disk size larger than the bytes
 * given), then the disk itself, read by fc_ptable_read() from a memfd.
 * Properties: no out-of-bounds access or UB; what it returns is what capture
 * relies on: a known kind, every entry inside the disk, sector-aligned,
 * sorted, not overlapping, and no entries when the table is "none". */
#include <string.h>

#include "common/bytes.h"
#include "common/parttable.h"
#include "tests/fuzz/fuzz.h"

static void check_table(const struct fc_ptable *pt, uint64_t disk_size, uint32_t ss)
{
    uint32_t i;

    FUZZ_ASSERT(pt->kind <= FC_TABLE_GPT && pt->n < FC_PARTS_MAX);
    FUZZ_ASSERT(pt->kind != FC_TABLE_NONE || pt->n == 0);
    FUZZ_ASSERT(memchr(pt->note, 0, sizeof(pt->note)) != NULL);
    for (i = 0; i < pt->n; i++) {
        const struct fc_ptentry *e = &pt->e[i];

        FUZZ_ASSERT(e->size > 0 && e->start <= disk_size && e->size <= disk_size - e->start);
        FUZZ_ASSERT(e->start % ss == 0 && e->size % ss == 0);
        FUZZ_ASSERT(i == 0 || pt->e[i - 1].start + pt->e[i - 1].size <= e->start);
    }
}

/* Seeds: 64 KiB disks of 512-byte sectors behind the mode byte 0. */
#define SEED_SECTORS 128
static uint8_t disk[1 + SEED_SECTORS * 512];

static void mbr_part(uint8_t *sec, int i, uint8_t type, uint32_t lba, uint32_t count)
{
    uint8_t *p = sec + 446 + 16 * i;

    p[4] = type;
    fc_put32(p + 8, lba);
    fc_put32(p + 12, count);
    sec[510] = 0x55;
    sec[511] = 0xaa;
}

/* Two primaries and an extended partition holding two logicals. */
static void seed_mbr(void)
{
    uint8_t *d = disk + 1;

    memset(disk, 0, sizeof(disk));
    mbr_part(d, 0, 0x83, 8, 24);
    mbr_part(d, 1, 0x82, 32, 16);
    mbr_part(d, 2, 0x05, 64, 60);
    mbr_part(d + 64 * 512, 0, 0x83, 2, 20);  /* first logical, after its EBR */
    mbr_part(d + 64 * 512, 1, 0x05, 30, 30); /* next EBR, relative to the extended */
    mbr_part(d + 94 * 512, 0, 0x83, 2, 20);
    fuzz_seed("mbr-logicals.bin", disk, sizeof(disk));
}

static void gpt_header(uint8_t *h, uint64_t lba, uint64_t alt, uint64_t ent_lba, uint32_t ent_crc)
{
    memcpy(h, "EFI PART", 8);
    fc_put32(h + 8, 0x10000);
    fc_put32(h + 12, 92);
    fc_put64(h + 24, lba);
    fc_put64(h + 32, alt);
    fc_put64(h + 40, 34);
    fc_put64(h + 48, SEED_SECTORS - 34);
    fc_put64(h + 72, ent_lba);
    fc_put32(h + 80, 4);
    fc_put32(h + 84, 128);
    fc_put32(h + 88, ent_crc);
    fc_put32(h + 16, fc_crc32(h, 92));
}

/* A protective MBR, a primary and a backup GPT of 4 entries, 2 used. */
static void seed_gpt(void)
{
    static const uint8_t linux_fs[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                         0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};
    uint8_t *d = disk + 1, *ent = d + 2 * 512, *bent = d + (SEED_SECTORS - 2) * 512;
    uint32_t crc;

    memset(disk, 0, sizeof(disk));
    mbr_part(d, 0, 0xee, 1, SEED_SECTORS - 1);
    memcpy(ent, linux_fs, 16);
    fc_put64(ent + 32, 40);
    fc_put64(ent + 40, 63);
    memcpy(ent + 128, linux_fs, 16);
    fc_put64(ent + 128 + 32, 64);
    fc_put64(ent + 128 + 40, 90);
    crc = fc_crc32(ent, 4 * 128);
    memcpy(bent, ent, 4 * 128);
    gpt_header(d + 512, 1, SEED_SECTORS - 1, 2, crc);
    gpt_header(d + (SEED_SECTORS - 1) * 512, SEED_SECTORS - 1, 1, SEED_SECTORS - 2, crc);
    fuzz_seed("gpt.bin", disk, sizeof(disk));
    d[512] ^= 1; /* primary header damaged: the backup is used */
    fuzz_seed("gpt-backup.bin", disk, sizeof(disk));
}

static void write_seeds(void)
{
    seed_mbr();
    seed_gpt();
    memset(disk, 0, sizeof(disk));
    fuzz_seed("blank.bin", disk, sizeof(disk));
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fc_ptable pt;
    uint32_t ss;
    uint64_t disk_size;
    int fd;

    fuzz_quiet();
    if (size < 1)
        return 0;
    ss = 512u << (data[0] & 3);
    disk_size = size - 1;
    if (data[0] & 4) /* a disk bigger than what can be read: reads fail, never overrun */
        disk_size += (uint64_t)ss << (data[0] >> 3);
    fd = fuzz_memfd(data + 1, size - 1);
    FUZZ_ASSERT(fd >= 0);
    FUZZ_ASSERT(fc_ptable_read(fd, disk_size, ss, &pt) == 0);
    check_table(&pt, disk_size, ss);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "kind %u, %u entries, note '%s'\n", pt.kind, pt.n, pt.note);
    close(fd);
    return 0;
}
