/* Ed25519 signing keys (libsodium): generation, key files, the default key
 * under $FLEETCAST_HOME made on first use (like an ssh host key), and the
 * signature of a manifest. */
#ifndef FC_KEY_H
#define FC_KEY_H

#include <stddef.h>
#include <stdint.h>

#define FC_PUBKEY_LEN 32
#define FC_SECKEY_LEN 64
#define FC_SIG_LEN 64
#define FC_FPR_LEN 16 /* hex characters of a key fingerprint */

struct fc_keypair {
    uint8_t pk[FC_PUBKEY_LEN];
    uint8_t sk[FC_SECKEY_LEN];
};

/* Writes PREFIX.key (mode 0600) and PREFIX.pub; refuses to overwrite
 * unless force. */
int fc_key_generate(const char *prefix, int force, struct fc_keypair *out);
int fc_key_load_secret(const char *path, struct fc_keypair *kp);
int fc_key_load_public(const char *path, uint8_t pk[FC_PUBKEY_LEN]);
/* $FLEETCAST_HOME (default ~/.fleetcast)/signing.key and .pub */
int fc_key_default_prefix(char *buf, size_t cap);
int fc_key_load_or_create_default(struct fc_keypair *kp, int *created);

void fc_key_fingerprint(const uint8_t pk[FC_PUBKEY_LEN], char out[FC_FPR_LEN + 1]);
void fc_sign(const struct fc_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[FC_SIG_LEN]);
int fc_sig_verify(const uint8_t pk[FC_PUBKEY_LEN], const uint8_t *msg, size_t len,
                  const uint8_t sig[FC_SIG_LEN]);

#endif
