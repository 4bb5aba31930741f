/* fc-ntfs-mkdir FILE DIR...: makes directories (and their parents) in the
 * NTFS volume of FILE through libntfs-3g, for the tests that build a
 * "Windows" volume: ntfs-3g's own tools copy files (ntfscp) but make no
 * directory, and the tests use no FUSE mount. Test-only. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

/* Each component of path under the root, made when missing: 0 or -1. */
static int mkdirs(ntfs_volume *vol, const char *path)
{
    char copy[1024], *save = NULL, *name;
    ntfs_inode *dir = ntfs_inode_open(vol, FILE_root), *next;

    snprintf(copy, sizeof(copy), "%s", path);
    for (name = strtok_r(copy, "/", &save); dir && name; name = strtok_r(NULL, "/", &save)) {
        ntfschar *u = NULL;
        int n = ntfs_mbstoucs(name, &u);

        next = ntfs_pathname_to_inode(vol, dir, name);
        if (!next && errno == ENOENT && n > 0)
            next = ntfs_create(dir, const_cpu_to_le32(0), u, (u8)n, S_IFDIR);
        free(u);
        ntfs_inode_close(dir);
        dir = next;
    }
    if (!dir)
        return fprintf(stderr, "fc-ntfs-mkdir: %s: %s\n", path, strerror(errno)), -1;
    ntfs_inode_close(dir);
    return 0;
}

int main(int argc, char **argv)
{
    ntfs_volume *vol;
    int i, rc = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: fc-ntfs-mkdir FILE DIR...\n");
        return 2;
    }
    vol = ntfs_mount(argv[1], NTFS_MNT_NONE);
    if (!vol)
        return fprintf(stderr, "fc-ntfs-mkdir: %s: %s\n", argv[1], strerror(errno)), 1;
    for (i = 2; i < argc && !rc; i++)
        rc = mkdirs(vol, argv[i]);
    if (ntfs_umount(vol, FALSE))
        rc = -1;
    return rc ? 1 : 0;
}
