/* NTFS through libntfs-3g (see ntfsprobe.h). libntfs-3g reads the volume
 * through a read-only device of ours (ntfsdev.c): the partition's byte
 * range of the disk fd capture already holds, never a write. */
#include "common/ntfsprobe.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/volume.h>

#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "common/ntfsdev.h"

#define BITMAP_WIN (1u << 20) /* $Bitmap bytes per pass: 8 Mi clusters */
#define SYSTEM_FILES 12       /* $MFT .. $Extend */

int fc_ntfs_looks(int fd, const struct fc_part *p)
{
    uint8_t bs[16];

    if (p->size < 4096 || fc_pread_full(fd, bs, sizeof(bs), p->start))
        return 0;
    return memcmp(bs + 3, "NTFS    ", 8) == 0;
}

/* Cluster runs: what a file's data occupies (in any order: each window of
 * the bitmap applies every run that overlaps it). */
struct run {
    int64_t lcn, len;
};

struct runs {
    struct run *r;
    size_t n, cap;
    uint64_t clusters;
};

static int runs_push(struct runs *rs, int64_t lcn, int64_t len)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct run *r = realloc(rs->r, cap * sizeof(*r));
        if (!r)
            return FC_ENOMEM;
        rs->r = r;
        rs->cap = cap;
    }
    rs->r[rs->n].lcn = lcn;
    rs->r[rs->n].len = len;
    rs->n++;
    rs->clusters += (uint64_t)len;
    return 0;
}

/* The runs of ni's unnamed $DATA from virtual cluster skip on. A file
 * without one (a directory, resident data) adds nothing. */
static int file_runs(ntfs_inode *ni, int64_t skip, struct runs *rs)
{
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
    runlist_element *rl;
    int rc = 0;

    if (!na)
        return 0;
    if (!NAttrNonResident(na) || ntfs_attr_map_whole_runlist(na))
        goto out;
    for (rl = na->rl; rl && rl->length && !rc; rl++) {
        int64_t lcn = rl->lcn, len = rl->length, cut = skip - rl->vcn;
        if (lcn < 0 || cut >= len)
            continue;
        if (cut > 0)
            lcn += cut, len -= cut;
        rc = runs_push(rs, lcn, len);
    }
out:
    ntfs_attr_close(na);
    return rc;
}

static int system_runs(ntfs_volume *vol, struct runs *rs)
{
    int rc = 0;
    u64 i;

    for (i = 0; i < SYSTEM_FILES && !rc; i++) {
        ntfs_inode *ni;
        if (i == FILE_BadClus)
            continue; /* $Bad is a sparse stream over the whole volume */
        ni = ntfs_inode_open(vol, i);
        if (!ni)
            continue; /* $Bitmap still covers it */
        rc = file_runs(ni, 0, rs);
        ntfs_inode_close(ni);
    }
    return rc;
}

/* Windows recreates these; hiberfil.sys keeps its first cluster (the
 * header), so a clone never inherits a stale signature from the target. */
static const struct {
    const char *name;
    int64_t keep;
} dontcare_files[] = {{"pagefile.sys", 0}, {"hiberfil.sys", 1}, {"swapfile.sys", 0}};

static int dontcare_runs(ntfs_volume *vol, struct runs *rs, char *names, size_t cap)
{
    size_t i;
    int rc = 0;

    names[0] = 0;
    for (i = 0; i < sizeof(dontcare_files) / sizeof(dontcare_files[0]) && !rc; i++) {
        ntfs_inode *ni = ntfs_pathname_to_inode(vol, NULL, dontcare_files[i].name);
        uint64_t before = rs->clusters;
        if (!ni)
            continue;
        rc = file_runs(ni, dontcare_files[i].keep, rs);
        ntfs_inode_close(ni);
        if (rs->clusters > before) {
            char sz[16];
            size_t len = strlen(names);
            fc_human_bytes((rs->clusters - before) * vol->cluster_size, sz, sizeof(sz));
            snprintf(names + len, cap - len, "%s%s %s", len ? ", " : "", dontcare_files[i].name,
                     sz);
        }
    }
    return rc;
}

