/* Capture upload messages (docs/protocol.md "Capture upload"): HELLO,
 * CHUNK's head, FINISH's head and the server's REPLY. The session field is
 * always 0 (an upload is no multicast session). Every field is bounded here
 * so that the server sizes nothing from a peer's word: a chunk's sizes by
 * FC_CHUNK_MAX, a manifest by FC_CAP_MANIFEST_MAX. */
#include "proto/packet.h"

#include "common/error.h"

#define CAP_LEVEL_MAX 22 /* zstd's highest */

static int hello_ok(const struct fc_cap_hello *c)
{
    return c->disk_size > 0 && c->chunk_size >= 4096 && c->chunk_size <= FC_CHUNK_MAX &&
           c->level >= 1 && c->level <= CAP_LEVEL_MAX;
}

/* Compression never grows a chunk by more than zstd's bound; a little over
 * the raw size covers that for every size up to FC_CHUNK_MAX. */
static int chunk_ok(const struct fc_cap_chunk *c)
{
    return c->raw_size >= 1 && c->raw_size <= FC_CHUNK_MAX && c->comp_size >= 1 &&
           c->comp_size <= FC_CHUNK_MAX + (FC_CHUNK_MAX >> 7) + 4096;
}

static int finish_ok(const struct fc_cap_finish *c)
{
    return c->length >= 1 && c->length <= FC_CAP_MANIFEST_MAX;
}

static int reply_ok(const struct fc_cap_reply *c)
{
    return c->status <= FC_REASON_MAX;
}

static int open_cap(struct fc_rd *r, const uint8_t *buf, size_t len, uint8_t type, struct fc_hdr *h)
{
    if (fc__pkt_open(r, buf, len, type, h) < 0 || h->session != 0)
        return FC_EPROTO;
    return 0;
}

int fc_cap_hello_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_cap_hello *c)
{
    struct fc_wr w;

    if (!hello_ok(c) || session != 0 || fc__pkt_begin(&w, buf, cap, FC_PKT_CAP_HELLO, 0, seq) < 0)
        return FC_EINVAL;
    fc_wr_copy(&w, c->token, FC_CAP_TOKEN_LEN);
    fc_wr_u64(&w, c->disk_size);
    fc_wr_u32(&w, c->chunk_size);
    fc_wr_u8(&w, c->level);
    return fc__pkt_end(&w);
}

int fc_cap_hello_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_hello *c)
{
    struct fc_rd r;

    if (open_cap(&r, buf, len, FC_PKT_CAP_HELLO, h))
        return FC_EPROTO;
    fc_rd_copy(&r, c->token, FC_CAP_TOKEN_LEN);
    c->disk_size = fc_rd_u64(&r);
    c->chunk_size = fc_rd_u32(&r);
    c->level = fc_rd_u8(&r);
    if (fc__pkt_close(&r) < 0 || !hello_ok(c))
        return FC_EPROTO;
    return 0;
}

int fc_cap_chunk_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_cap_chunk *c)
{
    struct fc_wr w;

    if (!chunk_ok(c) || session != 0 || fc__pkt_begin(&w, buf, cap, FC_PKT_CAP_CHUNK, 0, seq) < 0)
        return FC_EINVAL;
    fc_wr_u32(&w, c->index);
    fc_wr_u32(&w, c->raw_size);
    fc_wr_u32(&w, c->comp_size);
    fc_wr_copy(&w, c->comp_hash, FC_HASH_LEN);
    fc_wr_copy(&w, c->raw_hash, FC_HASH_LEN);
    return fc__pkt_end(&w);
}

int fc_cap_chunk_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_chunk *c)
{
    struct fc_rd r;

    if (open_cap(&r, buf, len, FC_PKT_CAP_CHUNK, h))
        return FC_EPROTO;
    c->index = fc_rd_u32(&r);
    c->raw_size = fc_rd_u32(&r);
    c->comp_size = fc_rd_u32(&r);
    fc_rd_copy(&r, c->comp_hash, FC_HASH_LEN);
    fc_rd_copy(&r, c->raw_hash, FC_HASH_LEN);
    if (fc__pkt_close(&r) < 0 || !chunk_ok(c))
        return FC_EPROTO;
    return 0;
}

int fc_cap_finish_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                         const struct fc_cap_finish *c)
{
    struct fc_wr w;

    if (!finish_ok(c) || session != 0 || fc__pkt_begin(&w, buf, cap, FC_PKT_CAP_FINISH, 0, seq) < 0)
        return FC_EINVAL;
    fc_wr_u32(&w, c->length);
    return fc__pkt_end(&w);
}

int fc_cap_finish_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_finish *c)
{
    struct fc_rd r;

    if (open_cap(&r, buf, len, FC_PKT_CAP_FINISH, h))
        return FC_EPROTO;
    c->length = fc_rd_u32(&r);
    if (fc__pkt_close(&r) < 0 || !finish_ok(c))
        return FC_EPROTO;
    return 0;
}

int fc_cap_reply_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_cap_reply *c)
{
    struct fc_wr w;

    if (!reply_ok(c) || session != 0 || fc__pkt_begin(&w, buf, cap, FC_PKT_CAP_REPLY, 0, seq) < 0)
        return FC_EINVAL;
    fc_wr_u8(&w, c->status);
    fc_wr_u32(&w, c->chunks);
    return fc__pkt_end(&w);
}

int fc_cap_reply_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_reply *c)
{
    struct fc_rd r;

    if (open_cap(&r, buf, len, FC_PKT_CAP_REPLY, h))
        return FC_EPROTO;
    c->status = fc_rd_u8(&r);
    c->chunks = fc_rd_u32(&r);
    if (fc__pkt_close(&r) < 0 || !reply_ok(c))
        return FC_EPROTO;
    return 0;
}

size_t fc_cap_msg_len(const uint8_t *hdr)
{
    struct fc_hdr h;

    if (fc_hdr_decode(hdr, FC_HDR_LEN, &h) < 0 || h.session != 0)
        return 0;
    switch (h.type) {
    case FC_PKT_CAP_HELLO:
        return FC_CAP_HELLO_LEN;
    case FC_PKT_CAP_CHUNK:
        return FC_CAP_CHUNK_LEN;
    case FC_PKT_CAP_FINISH:
        return FC_CAP_FINISH_LEN;
    case FC_PKT_CAP_REPLY:
        return FC_CAP_REPLY_LEN;
    default:
        return 0;
    }
}
