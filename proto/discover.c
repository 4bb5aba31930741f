/* Finding a server: DISCOVER (receiver -> discovery group, or straight to a
 * server given on the command line) and ANNOUNCE (the server's answer: which
 * image, which group, where to fetch the manifest, the session's cut). */
#include "proto/packet.h"

#include "common/error.h"

#define ANNOUNCE_BODY (8 + FC_ID_LEN + 4 + 2 + 2 + 2 + 1 + 1 + 1 + FC_SIGNER_LEN)
/* DISCOVER is padded to ANNOUNCE's size so that a spoofed DISCOVER can never
 * make a server send more bytes than it received (no amplification). */
#define DISCOVER_PAD (ANNOUNCE_BODY - 8)

int fc_discover_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_discover *d)
{
    struct fc_wr w;
    uint8_t *pad;
    int rc = fc__pkt_begin(&w, buf, cap, FC_PKT_DISCOVER, session, seq);

    if (rc < 0)
        return rc;
    fc_wr_u64(&w, d->nonce);
    pad = fc_wr_take(&w, DISCOVER_PAD);
    if (pad)
        memset(pad, 0, DISCOVER_PAD);
    return fc__pkt_end(&w);
}

int fc_discover_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_discover *d)
{
    struct fc_rd r;
    const uint8_t *pad;
    size_t i;

    if (fc__pkt_open(&r, buf, len, FC_PKT_DISCOVER, h) < 0)
        return FC_EPROTO;
    d->nonce = fc_rd_u64(&r);
    pad = fc_rd_take(&r, DISCOVER_PAD);
    if (fc__pkt_close(&r) < 0)
        return FC_EPROTO;
    for (i = 0; i < DISCOVER_PAD; i++)
        if (pad[i] != 0)
            return FC_EPROTO;
    return 0;
}

static int announce_ok(const struct fc_announce *a)
{
    return (a->group[0] & 0xf0) == 0xe0 /* 224.0.0.0/4 */ && a->data_port != 0 &&
           a->ctrl_port != 0 && a->payload_size >= 1 && a->payload_size <= FC_DATA_MAX_PAYLOAD &&
           a->k_max >= 1 && a->k_max <= FC_FEC_MAX_K && a->state >= 1 &&
           a->state <= FC_SESSION_STATE_MAX &&
           /* a partition number only with the grow flag */
           ((a->flags & FC_ANN_GROW) || (a->flags >> FC_ANN_GROW_PART_SHIFT) == 0);
}

int fc_announce_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_announce *a)
{
    struct fc_wr w;
    int rc;

    if (!announce_ok(a))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_ANNOUNCE, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u64(&w, a->nonce);
    fc_wr_copy(&w, a->image_id, FC_ID_LEN);
    fc_wr_copy(&w, a->group, 4);
    fc_wr_u16(&w, a->data_port);
    fc_wr_u16(&w, a->ctrl_port);
    fc_wr_u16(&w, a->payload_size);
    fc_wr_u8(&w, a->k_max);
    fc_wr_u8(&w, a->state);
    fc_wr_u8(&w, a->flags);
    fc_wr_copy(&w, a->signer, FC_SIGNER_LEN);
    return fc__pkt_end(&w);
}

int fc_announce_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_announce *a)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, FC_PKT_ANNOUNCE, h) < 0)
        return FC_EPROTO;
    a->nonce = fc_rd_u64(&r);
    fc_rd_copy(&r, a->image_id, FC_ID_LEN);
    fc_rd_copy(&r, a->group, 4);
    a->data_port = fc_rd_u16(&r);
    a->ctrl_port = fc_rd_u16(&r);
    a->payload_size = fc_rd_u16(&r);
    a->k_max = fc_rd_u8(&r);
    a->state = fc_rd_u8(&r);
    a->flags = fc_rd_u8(&r);
    fc_rd_copy(&r, a->signer, FC_SIGNER_LEN);
    if (fc__pkt_close(&r) < 0 || !announce_ok(a))
        return FC_EPROTO;
    return 0;
}
