/* Authentication of control packets (wire version 2): the tag at the end of
 * every packet a joined receiver and the server exchange, the sealing of the
 * receiver's secret in JOIN_ACK, and the replay window. docs/protocol.md,
 * "Authentication", says what each guarantees and what it does not. */
#include <sodium.h>
#include <string.h>

#include "proto/packet.h"

#include "common/error.h"

/* BLAKE2b keyed with the 16-byte secret, 16 bytes out: a MAC (BLAKE2's keyed
 * mode is a PRF), one call, no extra construction. */
static int tag_of(const uint8_t *pkt, size_t len, const uint8_t key[FC_SECRET_LEN],
                  uint8_t tag[FC_TAG_LEN])
{
    if (len < FC_HDR_LEN + FC_TAG_LEN || len > FC_PKT_MAX)
        return FC_EPROTO;
    return crypto_generichash(tag, FC_TAG_LEN, pkt, len - FC_TAG_LEN, key, FC_SECRET_LEN)
               ? FC_EINVAL
               : 0;
}

int fc_auth_seal(uint8_t *pkt, size_t len, const uint8_t key[FC_SECRET_LEN])
{
    return tag_of(pkt, len, key, pkt + len - FC_TAG_LEN);
}

int fc_auth_verify(const uint8_t *pkt, size_t len, const uint8_t key[FC_SECRET_LEN])
{
    uint8_t tag[FC_TAG_LEN];

    if (tag_of(pkt, len, key, tag))
        return FC_EPROTO;
    return crypto_verify_16(tag, pkt + len - FC_TAG_LEN) ? FC_EPROTO : 0;
}

void fc_auth_dir_key(const uint8_t secret[FC_SECRET_LEN], enum fc_auth_dir dir,
                     uint8_t out[FC_SECRET_LEN])
{
    static const char up[] = "fleetcast v2 to server", down[] = "fleetcast v2 to receiver";
    const char *label = dir == FC_AUTH_TO_SERVER ? up : down;

    crypto_generichash(out, FC_SECRET_LEN, (const uint8_t *)label, strlen(label), secret,
                       FC_SECRET_LEN);
}

void fc_auth_box_keypair(uint8_t pub[FC_BOXPUB_LEN], uint8_t sec[32])
{
    crypto_box_keypair(pub, sec);
}

/* A text field of the grant: length byte, then FC_GRANT_TEXT_MAX bytes,
 * zero past the text. */
static int put_text(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    if (n > FC_GRANT_TEXT_MAX)
        return FC_EINVAL;
    p[0] = (uint8_t)n;
    memset(p + 1, 0, FC_GRANT_TEXT_MAX);
    memcpy(p + 1, s, n);
    return 0;
}

static int get_text(const uint8_t *p, char *s)
{
    size_t i, n = p[0];

    if (n > FC_GRANT_TEXT_MAX)
        return FC_EPROTO;
    for (i = 0; i < FC_GRANT_TEXT_MAX; i++)
        if (i < n ? p[1 + i] < 0x20 || p[1 + i] == 0x7f : p[1 + i] != 0)
            return FC_EPROTO;
    memcpy(s, p + 1, n);
    s[n] = 0;
    return 0;
}

#define GRANT_HOST (FC_SECRET_LEN + FC_GRANT_MAC_LEN)
#define GRANT_LAB (GRANT_HOST + 1 + FC_GRANT_TEXT_MAX)
#define GRANT_HOOKS (GRANT_LAB + 1 + FC_GRANT_TEXT_MAX)

int fc_auth_seal_grant(uint8_t sealed[FC_SEALED_LEN], const struct fc_grant *g,
                       const uint8_t pub[FC_BOXPUB_LEN])
{
    uint8_t plain[FC_GRANT_LEN];
    int rc;

    memcpy(plain, g->secret, FC_SECRET_LEN);
    memcpy(plain + FC_SECRET_LEN, g->mac, FC_GRANT_MAC_LEN);
    rc = put_text(plain + GRANT_HOST, g->hostname);
    if (!rc)
        rc = put_text(plain + GRANT_LAB, g->lab);
    memcpy(plain + GRANT_HOOKS, g->hooks_hash, FC_HOOKS_HASH_LEN);
    if (!rc && crypto_box_seal(sealed, plain, FC_GRANT_LEN, pub))
        rc = FC_EINVAL;
    sodium_memzero(plain, sizeof(plain));
    return rc;
}

int fc_auth_open_grant(struct fc_grant *g, const uint8_t sealed[FC_SEALED_LEN],
                       const uint8_t pub[FC_BOXPUB_LEN], const uint8_t sec[32])
{
    uint8_t plain[FC_GRANT_LEN];
    int rc = FC_EPROTO;

    if (crypto_box_seal_open(plain, sealed, FC_SEALED_LEN, pub, sec) == 0 &&
        get_text(plain + GRANT_HOST, g->hostname) == 0 &&
        get_text(plain + GRANT_LAB, g->lab) == 0) {
        memcpy(g->secret, plain, FC_SECRET_LEN);
        memcpy(g->mac, plain + FC_SECRET_LEN, FC_GRANT_MAC_LEN);
        memcpy(g->hooks_hash, plain + GRANT_HOOKS, FC_HOOKS_HASH_LEN);
        rc = 0;
    }
    sodium_memzero(plain, sizeof(plain));
    return rc;
}

int fc_replay_accept(struct fc_replay *w, uint32_t seq)
{
    uint32_t back;

    if (!w->set) {
        w->set = 1;
        w->top = seq;
        w->bits = 1;
        return 1;
    }
    if (fc_seq_after(seq, w->top)) {
        uint32_t shift = seq - w->top;

        w->bits = shift >= 64 ? 1 : (w->bits << shift) | 1;
        w->top = seq;
        return 1;
    }
    back = w->top - seq;
    if (back >= 64 || (w->bits & (1ull << back)))
        return 0;
    w->bits |= 1ull << back;
    return 1;
}
