/* The manifest fetch over TCP: the receiver's request, and the head of the
 * server's answer (status and length; the signed manifest bytes follow on
 * the stream and are checked by common/manifest, not here). */
#include "proto/packet.h"

#include "common/error.h"

int fc_manifest_req_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                           const struct fc_manifest_req *q)
{
    struct fc_wr w;
    int rc = fc__pkt_begin(&w, buf, cap, FC_PKT_MANIFEST_REQ, session, seq);

    if (rc < 0)
        return rc;
    fc_wr_copy(&w, q->image_id, FC_ID_LEN);
    return fc__pkt_end(&w);
}

int fc_manifest_req_decode(const uint8_t *buf, size_t len, struct fc_hdr *h,
                           struct fc_manifest_req *q)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_MANIFEST_REQ, h) < 0)
        return FC_EPROTO;
    fc_rd_copy(&r, q->image_id, FC_ID_LEN);
    return fc__pkt_close(&r);
}

/* A refusal carries no bytes; a success carries a manifest no larger than
 * a receiver will buffer. */
static int manifest_head_ok(const struct fc_manifest_head *m)
{
    if (m->status > FC_REASON_MAX)
        return 0;
    if (m->status != FC_REASON_OK)
        return m->length == 0;
    return m->length >= 1 && m->length <= FC_MANIFEST_MAX;
}

int fc_manifest_head_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                            const struct fc_manifest_head *m)
{
    struct fc_wr w;
    int rc;

    if (!manifest_head_ok(m))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_MANIFEST, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u8(&w, m->status);
    fc_wr_u32(&w, m->length);
    return fc__pkt_end(&w);
}

/* len is what the caller read off the stream: exactly
 * FC_MANIFEST_HEAD_LEN bytes. */
int fc_manifest_head_decode(const uint8_t *buf, size_t len, struct fc_hdr *h,
                            struct fc_manifest_head *m)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_MANIFEST, h) < 0)
        return FC_EPROTO;
    m->status = fc_rd_u8(&r);
    m->length = fc_rd_u32(&r);
    if (fc__pkt_close(&r) < 0 || !manifest_head_ok(m))
        return FC_EPROTO;
    return 0;
}
