/* The manifest fetch over TCP: the receiver's request, and the head of the
 * server's answer (status and length; the signed manifest bytes follow on
 * the stream and are checked by common/manifest, not here). The image's
 * hooks tar is fetched the same way (HOOKS_REQ, HOOKS): its bytes are
 * checked by the receiver against the hash sealed in its JOIN_ACK. */
#include "proto/packet.h"

#include "common/error.h"

static int req_encode(uint8_t *buf, size_t cap, uint8_t type, uint32_t session, uint32_t seq,
                      const struct fc_manifest_req *q)
{
    struct fc_wr w;
    int rc = fc__pkt_begin(&w, buf, cap, type, session, seq);

    if (rc < 0)
        return rc;
    fc_wr_copy(&w, q->image_id, FC_ID_LEN);
    return fc__pkt_end(&w);
}

static int req_decode(const uint8_t *buf, size_t len, uint8_t type, struct fc_hdr *h,
                      struct fc_manifest_req *q)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, type, h) < 0)
        return FC_EPROTO;
    fc_rd_copy(&r, q->image_id, FC_ID_LEN);
    return fc__pkt_close(&r);
}

/* A refusal carries no bytes; a success carries no more than a receiver
 * will buffer (a manifest is never empty; a hooks tar is at least its two
 * end blocks). */
static int head_ok(const struct fc_manifest_head *m, uint8_t type)
{
    if (m->status > FC_REASON_MAX)
        return 0;
    if (m->status != FC_REASON_OK)
        return m->length == 0;
    return m->length >= 1 && m->length <= (type == FC_PKT_HOOKS ? FC_HOOKS_MAX : FC_MANIFEST_MAX);
}

static int head_encode(uint8_t *buf, size_t cap, uint8_t type, uint32_t session, uint32_t seq,
                       const struct fc_manifest_head *m)
{
    struct fc_wr w;
    int rc;

    if (!head_ok(m, type))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, type, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u8(&w, m->status);
    fc_wr_u32(&w, m->length);
    return fc__pkt_end(&w);
}

/* len is what the caller read off the stream: exactly
 * FC_MANIFEST_HEAD_LEN bytes. */
static int head_decode(const uint8_t *buf, size_t len, uint8_t type, struct fc_hdr *h,
                       struct fc_manifest_head *m)
{
    struct fc_rd r;

    if (fc__pkt_open(&r, buf, len, type, h) < 0)
        return FC_EPROTO;
    m->status = fc_rd_u8(&r);
    m->length = fc_rd_u32(&r);
    if (fc__pkt_close(&r) < 0 || !head_ok(m, type))
        return FC_EPROTO;
    return 0;
}

/* The public pair of each: the same code, their own packet types. */
#define FETCH_MESSAGES(name, req_type, head_type)                                                  \
    int fc_##name##_req_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,           \
                               const struct fc_manifest_req *q)                                    \
    {                                                                                              \
        return req_encode(buf, cap, req_type, session, seq, q);                                    \
    }                                                                                              \
    int fc_##name##_req_decode(const uint8_t *buf, size_t len, struct fc_hdr *h,                   \
                               struct fc_manifest_req *q)                                          \
    {                                                                                              \
        return req_decode(buf, len, req_type, h, q);                                               \
    }                                                                                              \
    int fc_##name##_head_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,          \
                                const struct fc_manifest_head *m)                                  \
    {                                                                                              \
        return head_encode(buf, cap, head_type, session, seq, m);                                  \
    }                                                                                              \
    int fc_##name##_head_decode(const uint8_t *buf, size_t len, struct fc_hdr *h,                  \
                                struct fc_manifest_head *m)                                        \
    {                                                                                              \
        return head_decode(buf, len, head_type, h, m);                                             \
    }

FETCH_MESSAGES(manifest, FC_PKT_MANIFEST_REQ, FC_PKT_MANIFEST)
FETCH_MESSAGES(hooks, FC_PKT_HOOKS_REQ, FC_PKT_HOOKS)
