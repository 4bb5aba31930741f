/* The hooks archive (ustar.h): a flat directory of regular files packed
 * into POSIX ustar with fixed metadata, and read back into a directory.
 * Both ends refuse anything but plain files, so a tar can never place a
 * file outside the directory it is unpacked into. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ustar.h"

#include "common/error.h"

#define OFF_NAME 0
#define OFF_MODE 100
#define OFF_UID 108
#define OFF_GID 116
#define OFF_SIZE 124
#define OFF_MTIME 136
#define OFF_CHKSUM 148
#define OFF_TYPE 156
#define OFF_MAGIC 257
#define OFF_UNAME 265
#define OFF_GNAME 297
#define OFF_PREFIX 345

static size_t padded(size_t n)
{
    return (n + FC_USTAR_BLOCK - 1) / FC_USTAR_BLOCK * FC_USTAR_BLOCK;
}

/* A name a run-parts directory can hold: no path separator, not . or .. */
static int name_ok(const char *name, size_t n)
{
    if (n == 0 || n > FC_USTAR_NAME_MAX || memchr(name, '/', n))
        return 0;
    return strcmp(name, ".") && strcmp(name, "..");
}

static unsigned checksum(const uint8_t *h)
{
    unsigned sum = 0;
    size_t i;

    for (i = 0; i < FC_USTAR_BLOCK; i++)
        sum += i >= OFF_CHKSUM && i < OFF_CHKSUM + 8 ? ' ' : h[i];
    return sum;
}

static void header(uint8_t *h, const char *name, unsigned mode, size_t size)
{
    memset(h, 0, FC_USTAR_BLOCK);
    memcpy(h + OFF_NAME, name, strlen(name));
    snprintf((char *)h + OFF_MODE, 8, "%07o", mode & 0777);
    snprintf((char *)h + OFF_UID, 8, "%07o", 0);
    snprintf((char *)h + OFF_GID, 8, "%07o", 0);
    snprintf((char *)h + OFF_SIZE, 12, "%011zo", size);
    snprintf((char *)h + OFF_MTIME, 12, "%011o", 0);
    h[OFF_TYPE] = '0';
    memcpy(h + OFF_MAGIC,
           "ustar\0"
           "00",
           8);
    memcpy(h + OFF_UNAME, "root", 4);
    memcpy(h + OFF_GNAME, "root", 4);
    snprintf((char *)h + OFF_CHKSUM, 8, "%06o", checksum(h));
    h[OFF_CHKSUM + 7] = ' ';
}

struct packer {
    uint8_t *buf;
    size_t len, max;
};

/* One file: its header and contents, read through an O_NOFOLLOW descriptor
 * whose fstat is what counts (the name could be swapped meanwhile). */
static int add_file(struct packer *p, int dfd, const char *name, char *why, size_t cap)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), rc = 0;
    struct stat st;
    uint8_t *nb;
    size_t need;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "%s: %s", name,
                 fd < 0 && errno != ELOOP ? strerror(errno) : "not a regular file");
        rc = fd < 0 && errno != ELOOP ? FC_EIO : FC_EFORMAT;
        goto out;
    }
    need = p->len + FC_USTAR_BLOCK + padded((size_t)st.st_size) + 2 * FC_USTAR_BLOCK;
    if (need > p->max) {
        snprintf(why, cap, "larger than %zu bytes at %s", p->max, name);
        rc = FC_EINVAL;
        goto out;
    }
    nb = realloc(p->buf, need);
    if (!nb) {
        rc = FC_ENOMEM;
        goto out;
    }
    p->buf = nb;
    memset(p->buf + p->len, 0, need - p->len);
    header(p->buf + p->len, name, st.st_mode, (size_t)st.st_size);
    if (pread(fd, p->buf + p->len + FC_USTAR_BLOCK, (size_t)st.st_size, 0) != st.st_size) {
        snprintf(why, cap, "%s: short read", name);
        rc = FC_EIO;
        goto out;
    }
    p->len += FC_USTAR_BLOCK + padded((size_t)st.st_size);
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static int skip_dots(const struct dirent *e)
{
    return strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
}

