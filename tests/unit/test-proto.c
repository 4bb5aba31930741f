/* The wire format: every packet type round-trips; every decoder rejects every
 * truncation, an extra byte, a foreign magic, version or type, and each
 * inconsistency its type can carry; random corruption never crashes a
 * decoder, and whatever a decoder accepts re-encodes to the same bytes.
 * Byte offsets below are those of docs/protocol.md, so the tests also pin
 * the document to the code. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/packet.h"

#define SESSION 0xa1b2c3d4u
#define SEQ 0x01020304u

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- one valid sample of each type ---- */

static uint8_t payload[FC_DATA_MAX_PAYLOAD];

static void sample_announce(struct fc_announce *a)
{
    memset(a, 0, sizeof(*a));
    a->nonce = 0x1122334455667788ull;
    memset(a->image_id, 0x5a, FC_ID_LEN);
    a->group[0] = 239;
    a->group[1] = 255;
    a->group[2] = 70;
    a->group[3] = 67;
    a->data_port = 7651;
    a->ctrl_port = FC_PORT_DEFAULT;
    a->payload_size = 1408;
    a->k_max = 200;
    a->state = FC_SESSION_SENDING;
}

static void sample_join(struct fc_join *j)
{
    memset(j, 0, sizeof(*j));
    j->nonce = 42;
    memset(j->image_id, 0x5a, FC_ID_LEN);
    j->target_size = 8ull << 30;
    j->chunks_done = 17;
    strcpy(j->name, "node-07.lab");
    j->name_len = (uint8_t)strlen(j->name);
}

static void sample_join_ack(struct fc_join_ack *a)
{
    a->nonce = 42;
    a->receiver_id = 7;
    a->status = FC_REASON_OK;
    a->report_ms = 1000;
}

static void sample_data(struct fc_data *d)
{
    size_t i;

    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    d->chunk = 123456;
    d->block = 3;
    d->index = 201; /* parity 1 of a block of 200 */
    d->k = 200;
    d->len = 1408;
    d->payload = payload;
}

static void sample_nak(struct fc_nak *n)
{
    memset(n, 0, sizeof(*n));
    n->receiver_id = 7;
    n->seq_seen = 99999;
    n->count = 2;
    n->e[0].chunk = 5;
    n->e[0].block = 1;
    n->e[0].k = 10;
    n->e[0].needed = 3; /* holds 7: indices 0-5 and 12 */
    n->e[0].bitmap_len = 2;
    n->e[0].bitmap[0] = 0x3f;
    n->e[0].bitmap[1] = 0x10;
    n->e[1].chunk = 6;
    n->e[1].block = 0;
    n->e[1].k = 200;
    n->e[1].needed = 200; /* dropped the block after a failed hash */
}

static void sample_progress(struct fc_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->receiver_id = 7;
    p->state = FC_RX_RECEIVING;
    p->chunks_total = 3000;
    p->win_base = 1000;
    p->window[0] = 0x06;   /* 1001, 1002 */
    p->window[127] = 0x80; /* 2023 */
    p->chunks_done = 1010;
    p->seq_seen = 0xfffffff0u;
    p->rejects = 3;
    p->bytes_written = 1ull << 40;
    p->rate = 110000000;
    p->pkts_received = 123456789;
    p->pkts_lost = 1234;
}

static void sample_done(struct fc_done *d)
{
    d->receiver_id = 7;
    d->flags = 0;
    d->status = FC_REASON_OK;
    d->bytes_written = 1ull << 33;
    memset(d->check, 0xc3, FC_CHECK_LEN);
}

static void sample_abort(struct fc_abort *a)
{
    memset(a, 0, sizeof(*a));
    a->receiver_id = 0;
    a->reason = FC_REASON_OPERATOR;
    strcpy(a->text, "stopped by operator");
    a->text_len = (uint8_t)strlen(a->text);
}

/* ---- every type through one table ---- */

union any {
    struct fc_discover discover;
    struct fc_announce announce;
    struct fc_join join;
    struct fc_join_ack join_ack;
    struct fc_data data;
    struct fc_nak nak;
    struct fc_progress progress;
    struct fc_done done;
    struct fc_abort abort;
    struct fc_manifest_req mreq;
    struct fc_manifest_head mhead;
};

struct kind {
    const char *name;
    uint8_t type;
    size_t len; /* of the sample, per docs/protocol.md */
    void (*sample)(union any *u);
    int (*enc)(uint8_t *buf, size_t cap, const union any *u);
    int (*dec)(const uint8_t *buf, size_t len, struct fc_hdr *h, union any *u);
};

