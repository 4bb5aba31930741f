/* DONE: a receiver's final report (status, bytes written, whole-disk check
 * value, whether that value was read back from the disk, what its identity
 * step did), and the server's acknowledgement of it
 * (same packet, ACK flag set), which lets the receiver stop repeating it and exit. */
#include "proto/packet.h"

#include "common/error.h"

static int done_ok(const struct fc_done *d)
{
    const uint8_t known = FC_DONE_ACK | FC_DONE_READBACK | FC_DONE_IDENTITY | FC_DONE_ID_SKIPPED |
                          FC_DONE_GROW | FC_DONE_GROW_MASK;

    /* Never both identity bits; a grow result only with the grow flag. */
    return d->receiver_id != 0 && (d->flags & ~known) == 0 &&
           (d->flags & (FC_DONE_IDENTITY | FC_DONE_ID_SKIPPED)) !=
               (FC_DONE_IDENTITY | FC_DONE_ID_SKIPPED) &&
           ((d->flags & FC_DONE_GROW) || !(d->flags & FC_DONE_GROW_MASK)) &&
           d->status <= FC_REASON_MAX && d->identity_len <= FC_ABORT_TEXT_MAX &&
           ((d->flags & FC_DONE_IDENTITY) || !d->identity_len) &&
           fc__text_ok(d->identity, d->identity_len);
}

int fc_done_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_done *d)
{
    struct fc_wr w;
    int rc;

    if (!done_ok(d))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_DONE, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, d->receiver_id);
    fc_wr_u8(&w, d->flags);
    fc_wr_u8(&w, d->status);
    fc_wr_u64(&w, d->bytes_written);
    fc_wr_copy(&w, d->check, FC_CHECK_LEN);
    fc_wr_u8(&w, d->identity_len);
    fc_wr_copy(&w, d->identity, d->identity_len);
    return fc__pkt_end_tagged(&w);
}

int fc_done_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_done *d)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_DONE, h) < 0)
        return FC_EPROTO;
    d->receiver_id = fc_rd_u32(&r);
    d->flags = fc_rd_u8(&r);
    d->status = fc_rd_u8(&r);
    d->bytes_written = fc_rd_u64(&r);
    fc_rd_copy(&r, d->check, FC_CHECK_LEN);
    d->identity_len = fc_rd_u8(&r);
    if (d->identity_len > FC_ABORT_TEXT_MAX)
        return FC_EPROTO;
    fc_rd_copy(&r, d->identity, d->identity_len);
    d->identity[d->identity_len] = '\0';
    if (fc__pkt_close_tagged(&r) < 0 || !done_ok(d))
        return FC_EPROTO;
    return 0;
}
