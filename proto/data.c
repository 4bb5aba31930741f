/* DATA: one packet of an FEC block of a chunk, source (index < k) or parity
 * (index >= k), multicast by the server. The hot path of both ends: encode
 * writes 24 header bytes in front of a payload that may already be in
 * place; decode points into the received buffer and copies nothing. */
#include "proto/packet.h"

#include "common/error.h"

static int data_ok(const struct fc_data *d)
{
    return d->k >= 1 && d->k <= FC_FEC_MAX_K && d->index < FC_FEC_MAX_N && d->len >= 1 &&
           d->len <= FC_DATA_MAX_PAYLOAD;
}

int fc_data_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_data *d)
{
    struct fc_wr w;
    uint8_t *dst;
    int rc;

    if (!data_ok(d))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_DATA, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, d->chunk);
    fc_wr_u16(&w, d->block);
    fc_wr_u8(&w, d->index);
    fc_wr_u8(&w, d->k);
    fc_wr_u16(&w, d->len);
    dst = fc_wr_take(&w, d->len);
    if (dst && dst != d->payload)
        memcpy(dst, d->payload, d->len);
    return fc__pkt_end(&w);
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
