/* Registering with a server: JOIN (receiver -> server, after it has fetched
 * and verified the manifest) and JOIN_ACK (a receiver id, or a refusal the
 * receiver shows and exits on). */
#include "proto/packet.h"

#include "common/error.h"

static int join_ok(const struct fc_join *j)
{
    return j->name_len <= FC_NAME_MAX && fc__text_ok(j->name, j->name_len);
}

int fc_join_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_join *j)
{
    struct fc_wr w;
    int rc;

    if (!join_ok(j))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_JOIN, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u64(&w, j->nonce);
    fc_wr_copy(&w, j->image_id, FC_ID_LEN);
    fc_wr_u64(&w, j->target_size);
    fc_wr_u32(&w, j->chunks_done);
    fc_wr_copy(&w, j->box_pub, FC_BOXPUB_LEN);
    fc_wr_u32(&w, j->prev_id);
    fc_wr_u8(&w, j->name_len);
    fc_wr_copy(&w, j->name, j->name_len);
    return j->prev_id ? fc__pkt_end_tagged(&w) : fc__pkt_end(&w);
}

int fc_join_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_join *j)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_JOIN, h) < 0)
        return FC_EPROTO;
    j->nonce = fc_rd_u64(&r);
    fc_rd_copy(&r, j->image_id, FC_ID_LEN);
    j->target_size = fc_rd_u64(&r);
    j->chunks_done = fc_rd_u32(&r);
    fc_rd_copy(&r, j->box_pub, FC_BOXPUB_LEN);
    j->prev_id = fc_rd_u32(&r);
    j->name_len = fc_rd_u8(&r);
    if (j->name_len > FC_NAME_MAX)
        return FC_EPROTO;
    fc_rd_copy(&r, j->name, j->name_len);
    j->name[j->name_len] = '\0';
    if ((j->prev_id ? fc__pkt_close_tagged(&r) : fc__pkt_close(&r)) < 0 || !join_ok(j))
        return FC_EPROTO;
    return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    while (n--)
        acc |= *p++;
    return acc == 0;
}

/* A refusal carries no id and no secret. */
static int join_ack_ok(const struct fc_join_ack *a)
{
    if (a->status > FC_REASON_MAX)
        return 0;
    if (a->status != FC_REASON_OK)
        return a->receiver_id == 0 && all_zero(a->sealed, FC_SEALED_LEN);
    return a->receiver_id != 0;
}

int fc_join_ack_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_join_ack *a)
{
    struct fc_wr w;
    int rc;

    if (!join_ack_ok(a))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_JOIN_ACK, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u64(&w, a->nonce);
    fc_wr_u32(&w, a->receiver_id);
    fc_wr_u8(&w, a->status);
    fc_wr_u16(&w, a->report_ms);
    fc_wr_copy(&w, a->sealed, FC_SEALED_LEN);
    return fc__pkt_end(&w);
}

int fc_join_ack_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_join_ack *a)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_JOIN_ACK, h) < 0)
        return FC_EPROTO;
    a->nonce = fc_rd_u64(&r);
    a->receiver_id = fc_rd_u32(&r);
    a->status = fc_rd_u8(&r);
    a->report_ms = fc_rd_u16(&r);
    fc_rd_copy(&r, a->sealed, FC_SEALED_LEN);
    if (fc__pkt_close(&r) < 0 || !join_ack_ok(a))
        return FC_EPROTO;
    return 0;
}
