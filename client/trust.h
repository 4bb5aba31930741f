/* Whether a fetched manifest is to be believed: its signature, the signer
 * against --pubkey, then a strict decode. */
#ifndef FC_CLIENT_TRUST_H
#define FC_CLIENT_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "common/manifest.h"

/* pubkey_path NULL: integrity only (the embedded key); fpr gets the
 * signer's fingerprint. Errors: FC_EKEY (unreadable key file or another
 * signer), FC_ESIG, FC_EFORMAT. Logs the reason. */
int fc__manifest_trust(const uint8_t *man, size_t len, const uint8_t *sigblock,
                       const char *pubkey_path, struct fc_manifest *m, char *fpr, size_t fpr_cap);

#endif
