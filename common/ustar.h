/* A deterministic ustar archive of one flat directory of regular files
 * (an image's hooks, docs/identity.md "Per-image hooks"), and its reader.
 * Deterministic: names in byte order, mtime 0, owner 0/0 "root", only the
 * permission bits kept, so the same files give the same bytes (and the
 * same hash) on every run. Nothing but regular files: a link, a device or
 * a subdirectory is refused by both ends. */
#ifndef FC_USTAR_H
#define FC_USTAR_H

#include <stddef.h>
#include <stdint.h>

#define FC_USTAR_BLOCK 512
#define FC_USTAR_NAME_MAX 99 /* ustar's name field, less its NUL */

/* Packs dir's regular files into a malloc'd *out of *len bytes, at most
 * max. FC_EIO (unreadable), FC_EFORMAT (not a regular file, or a name too
 * long) or FC_EINVAL (larger than max); why says
 * which file. */
int fc_ustar_pack_dir(const char *dir, size_t max, uint8_t **out, size_t *len, char *why,
                      size_t cap);

/* What fc_ustar_unpack checks before it writes: the number of members, or
 * FC_EFORMAT with why set. */
int fc_ustar_check(const uint8_t *tar, size_t len, char *why, size_t cap);

/* Writes the archive's files into dir (which exists and is empty), each
 * created anew (never through a link) with its permission bits, once the
 * whole archive has been checked. FC_EFORMAT
 * for anything but regular files with plain names, FC_EIO for a write
 * error; why says which. Returns the number of files on success. */
int fc_ustar_unpack(const uint8_t *tar, size_t len, const char *dir, char *why, size_t cap);

#endif