#define WRAP(T, field)                                                                             \
    static int enc_##T(uint8_t *buf, size_t cap, const union any *u)                               \
    {                                                                                              \
        return fc_##T##_encode(buf, cap, SESSION, SEQ, &u->field);                                 \
    }                                                                                              \
    static int dec_##T(const uint8_t *buf, size_t len, struct fc_hdr *h, union any *u)             \
    {                                                                                              \
        return fc_##T##_decode(buf, len, h, &u->field);                                            \
    }

WRAP(discover, discover)
WRAP(announce, announce)
WRAP(join, join)
WRAP(join_ack, join_ack)
WRAP(data, data)
WRAP(nak, nak)
WRAP(progress, progress)
WRAP(done, done)
WRAP(abort, abort)
WRAP(manifest_req, mreq)
WRAP(manifest_head, mhead)

static void s_discover(union any *u)
{
    u->discover.nonce = 0xfeedfacecafebeefull;
}
static void s_announce(union any *u)
{
    sample_announce(&u->announce);
}
static void s_join(union any *u)
{
    sample_join(&u->join);
}
static void s_join_ack(union any *u)
{
    sample_join_ack(&u->join_ack);
}
static void s_data(union any *u)
{
    sample_data(&u->data);
}
static void s_nak(union any *u)
{
    sample_nak(&u->nak);
}
static void s_progress(union any *u)
{
    sample_progress(&u->progress);
}
static void s_done(union any *u)
{
    sample_done(&u->done);
}
static void s_abort(union any *u)
{
    sample_abort(&u->abort);
}
static void s_mreq(union any *u)
{
    memset(u->mreq.image_id, 0x5a, FC_ID_LEN);
}
static void s_mhead(union any *u)
{
    u->mhead.status = FC_REASON_OK;
    u->mhead.length = 123456;
}

