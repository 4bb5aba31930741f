/* A clone's identity, set in the written system without mounting it: for a
 * Linux root on ext2/3/4 (through libext2fs) /etc/hostname, the 127.0.1.1
 * line of /etc/hosts, an empty /etc/machine-id (systemd makes a new one at
 * first boot) and no /etc/ssh/ssh_host_* (regenerated at boot). The
 * receiver calls this after its disk is written and checked
 * (client/identity.c); docs/identity.md says what a master must be. */
#ifndef FC_IDENTITY_H
#define FC_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"

/* /etc/hosts with its 127.0.1.1 line naming hostname (a dotted name also
 * gets its first label as an alias, as Debian's installer writes it): the
 * first such line replaced, later ones dropped; none: one added after the
 * 127.0.0.1 line, else first. Returns the new length, or FC_EINVAL when it
 * does not fit cap. Pure: the unit tests call it directly. */
int fc_hosts_set(const char *in, size_t len, const char *hostname, char *out, size_t cap);

/* The ext2/3/4 filesystem at byte offset off of path (a disk or a disk
 * file): 1 if it is a Linux root (/etc/os-release or /etc/fstab) and its
 * identity was set, 0 if it is not a Linux root (nothing written), or a
 * negative code with the reason in why. Symbolic links are never followed:
 * /etc must be a directory, and a link where a file is written is replaced
 * by a regular file. A journal that needs recovery is refused (FC_ESTATE):
 * writing beside it would be undone at the next mount. */
int fc_identity_ext(const char *path, uint64_t off, const char *hostname, char *why, size_t cap);

/* Every ext2/3/4 partition of the image m, written to path, in order: the
 * first Linux root gets the identity. 1 done (*part its index in m->parts),
 * 0 no Linux root found, or a negative code with why. */
int fc_identity_linux(const char *path, const struct fc_manifest *m, const char *hostname,
                      uint32_t *part, char *why, size_t cap);

#endif
