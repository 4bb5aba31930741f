/* What the receiver tells the server on the control port besides JOIN:
 * PROGRESS (state, counters, completion window), DONE (with the whole-disk
 * check value, and whether it was read back from the disk) and ABORT (giving up). Every one is
 * tagged with the secret JOIN_ACK gave us and numbered from one counter (r->auth_seq, also used by
 * NAKs and a re-JOIN), which the server's replay window checks. */
#include <string.h>

#include "client/recv.h"
#include "common/error.h"

/* Fills the tag of an encoded packet of n bytes; returns n, or a code. */
int fc__seal(struct fc_recv *r, uint8_t *buf, size_t n)
{
    if (!r->have_secret)
        return FC_ESTATE;
    return fc_auth_seal(buf, n, r->key_up) ? FC_EINVAL : (int)n;
}

static int send_sealed(struct fc_recv *r, uint8_t *buf, int n)
{
    if (n < 0 || (n = fc__seal(r, buf, (size_t)n)) < 0)
        return n;
    return fc__ctrl_send(r, buf, (size_t)n);
}

int fc__send_progress(struct fc_recv *r, const struct fc_progress *p)
{
    uint8_t buf[FC_PKT_MAX];
    int n = fc_progress_encode(buf, sizeof(buf), r->s.session, ++r->auth_seq, p);

    return send_sealed(r, buf, n);
}

int fc__send_done(struct fc_recv *r, uint8_t status, const uint8_t *check, uint8_t flags,
                  const char *identity)
{
    struct fc_done d = {.receiver_id = r->rid,
                        .flags = flags,
                        .status = status,
                        .bytes_written = r->n.bytes_written};
    uint8_t buf[FC_PKT_MAX];
    size_t tl = (flags & FC_DONE_IDENTITY) ? strlen(identity) : 0;
    int n;

    memcpy(d.check, check, FC_CHECK_LEN);
    d.identity_len = (uint8_t)(tl > FC_ABORT_TEXT_MAX ? FC_ABORT_TEXT_MAX : tl);
    memcpy(d.identity, identity, d.identity_len);
    n = fc_done_encode(buf, sizeof(buf), r->s.session, ++r->auth_seq, &d);
    return send_sealed(r, buf, n);
}

int fc__send_abort(struct fc_recv *r, uint8_t reason, const char *text)
{
    struct fc_abort a = {.receiver_id = r->rid, .reason = reason};
    uint8_t buf[FC_PKT_MAX];
    size_t tl = strlen(text);
    int n;

    if (!r->rid || r->ctrl_fd < 0)
        return 0;
    if (tl > FC_ABORT_TEXT_MAX)
        tl = FC_ABORT_TEXT_MAX;
    memcpy(a.text, text, tl);
    a.text[tl] = 0;
    a.text_len = (uint8_t)tl;
    n = fc_abort_encode(buf, sizeof(buf), r->s.session, ++r->auth_seq, &a);
    return send_sealed(r, buf, n);
}
