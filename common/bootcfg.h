/* How a machine boots from the network: the one place that writes pxelinux
 * config files. `fleetcast pxe build` writes the menu (pxelinux.cfg/default)
 * and per-machine imaging entries (01-<mac> with that machine's kernel
 * arguments); fleetcastd turns a machine's 01-<mac> into "boot the local
 * disk" once it is imaged, keeping its imaging entry (not the default) so
 * that `fleetcast pxe reset` can give it back. The first line of a file says
 * who wrote it (FC_BOOTCFG_MARK_*): reset only touches fleetcastd's. */
#ifndef FC_BOOTCFG_H
#define FC_BOOTCFG_H

#include <stddef.h>

#define FC_BOOTCFG_MARK_SERVER "# fleetcastd:"
#define FC_BOOTCFG_MARK_BUILD "# fleetcast pxe build:"

struct fc_bootcfg {
    const char *header; /* comment lines, each "# ...\n"; the first is the mark */
    const char *append; /* kernel arguments of "image this machine", or NULL: no such entry */
    int local;          /* 1: boot the local disk at once; 0: the menu, imaging after 5 s */
};

/* Writes path atomically (a temporary file renamed). */
int fc_bootcfg_write(const char *path, const struct fc_bootcfg *b);
/* The APPEND line of the imaging entry of an existing file into buf (empty if
 * it has none); returns 1 if the file's first line starts with mark, 0 if
 * not, FC_EIO if it cannot be read (ENOENT: absent). */
int fc_bootcfg_read(const char *path, const char *mark, char *append, size_t cap);

#endif