static void set_runs(uint8_t *bits, int64_t c0, int64_t c1, const struct runs *rs, int val)
{
    size_t i;

    for (i = 0; i < rs->n; i++) {
        int64_t c = rs->r[i].lcn > c0 ? rs->r[i].lcn : c0;
        int64_t end = rs->r[i].lcn + rs->r[i].len < c1 ? rs->r[i].lcn + rs->r[i].len : c1;
        for (; c < end; c++) {
            uint8_t m = (uint8_t)(1u << ((c - c0) % 8));
            bits[(c - c0) / 8] = val ? bits[(c - c0) / 8] | m : bits[(c - c0) / 8] & ~m;
        }
    }
}

/* $Bitmap a window at a time, with the system files' runs set and the
 * don't-care files' runs cleared, into byte ranges. */
static int bitmap_ranges(ntfs_volume *vol, const struct runs *keep, const struct runs *skip,
                         uint64_t base, struct fc_ranges *used)
{
    uint8_t *bits = malloc(BITMAP_WIN);
    int64_t c0;
    int rc = bits ? 0 : FC_ENOMEM;

    for (c0 = 0; !rc && c0 < vol->nr_clusters; c0 += (int64_t)BITMAP_WIN * 8) {
        int64_t c1 = vol->nr_clusters - c0 > (int64_t)BITMAP_WIN * 8 ? c0 + (int64_t)BITMAP_WIN * 8
                                                                     : vol->nr_clusters;
        s64 want = (c1 - c0 + 7) / 8;
        if (ntfs_attr_pread(vol->lcnbmp_na, c0 / 8, want, bits) != want) {
            rc = FC_EIO;
            break;
        }
        set_runs(bits, c0, c1, keep, 1);
        set_runs(bits, c0, c1, skip, 0);
        rc = fc_ranges_add_bits(used, bits, 0, (size_t)(c1 - c0),
                                base + (uint64_t)c0 * vol->cluster_size, vol->cluster_size, NULL);
    }
    free(bits);
    return rc;
}

/* hiberfil.sys's first bytes: "hibr"/"HIBR" a hibernated system (HIBR: fast
 * start-up's hybrid shutdown), "wake" one caught resuming. */
static int hibernated(ntfs_volume *vol)
{
    ntfs_inode *ni = ntfs_pathname_to_inode(vol, NULL, "hiberfil.sys");
    ntfs_attr *na;
    char sig[4] = {0};
    int hib = 0;

    if (!ni)
        return 0;
    na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
    if (na && ntfs_attr_pread(na, 0, 4, sig) == 4)
        hib = !memcmp(sig, "hibr", 4) || !memcmp(sig, "HIBR", 4) || !memcmp(sig, "wake", 4);
    if (na)
        ntfs_attr_close(na);
    ntfs_inode_close(ni);
    return hib;
}

/* What makes the volume unsafe to take or change as it is, or NULL. */
static const char *unsafe_what(ntfs_volume *vol)
{
    return hibernated(vol) ? "hibernated (hiberfil.sys has a hibernation signature: Windows fast "
                             "start-up)"
           : vol->flags & VOLUME_IS_DIRTY ? "marked dirty (not cleanly shut down)"
                                          : NULL;
}

static int check_safe(ntfs_volume *vol, int force, struct fc_part *p)
{
    const char *what = unsafe_what(vol);

    if (!what)
        return 0;
    if (!force) {
        fc_error("partition %u: NTFS volume %s: its last changes are not on the disk; in Windows, "
                 "shut down with fast start-up off, or run chkdsk /f, then capture again "
                 "(--force captures it as it is)",
                 p->index, what);
        return FC_EUNSAFE;
    }
    fc_warn("partition %u: NTFS volume %s; captured as it is (--force)", p->index, what);
    snprintf(p->note, sizeof(p->note), "NTFS %s, captured with --force", what);
    return 0;
}