static const struct kind kinds[] = {
    {"discover", FC_PKT_DISCOVER, 50, s_discover, enc_discover, dec_discover},
    {"announce", FC_PKT_ANNOUNCE, 50, s_announce, enc_announce, dec_announce},
    {"join", FC_PKT_JOIN, 51 + 11, s_join, enc_join, dec_join},
    {"join_ack", FC_PKT_JOIN_ACK, 29, s_join_ack, enc_join_ack, dec_join_ack},
    {"data", FC_PKT_DATA, 24 + 1408, s_data, enc_data, dec_data},
    {"nak", FC_PKT_NAK, 23 + 9 + 2 + 9, s_nak, enc_nak, dec_nak},
    {"progress", FC_PKT_PROGRESS, 199, s_progress, enc_progress, dec_progress},
    {"done", FC_PKT_DONE, 60, s_done, enc_done, dec_done},
    {"abort", FC_PKT_ABORT, 20 + 19, s_abort, enc_abort, dec_abort},
    {"manifest_req", FC_PKT_MANIFEST_REQ, 30, s_mreq, enc_manifest_req, dec_manifest_req},
    {"manifest_head", FC_PKT_MANIFEST, FC_MANIFEST_HEAD_LEN, s_mhead, enc_manifest_head,
     dec_manifest_head},
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static uint8_t pkt[FC_PKT_MAX + 64];
static uint8_t again[FC_PKT_MAX + 64];

static size_t encode_sample(const struct kind *k)
{
    union any u;
    int n;

    memset(&u, 0, sizeof(u));
    k->sample(&u);
    memset(pkt, 0xee, sizeof(pkt));
    n = k->enc(pkt, sizeof(pkt), &u);
    ck_assert_msg(n > 0, "%s: encode failed: %d", k->name, n);
    return (size_t)n;
}

static int decode(const struct kind *k, const uint8_t *buf, size_t len)
{
    struct fc_hdr h;
    union any u;

    memset(&u, 0, sizeof(u));
    return k->dec(buf, len, &h, &u);
}

START_TEST(every_type_encodes_to_its_documented_size_and_decodes)
{
    const struct kind *k = &kinds[_i];
    size_t n = encode_sample(k);
    struct fc_hdr h;
    union any u;
    int m;

    ck_assert_uint_eq(n, k->len);
    ck_assert_uint_le(n, FC_PKT_MAX);
    ck_assert_mem_eq(pkt, "FLCT\x01", 5);
    ck_assert_int_eq(pkt[5], k->type);
    ck_assert_int_eq(fc_hdr_decode(pkt, n, &h), FC_HDR_LEN);
    ck_assert_int_eq(h.type, k->type);
    ck_assert_uint_eq(h.session, SESSION);
    ck_assert_uint_eq(h.seq, SEQ);
    memset(&h, 0, sizeof(h));
    ck_assert_int_eq(k->dec(pkt, n, &h, &u), 0);
    ck_assert_int_eq(h.type, k->type);
    ck_assert_uint_eq(h.session, SESSION);
    ck_assert_uint_eq(h.seq, SEQ);
    /* Decoded then encoded again: the very same bytes. */
    m = k->enc(again, sizeof(again), &u);
    ck_assert_int_eq(m, (int)n);
    ck_assert_mem_eq(again, pkt, n);
}
END_TEST

START_TEST(every_truncation_is_rejected)
{
    const struct kind *k = &kinds[_i];
    size_t n = encode_sample(k);
    size_t len;

    for (len = 0; len < n; len++)
        ck_assert_msg(decode(k, pkt, len) == FC_EPROTO, "%s: accepted %zu of %zu bytes", k->name,
                      len, n);
}
END_TEST

START_TEST(trailing_bytes_and_oversized_packets_are_rejected)
{
    const struct kind *k = &kinds[_i];
    size_t n = encode_sample(k);

    pkt[n] = 0;
    ck_assert_int_eq(decode(k, pkt, n + 1), FC_EPROTO);
    ck_assert_int_eq(decode(k, pkt, FC_PKT_MAX + 1), FC_EPROTO);
    ck_assert_int_eq(decode(k, pkt, sizeof(pkt)), FC_EPROTO);
}
END_TEST

START_TEST(bad_magic_version_and_type_are_rejected)
{
    const struct kind *k = &kinds[_i];
    size_t n = encode_sample(k);
    struct fc_hdr h;
    unsigned i, t;

    for (i = 0; i < 4; i++) {
        pkt[i] ^= 0x20;
        ck_assert_int_eq(decode(k, pkt, n), FC_EPROTO);
        ck_assert_int_eq(fc_hdr_decode(pkt, n, &h), FC_EPROTO);
        pkt[i] ^= 0x20;
    }
    for (t = 0; t < 256; t++) {
        if (t == FC_PROTO_VERSION)
            continue;
        pkt[4] = (uint8_t)t;
        ck_assert_int_eq(decode(k, pkt, n), FC_EPROTO);
        ck_assert_int_eq(fc_hdr_decode(pkt, n, &h), FC_EPROTO);
    }
    pkt[4] = FC_PROTO_VERSION;
    for (t = 0; t < 256; t++) {
        if (t == k->type)
            continue;
        pkt[5] = (uint8_t)t;
        ck_assert_msg(decode(k, pkt, n) == FC_EPROTO, "%s decoder took type %u", k->name, t);
    }
    pkt[5] = k->type;
    ck_assert_int_eq(decode(k, pkt, n), 0);
}
END_TEST

/* Flipped bits, or random bytes behind a valid header: no decoder may crash
 * or read out of bounds (the ASan build checks), and anything accepted is
 * canonical: it encodes back to exactly the bytes received. */
START_TEST(random_corruption_is_rejected_or_canonical)
{
    const struct kind *k = &kinds[_i];
    size_t n = encode_sample(k);
    uint8_t orig[FC_PKT_MAX];
    unsigned round;

    memcpy(orig, pkt, n);
    for (round = 0; round < 20000; round++) {
        struct fc_hdr h;
        union any u;
        size_t len = n;
        unsigned flips = 1 + (unsigned)(rng() % 4), f;

        memcpy(pkt, orig, n);
        if (round % 4 == 3) {
            len = FC_HDR_LEN + (size_t)(rng() % (FC_PKT_MAX - FC_HDR_LEN + 1));
            for (f = FC_HDR_LEN; f < len; f++)
                pkt[f] = (uint8_t)rng();
        } else {
            for (f = 0; f < flips; f++)
                pkt[FC_HDR_LEN + rng() % (n - FC_HDR_LEN)] ^= (uint8_t)(1u << (rng() % 8));
        }
        memset(&u, 0, sizeof(u));
        if (k->dec(pkt, len, &h, &u) != 0)
            continue;
        ck_assert_int_eq(k->enc(again, sizeof(again), &u), (int)len);
        ck_assert_mem_eq(again, pkt, len);
    }
}
END_TEST

/* ---- round trips with field checks ---- */

START_TEST(data_round_trip_points_into_the_buffer)
{
    struct fc_data d, out;
    struct fc_hdr h;
    int n;

    sample_data(&d);
    n = fc_data_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(n, FC_DATA_HDR_LEN + 1408);
    ck_assert_int_eq(fc_data_decode(pkt, (size_t)n, &h, &out), 0);
    ck_assert_uint_eq(out.chunk, 123456);
    ck_assert_uint_eq(out.block, 3);
    ck_assert_uint_eq(out.index, 201);
    ck_assert_uint_eq(out.k, 200);
    ck_assert_uint_eq(out.len, 1408);
    ck_assert_ptr_eq(out.payload, pkt + FC_DATA_HDR_LEN);
    ck_assert_mem_eq(out.payload, payload, 1408);
}
END_TEST

START_TEST(data_largest_payload_fits_the_mtu_and_no_more)
{
    struct fc_data d;
    struct fc_hdr h;
    int n;

    ck_assert_int_eq(FC_DATA_MAX_PAYLOAD, 1448);
    ck_assert_int_eq(20 + 8 + FC_DATA_HDR_LEN + FC_DATA_MAX_PAYLOAD, 1500);
    sample_data(&d);
    d.len = FC_DATA_MAX_PAYLOAD;
    n = fc_data_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(n, FC_PKT_MAX);
    ck_assert_int_eq(fc_data_decode(pkt, (size_t)n, &h, &d), 0);
    d.len = FC_DATA_MAX_PAYLOAD + 1;
    ck_assert_int_eq(fc_data_encode(pkt, sizeof(pkt), SESSION, SEQ, &d), FC_EINVAL);
    /* And the encoder will not write past a small buffer. */
    d.len = 100;
    ck_assert_int_eq(fc_data_encode(pkt, FC_DATA_HDR_LEN + 99, SESSION, SEQ, &d), FC_EINVAL);
    ck_assert_int_eq(fc_data_encode(pkt, FC_HDR_LEN - 1, SESSION, SEQ, &d), FC_EINVAL);
}
END_TEST

START_TEST(data_payload_in_place_is_not_copied)
{
    struct fc_data d, out;
    struct fc_hdr h;
    int n;

    sample_data(&d);
    memcpy(pkt + FC_DATA_HDR_LEN, payload, d.len);
    d.payload = pkt + FC_DATA_HDR_LEN;
    n = fc_data_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(fc_data_decode(pkt, (size_t)n, &h, &out), 0);
    ck_assert_mem_eq(out.payload, payload, d.len);
}
END_TEST

START_TEST(nak_round_trip)
{
    struct fc_nak n, out;
    struct fc_hdr h;
    int len;

    sample_nak(&n);
    len = fc_nak_encode(pkt, sizeof(pkt), SESSION, SEQ, &n);
    ck_assert_int_gt(len, 0);
    memset(&out, 0xff, sizeof(out));
    ck_assert_int_eq(fc_nak_decode(pkt, (size_t)len, &h, &out), 0);
    ck_assert_uint_eq(out.receiver_id, 7);
    ck_assert_uint_eq(out.seq_seen, 99999);
    ck_assert_uint_eq(out.count, 2);
    ck_assert_uint_eq(out.e[0].chunk, 5);
    ck_assert_uint_eq(out.e[0].block, 1);
    ck_assert_uint_eq(out.e[0].k, 10);
    ck_assert_uint_eq(out.e[0].needed, 3);
    ck_assert_uint_eq(out.e[0].bitmap_len, 2);
    ck_assert_mem_eq(out.e[0].bitmap, "\x3f\x10", 2);
    ck_assert_uint_eq(out.e[1].chunk, 6);
    ck_assert_uint_eq(out.e[1].needed, 200);
    ck_assert_uint_eq(out.e[1].bitmap_len, 0);
}
END_TEST

/* The largest NAK still fits one unfragmented datagram. */
START_TEST(nak_largest_fits)
{
    struct fc_nak n;
    struct fc_hdr h;
    unsigned i;
    int len;

    memset(&n, 0, sizeof(n));
    n.receiver_id = 1;
    n.count = FC_NAK_MAX_ENTRIES;
    for (i = 0; i < FC_NAK_MAX_ENTRIES; i++) {
        n.e[i].chunk = i;
        n.e[i].k = 200;
        n.e[i].needed = 1;
        n.e[i].bitmap_len = FC_NAK_BITMAP_MAX;
        memset(n.e[i].bitmap, 0xff, 25);
        n.e[i].bitmap[24] = 0x7f; /* 199 packets held */
    }
    len = fc_nak_encode(pkt, sizeof(pkt), SESSION, SEQ, &n);
    ck_assert_int_gt(len, 0);
    ck_assert_int_le(len, FC_PKT_MAX);
    ck_assert_int_eq(fc_nak_decode(pkt, (size_t)len, &h, &n), 0);
    n.count = FC_NAK_MAX_ENTRIES + 1;
    ck_assert_int_eq(fc_nak_encode(pkt, sizeof(pkt), SESSION, SEQ, &n), FC_EINVAL);
}
END_TEST

START_TEST(control_round_trips)
{
    struct fc_announce a, a2;
    struct fc_join j, j2;
    struct fc_join_ack ja, ja2;
    struct fc_progress p, p2;
    struct fc_done d, d2;
    struct fc_abort ab, ab2;
    struct fc_hdr h;
    int n;

    sample_announce(&a);
    n = fc_announce_encode(pkt, sizeof(pkt), SESSION, SEQ, &a);
    ck_assert_int_eq(fc_announce_decode(pkt, (size_t)n, &h, &a2), 0);
    ck_assert_mem_eq(&a.image_id, &a2.image_id, FC_ID_LEN);
    ck_assert_mem_eq(a2.group, "\xef\xff\x46\x43", 4);
    ck_assert_mem_eq(pkt + 38, "\xef\xff\x46\x43", 4); /* network order on the wire */
    ck_assert(a.nonce == a2.nonce && a.data_port == a2.data_port && a.ctrl_port == a2.ctrl_port);
    ck_assert(a.payload_size == a2.payload_size && a.k_max == a2.k_max && a.state == a2.state);

    sample_join(&j);
    n = fc_join_encode(pkt, sizeof(pkt), SESSION, SEQ, &j);
    ck_assert_int_eq(fc_join_decode(pkt, (size_t)n, &h, &j2), 0);
    ck_assert_str_eq(j2.name, "node-07.lab");
    ck_assert(j.nonce == j2.nonce && j.target_size == j2.target_size &&
              j.chunks_done == j2.chunks_done);
    ck_assert_mem_eq(j.image_id, j2.image_id, FC_ID_LEN);

    sample_join_ack(&ja);
    n = fc_join_ack_encode(pkt, sizeof(pkt), SESSION, SEQ, &ja);
    ck_assert_int_eq(fc_join_ack_decode(pkt, (size_t)n, &h, &ja2), 0);
    ck_assert(ja.nonce == ja2.nonce && ja.receiver_id == ja2.receiver_id &&
              ja.status == ja2.status && ja.report_ms == ja2.report_ms);

    sample_progress(&p);
    n = fc_progress_encode(pkt, sizeof(pkt), SESSION, SEQ, &p);
    ck_assert_int_eq(fc_progress_decode(pkt, (size_t)n, &h, &p2), 0);
    ck_assert(p.chunks_total == p2.chunks_total && p.chunks_done == p2.chunks_done &&
              p.win_base == p2.win_base && p.seq_seen == p2.seq_seen && p.rejects == p2.rejects &&
              p.bytes_written == p2.bytes_written && p.rate == p2.rate &&
              p.pkts_received == p2.pkts_received && p.pkts_lost == p2.pkts_lost &&
              p.state == p2.state);
    ck_assert_mem_eq(p.window, p2.window, sizeof(p.window));

    sample_done(&d);
    d.flags = FC_DONE_ACK;
    n = fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(fc_done_decode(pkt, (size_t)n, &h, &d2), 0);
    ck_assert(d2.flags == FC_DONE_ACK && d2.bytes_written == d.bytes_written);
    ck_assert_mem_eq(d.check, d2.check, FC_CHECK_LEN);

    sample_abort(&ab);
    n = fc_abort_encode(pkt, sizeof(pkt), SESSION, SEQ, &ab);
    ck_assert_int_eq(fc_abort_decode(pkt, (size_t)n, &h, &ab2), 0);
    ck_assert_str_eq(ab2.text, "stopped by operator");
    ck_assert_uint_eq(ab2.reason, FC_REASON_OPERATOR);
    /* Empty text is fine. */
    ab.text_len = 0;
    n = fc_abort_encode(pkt, sizeof(pkt), SESSION, SEQ, &ab);
    ck_assert_int_eq(fc_abort_decode(pkt, (size_t)n, &h, &ab2), 0);
    ck_assert_str_eq(ab2.text, "");
}
END_TEST

/* ---- inconsistent content, poked into valid packets ---- */

/* Encodes kind ki's sample, applies poke, and expects the decoder to refuse. */
#define REJECT_POKED(ki, stmt)                                                                     \
    do {                                                                                           \
        size_t n_ = encode_sample(&kinds[ki]);                                                     \
        stmt;                                                                                      \
        ck_assert_msg(decode(&kinds[ki], pkt, n_) == FC_EPROTO, "accepted: %s", #stmt);            \
    } while (0)

enum { K_DISC, K_ANN, K_JOIN, K_JACK, K_DATA, K_NAK, K_PROG, K_DONE, K_ABORT, K_MREQ, K_MHEAD };

START_TEST(data_inconsistencies)
{
    REJECT_POKED(K_DATA, pkt[21] = 0);                /* k = 0 */
    REJECT_POKED(K_DATA, pkt[21] = FC_FEC_MAX_K + 1); /* k too large */
    REJECT_POKED(K_DATA, pkt[20] = 255);              /* no packet index 255 */
    REJECT_POKED(K_DATA, fc_put16(pkt + 22, 0));      /* empty payload */
    REJECT_POKED(K_DATA, fc_put16(pkt + 22, 1407));   /* length says less than sent */
    REJECT_POKED(K_DATA, fc_put16(pkt + 22, 1409));   /* length says more than sent */
    REJECT_POKED(K_DATA, fc_put16(pkt + 22, 0xffff));
}
END_TEST

START_TEST(nak_inconsistencies)
{
    /* Entry 0 at 23: chunk 23, block 27, k 29, needed 30, bitmap_len 31,
     * bitmap 32..33; entry 1 at 34. */
    REJECT_POKED(K_NAK, pkt[22] = 0); /* no entries */
    REJECT_POKED(K_NAK, pkt[22] = 3); /* count says 3, 2 present */
    REJECT_POKED(K_NAK, pkt[22] = 1); /* count says 1, 2 present */
    REJECT_POKED(K_NAK, pkt[22] = FC_NAK_MAX_ENTRIES + 1);
    REJECT_POKED(K_NAK, pkt[29] = 0);    /* k = 0 */
    REJECT_POKED(K_NAK, pkt[29] = 201);  /* k too large */
    REJECT_POKED(K_NAK, pkt[30] = 0);    /* needs nothing */
    REJECT_POKED(K_NAK, pkt[30] = 11);   /* needs more than k */
    REJECT_POKED(K_NAK, pkt[30] = 2);    /* bitmap holds 7, count says 8 */
    REJECT_POKED(K_NAK, pkt[30] = 4);    /* bitmap holds 7, count says 6 */
    REJECT_POKED(K_NAK, pkt[32] = 0x7f); /* bitmap holds 8 now */
    REJECT_POKED(K_NAK, pkt[31] = 1);    /* bitmap shorter than sent */
    REJECT_POKED(K_NAK, pkt[31] = 3);    /* bitmap longer than sent */
    REJECT_POKED(K_NAK, pkt[31] = FC_NAK_BITMAP_MAX + 1);
    REJECT_POKED(K_NAK, pkt[31] = 0xff);
    REJECT_POKED(K_NAK, (fc_put32(pkt + 34, 5), fc_put16(pkt + 38, 1))); /* same block twice */
}
END_TEST

START_TEST(nak_bit_for_index_255_is_rejected)
{
    struct fc_nak n;
    struct fc_hdr h;
    int len;

    memset(&n, 0, sizeof(n));
    n.receiver_id = 1;
    n.count = 1;
    n.e[0].k = 2;
    n.e[0].needed = 1;
    n.e[0].bitmap_len = FC_NAK_BITMAP_MAX;
    n.e[0].bitmap[31] = 0x40; /* index 254: fine */
    len = fc_nak_encode(pkt, sizeof(pkt), SESSION, SEQ, &n);
    ck_assert_int_gt(len, 0);
    ck_assert_int_eq(fc_nak_decode(pkt, (size_t)len, &h, &n), 0);
    pkt[len - 1] = 0x80; /* index 255: does not exist */
    ck_assert_int_eq(fc_nak_decode(pkt, (size_t)len, &h, &n), FC_EPROTO);
}
END_TEST

START_TEST(progress_inconsistencies)
{
    /* rid 14, state 18, total 19, done 23, win_base 27, ..., window 71. */
    REJECT_POKED(K_PROG, fc_put32(pkt + 14, 0)); /* no receiver id */
    REJECT_POKED(K_PROG, pkt[18] = 0);           /* state */
    REJECT_POKED(K_PROG, pkt[18] = FC_RX_STATE_MAX + 1);
    REJECT_POKED(K_PROG, fc_put32(pkt + 23, 3001)); /* done > total */
    REJECT_POKED(K_PROG, fc_put32(pkt + 23, 1002)); /* done < base + window */
    REJECT_POKED(K_PROG, fc_put32(pkt + 27, 3001)); /* base past the end */
    REJECT_POKED(K_PROG, pkt[71] |= 1);             /* base is not missing */
    REJECT_POKED(K_PROG, fc_put32(pkt + 19, 2020)); /* window bit past the end */
}
END_TEST

START_TEST(control_inconsistencies)
{
    REJECT_POKED(K_DISC, pkt[40] = 1);          /* padding not zero */
    REJECT_POKED(K_ANN, pkt[38] = 192);         /* group not multicast */
    REJECT_POKED(K_ANN, fc_put16(pkt + 42, 0)); /* no data port */
    REJECT_POKED(K_ANN, fc_put16(pkt + 44, 0)); /* no control port */
    REJECT_POKED(K_ANN, fc_put16(pkt + 46, 0)); /* payload size 0 */
    REJECT_POKED(K_ANN, fc_put16(pkt + 46, FC_DATA_MAX_PAYLOAD + 1));
    REJECT_POKED(K_ANN, pkt[48] = 0); /* k_max */
    REJECT_POKED(K_ANN, pkt[48] = 201);
    REJECT_POKED(K_ANN, pkt[49] = 0); /* state */
    REJECT_POKED(K_ANN, pkt[49] = FC_SESSION_STATE_MAX + 1);
    REJECT_POKED(K_JOIN, pkt[50] = 10); /* name shorter than sent */
    REJECT_POKED(K_JOIN, pkt[50] = 12); /* name longer than sent */
    REJECT_POKED(K_JOIN, pkt[50] = 255);
    REJECT_POKED(K_JOIN, pkt[55] = 0);                   /* NUL inside the name */
    REJECT_POKED(K_JOIN, pkt[55] = 0x1b);                /* escape sequence */
    REJECT_POKED(K_JACK, fc_put32(pkt + 22, 0));         /* accepted without an id */
    REJECT_POKED(K_JACK, pkt[26] = FC_REASON_TOO_SMALL); /* refused, yet given an id */
    REJECT_POKED(K_JACK, (fc_put32(pkt + 22, 0), pkt[26] = FC_REASON_MAX + 1));
    REJECT_POKED(K_DONE, fc_put32(pkt + 14, 0)); /* no receiver id */
    REJECT_POKED(K_DONE, pkt[18] = 0x02);        /* unknown flag */
    REJECT_POKED(K_DONE, pkt[19] = FC_REASON_MAX + 1);
    REJECT_POKED(K_ABORT, pkt[18] = 0); /* an abort with no reason */
    REJECT_POKED(K_ABORT, pkt[18] = FC_REASON_MAX + 1);
    REJECT_POKED(K_ABORT, pkt[19] = 18); /* text shorter than sent */
    REJECT_POKED(K_ABORT, pkt[19] = 20); /* text longer than sent */
    REJECT_POKED(K_ABORT, pkt[19] = FC_ABORT_TEXT_MAX + 1);
    REJECT_POKED(K_ABORT, pkt[25] = '\n');
    REJECT_POKED(K_MHEAD, fc_put32(pkt + 15, 0)); /* success with no manifest */
    REJECT_POKED(K_MHEAD, fc_put32(pkt + 15, FC_MANIFEST_MAX + 1));
    REJECT_POKED(K_MHEAD, pkt[14] = FC_REASON_WRONG_IMAGE); /* refusal with a length */
    REJECT_POKED(K_MHEAD, pkt[14] = FC_REASON_MAX + 1);
}
END_TEST

/* Encoders refuse what decoders would refuse, so we never send it. */
START_TEST(encoders_refuse_invalid_bodies)
{
    struct fc_announce a;
    struct fc_join j;
    struct fc_join_ack ja;
    struct fc_nak n;
    struct fc_progress p;
    struct fc_abort ab;
    struct fc_manifest_head mh = {.status = FC_REASON_OK, .length = 0};
    struct fc_hdr h = {.type = 0};

    sample_announce(&a);
    a.group[0] = 10;
    ck_assert_int_eq(fc_announce_encode(pkt, sizeof(pkt), 1, 1, &a), FC_EINVAL);
    sample_join(&j);
    j.name_len = FC_NAME_MAX + 1;
    ck_assert_int_eq(fc_join_encode(pkt, sizeof(pkt), 1, 1, &j), FC_EINVAL);
    sample_join_ack(&ja);
    ja.receiver_id = 0;
    ck_assert_int_eq(fc_join_ack_encode(pkt, sizeof(pkt), 1, 1, &ja), FC_EINVAL);
    sample_nak(&n);
    n.e[0].needed = 4;
    ck_assert_int_eq(fc_nak_encode(pkt, sizeof(pkt), 1, 1, &n), FC_EINVAL);
    sample_progress(&p);
    p.window[0] = 1;
    ck_assert_int_eq(fc_progress_encode(pkt, sizeof(pkt), 1, 1, &p), FC_EINVAL);
    sample_abort(&ab);
    ab.reason = FC_REASON_OK;
    ck_assert_int_eq(fc_abort_encode(pkt, sizeof(pkt), 1, 1, &ab), FC_EINVAL);
    ck_assert_int_eq(fc_manifest_head_encode(pkt, sizeof(pkt), 1, 1, &mh), FC_EINVAL);
    ck_assert_int_eq(fc_hdr_encode(pkt, sizeof(pkt), &h), FC_EINVAL);
}
END_TEST

/* ---- the cut of a chunk into blocks ---- */

START_TEST(blocks_cut_a_chunk_evenly)
{
    struct fc_blocks b;
    uint32_t blk, next = 0;

    ck_assert_int_eq(fc_blocks_init(&b, 1u << 20, 1400, 200), 0);
    ck_assert_uint_eq(b.sym_len, 1400);
    ck_assert_uint_eq(b.packets, 749); /* ceil(1048576 / 1400) */
    ck_assert_uint_eq(b.blocks, 4);
    ck_assert_uint_eq(fc_blocks_k(&b, 0), 188);
    ck_assert_uint_eq(fc_blocks_k(&b, 1), 187);
    ck_assert_uint_eq(fc_blocks_k(&b, 3), 187);
    ck_assert_uint_eq(fc_blocks_k(&b, 4), 0);
    for (blk = 0; blk < b.blocks; blk++) {
        ck_assert_uint_eq(fc_blocks_first(&b, blk), next);
        next += fc_blocks_k(&b, blk);
    }
    ck_assert_uint_eq(next, b.packets);

    ck_assert_int_eq(fc_blocks_init(&b, 201 * 1000, 1000, 200), 0);
    ck_assert_uint_eq(fc_blocks_k(&b, 0), 101);
    ck_assert_uint_eq(fc_blocks_k(&b, 1), 100);

    /* A chunk smaller than a packet travels unpadded. */
    ck_assert_int_eq(fc_blocks_init(&b, 100, 1400, 200), 0);
    ck_assert_uint_eq(b.sym_len, 100);
    ck_assert_uint_eq(b.packets, 1);
    ck_assert_uint_eq(fc_blocks_k(&b, 0), 1);

    ck_assert_int_eq(fc_blocks_init(&b, 0, 1400, 200), FC_EINVAL);
    ck_assert_int_eq(fc_blocks_init(&b, 100, 0, 200), FC_EINVAL);
    ck_assert_int_eq(fc_blocks_init(&b, 100, 1400, 0), FC_EINVAL);
    ck_assert_int_eq(fc_blocks_init(&b, 100, FC_DATA_MAX_PAYLOAD + 1, 200), FC_EINVAL);
    /* More blocks than 16 bits can number. */
    ck_assert_int_eq(fc_blocks_init(&b, 0xffffffffu, 1, 1), FC_EINVAL);
}
END_TEST

START_TEST(blocks_check_a_data_packet)
{
    struct fc_blocks b;
    struct fc_data d = {.chunk = 9, .block = 1, .index = 0, .k = 187, .len = 1400};

    ck_assert_int_eq(fc_blocks_init(&b, 1u << 20, 1400, 200), 0);
    ck_assert_int_eq(fc_blocks_check(&b, &d), 0);
    d.k = 188;
    ck_assert_int_eq(fc_blocks_check(&b, &d), FC_EPROTO);
    d.k = 187;
    d.len = 1399;
    ck_assert_int_eq(fc_blocks_check(&b, &d), FC_EPROTO);
    d.len = 1400;
    d.block = 4;
    ck_assert_int_eq(fc_blocks_check(&b, &d), FC_EPROTO);
}
END_TEST

static Suite *proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *all = tcase_create("every type");
    TCase *rt = tcase_create("round trips");
    TCase *bad = tcase_create("inconsistent");
    TCase *blk = tcase_create("blocks");

    tcase_set_timeout(all, 120);
    tcase_add_loop_test(all, every_type_encodes_to_its_documented_size_and_decodes, 0, N_KINDS);
    tcase_add_loop_test(all, every_truncation_is_rejected, 0, N_KINDS);
    tcase_add_loop_test(all, trailing_bytes_and_oversized_packets_are_rejected, 0, N_KINDS);
    tcase_add_loop_test(all, bad_magic_version_and_type_are_rejected, 0, N_KINDS);
    tcase_add_loop_test(all, random_corruption_is_rejected_or_canonical, 0, N_KINDS);
    suite_add_tcase(s, all);

    tcase_add_test(rt, data_round_trip_points_into_the_buffer);
    tcase_add_test(rt, data_largest_payload_fits_the_mtu_and_no_more);
    tcase_add_test(rt, data_payload_in_place_is_not_copied);
    tcase_add_test(rt, nak_round_trip);
    tcase_add_test(rt, nak_largest_fits);
    tcase_add_test(rt, control_round_trips);
    suite_add_tcase(s, rt);

    tcase_add_test(bad, data_inconsistencies);
    tcase_add_test(bad, nak_inconsistencies);
    tcase_add_test(bad, nak_bit_for_index_255_is_rejected);
    tcase_add_test(bad, progress_inconsistencies);
    tcase_add_test(bad, control_inconsistencies);
    tcase_add_test(bad, encoders_refuse_invalid_bodies);
    suite_add_tcase(s, bad);

    tcase_add_test(blk, blocks_cut_a_chunk_evenly);
    tcase_add_test(blk, blocks_check_a_data_packet);
    suite_add_tcase(s, blk);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(proto_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
