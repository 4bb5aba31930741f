/* The grow step (see grow.h). The filesystem is reached through a loop
 * device over the partition's bytes of the target, not through the kernel's
 * partition nodes: those still show the table as it was before the image
 * was written, and a file target has none. e2fsck, resize2fs, ntfsresize
 * and ntfsfix are run as programs (none has a library), each bounded in
 * time; what they printed goes into our error line when they fail. */
#include "common/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "common/ntfsprobe.h"
#include "common/ptwrite.h"
#include "common/runtool.h"

#define SWAP_PAGE 4096
/* Bounds for the tools: e2fsck -f reads every inode of what may be a large
 * filesystem; ntfsresize only reads $MFT and rewrites $Bitmap when it
 * enlarges, ntfsfix -d a few records. A tool past its bound is killed and
 * the grow step fails (the disk still holds the image as written). */
#define EXT_TOOL_SECONDS 3600
#define NTFS_TOOL_SECONDS 900

const char *fc_grow_result_text(int result)
{
    static const char *const text[] = {
        "done",
        "not possible: no free space after the partition",
        "not possible: the NTFS volume is hibernated or marked dirty",
        "not possible: no ext2/3/4, NTFS or swap on the partition",
        "not possible: another partition lies after it",
        "not possible: no such partition",
        "not possible: the disk has no partition table",
        "failed",
    };
    return result >= 0 && result <= FC_GROW_RESULT_MAX ? text[result] : "unknown";
}

static const char *fs_name(int fs)
{
    static const char *const names[] = {"none", "ext2", "ext3", "ext4", "swap", "ntfs"};
    return fs >= 0 && fs <= FC_FS_NTFS ? names[fs] : "?";
}

/* The partition's filesystem as capture found it, or NTFS by its boot
 * sector (an image made before NTFS was probed, or one whose volume capture
 * could not read, stored it as plain data). FAT, and anything else, is
 * FC_FS_NONE here: nothing grows it. */
static int part_fs(const struct fc_target *t, const struct fc_manifest *m, uint64_t start)
{
    uint8_t boot[16];
    uint32_t i;

    for (i = 0; i < m->n_parts; i++)
        if (m->parts[i].start == start && m->parts[i].fs != FC_FS_NONE)
            return m->parts[i].fs <= FC_FS_NTFS ? (int)m->parts[i].fs : FC_FS_NONE;
    if (!fc_pread_full(t->fd, boot, sizeof(boot), start) && !memcmp(boot + 3, "NTFS    ", 8))
        return FC_FS_NTFS;
    return FC_FS_NONE;
}

/* One try: the free loop device the kernel names, configured over the
 * range; EBUSY when another process took it in between. */
static int loop_try(int ctl, int fd, uint64_t off, uint64_t size, char *dev, size_t cap)
{
    struct loop_config lc;
    int n = ioctl(ctl, LOOP_CTL_GET_FREE), lfd;

    if (n < 0)
        return -1;
    snprintf(dev, cap, "/dev/loop%d", n);
    lfd = open(dev, O_RDWR | O_CLOEXEC);
    if (lfd < 0)
        return -1;
    memset(&lc, 0, sizeof(lc));
    lc.fd = (uint32_t)fd;
    lc.info.lo_offset = off;
    lc.info.lo_sizelimit = size;
    lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (ioctl(lfd, LOOP_CONFIGURE, &lc) == 0)
        return lfd;
    n = errno;
    close(lfd);
    errno = n;
    return -1;
}

/* A loop device over [off, off + size) of fd, detached when *lfd closes.
 * Several receivers (or a losetup) may race for the same free device: the
 * loser asks again, as losetup does. */
static int loop_attach(int fd, uint64_t off, uint64_t size, char *dev, size_t cap, int *lfd)
{
    int ctl, tries;

    *lfd = -1;
    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        fc_error("grow: cannot open /dev/loop-control: %s (the loop driver, and root, are needed)",
                 strerror(errno));
        return FC_EIO;
    }
    for (tries = 0; tries < 20 && *lfd < 0; tries++) {
        *lfd = loop_try(ctl, fd, off, size, dev, cap);
        if (*lfd < 0 && errno != EBUSY)
            break;
    }
    if (*lfd < 0)
        fc_error("grow: cannot set up a loop device: %s", strerror(errno));
    close(ctl);
    return *lfd < 0 ? FC_EIO : 0;
}

