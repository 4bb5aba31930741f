/* DATA: one packet of an FEC block of a chunk, source (index < k) or parity
 * (index >= k), multicast by the server. The hot path of both ends: encode
 * writes 24 header bytes in front of a payload that may already be in
 * place, or the header alone (encode_head) for a payload that goes out from
 * where it is, the server's second iovec; decode points into the received buffer and copies
 * nothing. */
#include "proto/packet.h"

#include "common/error.h"

static int data_ok(const struct fc_data *d)
{
    return d->k >= 1 && d->k <= FC_FEC_MAX_K && d->index < FC_FEC_MAX_N && d->len >= 1 &&
           d->len <= FC_DATA_MAX_PAYLOAD;
}

int fc_data_encode_head(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_data *d)
{
    struct fc_wr w;
    int rc;

    if (!data_ok(d) || cap < FC_DATA_HDR_LEN)
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_DATA, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, d->chunk);
    fc_wr_u16(&w, d->block);
    fc_wr_u8(&w, d->index);
    fc_wr_u8(&w, d->k);
    fc_wr_u16(&w, d->len);
    rc = fc__pkt_end(&w);
    return rc < 0 ? rc : rc + d->len;
}

int fc_data_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_data *d)
{
    int n;

    if (cap < (size_t)FC_DATA_HDR_LEN + d->len)
        return FC_EINVAL;
    n = fc_data_encode_head(buf, cap, session, seq, d);
    if (n > 0 && buf + FC_DATA_HDR_LEN != d->payload)
        memcpy(buf + FC_DATA_HDR_LEN, d->payload, d->len);
    return n;
}

int fc_data_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_data *d)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_DATA, h) < 0)
        return FC_EPROTO;
    d->chunk = fc_rd_u32(&r);
    d->block = fc_rd_u16(&r);
    d->index = fc_rd_u8(&r);
    d->k = fc_rd_u8(&r);
    d->len = fc_rd_u16(&r);
    d->payload = fc_rd_take(&r, d->len);
    if (fc__pkt_close(&r) < 0 || !data_ok(d))
        return FC_EPROTO;
    return 0;
}
