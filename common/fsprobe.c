/* ext2/3/4 used blocks (libext2fs), FAT used clusters, swap headers, and
 * the dispatch to every probe. */
#include "common/fsprobe.h"

#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/fat.h"
#include "common/log.h"
#include "common/ntfsprobe.h"

#define EXT_SB_OFF 1024
#define EXT_MAGIC 0xEF53
#define SWAP_PAGE 4096

static int looks_like_ext(int fd, const struct fc_part *p)
{
    uint8_t sb[1024];

    if (p->size < EXT_SB_OFF + sizeof(sb) ||
        fc_pread_full(fd, sb, sizeof(sb), p->start + EXT_SB_OFF))
        return 0;
    return fc_get16(sb + 56) == EXT_MAGIC;
}

/* A zeroed or overwritten primary superblock with an intact backup (group
 * 1, for each possible block size) is a damaged ext filesystem, not an
 * unknown partition: the operator must hear about it. */
static int has_backup_ext_sb(int fd, const struct fc_part *p)
{
    static const uint64_t offs[] = {8193ull * 1024, 16384ull * 2048, 32768ull * 4096};
    uint8_t sb[1024];
    size_t i;

    for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        if (p->size < offs[i] + sizeof(sb) || fc_pread_full(fd, sb, sizeof(sb), p->start + offs[i]))
            continue;
        if (fc_get16(sb + 56) == EXT_MAGIC)
            return 1;
    }
    return 0;
}

static int looks_like_swap(int fd, const struct fc_part *p)
{
    uint8_t tail[10];

    if (p->size < SWAP_PAGE || fc_pread_full(fd, tail, sizeof(tail), p->start + SWAP_PAGE - 10))
        return 0;
    return memcmp(tail, "SWAPSPACE2", 10) == 0 || memcmp(tail, "SWAP-SPACE", 10) == 0;
}

static uint8_t ext_kind(ext2_filsys fs)
{
    if (ext2fs_has_feature_extents(fs->super) || ext2fs_has_feature_flex_bg(fs->super) ||
        ext2fs_has_feature_64bit(fs->super))
        return FC_FS_EXT4;
    return ext2fs_has_feature_journal(fs->super) ? FC_FS_EXT3 : FC_FS_EXT2;
}

/* Runs of set bits in the block bitmap become byte ranges. Block 0 and the
 * blocks before first_data_block (the boot block of 1 KiB-block filesystems)
 * are not in the bitmap but hold the superblock: always stored. */
static int ext_used_ranges(ext2_filsys fs, uint64_t base, struct fc_ranges *used)
{
    blk64_t first = fs->super->s_first_data_block, end = ext2fs_blocks_count(fs->super) - 1;
    blk64_t start = first, run_start, run_end;
    uint64_t bs = fs->blocksize;
    int rc;

    rc = fc_ranges_add(used, base, (first + 1) * bs);
    start = first + 1;
    while (!rc && start <= end) {
        if (ext2fs_find_first_set_block_bitmap2(fs->block_map, start, end, &run_start))
            break;
        if (ext2fs_find_first_zero_block_bitmap2(fs->block_map, run_start, end, &run_end))
            run_end = end + 1;
        rc = fc_ranges_add(used, base + run_start * bs, (run_end - run_start) * bs);
        start = run_end;
    }
    return rc;
}

static int probe_ext(const char *path, struct fc_part *p, struct fc_ranges *used)
{
    char opts[64];
    ext2_filsys fs = NULL;
    errcode_t err;
    int rc = 0;

    snprintf(opts, sizeof(opts), "offset=%llu", (unsigned long long)p->start);
    err = ext2fs_open2(path, opts, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
    if (err) {
        snprintf(p->note, sizeof(p->note),
                 "ext superblock unreadable (%s); falling back to "
                 "non-zero blocks",
                 error_message(err));
        return 1;
    }
    if ((uint64_t)ext2fs_blocks_count(fs->super) * fs->blocksize > p->size) {
        snprintf(p->note, sizeof(p->note),
                 "ext filesystem larger than its partition; falling "
                 "back to non-zero blocks");
        rc = 1;
        goto out;
    }
    err = ext2fs_read_block_bitmap(fs);
    if (err) {
        snprintf(p->note, sizeof(p->note),
                 "ext block bitmap unreadable (%s); falling back to "
                 "non-zero blocks",
                 error_message(err));
        rc = 1;
        goto out;
    }
    if (ext2fs_has_feature_journal_needs_recovery(fs->super))
        fc_warn("partition %u: ext journal needs recovery (filesystem mounted or not cleanly "
                "unmounted); captured as it is on disk",
                p->index);
    p->fs = ext_kind(fs);
    p->method = FC_METHOD_FSBITMAP;
    if (ext_used_ranges(fs, p->start, used))
        rc = FC_ENOMEM;
out:
    if (rc)
        fc_ranges_free(used);
    ext2fs_close_free(&fs);
    return rc;
}

struct fat_src {
    int fd;
    uint64_t base;
};

static int fat_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct fat_src *src = ctx;
    return fc_pread_full(src->fd, buf, len, src->base + off);
}