/* One tool run; FC_EIO with what it printed when it fails. ok_max: the
 * highest exit status that still means success. */
static int tool(char *const argv[], unsigned timeout_s, int ok_max)
{
    char out[400];
    int rc = fc_run_tool(argv, timeout_s, out, sizeof(out));

    if (rc >= 0 && rc <= ok_max)
        return 0;
    fc_error("grow: %s %s ended with status %d: %s", argv[0], argv[1], rc,
             out[0] ? out : "(no output)");
    return FC_EIO;
}

/* e2fsck -f -p first (resize2fs refuses a filesystem not checked since it
 * was last mounted); exit 1 and 2 mean errors were fixed. */
static int ext_check(const char *dev)
{
    char *const fsck[] = {"e2fsck", "-f", "-p", (char *)dev, NULL};
    return tool(fsck, EXT_TOOL_SECONDS, 2);
}

static int ext_resize(const char *dev)
{
    char *const resize[] = {"resize2fs", (char *)dev, NULL};
    return tool(resize, EXT_TOOL_SECONDS, 0);
}

/* ntfsresize's own test run, as it asks for before a real one: its
 * consistency check and the resize planned to the device's (the grown
 * partition's) size, nothing written. Without --force, so a volume marked
 * for chkdsk is refused here too. */
static int ntfs_check(const char *dev)
{
    char *const dry[] = {"ntfsresize", "--no-action", "--no-progress-bar", (char *)dev, NULL};
    return tool(dry, NTFS_TOOL_SECONDS, 0);
}

/* The real run. --force only because ntfsresize would otherwise ask "Are
 * you sure?" on a terminal nobody watches: the volume was found clean
 * (fc_ntfs_unsafe) and passed the test run just before. ntfsresize then
 * leaves the volume marked for chkdsk "for extra safety"; ntfsfix -d clears
 * that mark after checking $MFT/$MFTMirr and the backup boot sector (as FOG
 * does after its resize), so a clone boots straight into Windows, not into
 * chkdsk, and libntfs-3g tools can still open it. */
static int ntfs_resize(const char *dev)
{
    char *const resize[] = {"ntfsresize", "--force", "--no-progress-bar", (char *)dev, NULL};
    char *const fix[] = {"ntfsfix", "-d", (char *)dev, NULL};
    int rc = tool(resize, NTFS_TOOL_SECONDS, 0);

    return rc ? rc : tool(fix, NTFS_TOOL_SECONDS, 0);
}

/* What mkswap does to a bigger partition, keeping UUID and label: the
 * header's last usable page (swap header v1, linux/swap.h). */
static int swap_grow(const struct fc_target *t, const struct fc_ptgrow *g)
{
    uint8_t page[SWAP_PAGE];

    if (fc_pread_full(t->fd, page, sizeof(page), g->start))
        return FC_EIO;
    if (memcmp(page + SWAP_PAGE - 10, "SWAPSPACE2", 10) || fc_get32(page + 1024) != 1) {
        fc_error("grow: partition %u has no version 1 swap header", g->index);
        return FC_EFORMAT;
    }
    fc_put32(page + 1028, (uint32_t)(g->new_size / SWAP_PAGE - 1));
    return fc_pwrite_full(t->fd, page, sizeof(page), g->start) ? FC_EIO : 0;
}

/* The table entry, then the filesystem; an ext or NTFS filesystem is
 * checked before the table changes, so a failed check leaves the disk
 * exactly as written. */
static int grow_fs(struct fc_target *t, uint32_t ss, int fs, const struct fc_ptgrow *g)
{
    char dev[32];
    int lfd = -1, rc;

    if (fs == FC_FS_SWAP) {
        rc = fc_ptable_apply_grow(t->fd, t->size, ss, g);
        return rc ? rc : swap_grow(t, g);
    }
    rc = loop_attach(t->fd, g->start, g->new_size, dev, sizeof(dev), &lfd);
    if (!rc)
        rc = fs == FC_FS_NTFS ? ntfs_check(dev) : ext_check(dev);
    if (!rc)
        rc = fc_ptable_apply_grow(t->fd, t->size, ss, g);
    if (!rc)
        rc = fs == FC_FS_NTFS ? ntfs_resize(dev) : ext_resize(dev);
    if (lfd >= 0) {
        fsync(lfd);
        close(lfd);
    }
    return rc;
}

