/* libFuzzer harness of the FAT parser (common/fat.c). Input: a u16, the
 * volume's claimed size in 4 KiB units (reads past the input but inside it
 * see zeros, so a few hundred bytes can stand for a FAT32 volume), then the
 * volume's first bytes, boot sector first. Properties: no out-of-bounds
 * access or UB; a boot sector it accepts has a geometry inside the volume
 * and the type its cluster count gives; the ranges it stores start with the
 * metadata, are sorted, inside the volume and whole clusters; used and free
 * clusters add up to the cluster count. */
#include <string.h>

#include "common/bytes.h"
#include "common/error.h"
#include "common/fat.h"
#include "tests/fuzz/fuzz.h"

struct vol {
    const uint8_t *b;
    size_t len;
    uint64_t size;
};

static int vol_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct vol *v = ctx;
    size_t have = 0;

    if (off > v->size || len > v->size - off)
        return FC_ETRUNC;
    if (off < v->len)
        have = v->len - off < len ? v->len - (size_t)off : len;
    memcpy(buf, v->b + off, have);
    memset((uint8_t *)buf + have, 0, len - have);
    return 0;
}

static void check_geom(const struct fc_fat_geom *g, uint64_t size)
{
    uint8_t type = g->clusters < 4085 ? 12 : g->clusters < 65525 ? 16 : 32;

    FUZZ_ASSERT(g->type == type);
    FUZZ_ASSERT(g->clusters > 0 && g->cluster >= g->sector);
    FUZZ_ASSERT(g->volume_bytes <= size);
    FUZZ_ASSERT(g->fat_off + (uint64_t)g->n_fats * g->fat_bytes <= g->data_off);
    FUZZ_ASSERT(g->data_off + (uint64_t)g->clusters * g->cluster <= g->volume_bytes);
    FUZZ_ASSERT(((uint64_t)g->clusters + 2) * g->type <= g->fat_bytes * 8);
}

static void check_used(const struct fc_fat_geom *g, const struct fc_ranges *used, uint64_t base,
                       uint64_t n_free)
{
    uint64_t total = fc_ranges_total(used), end = 0;
    size_t i;

    FUZZ_ASSERT(used->n >= 1 && used->r[0].off == base && used->r[0].len >= g->data_off);
    for (i = 0; i < used->n; i++) {
        FUZZ_ASSERT(used->r[i].off >= end && used->r[i].len > 0);
        end = used->r[i].off + used->r[i].len;
        FUZZ_ASSERT(end <= base + g->data_off + (uint64_t)g->clusters * g->cluster);
    }
    FUZZ_ASSERT((total - g->data_off) % g->cluster == 0);
    FUZZ_ASSERT((total - g->data_off) / g->cluster + n_free == g->clusters);
}

/* Seeds: small FAT12, FAT16 and FAT32 volumes with a few clusters in use. */
static void seed(const char *name, uint16_t units, uint16_t sectors, uint8_t per_cluster,
                 uint16_t reserved, uint16_t root_entries, uint32_t fat_sectors, int bits)
{
    static uint8_t buf[2 + 64 * 512];
    uint8_t *bs = buf + 2, *fat = bs + reserved * 512u;
    uint32_t total = units * 8u;

    memset(buf, 0, sizeof(buf));
    fc_put16(buf, units);
    bs[0] = 0xEB, bs[1] = 0x58, bs[2] = 0x90;
    fc_put16(bs + 11, 512);
    bs[13] = per_cluster;
    fc_put16(bs + 14, reserved);
    bs[16] = 2;
    fc_put16(bs + 17, root_entries);
    bs[21] = 0xF8;
    fc_put16(bs + 19, sectors);
    fc_put32(bs + 32, sectors ? 0 : total);
    if (bits == 32) {
        fc_put32(bs + 36, fat_sectors);
        fc_put32(bs + 44, 2);
        fc_put32(fat + 8, 0x0FFFFFFF);
        fc_put32(fat + 12, 4);
        fc_put32(fat + 16, 0x0FFFFFFF);
    } else if (bits == 16) {
        fc_put16(bs + 22, (uint16_t)fat_sectors);
        fc_put16(fat + 4, 0xFFFF);
        fc_put16(fat + 10, 0xFFF7);
    } else {
        fc_put16(bs + 22, (uint16_t)fat_sectors);
        fat[3] = 0xFF, fat[4] = 0x4F, fat[5] = 0x00, fat[6] = 0xFF, fat[7] = 0x0F;
    }
    bs[510] = 0x55, bs[511] = 0xAA;
    fuzz_seed(name, buf, 2 + (reserved + 1) * 512u);
}

static void write_seeds(void)
{
    seed("fat12.bin", 64, 512, 1, 1, 64, 2, 12);      /* 256 KiB, ~500 clusters */
    seed("fat16.bin", 1024, 8192, 1, 1, 512, 32, 16); /* 4 MiB, ~8100 clusters */
    seed("fat32.bin", 9000, 0, 1, 32, 0, 565, 32);    /* 35 MiB, ~71000 clusters */
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct vol v;
    struct fc_fat_geom g;
    struct fc_ranges used = {0};
    uint64_t n_free = 0;
    char why[128];
    int rc;

    fuzz_quiet();
    v.size = (uint64_t)fuzz_u16(&in) * 4096;
    v.b = in.p;
    v.len = in.left;
    if (v.size < v.len)
        v.size = v.len;
    if (v.len < FC_FAT_BOOT_LEN)
        return 0;
    if (fc_fat_parse_boot(v.b, v.size, &g, why, sizeof(why))) {
        FUZZ_ASSERT(why[0] != 0);
        return 0;
    }
    check_geom(&g, v.size);
    rc = fc_fat_used(&g, vol_read, &v, 1u << 20, &used, &n_free);
    FUZZ_ASSERT(rc == 0); /* every read is inside the volume */
    check_used(&g, &used, 1u << 20, n_free);
    fc_ranges_free(&used);
    return 0;
}
