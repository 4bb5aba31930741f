/* Joining a session: JOIN to the server's control port every 0.5 s until the
 * JOIN_ACK with our nonce, and what a refusal or ABORT reason means to the
 * operator and to our exit code. Each join attempt makes a one-time X25519
 * key pair: the server seals our secret to it in JOIN_ACK. A re-JOIN while
 * we hold a secret names our old id and is tagged with that secret, so the
 * server knows it is us and keeps our entry. */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "client/recv.h"
#include "common/error.h"

#define JOIN_REPEAT 0.5

const char *fc__reason_text(uint8_t reason)
{
    static const char *const t[] = {
        "success",
        "stopped by the operator",
        "target smaller than the image's disk",
        "wrong image",
        "dropped: stopped reporting",
        "dropped: too far behind",
        "target write error",
        "whole-disk check failed",
        "unknown receiver (server restarted)",
        "session full",
        "internal error",
        "session deadline passed",
        "identity or site hook failed",
        "no capture armed for this machine",
    };

    return reason <= FC_REASON_MAX ? t[reason] : "unknown reason";
}

int fc__reason_exit(uint8_t reason)
{
    switch (reason) {
    case FC_REASON_OK:
        return FC_RX_EXIT_OK;
    case FC_REASON_TOO_SMALL:
        return FC_RX_EXIT_TOO_SMALL;
    case FC_REASON_WRONG_IMAGE:
        return FC_RX_EXIT_IMAGE;
    default:
        return FC_RX_EXIT_ABORTED;
    }
}

int fc__version_refused(struct fc_recv *r, const uint8_t *buf, size_t len,
                        const struct sockaddr_in *from)
{
    uint8_t type;
    int v = fc_hdr_peek_version(buf, len, &type);

    if (v < 0 || v == FC_PROTO_VERSION)
        return 0;
    r->peer_version = v;
    if (from)
        r->peer_version_from = *from;
    return 1;
}

void fc__version_log(const struct fc_recv *r)
{
    char addr[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &r->peer_version_from.sin_addr, addr, sizeof(addr));
    RLOG(r, FC_LOG_ERROR,
         "fleetcastd at %s speaks wire protocol version %d, this fleetcast-recv version %d: "
         "refused; update fleetcast-recv (the PXE image) and fleetcastd together",
         addr, r->peer_version, FC_PROTO_VERSION);
}

struct attempt {
    uint64_t nonce;
    uint8_t pub[FC_BOXPUB_LEN], sec[32];
};

static int join_send(struct fc_recv *r, const struct attempt *at, uint32_t chunks_done)
{
    struct fc_join j = {
        .nonce = at->nonce, .target_size = r->target_size, .chunks_done = chunks_done};
    uint8_t buf[FC_PKT_MAX];
    int n;

    memcpy(j.image_id, r->m.image_id, FC_ID_LEN);
    memcpy(j.box_pub, at->pub, FC_BOXPUB_LEN);
    j.prev_id = r->have_secret ? r->rid : 0;
    j.name_len = (uint8_t)strlen(r->name);
    memcpy(j.name, r->name, j.name_len);
    n = fc_join_encode(buf, sizeof(buf), r->s.session,
                       j.prev_id ? ++r->auth_seq : r->tx_seq[FC_PKT_JOIN]++, &j);
    if (n > 0 && j.prev_id)
        n = fc__seal(r, buf, (size_t)n);
    if (n < 0)
        return n;
    return fc__ctrl_send(r, buf, (size_t)n);
}

/* An accepted JOIN_ACK is ours only if its sealed grant opens with this
 * attempt's key: a forged one (someone who saw the nonce) is ignored. The
 * grant's host name is as good as the secret that came with it: the
 * server's later tagged packets prove they were made with that secret. */
static int take_secret(struct fc_recv *r, const struct attempt *at, const struct fc_join_ack *a)
{
    struct fc_grant g;

    if (fc_auth_open_grant(&g, a->sealed, at->pub, at->sec))
        return FC_EPROTO;
    memcpy(r->secret, g.secret, FC_SECRET_LEN);
    fc_auth_dir_key(g.secret, FC_AUTH_TO_SERVER, r->key_up);
    fc_auth_dir_key(g.secret, FC_AUTH_TO_RECEIVER, r->key_down);
    sodium_memzero(g.secret, sizeof(g.secret));
    r->granted = g; /* the host name is checked where it is used (identity.c) */
    sodium_memzero(&g, sizeof(g));
    r->have_secret = 1;
    memset(&r->srv_replay, 0, sizeof(r->srv_replay));
    return 0;
}

/* Waits until `until` for the JOIN_ACK to nonce; other control packets
 * (a stale DONE echo, an ABORT for an old id) are not for this exchange. */
static int join_wait(struct fc_recv *r, const struct attempt *at, double until,
                     struct fc_join_ack *ack)
{
    uint8_t buf[2048];
    struct fc_hdr h;
    ssize_t n;

    while ((n = fc__recv_until(r, r->ctrl_fd, buf, sizeof(buf), until, NULL)) > 0) {
        if (fc_join_ack_decode(buf, (size_t)n, &h, ack) != 0) {
            if (fc__version_refused(r, buf, (size_t)n, &r->s.srv))
                return FC_EVERSION;
            continue;
        }
        if (ack->nonce != at->nonce)
            continue;
        if (ack->status != FC_REASON_OK || take_secret(r, at, ack) == 0)
            return 0;
        r->n.rejects++;
    }
    return *r->stop ? FC_EINTR : FC_ETIMEDOUT;
}

int fc__join(struct fc_recv *r, double deadline, uint32_t chunks_done, struct fc_join_ack *ack)
{
    struct attempt at = {.nonce = fc__rand(r) | 1};
    double now;
    int rc = FC_ETIMEDOUT;

    fc_auth_box_keypair(at.pub, at.sec);
    /* One nonce for every repetition of this JOIN: a late JOIN_ACK to an
     * earlier copy is just as good. */
    while ((now = fc__now()) < deadline && !*r->stop) {
        double until = now + JOIN_REPEAT < deadline ? now + JOIN_REPEAT : deadline;

        if (join_send(r, &at, chunks_done) < 0)
            fc_debug("JOIN not sent: %s", strerror(errno));
        rc = join_wait(r, &at, until, ack);
        if (rc != FC_ETIMEDOUT)
            break;
    }
    sodium_memzero(at.sec, sizeof(at.sec));
    if (rc == FC_ETIMEDOUT && *r->stop)
        rc = FC_EINTR;
    return rc;
}
