/* NAK: a receiver's report, multicast to the group so that others can
 * suppress theirs, of how many packets each of up to FC_NAK_MAX_ENTRIES FEC
 * blocks still needs, with an optional bitmap of the packets it holds. */
#include "proto/packet.h"

#include "common/error.h"

#define ENTRY_FIXED 9 /* chunk, block, k, needed, bitmap_len */

/* A receiver holding k - needed distinct packets says so in its bitmap, if
 * it sends one; bits for indices >= FC_FEC_MAX_N never exist. */
static int entry_ok(const struct fc_nak_entry *e)
{
    unsigned last_bits = FC_FEC_MAX_N % 8;

    if (e->k < 1 || e->k > FC_FEC_MAX_K || e->needed < 1 || e->needed > e->k ||
        e->bitmap_len > FC_NAK_BITMAP_MAX)
        return 0;
    if (e->bitmap_len == 0)
        return 1;
    if (e->bitmap_len == FC_NAK_BITMAP_MAX && (e->bitmap[FC_NAK_BITMAP_MAX - 1] >> last_bits) != 0)
        return 0;
    return fc__popcount(e->bitmap, e->bitmap_len) == (unsigned)(e->k - e->needed);
}

/* One entry per block: a repeated block would be a double count. */
static int nak_ok(const struct fc_nak *n)
{
    unsigned i, j;

    if (n->count < 1 || n->count > FC_NAK_MAX_ENTRIES)
        return 0;
    for (i = 0; i < n->count; i++) {
        if (!entry_ok(&n->e[i]))
            return 0;
        for (j = 0; j < i; j++)
            if (n->e[j].chunk == n->e[i].chunk && n->e[j].block == n->e[i].block)
                return 0;
    }
    return 1;
}

int fc_nak_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq, const struct fc_nak *n)
{
    struct fc_wr w;
    unsigned i;
    int rc;

    if (!nak_ok(n))
        return FC_EINVAL;
    rc = fc__pkt_begin(&w, buf, cap, FC_PKT_NAK, session, seq);
    if (rc < 0)
        return rc;
    fc_wr_u32(&w, n->receiver_id);
    fc_wr_u32(&w, n->seq_seen);
    fc_wr_u8(&w, n->count);
    for (i = 0; i < n->count; i++) {
        const struct fc_nak_entry *e = &n->e[i];

        fc_wr_u32(&w, e->chunk);
        fc_wr_u16(&w, e->block);
        fc_wr_u8(&w, e->k);
        fc_wr_u8(&w, e->needed);
        fc_wr_u8(&w, e->bitmap_len);
        fc_wr_copy(&w, e->bitmap, e->bitmap_len);
    }
    return fc__pkt_end_tagged(&w);
}

static void entry_read(struct fc_rd *r, struct fc_nak_entry *e)
{
    e->chunk = fc_rd_u32(r);
    e->block = fc_rd_u16(r);
    e->k = fc_rd_u8(r);
    e->needed = fc_rd_u8(r);
    e->bitmap_len = fc_rd_u8(r);
    if (e->bitmap_len > FC_NAK_BITMAP_MAX) {
        r->bad = 1;
        return;
    }
    fc_rd_copy(r, e->bitmap, e->bitmap_len);
}

int fc_nak_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_nak *n)
{
    struct fc_rd r;
    unsigned i;

    if (fc__pkt_open(&r, buf, len, FC_PKT_NAK, h) < 0)
        return FC_EPROTO;
    n->receiver_id = fc_rd_u32(&r);
    n->seq_seen = fc_rd_u32(&r);
    n->count = fc_rd_u8(&r);
    if (n->count > FC_NAK_MAX_ENTRIES)
        return FC_EPROTO;
    for (i = 0; i < n->count && !r.bad; i++)
        entry_read(&r, &n->e[i]);
    if (fc__pkt_close_tagged(&r) < 0 || !nak_ok(n))
        return FC_EPROTO;
    return 0;
}
