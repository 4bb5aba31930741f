/* A chunk over TCP (docs/protocol.md "CHUNK_REQ and CHUNK"): the receiver's
 * tagged request for one chunk that failed its hash twice on multicast, and
 * the head of the server's answer (status, chunk, length; the compressed
 * bytes follow on the stream and are checked against the signed manifest by
 * the receiver's write path, not here). */
#include "proto/packet.h"

#include "common/error.h"

static int chunk_req_ok(const struct fc_chunk_req *q)
{
    return q->receiver_id != 0;
}

int fc_chunk_req_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_chunk_req *q)
{
    struct fc_wr w;
    int rc;

    if (!chunk_req_ok(q))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_CHUNK_REQ, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, q->receiver_id);
    fc_wr_u32(&w, q->chunk);
    return fc__pkt_end_tagged(&w);
}

int fc_chunk_req_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_chunk_req *q)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_CHUNK_REQ, h) < 0)
        return FC_EPROTO;
    q->receiver_id = fc_rd_u32(&r);
    q->chunk = fc_rd_u32(&r);
    if (fc__pkt_close_tagged(&r) < 0 || !chunk_req_ok(q))
        return FC_EPROTO;
    return 0;
}

/* A refusal carries no bytes; a success carries at least one and no more
 * than the largest chunk the image format allows, so the receiver knows
 * before reading whether it will buffer them. */
static int chunk_head_ok(const struct fc_chunk_head *c)
{
    if (c->status > FC_REASON_MAX)
        return 0;
    if (c->status != FC_REASON_OK)
        return c->length == 0;
    return c->length >= 1 && c->length <= FC_CHUNK_MAX;
}

int fc_chunk_head_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                         const struct fc_chunk_head *c)
{
    struct fc_wr w;
    int rc;

    if (!chunk_head_ok(c))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_CHUNK, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u8(&w, c->status);
    fc_wr_u32(&w, c->chunk);
    fc_wr_u32(&w, c->length);
    return fc__pkt_end(&w);
}

/* len is what the caller read off the stream: exactly FC_CHUNK_HEAD_LEN
 * bytes. */
int fc_chunk_head_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_chunk_head *c)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_CHUNK, h) < 0)
        return FC_EPROTO;
    c->status = fc_rd_u8(&r);
    c->chunk = fc_rd_u32(&r);
    c->length = fc_rd_u32(&r);
    if (fc__pkt_close(&r) < 0 || !chunk_head_ok(c))
        return FC_EPROTO;
    return 0;
}
