/* A Windows clone's computer name, set without mounting or booting it:
 * \Windows\Panther\unattend.xml on its NTFS system volume, the answer file
 * Windows setup reads in the specialize pass at the first boot of a
 * sysprepped master (sysprep /generalize /oobe). An answer file the master
 * already carries there is edited (its specialize-pass
 * Microsoft-Windows-Shell-Setup ComputerName set, the rest kept); otherwise
 * a minimal one is written. Through libntfs-3g on the partition's byte
 * range (ntfsdev.h). The receiver calls it after its disk is written and
 * checked (client/identity.c); docs/identity.md says what a master must be. */
#ifndef FC_WINIDENTITY_H
#define FC_WINIDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"

#define FC_WINNAME_MAX 15            /* NetBIOS: 15 bytes, the 16th is a type suffix */
#define FC_UNATTEND_MAX (256 * 1024) /* a bigger answer file is not edited */

/* The computer name for a host name: the first label of a dotted name (the
 * DNS suffix is not the computer name). 0 with it in out; FC_EINVAL with why
 * for a name Windows refuses: not a host name, longer than 15 bytes, only
 * digits. */
int fc_winname(const char *hostname, char out[FC_WINNAME_MAX + 1], char *why, size_t cap);

/* The answer file in (len bytes; NULL or 0: none) with name as the
 * ComputerName of its specialize pass's Microsoft-Windows-Shell-Setup
 * component, into *out (malloc'd, *out_len bytes). Added where missing (the
 * element, the component, the specialize settings, or a whole minimal
 * file); a wasPassProcessed mark on the specialize settings is dropped (a
 * cached file of the master's own setup would be skipped otherwise).
 * FC_EFORMAT with why for what is not an answer file (no unattend element,
 * UTF-16, a tag left open), FC_ENOMEM. Pure: the unit tests call it. */
int fc_unattend_set(const char *in, size_t len, const char *name, char **out, size_t *out_len,
                    char *why, size_t cap);

/* The NTFS volume at bytes [off, off + size) of path (a disk or a disk
 * file): 1 if it is a Windows system volume (\Windows\System32\config\SYSTEM)
 * and its answer file names the computer `name` (from fc_winname; NULL:
 * only looked at, nothing written), 0 if it is not one (nothing written),
 * or a negative code with why. Reparse points
 * (junctions, links) are never followed: one on the way is an error. The
 * volume is unmounted clean. */
int fc_identity_ntfs(const char *path, uint64_t off, uint64_t size, const char *name, char *why,
                     size_t cap);

/* Every NTFS partition of the image m, written to path: each Windows system
 * volume gets the computer name of hostname. The number of volumes named
 * (0: none found; *part the index in m->parts of the first), or a negative
 * code with why. */
int fc_identity_windows(const char *path, const struct fc_manifest *m, const char *hostname,
                        uint32_t *part, char *why, size_t cap);

#endif
