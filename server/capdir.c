/* Where captures may write (issue 12, capture hardening): only under the
 * capture directory (--capture-dir, default STATE_DIR/images). An API
 * caller names the image by a name or a relative path in it (or an
 * absolute path that lies in it); "..", "." and empty components are
 * refused by their text, and symbolic links anywhere below the directory by
 * the kernel (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), both when the
 * capture is armed and again when its upload opens the file, since the
 * tree may change in between. An existing image is kept unless the caller
 * asked to overwrite it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

int fc_capdir_open(const char *path)
{
    int fd;

    if (mkdir(path, 0750) < 0 && errno != EEXIST) {
        fc_error("cannot make the capture directory %s: %s", path, strerror(errno));
        return -1;
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fc_error("cannot open the capture directory %s: %s", path, strerror(errno));
    return fd;
}

/* 1 if every '/'-separated component of rel is a real name. */
static int plain_components(const char *rel)
{
    const char *p = rel, *slash;
    size_t n;

    for (;;) {
        slash = strchr(p, '/');
        n = slash ? (size_t)(slash - p) : strlen(p);
        if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!slash)
            return 1;
        p = slash + 1;
    }
}

int fc_capdir_name(const char *dir, const char *out, char *rel, size_t cap, char *why, size_t wcap)
{
    size_t dl = strlen(dir);

    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (out[0] == '/') {
        if (strncmp(out, dir, dl) || out[dl] != '/')
            return snprintf(why, wcap,
                            "out must be a name or a relative path in the capture directory %.*s "
                            "(--capture-dir), not %s",
                            (int)dl, dir, out),
                   FC_EINVAL;
        out += dl + 1;
    }
    if (!plain_components(out) || strlen(out) >= cap)
        return snprintf(why, wcap,
                        "out '%s': no '..', '.' or empty parts, and under %u bytes, in the "
                        "capture directory",
                        out, (unsigned)cap),
               FC_EINVAL;
    snprintf(rel, cap, "%s", out);
    return 0;
}

int fc_capdir_parent(int dir, const char *rel, const char **name, char *why, size_t wcap)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
    const char *slash = strrchr(rel, '/');
    char sub[1024];
    int fd;

    *name = slash ? slash + 1 : rel;
    snprintf(sub, sizeof(sub), "%.*s", slash ? (int)(slash - rel) : 1, slash ? rel : ".");
    fd = (int)syscall(SYS_openat2, dir, sub, &how, sizeof(how));
    if (fd < 0)
        snprintf(why, wcap, "out '%s': its directory %s in the capture directory %s", rel, sub,
                 errno == ELOOP || errno == EXDEV ? "is or passes a symbolic link"
                 : errno == ENOENT                ? "does not exist"
                                                  : strerror(errno));
    return fd;
}

int fc_capdir_check(int dir, const char *rel, int overwrite, char *why, size_t wcap)
{
    const char *name;
    struct stat sb;
    int pfd = fc_capdir_parent(dir, rel, &name, why, wcap), rc = 0;

    if (pfd < 0)
        return FC_EINVAL;
    if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISREG(sb.st_mode))
            rc = (snprintf(why, wcap, "out '%s' is there already and is not a file", rel),
                  FC_EINVAL);
        else if (!overwrite)
            rc = (snprintf(why, wcap,
                           "an image named '%s' is there already (overwrite replaces it)", rel),
                  FC_EINVAL);
    }
    close(pfd);
    return rc;
}
