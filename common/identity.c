/* Setting a clone's identity in an ext2/3/4 Linux root without mounting it
 * (identity.h), through libext2fs: the receiver runs as root in an
 * initramfs or on a disk file, and mounting would need the kernel module,
 * a mount point, and would replay or touch the journal. */
#include "common/identity.h"

#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/hostname.h"

#define HOSTS_MAX (256 * 1024) /* a bigger /etc/hosts is not edited */
#define SSH_KEYS_MAX 64

/* ---- /etc/hosts, as text ---- */

static int first_token_is(const char *line, size_t len, const char *tok)
{
    size_t i = 0, n = strlen(tok);

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return len - i >= n && !memcmp(line + i, tok, n) &&
           (len - i == n || line[i + n] == ' ' || line[i + n] == '\t');
}

struct outbuf {
    char *p;
    size_t len, cap;
    int overflow;
};

static void put(struct outbuf *o, const char *s, size_t n)
{
    if (o->overflow || o->cap - o->len < n) {
        o->overflow = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_line(struct outbuf *o, const char *hostname)
{
    const char *dot = strchr(hostname, '.');
    char line[2 * FC_HOSTNAME_MAX + 16];
    int n;

    if (dot)
        n = snprintf(line, sizeof(line), "127.0.1.1\t%s %.*s\n", hostname, (int)(dot - hostname),
                     hostname);
    else
        n = snprintf(line, sizeof(line), "127.0.1.1\t%s\n", hostname);
    put(o, line, (size_t)n);
}

int fc_hosts_set(const char *in, size_t len, const char *hostname, char *out, size_t cap)
{
    struct outbuf o = {out, 0, cap, 0};
    size_t i = 0, after_lo = (size_t)-1;
    int has = 0, pass;

    /* Where a missing line goes: after the 127.0.0.1 line. */
    for (i = 0; i < len;) {
        const char *nl = memchr(in + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - in) + 1 : len;
        if (first_token_is(in + i, end - i, "127.0.1.1"))
            has = 1;
        if (after_lo == (size_t)-1 && first_token_is(in + i, end - i, "127.0.0.1"))
            after_lo = end;
        i = end;
    }
    if (!has && after_lo == (size_t)-1)
        put_line(&o, hostname);
    for (i = 0, pass = 0; i < len;) {
        const char *nl = memchr(in + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - in) + 1 : len;
        if (first_token_is(in + i, end - i, "127.0.1.1")) {
            if (!pass++)
                put_line(&o, hostname);
        } else {
            put(&o, in + i, end - i);
            if (!nl)
                put(&o, "\n", 1);
        }
        if (!has && end == after_lo)
            put_line(&o, hostname);
        i = end;
    }
    return o.overflow ? FC_EINVAL : (int)o.len;
}

/* ---- files in the filesystem ---- */

struct efs {
    ext2_filsys fs;
    char *why;
    size_t cap;
};

static int lookup(struct efs *e, ext2_ino_t dir, const char *name, ext2_ino_t *ino,
                  struct ext2_inode *inode)
{
    errcode_t err = ext2fs_lookup(e->fs, dir, name, (int)strlen(name), NULL, ino);

    if (err == EXT2_ET_FILE_NOT_FOUND)
        return 0;
    if (err || (err = ext2fs_read_inode(e->fs, *ino, inode)))
        return fc_why(e->why, e->cap, FC_EIO, "cannot look up %s: %s", name, error_message(err));
    return 1;
}

/* A directory, never through a link: a link could point out of this
 * filesystem's /etc, into what the host running us would resolve. */
static int find_dir(struct efs *e, ext2_ino_t parent, const char *name, ext2_ino_t *ino)
{
    struct ext2_inode inode;
    int rc = lookup(e, parent, name, ino, &inode);

    if (rc == 1 && !LINUX_S_ISDIR(inode.i_mode))
        return fc_why(e->why, e->cap, FC_EFORMAT, "%s is not a directory (a link is not followed)",
                      name);
    return rc;
}

/* Unlinks name from dir; frees the inode with its last link. */
static int remove_entry(struct efs *e, ext2_ino_t dir, const char *name, ext2_ino_t ino)
{
    struct ext2_inode inode;
    errcode_t err;

    err = ext2fs_unlink(e->fs, dir, name, ino, 0);
    if (!err)
        err = ext2fs_read_inode(e->fs, ino, &inode);
    if (err)
        return fc_why(e->why, e->cap, FC_EIO, "cannot remove %s: %s", name, error_message(err));
    if (inode.i_links_count > 1) {
        inode.i_links_count--;
        err = ext2fs_write_inode(e->fs, ino, &inode);
    } else {
        if (ext2fs_inode_has_valid_blocks2(e->fs, &inode))
            err = ext2fs_punch(e->fs, ino, &inode, NULL, 0, ~0ULL);
        inode.i_links_count = 0;
        inode.i_dtime = (uint32_t)time(NULL);
        if (!err)
            err = ext2fs_write_inode(e->fs, ino, &inode);
        if (!err)
            ext2fs_inode_alloc_stats2(e->fs, ino, -1, 0);
    }
    if (err)
        return fc_why(e->why, e->cap, FC_EIO, "cannot free %s: %s", name, error_message(err));
    return 0;
}

static int create_file(struct efs *e, ext2_ino_t dir, const char *name, ext2_ino_t *ino)
{
    struct ext2_inode inode;
    errcode_t err;

    err = ext2fs_new_inode(e->fs, dir, LINUX_S_IFREG | 0644, NULL, ino);
    if (!err) {
        err = ext2fs_link(e->fs, dir, name, *ino, EXT2_FT_REG_FILE);
        if (err == EXT2_ET_DIR_NO_SPACE && !(err = ext2fs_expand_dir(e->fs, dir)))
            err = ext2fs_link(e->fs, dir, name, *ino, EXT2_FT_REG_FILE);
    }
    if (err)
        return fc_why(e->why, e->cap, FC_EIO, "cannot create %s: %s", name, error_message(err));
    ext2fs_inode_alloc_stats2(e->fs, *ino, +1, 0);
    memset(&inode, 0, sizeof(inode));
    inode.i_mode = LINUX_S_IFREG | 0644;
    inode.i_atime = inode.i_ctime = inode.i_mtime = (uint32_t)time(NULL);
    inode.i_links_count = 1;
    if (ext2fs_has_feature_extents(e->fs->super)) {
        ext2_extent_handle_t h;
        inode.i_flags |= EXT4_EXTENTS_FL;
        err = ext2fs_extent_open2(e->fs, *ino, &inode, &h);
        if (!err)
            ext2fs_extent_free(h);
    }
    if (!err)
        err = ext2fs_write_new_inode(e->fs, *ino, &inode);
    if (err)
        return fc_why(e->why, e->cap, FC_EIO, "cannot create %s: %s", name, error_message(err));
    return 0;
}

/* dir/name holds exactly data: truncated and rewritten in place (its
 * owner, mode and other links kept), created if missing, a link replaced
 * by a regular file. */
static int write_file(struct efs *e, ext2_ino_t dir, const char *name, const char *data, size_t len)
{
    struct ext2_inode inode;
    ext2_file_t f = NULL;
    ext2_ino_t ino;
    unsigned int wrote = 0;
    errcode_t err;
    int rc = lookup(e, dir, name, &ino, &inode);

    if (rc == 1 && !LINUX_S_ISREG(inode.i_mode)) {
        if (LINUX_S_ISDIR(inode.i_mode))
            return fc_why(e->why, e->cap, FC_EFORMAT, "%s is a directory", name);
        rc = remove_entry(e, dir, name, ino); /* 0: gone, created below */
    }
    if (rc == 0)
        rc = create_file(e, dir, name, &ino);
    if (rc < 0)
        return rc;
    err = ext2fs_file_open(e->fs, ino, EXT2_FILE_WRITE, &f);
    if (!err)
        err = ext2fs_file_set_size2(f, 0);
    if (!err && len)
        err = ext2fs_file_write(f, data, (unsigned int)len, &wrote);
    if (!err && wrote != len)
        err = EXT2_ET_SHORT_WRITE;
    if (!err)
        err = ext2fs_file_set_size2(f, len);
    if (f) {
        errcode_t e2 = ext2fs_file_close(f);
        if (!err)
            err = e2;
    }
    if (err)
        return fc_why(e->why, e->cap, FC_EIO, "cannot write %s: %s", name, error_message(err));
    return 0;
}

/* The file's bytes, at most cap; 0 and *len 0 when it is missing or not a
 * regular file (a link is not read through). */
static int read_file(struct efs *e, ext2_ino_t dir, const char *name, char *buf, size_t cap,
                     size_t *len)
{
    struct ext2_inode inode;
    ext2_file_t f;
    ext2_ino_t ino;
    unsigned int got = 0;
    errcode_t err;
    int rc = lookup(e, dir, name, &ino, &inode);

    *len = 0;
    if (rc <= 0 || !LINUX_S_ISREG(inode.i_mode))
        return rc < 0 ? rc : 0;
    if (EXT2_I_SIZE(&inode) > cap)
        return fc_why(e->why, e->cap, FC_EFORMAT, "%s is larger than %zu bytes", name, cap);
    err = ext2fs_file_open(e->fs, ino, 0, &f);
    if (!err) {
        err = ext2fs_file_read(f, buf, (unsigned int)EXT2_I_SIZE(&inode), &got);
        ext2fs_file_close(f);
    }
    if (err)
        return fc_why(e->why, e->cap, FC_EIO, "cannot read %s: %s", name, error_message(err));
    *len = got;
    return 0;
}

/* ---- the identity ---- */

struct names {
    char name[SSH_KEYS_MAX][256];
    ext2_ino_t ino[SSH_KEYS_MAX];
    int n, more;
};

static int collect_host_keys(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int off, int bs,
                             char *buf, void *priv)
{
    struct names *k = priv;
    int len = ext2fs_dirent_name_len(d);

    (void)dir, (void)entry, (void)off, (void)bs, (void)buf;
    if (len < 9 || memcmp(d->name, "ssh_host_", 9))
        return 0;
    if (k->n == SSH_KEYS_MAX) {
        k->more = 1;
        return DIRENT_ABORT;
    }
    memcpy(k->name[k->n], d->name, (size_t)len);
    k->name[k->n][len] = 0;
    k->ino[k->n++] = d->inode;
    return 0;
}

/* Removed after the walk, not during it: unlinking rewrites the block the
 * walk is reading. */
static int remove_host_keys(struct efs *e, ext2_ino_t etc)
{
    struct names *k;
    ext2_ino_t ssh;
    errcode_t err;
    int i, rc = find_dir(e, etc, "ssh", &ssh);

    if (rc <= 0)
        return rc;
    rc = 0;
    k = calloc(1, sizeof(*k));
    if (!k)
        return fc_why(e->why, e->cap, FC_ENOMEM, "out of memory");
    do {
        k->n = k->more = 0;
        err = ext2fs_dir_iterate2(e->fs, ssh, 0, NULL, collect_host_keys, k);
        if (err)
            rc = fc_why(e->why, e->cap, FC_EIO, "cannot read /etc/ssh: %s", error_message(err));
        for (i = 0; !rc && i < k->n; i++)
            rc = remove_entry(e, ssh, k->name[i], k->ino[i]);
    } while (!rc && k->more);
    free(k);
    return rc;
}

static int set_identity(struct efs *e, ext2_ino_t etc, const char *hostname)
{
    char line[FC_HOSTNAME_MAX + 2], *in = malloc(HOSTS_MAX), *out = malloc(HOSTS_MAX + 256);
    size_t len;
    int rc = in && out ? 0 : fc_why(e->why, e->cap, FC_ENOMEM, "out of memory");

    if (!rc) {
        snprintf(line, sizeof(line), "%s\n", hostname);
        rc = write_file(e, etc, "hostname", line, strlen(line));
    }
    if (!rc)
        rc = read_file(e, etc, "hosts", in, HOSTS_MAX, &len);
    if (!rc) {
        int n = fc_hosts_set(in, len, hostname, out, HOSTS_MAX + 256);
        rc = n < 0 ? fc_why(e->why, e->cap, n, "/etc/hosts too large") : 0;
        if (!rc)
            rc = write_file(e, etc, "hosts", out, (size_t)n);
    }
    /* Empty, not removed: systemd writes a new id into an empty file at
     * first boot, and treats a missing one as a first boot too. */
    if (!rc)
        rc = write_file(e, etc, "machine-id", "", 0);
    if (!rc)
        rc = remove_host_keys(e, etc);
    free(in);
    free(out);
    return rc;
}

static int is_linux_root(struct efs *e, ext2_ino_t *etc)
{
    struct ext2_inode inode;
    ext2_ino_t ino;
    int rc = find_dir(e, EXT2_ROOT_INO, "etc", etc);

    if (rc <= 0)
        return rc == 0 ? 0 : rc;
    rc = lookup(e, *etc, "os-release", &ino, &inode);
    if (rc == 0)
        rc = lookup(e, *etc, "fstab", &ino, &inode);
    return rc;
}

int fc_identity_ext(const char *path, uint64_t off, const char *hostname, char *why, size_t cap)
{
    struct efs e = {NULL, why, cap};
    char opts[64];
    ext2_ino_t etc;
    errcode_t err;
    int rc;

    why[0] = 0;
    if (!fc_hostname_valid(hostname))
        return fc_why(why, cap, FC_EINVAL, "'%s' is not a valid host name", hostname);
    snprintf(opts, sizeof(opts), "offset=%llu", (unsigned long long)off);
    err = ext2fs_open2(path, opts, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &e.fs);
    if (err)
        return fc_why(why, cap, FC_EFORMAT, "cannot open the ext filesystem: %s",
                      error_message(err));
    rc = is_linux_root(&e, &etc);
    if (rc == 1 && ext2fs_has_feature_journal_needs_recovery(e.fs->super))
        rc = fc_why(why, cap, FC_ESTATE,
                    "its journal needs recovery (the master was not shut down cleanly)");
    if (rc == 1 && (err = ext2fs_read_bitmaps(e.fs)))
        rc = fc_why(why, cap, FC_EIO, "cannot read the bitmaps: %s", error_message(err));
    if (rc == 1 && (rc = set_identity(&e, etc, hostname)) == 0)
        rc = 1;
    /* Closed with its bitmaps and superblock written even after an error:
     * what was changed before it stays consistent. */
    err = ext2fs_close_free(&e.fs);
    if (err && rc >= 0)
        rc = fc_why(why, cap, FC_EIO, "cannot write the filesystem back: %s", error_message(err));
    return rc;
}

int fc_identity_linux(const char *path, const struct fc_manifest *m, const char *hostname,
                      uint32_t *part, char *why, size_t cap)
{
    char w[256];
    uint32_t i;
    int rc;

    why[0] = 0;
    for (i = 0; i < m->n_parts; i++) {
        const struct fc_part *p = &m->parts[i];
        if (p->fs != FC_FS_EXT2 && p->fs != FC_FS_EXT3 && p->fs != FC_FS_EXT4)
            continue;
        rc = fc_identity_ext(path, p->start, hostname, w, sizeof(w));
        if (rc < 0)
            return fc_why(why, cap, rc, "partition %u: %s", p->index, w);
        if (rc == 1) {
            *part = i;
            return 1;
        }
    }
    return 0;
}