/* 0 if not FAT at all (no boot sector FAT would accept), 1 if FAT and
 * probed or fallen back (note set), < 0 on allocation failure. */
static int probe_fat(int fd, struct fc_part *p, struct fc_ranges *used)
{
    static const uint8_t kinds[] = {
        [12 / 4] = FC_FS_FAT12, [16 / 4] = FC_FS_FAT16, [32 / 4] = FC_FS_FAT32};
    uint8_t bs[FC_FAT_BOOT_LEN];
    struct fat_src src = {fd, p->start};
    struct fc_fat_geom g;
    uint64_t n_free;
    char why[128];
    int rc;

    if (p->size < sizeof(bs) || fc_pread_full(fd, bs, sizeof(bs), p->start))
        return 0;
    if (fc_fat_parse_boot(bs, p->size, &g, why, sizeof(why)))
        return 0;
    rc = fc_fat_used(&g, fat_read, &src, p->start, used, &n_free);
    if (rc == FC_ENOMEM)
        return rc;
    if (rc) {
        fc_ranges_free(used);
        snprintf(p->note, sizeof(p->note),
                 "FAT%u table unreadable; falling back to non-zero blocks", g.type);
        fc_warn("partition %u: %s", p->index, p->note);
        return 1;
    }
    p->fs = kinds[g.type / 4];
    p->method = FC_METHOD_FSBITMAP;
    fc_debug("partition %u: FAT%u, %u clusters of %u bytes, %llu free", p->index, g.type,
             g.clusters, g.cluster, (unsigned long long)n_free);
    return 1;
}

/* A FAT boot sector that fails validation but names itself FAT is a damaged
 * FAT, not an unknown partition: the operator must hear about it. */
static void note_bad_fat(int fd, struct fc_part *p)
{
    uint8_t bs[FC_FAT_BOOT_LEN];
    struct fc_fat_geom g;
    char why[128];

    if (p->size < sizeof(bs) || fc_pread_full(fd, bs, sizeof(bs), p->start))
        return;
    if (memcmp(bs + 54, "FAT", 3) && memcmp(bs + 82, "FAT32", 5))
        return;
    if (!fc_fat_parse_boot(bs, p->size, &g, why, sizeof(why)))
        return;
    snprintf(p->note, sizeof(p->note),
             "FAT boot sector invalid (%s); falling back to non-zero blocks", why);
    fc_warn("partition %u: %s", p->index, p->note);
}

static int probe_ntfs(int fd, unsigned flags, struct fc_part *p, struct fc_ranges *used)
{
    int rc = fc_ntfs_probe(fd, flags & FC_PROBE_FORCE, p, used);

    if (rc == 1) {
        fc_ranges_free(used);
        fc_warn("partition %u: %s", p->index, p->note);
        return 0;
    }
    return rc;
}

int fc_fsprobe(const char *path, int fd, unsigned flags, struct fc_part *p, struct fc_ranges *used)
{
    int rc;

    p->fs = FC_FS_NONE;
    p->method = FC_METHOD_NONZERO;
    p->dontcare_bytes = 0;
    if (looks_like_ext(fd, p)) {
        rc = probe_ext(path, p, used);
        if (rc < 0)
            return rc;
        if (rc > 0)
            fc_warn("partition %u: %s", p->index, p->note);
        return 0;
    }
    if (has_backup_ext_sb(fd, p)) {
        snprintf(p->note, sizeof(p->note),
                 "ext primary superblock damaged (a backup superblock "
                 "exists: repair with e2fsck); falling back to non-zero blocks");
        fc_warn("partition %u: %s", p->index, p->note);
        return 0;
    }
    if (fc_ntfs_looks(fd, p))
        return probe_ntfs(fd, flags, p, used);
    rc = probe_fat(fd, p, used);
    if (rc)
        return rc < 0 ? rc : 0;
    note_bad_fat(fd, p);
    if (looks_like_swap(fd, p)) {
        p->fs = FC_FS_SWAP;
        p->method = FC_METHOD_SWAPHDR;
        return fc_ranges_add(used, p->start, SWAP_PAGE);
    }
    return 0;
}
