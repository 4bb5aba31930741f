/* Deciding whether a manifest fetched from the network is the signed image
 * (see trust.h): nothing of it is decoded before its signature checks. */
#include "client/trust.h"

#include <stdio.h>

#include "common/error.h"
#include "common/image.h"
#include "common/key.h"
#include "common/log.h"

int fc__manifest_trust(const uint8_t *man, size_t len, const uint8_t *sigblock,
                       const char *pubkey_path, struct fc_manifest *m, char *fpr, size_t fpr_cap)
{
    uint8_t trusted[FC_PUBKEY_LEN], signer[FC_PUBKEY_LEN];
    char f[FC_FPR_LEN + 1];
    int rc;

    if (pubkey_path) {
        rc = fc_key_load_public(pubkey_path, trusted);
        if (rc) {
            fc_error("cannot read public key %s: %s", pubkey_path, fc_strerror(rc));
            return FC_EKEY;
        }
    }
    rc = fc_manifest_check_signed(man, len, sigblock, pubkey_path ? trusted : NULL, signer);
    if (rc == FC_EKEY) {
        fc_error("manifest is signed by another key than %s: refusing the image", pubkey_path);
        return rc;
    }
    if (rc) {
        fc_error("manifest from the server fails its signature check: %s", fc_strerror(rc));
        return rc;
    }
    fc_key_fingerprint(signer, f);
    snprintf(fpr, fpr_cap, "%s", f);
    rc = fc_manifest_decode(man, len, m);
    if (rc)
        fc_error("signed manifest does not decode: %s", fc_strerror(rc));
    return rc;
}