static int verdict_result(int v)
{
    switch (v) {
    case FC_PTGROW_OK:
        return FC_GROW_DONE;
    case FC_PTGROW_NO_TABLE:
        return FC_GROW_NO_TABLE;
    case FC_PTGROW_NOT_LAST:
        return FC_GROW_NOT_LAST;
    case FC_PTGROW_NOT_BIGGER:
        return FC_GROW_NOT_BIGGER;
    default:
        return FC_GROW_NO_PART;
    }
}

/* A hibernated or dirty volume is not grown: its last writes are in
 * hiberfil.sys or the journal, and ntfsresize would refuse it or, forced,
 * throw them away. Reported like the other "not possible" results, with the
 * fix (an image captured with --force is such a volume). */
static int ntfs_unsafe(const struct fc_target *t, const struct fc_ptgrow *g, struct fc_fit *f)
{
    const char *what = fc_ntfs_unsafe(t->fd, g->start, g->old_size);

    if (!what)
        return 0;
    f->result = FC_GROW_NTFS;
    f->old_size = f->new_size = g->old_size;
    snprintf(f->detail, sizeof(f->detail),
             "partition %u: not possible: the NTFS volume is %s; boot Windows, shut it down with "
             "fast start-up off or run chkdsk /f, and capture again",
             g->index, what);
    return 1;
}

static void grow_step(struct fc_target *t, const struct fc_manifest *m, uint32_t ss,
                      struct fc_fit *f)
{
    struct fc_ptgrow g;
    char h1[16], h2[16];
    int v = fc_ptable_plan_grow(t->fd, t->size, ss, f->part, &g), fs = 0;

    f->grown_part = g.index ? g.index : f->part;
    f->result = v < 0 ? FC_GROW_FAILED : verdict_result(v);
    if (f->result == FC_GROW_DONE) {
        fs = part_fs(t, m, g.start);
        if (fs == FC_FS_NONE)
            f->result = FC_GROW_FS_UNSUPPORTED;
        else if (fs == FC_FS_NTFS && ntfs_unsafe(t, &g, f))
            return;
    }
    if (f->result == FC_GROW_DONE && grow_fs(t, ss, fs, &g))
        f->result = FC_GROW_FAILED;
    f->old_size = g.old_size;
    f->new_size = f->result == FC_GROW_DONE ? g.new_size : g.old_size;
    if (v == FC_PTGROW_NOT_LAST)
        snprintf(f->detail, sizeof(f->detail), "partition %u: %s (partition %u)", g.index,
                 fc_grow_result_text(f->result), g.after);
    else if (f->result == FC_GROW_DONE || f->result == FC_GROW_FAILED)
        snprintf(f->detail, sizeof(f->detail), "partition %u (%s) %s -> %s: %s", g.index,
                 fs_name(fs), fc_human_bytes(g.old_size, h1, sizeof(h1)),
                 fc_human_bytes(g.new_size, h2, sizeof(h2)), fc_grow_result_text(f->result));
    else
        snprintf(f->detail, sizeof(f->detail), "partition %u: %s", f->grown_part,
                 fc_grow_result_text(f->result));
}

int fc_target_fit(struct fc_target *t, const struct fc_manifest *m, struct fc_fit *f)
{
    uint32_t ss = m->sector_size ? m->sector_size : 512;
    int rc = 0;

    f->gpt_moved = 0;
    f->result = FC_GROW_DONE;
    f->detail[0] = 0;
    if (m->table == FC_TABLE_GPT && t->size > m->disk_size) {
        rc = fc_gpt_relocate(t->fd, t->size, ss, &f->gpt_moved);
        if (rc) {
            fc_error("%s: cannot move the backup GPT to the disk's end: %s", t->path,
                     fc_strerror(rc));
            return rc;
        }
        if (f->gpt_moved)
            fc_info("%s: backup GPT moved to the disk's end (LBA %llu)", t->path,
                    (unsigned long long)(t->size / ss - 1));
    }
    /* A disk of the image's size gets exactly the image, whatever slack the
     * master's table left after its last partition. The caller logs the
     * result, with its session. */
    if (f->grow && t->size <= m->disk_size) {
        f->result = FC_GROW_NOT_BIGGER;
        snprintf(f->detail, sizeof(f->detail), "%s (the disk is the image's size)",
                 fc_grow_result_text(f->result));
    } else if (f->grow) {
        grow_step(t, m, ss, f);
    }
    if (f->gpt_moved || f->grow)
        rc = fc_target_sync(t);
    return rc;
}