static int plan_volume(ntfs_volume *vol, struct fc_part *p, struct fc_ranges *used)
{
    struct runs keep = {0}, skip = {0};
    uint64_t vol_bytes = (uint64_t)vol->nr_clusters * vol->cluster_size;
    char names[160], sz[16];
    int rc;

    rc = system_runs(vol, &keep);
    if (!rc)
        rc = dontcare_runs(vol, &skip, names, sizeof(names));
    if (rc)
        goto out;
    rc = bitmap_ranges(vol, &keep, &skip, p->start, used);
    /* the backup boot sector: the partition's last sector, past the last
     * cluster */
    if (!rc)
        rc = fc_ranges_add(used, p->start + vol_bytes, p->size - vol_bytes);
    if (rc)
        goto out;
    p->dontcare_bytes = skip.clusters * vol->cluster_size;
    if (skip.clusters) {
        size_t len = strlen(p->note);
        fc_human_bytes(p->dontcare_bytes, sz, sizeof(sz));
        snprintf(p->note + len, sizeof(p->note) - len,
                 "%s%s not stored (don't care, Windows recreates them): %s", len ? "; " : "", sz,
                 names);
    }
out:
    free(keep.r);
    free(skip.r);
    return rc;
}

/* The volume on bytes [start, start + size) of fd, read-only; NULL (errno
 * set) when libntfs-3g cannot mount it. io lives in the caller's frame: the
 * library holds it only between mount and umount, both in that call. */
static ntfs_volume *mount_part(struct fc_ntfs_part *io, int fd, uint64_t start, uint64_t size)
{
    struct ntfs_device *dev = fc_ntfs_part_dev(io, fd, start, size, 0);
    ntfs_volume *vol;
    int err;

    if (!dev) {
        errno = ENOMEM;
        return NULL;
    }
    vol = ntfs_device_mount(dev, NTFS_MNT_RDONLY);
    if (!vol) {
        err = errno;
        ntfs_device_free(dev);
        errno = err;
    }
    return vol;
}

int fc_ntfs_probe(int fd, int force, struct fc_part *p, struct fc_ranges *used)
{
    struct fc_ntfs_part io;
    ntfs_volume *vol = mount_part(&io, fd, p->start, p->size);
    int rc;

    if (!vol) {
        snprintf(p->note, sizeof(p->note),
                 "NTFS volume unreadable by libntfs-3g (%s); falling back to non-zero blocks",
                 strerror(errno));
        return 1;
    }
    if ((uint64_t)vol->nr_clusters * vol->cluster_size > p->size) {
        snprintf(p->note, sizeof(p->note),
                 "NTFS volume larger than its partition; falling back to non-zero blocks");
        rc = 1;
    } else {
        rc = check_safe(vol, force, p);
        if (!rc)
            rc = plan_volume(vol, p, used);
        if (rc == FC_EIO) {
            snprintf(p->note, sizeof(p->note),
                     "NTFS $Bitmap unreadable; falling back to non-zero blocks");
            rc = 1;
        }
    }
    if (rc)
        fc_ranges_free(used);
    else {
        p->fs = FC_FS_NTFS;
        p->method = FC_METHOD_FSBITMAP;
    }
    ntfs_umount(vol, FALSE);
    return rc;
}

const char *fc_ntfs_unsafe(int fd, uint64_t start, uint64_t size)
{
    struct fc_ntfs_part io;
    ntfs_volume *vol = mount_part(&io, fd, start, size);
    const char *what;

    if (!vol)
        return errno == EPERM ? "hibernated (libntfs-3g refuses to open it)"
                              : "unreadable by libntfs-3g";
    what = unsafe_what(vol);
    ntfs_umount(vol, FALSE);
    return what;
}
