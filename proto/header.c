/* The common header every packet starts with (magic, version, type, session,
 * sequence), and the frame the per-type encoders and decoders share: header
 * first, body through a bounded cursor, and nothing left over at the end. */
#include <string.h>

#include "proto/packet.h"

#include "common/error.h"

int fc_hdr_encode(uint8_t *buf, size_t cap, const struct fc_hdr *h)
{
    struct fc_wr w;

    if (h->type < 1 || h->type > FC_PKT_TYPE_MAX)
        return FC_EINVAL;
    fc_wr_init(&w, buf, cap);
    fc_wr_u32(&w, FC_PROTO_MAGIC);
    fc_wr_u8(&w, FC_PROTO_VERSION);
    fc_wr_u8(&w, h->type);
    fc_wr_u32(&w, h->session);
    fc_wr_u32(&w, h->seq);
    return w.bad ? FC_EINVAL : (int)w.off;
}

/* Magic, version and type as every version writes them; the rest as ours. */
static int read_head(const uint8_t *buf, size_t len, uint8_t *version, struct fc_hdr *h)
{
    struct fc_rd r;
    uint32_t magic;

    if (len < FC_HDR_LEN || len > FC_PKT_MAX)
        return FC_EPROTO;
    fc_rd_init(&r, buf, len);
    magic = fc_rd_u32(&r);
    *version = fc_rd_u8(&r);
    h->type = fc_rd_u8(&r);
    h->session = fc_rd_u32(&r);
    h->seq = fc_rd_u32(&r);
    return r.bad || magic != FC_PROTO_MAGIC ? FC_EPROTO : 0;
}

int fc_hdr_decode(const uint8_t *buf, size_t len, struct fc_hdr *h)
{
    uint8_t version;

    if (read_head(buf, len, &version, h) || version != FC_PROTO_VERSION || h->type < 1 ||
        h->type > FC_PKT_TYPE_MAX)
        return FC_EPROTO;
    return FC_HDR_LEN;
}

int fc_hdr_peek_version(const uint8_t *buf, size_t len, uint8_t *type)
{
    struct fc_hdr h;
    uint8_t version;

    if (read_head(buf, len, &version, &h))
        return FC_EPROTO;
    *type = h.type;
    return version;
}

int fc_version_refusal_encode(uint8_t *buf, size_t cap, uint8_t type)
{
    struct fc_hdr h = {.type = type, .session = 0, .seq = 0};

    if (type != FC_PKT_ANNOUNCE && type != FC_PKT_JOIN_ACK)
        return FC_EINVAL;
    return fc_hdr_encode(buf, cap, &h);
}

int fc__pkt_begin(struct fc_wr *w, uint8_t *buf, size_t cap, uint8_t type, uint32_t session,
                  uint32_t seq)
{
    struct fc_hdr h = {.type = type, .session = session, .seq = seq};
    int rc = fc_hdr_encode(buf, cap, &h);

    if (rc < 0)
        return rc;
    /* The body cursor spans the whole buffer so that off ends as the packet
     * length; never more than FC_PKT_MAX, so no encoder emits an oversized
     * packet whatever the caller's capacity. */
    fc_wr_init(w, buf, cap < FC_PKT_MAX ? cap : FC_PKT_MAX);
    w->off = FC_HDR_LEN;
    return 0;
}

int fc__pkt_end(const struct fc_wr *w)
{
    return w->bad ? FC_EINVAL : (int)w->off;
}

int fc__pkt_open(struct fc_rd *r, const uint8_t *buf, size_t len, uint8_t type, struct fc_hdr *h)
{
    int rc = fc_hdr_decode(buf, len, h);

    if (rc < 0 || h->type != type)
        return FC_EPROTO;
    fc_rd_init(r, buf, len);
    r->off = FC_HDR_LEN;
    return 0;
}

/* Trailing bytes are as wrong as missing ones: a packet longer than its
 * type allows was not made by a fleetcast peer of this version. */
int fc__pkt_close(const struct fc_rd *r)
{
    return r->bad || r->off != r->len ? FC_EPROTO : 0;
}

/* Authenticated packets: the body, then FC_TAG_LEN bytes the encoder
 * leaves zero for fc_auth_seal() to fill. */
int fc__pkt_end_tagged(struct fc_wr *w)
{
    uint8_t *t = fc_wr_take(w, FC_TAG_LEN);

    if (t)
        memset(t, 0, FC_TAG_LEN);
    return fc__pkt_end(w);
}

int fc__pkt_close_tagged(struct fc_rd *r)
{
    if (!fc_rd_take(r, FC_TAG_LEN))
        return FC_EPROTO;
    return fc__pkt_close(r);
}

/* Names and abort texts end up on an operator's terminal: no NUL (the text
 * would silently shorten) and no control characters (escape sequences). */
int fc__text_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

unsigned fc__popcount(const uint8_t *bits, size_t len)
{
    unsigned n = 0;
    size_t i;

    for (i = 0; i < len; i++)
        n += (unsigned)__builtin_popcount(bits[i]);
    return n;
}
