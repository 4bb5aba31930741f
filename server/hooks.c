/* An image's hooks (docs/identity.md "Per-image hooks"): the directory
 * IMG.hooks/ beside the image file, packed once when the session is
 * created into a deterministic tar (common/ustar), kept in memory for
 * HOOKS_REQ (manifest_srv.c) and hashed with BLAKE2b-256 for the grant
 * every JOIN_ACK seals (joins.c). What is served is what was hashed:
 * changing the directory during a session changes nothing until the next. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/log.h"
#include "common/ustar.h"
#include "server/server.h"

int fc_hooks_load(struct fc_session *s, char *why, size_t cap)
{
    char dir[4096], err[200], hex[2 * FC_HOOKS_HASH_LEN + 1];
    uint8_t *tar = NULL;
    struct stat st;
    size_t len = 0;
    int rc;

    snprintf(dir, sizeof(dir), "%s.hooks", s->cfg.image_path);
    if (stat(dir, &st) < 0 && errno == ENOENT)
        return 0;
    rc = fc_ustar_pack_dir(dir, FC_HOOKS_MAX, &tar, &len, err, sizeof(err));
    if (rc)
        return snprintf(why, cap, "image hooks %s: %s", dir, err), rc;
    crypto_generichash(s->hooks_hash, FC_HOOKS_HASH_LEN, tar, len, NULL, 0);
    s->hooks_blob = fc_manifest_blob_of(tar, len);
    if (!s->hooks_blob)
        return snprintf(why, cap, "out of memory"), FC_ENOMEM;
    sodium_bin2hex(hex, sizeof(hex), s->hooks_hash, 8);
    fc_info("session %08x: image hooks from %s (%zu-byte tar, blake2b %s...), sent to every "
            "receiver with its hash sealed in its JOIN_ACK",
            s->session_id, dir, len, hex);
    return 0;
}
