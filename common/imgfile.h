/* An image file being written: chunks at their offsets, then the manifest,
 * its signature block and last the header, fsync, rename. Until then the
 * file has a zeroed header and a name that says it is partial, so nothing
 * cut short passes for an image. Used by `fleetcast image create` and by
 * fleetcastd for captures uploaded over the network (server/capture.c). */
#ifndef FC_IMGFILE_H
#define FC_IMGFILE_H

#include <stdint.h>

#include "common/key.h"
#include "common/manifest.h"

struct fc_imgfile {
    int fd;
    uint64_t end; /* the next chunk's offset */
    int dir;      /* out and tmp are relative to it (AT_FDCWD: paths) */
    int keep;     /* commit never replaces an existing OUT */
    const char *out;
    char tmp[4200];
};

/* Creates OUT.partial-PID (truncated: a rerun starts clean). */
int fc_imgfile_open(struct fc_imgfile *f, const char *out);
/* The same with OUT a name in the directory dir (the caller keeps dir open
 * until commit or abort), never through a symbolic link at the partial
 * name; keep: commit fails rather than replace an existing OUT. fleetcastd's
 * captures, confined to their directory. */
int fc_imgfile_openat(struct fc_imgfile *f, int dir, const char *out, int keep);
/* Writes one chunk; it must start where the last one ended. */
int fc_imgfile_put(struct fc_imgfile *f, const struct fc_chunk *meta, const uint8_t *comp);
/* Signs m with key, writes manifest, signature block and header, fsyncs,
 * renames to OUT. *size: the image's bytes. Closes f either way. */
int fc_imgfile_commit(struct fc_imgfile *f, const struct fc_manifest *m,
                      const struct fc_keypair *key, uint64_t *size);
/* Closes and removes the partial file (nothing if none). */
void fc_imgfile_abort(struct fc_imgfile *f);

#endif
