/* ABORT: the end of a session (from the server, receiver id 0) or of one
 * receiver (dropped by the server, or giving up itself), with a reason code
 * programs act on and a short text the operator reads. */
#include "proto/packet.h"

#include "common/error.h"

static int abort_ok(const struct fc_abort *a)
{
    return a->receiver_id != 0 && a->reason >= 1 && a->reason <= FC_REASON_MAX &&
           a->text_len <= FC_ABORT_TEXT_MAX && fc__text_ok(a->text, a->text_len);
}

int fc_abort_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                    const struct fc_abort *a)
{
    struct fc_wr w;
    int rc;

    if (!abort_ok(a))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_ABORT, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, a->receiver_id);
    fc_wr_u8(&w, a->reason);
    fc_wr_u8(&w, a->text_len);
    fc_wr_copy(&w, a->text, a->text_len);
    return fc__pkt_end_tagged(&w);
}

int fc_abort_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_abort *a)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_ABORT, h) < 0)
        return FC_EPROTO;
    a->receiver_id = fc_rd_u32(&r);
    a->reason = fc_rd_u8(&r);
    a->text_len = fc_rd_u8(&r);
    if (a->text_len > FC_ABORT_TEXT_MAX)
        return FC_EPROTO;
    fc_rd_copy(&r, a->text, a->text_len);
    a->text[a->text_len] = '\0';
    if (fc__pkt_close_tagged(&r) < 0 || !abort_ok(a))
        return FC_EPROTO;
    return 0;
}
