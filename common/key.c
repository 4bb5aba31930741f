/* Key files are one text line: "fleetcast-ed25519-{secret,public}-v1 HEX".
 * Text so an operator can tell them apart with cat, and copy a public key
 * into a kernel command line or a config file. */
#include "common/key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

#define SEC_TAG "fleetcast-ed25519-secret-v1 "
#define PUB_TAG "fleetcast-ed25519-public-v1 "

static int write_key_file(const char *path, const char *tag, const uint8_t *key, size_t len,
                          mode_t mode, int force)
{
    char hex[2 * FC_SECKEY_LEN + 1];
    char line[sizeof(hex) + 64];
    int flags = O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL);
    int fd, n, rc = 0;

    sodium_bin2hex(hex, sizeof(hex), key, len);
    n = snprintf(line, sizeof(line), "%s%s\n", tag, hex);
    fd = open(path, flags, mode);
    if (fd < 0) {
        fc_error("cannot create key file %s: %s", path, strerror(errno));
        return errno == EEXIST ? FC_EINVAL : FC_EIO;
    }
    if (fchmod(fd, mode) < 0 || write(fd, line, (size_t)n) != n || fsync(fd) < 0) {
        fc_error("cannot write key file %s: %s", path, strerror(errno));
        rc = FC_EIO;
    }
    sodium_memzero(line, sizeof(line));
    close(fd);
    return rc;
}

int fc_key_generate(const char *prefix, int force, struct fc_keypair *out)
{
    struct fc_keypair kp;
    char path[4096];
    int rc;

    if (sodium_init() < 0)
        return FC_ENOMEM;
    crypto_sign_keypair(kp.pk, kp.sk);
    snprintf(path, sizeof(path), "%s.key", prefix);
    rc = write_key_file(path, SEC_TAG, kp.sk, FC_SECKEY_LEN, 0600, force);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s.pub", prefix);
    rc = write_key_file(path, PUB_TAG, kp.pk, FC_PUBKEY_LEN, 0644, force);
    if (rc)
        goto out;
    if (out)
        *out = kp;
out:
    sodium_memzero(&kp, sizeof(kp));
    return rc;
}

static int read_key_file(const char *path, const char *tag, uint8_t *key, size_t len)
{
    char line[512];
    size_t taglen = strlen(tag), binlen = 0;
    const char *end = NULL;
    FILE *f = fopen(path, "r");
    int rc = FC_EKEY;

    if (!f) {
        fc_error("cannot open key file %s: %s", path, strerror(errno));
        return FC_EKEY;
    }
    if (!fgets(line, sizeof(line), f) || strncmp(line, tag, taglen) != 0) {
        fc_error("%s is not a fleetcast %s key file", path,
                 strstr(tag, "secret") ? "secret" : "public");
        goto out;
    }
    line[strcspn(line, "\r\n")] = 0;
    if (sodium_hex2bin(key, len, line + taglen, strlen(line + taglen), NULL, &binlen, &end) ||
        binlen != len || *end) {
        fc_error("key file %s is malformed", path);
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(line, sizeof(line));
    fclose(f);
    return rc;
}

int fc_key_load_secret(const char *path, struct fc_keypair *kp)
{
    int rc;

    if (sodium_init() < 0)
        return FC_ENOMEM;
    rc = read_key_file(path, SEC_TAG, kp->sk, FC_SECKEY_LEN);
    if (rc)
        return rc;
    crypto_sign_ed25519_sk_to_pk(kp->pk, kp->sk);
    return 0;
}

int fc_key_load_public(const char *path, uint8_t pk[FC_PUBKEY_LEN])
{
    if (sodium_init() < 0)
        return FC_ENOMEM;
    return read_key_file(path, PUB_TAG, pk, FC_PUBKEY_LEN);
}

int fc_key_default_prefix(char *buf, size_t cap)
{
    const char *home = getenv("FLEETCAST_HOME");
    const char *user = getenv("HOME");
    int n;

    if (home && *home)
        n = snprintf(buf, cap, "%s/signing", home);
    else
        n = snprintf(buf, cap, "%s/.fleetcast/signing", user && *user ? user : "/root");
    return n < 0 || (size_t)n >= cap ? FC_EINVAL : 0;
}

static int make_parent_dir(const char *prefix)
{
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", prefix);
    slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fc_error("cannot create %s: %s", dir, strerror(errno));
        return FC_EIO;
    }
    return 0;
}

int fc_key_load_or_create_default(struct fc_keypair *kp, int *created)
{
    char prefix[4000], path[4096];
    int rc;

    *created = 0;
    rc = fc_key_default_prefix(prefix, sizeof(prefix));
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "%s.key", prefix);
    if (access(path, F_OK) == 0)
        return fc_key_load_secret(path, kp);
    rc = make_parent_dir(prefix);
    if (rc)
        return rc;
    rc = fc_key_generate(prefix, 0, kp);
    if (rc == 0) {
        *created = 1;
        fc_info("created signing key %s (public key %s.pub)", path, prefix);
    }
    return rc;
}

void fc_key_fingerprint(const uint8_t pk[FC_PUBKEY_LEN], char out[FC_FPR_LEN + 1])
{
    uint8_t h[FC_FPR_LEN / 2];

    crypto_generichash(h, sizeof(h), pk, FC_PUBKEY_LEN, NULL, 0);
    sodium_bin2hex(out, FC_FPR_LEN + 1, h, sizeof(h));
}

void fc_sign(const struct fc_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[FC_SIG_LEN])
{
    crypto_sign_detached(sig, NULL, msg, len, kp->sk);
}

int fc_sig_verify(const uint8_t pk[FC_PUBKEY_LEN], const uint8_t *msg, size_t len,
                  const uint8_t sig[FC_SIG_LEN])
{
    if (sodium_init() < 0)
        return FC_ENOMEM;
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : FC_ESIG;
}