int fc_ustar_pack_dir(const char *dir, size_t max, uint8_t **out, size_t *len, char *why,
                      size_t cap)
{
    struct packer p = {.max = max};
    struct dirent **list = NULL;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), i, n = -1, rc = 0;

    if (dfd < 0 || (n = scandir(dir, &list, skip_dots, alphasort)) < 0) {
        snprintf(why, cap, "%s: %s", dir, strerror(errno));
        rc = FC_EIO;
        goto out;
    }
    for (i = 0; i < n && !rc; i++) {
        if (!name_ok(list[i]->d_name, strlen(list[i]->d_name))) {
            snprintf(why, cap, "%.60s: name longer than %d bytes", list[i]->d_name,
                     FC_USTAR_NAME_MAX);
            rc = FC_EFORMAT;
        } else {
            rc = add_file(&p, dfd, list[i]->d_name, why, cap);
        }
    }
    if (!rc && !(p.buf = p.buf ? p.buf : calloc(1, 2 * FC_USTAR_BLOCK)))
        rc = FC_ENOMEM;
    if (!rc) {
        *out = p.buf;
        *len = p.len + 2 * FC_USTAR_BLOCK; /* the end: two zero blocks, already there */
        p.buf = NULL;
    }
out:
    for (i = 0; i < n; i++)
        free(list[i]);
    free(list);
    free(p.buf);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

/* An octal field, NUL- or space-terminated, every byte a digit before. */
static int octal(const uint8_t *f, size_t n, uint64_t *v)
{
    size_t i = 0;

    *v = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++)
        *v = *v * 8 + (uint64_t)(f[i] - '0');
    return i > 0 && (i == n || f[i] == 0 || f[i] == ' ') ? 0 : FC_EFORMAT;
}

static int all_zero(const uint8_t *p, size_t n)
{
    while (n--)
        if (*p++)
            return 0;
    return 1;
}

/* One member's header: a plain file with a plain name, its size inside
 * what is left of the archive. */
static int parse_header(const uint8_t *h, size_t left, char *name, uint64_t *mode, uint64_t *size)
{
    uint64_t sum;
    size_t nl = strnlen((const char *)h, 100);

    if (octal(h + OFF_CHKSUM, 8, &sum) || sum != checksum(h) || memcmp(h + OFF_MAGIC, "ustar", 5) ||
        (h[OFF_TYPE] != '0' && h[OFF_TYPE] != 0) || h[OFF_PREFIX] != 0 || nl == 100 ||
        octal(h + OFF_MODE, 8, mode) || octal(h + OFF_SIZE, 12, size))
        return FC_EFORMAT;
    memcpy(name, h, nl);
    name[nl] = 0;
    if (!name_ok(name, nl) || *size > left - FC_USTAR_BLOCK ||
        padded((size_t)*size) > left - FC_USTAR_BLOCK)
        return FC_EFORMAT;
    return 0;
}

static int write_member(int dfd, const char *name, unsigned mode, const uint8_t *data, size_t size)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), rc = 0;

    if (fd < 0)
        return FC_EIO;
    if (write(fd, data, size) != (ssize_t)size || fchmod(fd, mode & 0777) < 0)
        rc = FC_EIO;
    if (close(fd) < 0)
        rc = FC_EIO;
    return rc;
}

/* Every member, in order: checked only (dfd < 0), or written into dfd.
 * The number of members, or a code with why set. */
static int walk(const uint8_t *tar, size_t len, int dfd, char *why, size_t cap)
{
    char name[100];
    uint64_t mode, size;
    size_t off = 0;
    int files = 0;

    for (;;) {
        if (len % FC_USTAR_BLOCK || len - off < 2 * FC_USTAR_BLOCK)
            return snprintf(why, cap, "archive truncated at byte %zu", off), FC_EFORMAT;
        if (all_zero(tar + off, 2 * FC_USTAR_BLOCK))
            return files;
        if (parse_header(tar + off, len - off, name, &mode, &size))
            return snprintf(why, cap, "bad or unsupported member at byte %zu (plain files only)",
                            off),
                   FC_EFORMAT;
        if (dfd >= 0 &&
            write_member(dfd, name, (unsigned)mode, tar + off + FC_USTAR_BLOCK, (size_t)size))
            return snprintf(why, cap, "%s: %s", name, strerror(errno)), FC_EIO;
        files++;
        off += FC_USTAR_BLOCK + padded((size_t)size);
    }
}

int fc_ustar_check(const uint8_t *tar, size_t len, char *why, size_t cap)
{
    return walk(tar, len, -1, why, cap);
}

int fc_ustar_unpack(const uint8_t *tar, size_t len, const char *dir, char *why, size_t cap)
{
    int dfd, rc = fc_ustar_check(tar, len, why, cap); /* all checked before one file is made */

    if (rc < 0)
        return rc;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return snprintf(why, cap, "%s: %s", dir, strerror(errno)), FC_EIO;
    rc = walk(tar, len, dfd, why, cap);
    close(dfd);
    return rc;
}
