/* The wire format, version 3: every packet type round-trips; every decoder
 * rejects every truncation, an extra byte, a foreign magic, version or type,
 * and each inconsistency its type can carry; random corruption never crashes a
 * decoder, and whatever a decoder accepts re-encodes to the same bytes (up to
 * the tag, which encoders leave zero). The authentication of proto/auth.c:
 * tags, the sealed secret, the replay window. Byte offsets below are those
 * of docs/protocol.md, so the tests also pin the document to the code. */
#include <check.h>
#include <sodium.h>
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
    a->flags = FC_ANN_ZERO_FREE;
    memset(a->signer, 0x51, FC_SIGNER_LEN);
}

static void sample_join(struct fc_join *j)
{
    memset(j, 0, sizeof(*j));
    j->nonce = 42;
    memset(j->image_id, 0x5a, FC_ID_LEN);
    j->target_size = 8ull << 30;
    j->chunks_done = 17;
    memset(j->box_pub, 0xb0, FC_BOXPUB_LEN);
    strcpy(j->name, "node-07.lab");
    j->name_len = (uint8_t)strlen(j->name);
}

/* A re-JOIN: names the receiver's old id and ends in a tag. */
static void sample_rejoin(struct fc_join *j)
{
    sample_join(j);
    j->prev_id = 0x9a3f0c17u;
}

static void sample_join_ack(struct fc_join_ack *a)
{
    size_t i;

    memset(a, 0, sizeof(*a));
    a->nonce = 42;
    a->receiver_id = 0x9a3f0c17u;
    a->status = FC_REASON_OK;
    a->report_ms = 1000;
    for (i = 0; i < FC_SEALED_LEN; i++)
        a->sealed[i] = (uint8_t)(0x80 + i);
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
    p->pkts_overflow = 432; /* of them, dropped by its own socket */
}

static void sample_done(struct fc_done *d)
{
    d->receiver_id = 7;
    d->flags = 0;
    d->status = FC_REASON_OK;
    d->bytes_written = 1ull << 33;
    memset(d->check, 0xc3, FC_CHECK_LEN);
    d->identity_len = 0;
}

static void sample_abort(struct fc_abort *a)
{
    memset(a, 0, sizeof(*a));
    a->receiver_id = 7;
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
    int tagged; /* the sample ends in FC_TAG_LEN bytes of tag */
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
static void s_rejoin(union any *u)
{
    sample_rejoin(&u->join);
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
    {"discover", FC_PKT_DISCOVER, 83, 0, s_discover, enc_discover, dec_discover},
    {"announce", FC_PKT_ANNOUNCE, 83, 0, s_announce, enc_announce, dec_announce},
    {"join", FC_PKT_JOIN, 87 + 11, 0, s_join, enc_join, dec_join},
    {"join_ack", FC_PKT_JOIN_ACK, 29 + FC_SEALED_LEN, 0, s_join_ack, enc_join_ack, dec_join_ack},
    {"data", FC_PKT_DATA, 24 + 1408, 0, s_data, enc_data, dec_data},
    {"nak", FC_PKT_NAK, 23 + 9 + 2 + 9 + 16, 1, s_nak, enc_nak, dec_nak},
    {"progress", FC_PKT_PROGRESS, 224, 1, s_progress, enc_progress, dec_progress},
    {"done", FC_PKT_DONE, 77, 1, s_done, enc_done, dec_done},
    {"abort", FC_PKT_ABORT, 20 + 19 + 16, 1, s_abort, enc_abort, dec_abort},
    {"manifest_req", FC_PKT_MANIFEST_REQ, 30, 0, s_mreq, enc_manifest_req, dec_manifest_req},
    {"manifest_head", FC_PKT_MANIFEST, FC_MANIFEST_HEAD_LEN, 0, s_mhead, enc_manifest_head,
     dec_manifest_head},
    {"rejoin", FC_PKT_JOIN, 87 + 11 + 16, 1, s_rejoin, enc_join, dec_join},
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
    ck_assert_mem_eq(pkt, "FLCT\x03", 5);
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
    if (k->tagged) {
        static const uint8_t zero[FC_TAG_LEN];
        static const uint8_t key[FC_SECRET_LEN] = {1, 2, 3};

        /* The encoder leaves the tag zero for fc_auth_seal(); a sealed
         * packet decodes just the same (decoders do not read the tag). */
        ck_assert_mem_eq(pkt + n - FC_TAG_LEN, zero, FC_TAG_LEN);
        ck_assert_int_eq(fc_auth_seal(pkt, n, key), 0);
        ck_assert_int_ne(memcmp(pkt + n - FC_TAG_LEN, zero, FC_TAG_LEN), 0);
        ck_assert_int_eq(k->dec(pkt, n, &h, &u), 0);
        ck_assert_int_eq(k->enc(again, sizeof(again), &u), (int)n);
        ck_assert_mem_eq(again, pkt, n - FC_TAG_LEN);
    }
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

/* Whether a decoded packet ends in a tag: its type's, or a JOIN's prev_id. */
static size_t tag_len_of(const struct kind *k, const union any *u)
{
    if (k->type == FC_PKT_JOIN)
        return u->join.prev_id ? FC_TAG_LEN : 0;
    return k->tagged ? FC_TAG_LEN : 0;
}

/* Flipped bits, or random bytes behind a valid header: no decoder may crash
 * or read out of bounds (the ASan build checks), and anything accepted is
 * canonical: it encodes back to exactly the bytes received, but for the tag,
 * which only fc_auth_verify() reads and the encoder leaves zero. */
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
        size_t len = n, tl;
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
        tl = tag_len_of(k, &u);
        ck_assert_uint_ge(len, FC_HDR_LEN + tl);
        ck_assert_int_eq(k->enc(again, sizeof(again), &u), (int)len);
        ck_assert_mem_eq(again, pkt, len - tl);
        for (f = 0; f < tl; f++)
            ck_assert_uint_eq(again[len - tl + f], 0);
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
    ck_assert_uint_eq(a2.flags, FC_ANN_ZERO_FREE);
    ck_assert_mem_eq(a2.signer, a.signer, FC_SIGNER_LEN);
    a.flags = FC_ANN_ZERO_FREE | FC_ANN_READBACK;
    n = fc_announce_encode(pkt, sizeof(pkt), SESSION, SEQ, &a);
    ck_assert_int_eq(fc_announce_decode(pkt, (size_t)n, &h, &a2), 0);
    ck_assert_uint_eq(a2.flags, FC_ANN_ZERO_FREE | FC_ANN_READBACK);
    ck_assert_uint_eq(pkt[50], 0x03); /* bit 1: read-back */
    /* bit 2 grow, bits 3-7 the partition (here 3) */
    a.flags = FC_ANN_GROW | (3 << FC_ANN_GROW_PART_SHIFT);
    n = fc_announce_encode(pkt, sizeof(pkt), SESSION, SEQ, &a);
    ck_assert_int_eq(fc_announce_decode(pkt, (size_t)n, &h, &a2), 0);
    ck_assert_uint_eq(pkt[50], 0x1c);
    ck_assert_uint_eq(a2.flags >> FC_ANN_GROW_PART_SHIFT, 3);
    pkt[50] = 3 << FC_ANN_GROW_PART_SHIFT; /* a partition without the grow bit */
    ck_assert_int_eq(fc_announce_decode(pkt, (size_t)n, &h, &a2), FC_EPROTO);
    a.flags = 0;
    n = fc_announce_encode(pkt, sizeof(pkt), SESSION, SEQ, &a);
    ck_assert_int_eq(fc_announce_decode(pkt, (size_t)n, &h, &a2), 0);
    ck_assert_uint_eq(a2.flags, 0);

    sample_join(&j);
    n = fc_join_encode(pkt, sizeof(pkt), SESSION, SEQ, &j);
    ck_assert_int_eq(fc_join_decode(pkt, (size_t)n, &h, &j2), 0);
    ck_assert_str_eq(j2.name, "node-07.lab");
    ck_assert(j.nonce == j2.nonce && j.target_size == j2.target_size &&
              j.chunks_done == j2.chunks_done);
    ck_assert_mem_eq(j.image_id, j2.image_id, FC_ID_LEN);
    ck_assert_mem_eq(j.box_pub, j2.box_pub, FC_BOXPUB_LEN);
    ck_assert_uint_eq(j2.prev_id, 0);
    sample_rejoin(&j);
    n = fc_join_encode(pkt, sizeof(pkt), SESSION, SEQ, &j);
    ck_assert_int_eq(n, 87 + 11 + FC_TAG_LEN);
    ck_assert_int_eq(fc_join_decode(pkt, (size_t)n, &h, &j2), 0);
    ck_assert_uint_eq(j2.prev_id, 0x9a3f0c17u);
    ck_assert_str_eq(j2.name, "node-07.lab");
    /* The longest JOIN, tagged, fits. */
    memset(j.name, 'x', FC_NAME_MAX);
    j.name_len = FC_NAME_MAX;
    n = fc_join_encode(pkt, sizeof(pkt), SESSION, SEQ, &j);
    ck_assert_int_eq(n, 87 + FC_NAME_MAX + FC_TAG_LEN);
    ck_assert_int_eq(fc_join_decode(pkt, (size_t)n, &h, &j2), 0);

    sample_join_ack(&ja);
    n = fc_join_ack_encode(pkt, sizeof(pkt), SESSION, SEQ, &ja);
    ck_assert_int_eq(fc_join_ack_decode(pkt, (size_t)n, &h, &ja2), 0);
    ck_assert(ja.nonce == ja2.nonce && ja.receiver_id == ja2.receiver_id &&
              ja.status == ja2.status && ja.report_ms == ja2.report_ms);
    ck_assert_mem_eq(ja.sealed, ja2.sealed, FC_SEALED_LEN);
    /* A refusal: no id, no secret. */
    memset(&ja, 0, sizeof(ja));
    ja.nonce = 43;
    ja.status = FC_REASON_FULL;
    n = fc_join_ack_encode(pkt, sizeof(pkt), SESSION, SEQ, &ja);
    ck_assert_int_eq(n, 29 + FC_SEALED_LEN); /* 259 */
    ck_assert_int_eq(fc_join_ack_decode(pkt, (size_t)n, &h, &ja2), 0);
    ck_assert(ja2.status == FC_REASON_FULL && ja2.receiver_id == 0 && ja2.nonce == 43);

    sample_progress(&p);
    n = fc_progress_encode(pkt, sizeof(pkt), SESSION, SEQ, &p);
    ck_assert_int_eq(fc_progress_decode(pkt, (size_t)n, &h, &p2), 0);
    ck_assert(p.chunks_total == p2.chunks_total && p.chunks_done == p2.chunks_done &&
              p.win_base == p2.win_base && p.seq_seen == p2.seq_seen && p.rejects == p2.rejects &&
              p.bytes_written == p2.bytes_written && p.rate == p2.rate &&
              p.pkts_received == p2.pkts_received && p.pkts_lost == p2.pkts_lost &&
              p.pkts_overflow == p2.pkts_overflow && p.state == p2.state);
    ck_assert_mem_eq(p.window, p2.window, sizeof(p.window));

    sample_done(&d);
    d.flags = FC_DONE_ACK;
    n = fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(fc_done_decode(pkt, (size_t)n, &h, &d2), 0);
    ck_assert(d2.flags == FC_DONE_ACK && d2.bytes_written == d.bytes_written);
    ck_assert_mem_eq(d.check, d2.check, FC_CHECK_LEN);
    d.flags = FC_DONE_READBACK; /* the verdict of a read-back, bit 1 */
    n = fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(fc_done_decode(pkt, (size_t)n, &h, &d2), 0);
    ck_assert_uint_eq(d2.flags, FC_DONE_READBACK);
    ck_assert_uint_eq(pkt[18], 0x02);
    d.flags = FC_DONE_GROW | (2 << FC_DONE_GROW_SHIFT); /* grow: not possible (NTFS) */
    n = fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(fc_done_decode(pkt, (size_t)n, &h, &d2), 0);
    ck_assert_uint_eq((d2.flags & FC_DONE_GROW_MASK) >> FC_DONE_GROW_SHIFT, 2);
    d.flags = 2 << FC_DONE_GROW_SHIFT; /* a result without the grow bit */
    ck_assert_int_eq(fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d), FC_EINVAL);
    /* what the identity step did: a line of text, only with bit 2 */
    d.flags = FC_DONE_IDENTITY;
    strcpy(d.identity, "windows: unattend ComputerName=LAB-07 (partition 3)");
    d.identity_len = (uint8_t)strlen(d.identity);
    n = fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d);
    ck_assert_int_eq(n, 77 + d.identity_len);
    ck_assert_int_eq(fc_done_decode(pkt, (size_t)n, &h, &d2), 0);
    ck_assert_str_eq(d2.identity, "windows: unattend ComputerName=LAB-07 (partition 3)");
    d.flags = 0; /* a text without the identity bit */
    ck_assert_int_eq(fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d), FC_EINVAL);
    d.flags = FC_DONE_IDENTITY;
    d.identity[3] = '\033'; /* a control character */
    ck_assert_int_eq(fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d), FC_EINVAL);
    d.identity_len = FC_ABORT_TEXT_MAX + 1;
    ck_assert_int_eq(fc_done_encode(pkt, sizeof(pkt), SESSION, SEQ, &d), FC_EINVAL);
    d.identity_len = 0;

    sample_abort(&ab);
    n = fc_abort_encode(pkt, sizeof(pkt), SESSION, SEQ, &ab);
    ck_assert_int_eq(fc_abort_decode(pkt, (size_t)n, &h, &ab2), 0);
    ck_assert_str_eq(ab2.text, "stopped by operator");
    ck_assert_uint_eq(ab2.reason, FC_REASON_OPERATOR);
    ck_assert_uint_eq(ab2.receiver_id, 7);
    /* The longest ABORT, tagged, fits. */
    memset(ab.text, 'y', FC_ABORT_TEXT_MAX);
    ab.text_len = FC_ABORT_TEXT_MAX;
    n = fc_abort_encode(pkt, sizeof(pkt), SESSION, SEQ, &ab);
    ck_assert_int_eq(n, 20 + FC_ABORT_TEXT_MAX + FC_TAG_LEN);
    ck_assert_int_eq(fc_abort_decode(pkt, (size_t)n, &h, &ab2), 0);
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

enum {
    K_DISC,
    K_ANN,
    K_JOIN,
    K_JACK,
    K_DATA,
    K_NAK,
    K_PROG,
    K_DONE,
    K_ABORT,
    K_MREQ,
    K_MHEAD,
    K_REJOIN
};

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
    pkt[len - FC_TAG_LEN - 1] = 0x80; /* index 255: does not exist */
    ck_assert_int_eq(fc_nak_decode(pkt, (size_t)len, &h, &n), FC_EPROTO);
}
END_TEST

START_TEST(progress_inconsistencies)
{
    /* rid 14, state 18, total 19, done 23, win_base 27, ..., lost 63,
     * overflow 71, window 79. */
    REJECT_POKED(K_PROG, fc_put32(pkt + 14, 0)); /* no receiver id */
    REJECT_POKED(K_PROG, pkt[18] = 0);           /* state */
    REJECT_POKED(K_PROG, pkt[18] = FC_RX_STATE_MAX + 1);
    REJECT_POKED(K_PROG, fc_put32(pkt + 23, 3001)); /* done > total */
    REJECT_POKED(K_PROG, fc_put32(pkt + 23, 1002)); /* done < base + window */
    REJECT_POKED(K_PROG, fc_put32(pkt + 27, 3001)); /* base past the end */
    REJECT_POKED(K_PROG, pkt[80] |= 1);             /* base is not missing */
    REJECT_POKED(K_PROG, fc_put32(pkt + 19, 2020)); /* window bit past the end */
    REJECT_POKED(K_PROG, pkt[79] = 129);            /* window longer than 1024 bits */
    REJECT_POKED(K_PROG, pkt[79] = 127);            /* length and bytes disagree */
    REJECT_POKED(K_PROG, fc_put64(pkt + 71, fc_get64(pkt + 63) + 1)); /* overflow > lost */
}
END_TEST

/* The window goes without its trailing zero bytes (a report of a receiver
 * in order is 96 bytes, not 224), and only that way: the full-size form
 * with zero bytes at its end is refused, so a report has one encoding. */
START_TEST(progress_window_trimmed)
{
    struct fc_progress p, p2;
    struct fc_hdr h;
    int n;

    sample_progress(&p);
    p.window[127] = 0;
    p.window[5] = 0x10; /* chunk 1041 */
    n = fc_progress_encode(pkt, sizeof(pkt), SESSION, SEQ, &p);
    ck_assert_int_eq(n, 79 + 1 + 6 + FC_TAG_LEN);
    ck_assert_uint_eq(pkt[79], 6);
    ck_assert_int_eq(fc_progress_decode(pkt, (size_t)n, &h, &p2), 0);
    ck_assert_mem_eq(p2.window, p.window, sizeof(p.window));
    ck_assert_uint_eq(p2.chunks_done, p.chunks_done);
    /* One more zero byte at the window's end, length to match: refused. */
    pkt[79] = 7;
    memmove(pkt + 87, pkt + 86, FC_TAG_LEN);
    pkt[86] = 0;
    ck_assert_int_eq(fc_progress_decode(pkt, (size_t)n + 1, &h, &p2), FC_EPROTO);
    /* Nothing out of order: an empty window. */
    memset(p.window, 0, sizeof(p.window));
    n = fc_progress_encode(pkt, sizeof(pkt), SESSION, SEQ, &p);
    ck_assert_int_eq(n, 79 + 1 + FC_TAG_LEN);
    ck_assert_int_eq(fc_progress_decode(pkt, (size_t)n, &h, &p2), 0);
    ck_assert_int_eq(fc__popcount(p2.window, sizeof(p2.window)), 0);
}
END_TEST

START_TEST(control_inconsistencies)
{
    REJECT_POKED(K_DISC, pkt[40] = 1);          /* padding not zero */
    REJECT_POKED(K_DISC, pkt[82] = 1);          /* last padding byte */
    REJECT_POKED(K_ANN, pkt[38] = 192);         /* group not multicast */
    REJECT_POKED(K_ANN, fc_put16(pkt + 42, 0)); /* no data port */
    REJECT_POKED(K_ANN, fc_put16(pkt + 44, 0)); /* no control port */
    REJECT_POKED(K_ANN, fc_put16(pkt + 46, 0)); /* payload size 0 */
    REJECT_POKED(K_ANN, fc_put16(pkt + 46, FC_DATA_MAX_PAYLOAD + 1));
    REJECT_POKED(K_ANN, pkt[48] = 0); /* k_max */
    REJECT_POKED(K_ANN, pkt[48] = 201);
    REJECT_POKED(K_ANN, pkt[49] = 0); /* state */
    REJECT_POKED(K_ANN, pkt[49] = FC_SESSION_STATE_MAX + 1);
    REJECT_POKED(K_ANN, pkt[50] = 0x08); /* a grow partition without the grow flag */
    REJECT_POKED(K_ANN, pkt[50] = 0x80);
    REJECT_POKED(K_JOIN, pkt[86] = 10); /* name shorter than sent */
    REJECT_POKED(K_JOIN, pkt[86] = 12); /* name longer than sent */
    REJECT_POKED(K_JOIN, pkt[86] = FC_NAME_MAX + 1);
    REJECT_POKED(K_JOIN, pkt[86] = 255);
    REJECT_POKED(K_JOIN, pkt[91] = 0);    /* NUL inside the name */
    REJECT_POKED(K_JOIN, pkt[91] = 0x1b); /* escape sequence */
    REJECT_POKED(K_JOIN, pkt[91] = 0x7f);
    /* prev_id says "tagged", but no tag follows; or says "not", and one does. */
    REJECT_POKED(K_JOIN, fc_put32(pkt + 82, 1));
    REJECT_POKED(K_REJOIN, fc_put32(pkt + 82, 0));
    REJECT_POKED(K_REJOIN, pkt[86] = 11 + FC_TAG_LEN); /* the tag read as name */
    REJECT_POKED(K_REJOIN, pkt[91] = 0x1b);
    REJECT_POKED(K_JACK, fc_put32(pkt + 22, 0));         /* accepted without an id */
    REJECT_POKED(K_JACK, pkt[26] = FC_REASON_TOO_SMALL); /* refused, yet given an id */
    REJECT_POKED(K_JACK, (fc_put32(pkt + 22, 0), pkt[26] = FC_REASON_MAX + 1));
    /* Refused, no id, but a secret: a refusal carries none. */
    REJECT_POKED(K_JACK, (fc_put32(pkt + 22, 0), pkt[26] = FC_REASON_FULL));
    REJECT_POKED(K_JACK, (fc_put32(pkt + 22, 0), pkt[26] = FC_REASON_FULL,
                          memset(pkt + 29, 0, FC_SEALED_LEN - 1)));
    REJECT_POKED(K_JACK, (fc_put32(pkt + 22, 0), pkt[26] = FC_REASON_FULL,
                          memset(pkt + 30, 0, FC_SEALED_LEN - 1)));
    REJECT_POKED(K_DONE, fc_put32(pkt + 14, 0)); /* no receiver id */
    REJECT_POKED(K_DONE, pkt[18] = 0x20);        /* a grow result, no grow */
    REJECT_POKED(K_DONE, pkt[18] = FC_DONE_IDENTITY | FC_DONE_ID_SKIPPED); /* set and skipped */
    REJECT_POKED(K_DONE, pkt[19] = FC_REASON_MAX + 1);
    REJECT_POKED(K_DONE, pkt[60] = 1);            /* an identity text longer than the packet */
    REJECT_POKED(K_ABORT, fc_put32(pkt + 14, 0)); /* v2: no whole-session ABORT */
    REJECT_POKED(K_ABORT, pkt[18] = 0);           /* an abort with no reason */
    REJECT_POKED(K_ABORT, pkt[18] = FC_REASON_MAX + 1);
    REJECT_POKED(K_ABORT, pkt[19] = 18);              /* text shorter than sent */
    REJECT_POKED(K_ABORT, pkt[19] = 20);              /* text longer than sent */
    REJECT_POKED(K_ABORT, pkt[19] = 19 + FC_TAG_LEN); /* the tag read as text */
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
    sample_announce(&a);
    a.flags = 0x08;
    ck_assert_int_eq(fc_announce_encode(pkt, sizeof(pkt), 1, 1, &a), FC_EINVAL);
    sample_join_ack(&ja);
    ja.receiver_id = 0;
    ja.status = FC_REASON_FULL; /* a refusal with a secret in it */
    ck_assert_int_eq(fc_join_ack_encode(pkt, sizeof(pkt), 1, 1, &ja), FC_EINVAL);
    sample_abort(&ab);
    ab.reason = FC_REASON_OK;
    ck_assert_int_eq(fc_abort_encode(pkt, sizeof(pkt), 1, 1, &ab), FC_EINVAL);
    sample_abort(&ab);
    ab.receiver_id = 0;
    ck_assert_int_eq(fc_abort_encode(pkt, sizeof(pkt), 1, 1, &ab), FC_EINVAL);
    /* No room for the tag: refused, not sent without one. */
    sample_abort(&ab);
    ck_assert_int_eq(fc_abort_encode(pkt, 20 + 19 + FC_TAG_LEN - 1, 1, 1, &ab), FC_EINVAL);
    ck_assert_int_eq(fc_abort_encode(pkt, 20 + 19 + FC_TAG_LEN, 1, 1, &ab), 20 + 19 + FC_TAG_LEN);
    ck_assert_int_eq(fc_manifest_head_encode(pkt, sizeof(pkt), 1, 1, &mh), FC_EINVAL);
    ck_assert_int_eq(fc_hdr_encode(pkt, sizeof(pkt), &h), FC_EINVAL);
}
END_TEST

/* ---- v2 layout: where the new fields and the tag sit ---- */

static const uint8_t test_key[FC_SECRET_LEN] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

/* Seals kind ki's sample and checks that the tag sits at tag_off, ends the
 * packet, and is the keyed BLAKE2b-128 of exactly the bytes before it. */
static void check_tag_at(int ki, size_t tag_off)
{
    size_t n = encode_sample(&kinds[ki]);
    uint8_t want[FC_TAG_LEN];

    ck_assert_msg(n == tag_off + FC_TAG_LEN, "%s: %zu bytes, tag at %zu", kinds[ki].name, n,
                  tag_off);
    ck_assert_int_eq(fc_auth_seal(pkt, n, test_key), 0);
    ck_assert_int_eq(crypto_generichash(want, FC_TAG_LEN, pkt, tag_off, test_key, FC_SECRET_LEN),
                     0);
    ck_assert_mem_eq(pkt + tag_off, want, FC_TAG_LEN);
}

START_TEST(v2_field_offsets)
{
    uint8_t sig[FC_SIGNER_LEN], box[FC_BOXPUB_LEN], sealed[FC_SEALED_LEN];
    size_t n, i;

    memset(sig, 0x51, sizeof(sig));
    memset(box, 0xb0, sizeof(box));
    for (i = 0; i < FC_SEALED_LEN; i++)
        sealed[i] = (uint8_t)(0x80 + i);

    n = encode_sample(&kinds[K_ANN]);
    ck_assert_uint_eq(n, 83);
    ck_assert_uint_eq(pkt[49], FC_SESSION_SENDING);
    ck_assert_uint_eq(pkt[50], FC_ANN_ZERO_FREE);
    ck_assert_mem_eq(pkt + 51, sig, FC_SIGNER_LEN);

    n = encode_sample(&kinds[K_JOIN]);
    ck_assert_uint_eq(fc_get32(pkt + 46), 17); /* chunks done */
    ck_assert_mem_eq(pkt + 50, box, FC_BOXPUB_LEN);
    ck_assert_uint_eq(fc_get32(pkt + 82), 0); /* prev_id */
    ck_assert_uint_eq(pkt[86], 11);
    ck_assert_mem_eq(pkt + 87, "node-07.lab", 11);
    ck_assert_uint_eq(n, 87 + 11);

    encode_sample(&kinds[K_REJOIN]);
    ck_assert_uint_eq(fc_get32(pkt + 82), 0x9a3f0c17u);
    ck_assert_mem_eq(pkt + 87, "node-07.lab", 11);
    check_tag_at(K_REJOIN, 87 + 11);

    n = encode_sample(&kinds[K_JACK]);
    ck_assert_uint_eq(fc_get32(pkt + 22), 0x9a3f0c17u);
    ck_assert_uint_eq(pkt[26], FC_REASON_OK);
    ck_assert_uint_eq(fc_get16(pkt + 27), 1000);
    ck_assert_mem_eq(pkt + 29, sealed, FC_SEALED_LEN);
    ck_assert_uint_eq(n, 29 + FC_SEALED_LEN);

    check_tag_at(K_NAK, 23 + 9 + 2 + 9);
    check_tag_at(K_PROG, 208);
    ck_assert_uint_eq(fc_get64(pkt + 71), 432); /* overflow, of the 1234 lost */
    ck_assert_uint_eq(pkt[207], 0x80);          /* the window's last byte, just before */
    check_tag_at(K_DONE, 61);                   /* after the identity text's length, 0 here */
    ck_assert_uint_eq(pkt[59], 0xc3);           /* the check value's last byte */
    check_tag_at(K_ABORT, 20 + 19);
    ck_assert_mem_eq(pkt + 20, "stopped by operator", 19);
}
END_TEST

/* A peer of another build (PROGRESS changed layout in issue 9: version 3)
 * is told, not silently ignored: its header's version is read whatever it
 * is, the refusal carries ours in byte 4 and no decoder of our version
 * accepts it, and it is smaller than what it answers. */
START_TEST(version_refusal_names_both_versions)
{
    uint8_t out[64], type;
    size_t n;
    unsigned i;
    struct fc_hdr h;
    union any u;
    int len;

    ck_assert_int_eq(FC_PROTO_VERSION, 3);
    n = encode_sample(&kinds[K_JOIN]);
    ck_assert_int_eq(fc_hdr_peek_version(pkt, n, &type), FC_PROTO_VERSION);
    ck_assert_uint_eq(type, FC_PKT_JOIN);
    pkt[4] = 2; /* a receiver built before the bump */
    ck_assert_int_eq(fc_hdr_decode(pkt, n, &h), FC_EPROTO);
    ck_assert_int_eq(fc_join_decode(pkt, n, &h, &u.join), FC_EPROTO);
    ck_assert_int_eq(fc_hdr_peek_version(pkt, n, &type), 2);
    ck_assert_uint_eq(type, FC_PKT_JOIN);
    pkt[4] = 255;
    ck_assert_int_eq(fc_hdr_peek_version(pkt, n, &type), 255);
    pkt[0] ^= 1; /* not ours at all: nothing to tell */
    ck_assert_int_eq(fc_hdr_peek_version(pkt, n, &type), FC_EPROTO);
    ck_assert_int_eq(fc_hdr_peek_version(pkt, FC_HDR_LEN - 1, &type), FC_EPROTO);

    len = fc_version_refusal_encode(out, sizeof(out), FC_PKT_JOIN_ACK);
    ck_assert_int_eq(len, FC_HDR_LEN);
    ck_assert_uint_eq(out[4], FC_PROTO_VERSION);
    ck_assert_uint_eq(out[5], FC_PKT_JOIN_ACK);
    ck_assert_int_eq(fc_hdr_peek_version(out, (size_t)len, &type), FC_PROTO_VERSION);
    ck_assert_int_eq(fc_join_ack_decode(out, (size_t)len, &h, &u.join_ack), FC_EPROTO);
    ck_assert_int_lt(len, 87); /* the smallest JOIN */
    len = fc_version_refusal_encode(out, sizeof(out), FC_PKT_ANNOUNCE);
    ck_assert_int_eq(len, FC_HDR_LEN);
    ck_assert_int_eq(fc_announce_decode(out, (size_t)len, &h, &u.announce), FC_EPROTO);
    for (i = 0; i < 256; i++)
        if (i != FC_PKT_ANNOUNCE && i != FC_PKT_JOIN_ACK)
            ck_assert_int_eq(fc_version_refusal_encode(out, sizeof(out), (uint8_t)i), FC_EINVAL);
    ck_assert_int_eq(fc_version_refusal_encode(out, FC_HDR_LEN - 1, FC_PKT_ANNOUNCE), FC_EINVAL);
}
END_TEST

/* A DISCOVER with a spoofed source must not make a server send more than
 * it received: ANNOUNCE grew in v2, and DISCOVER's padding with it. */
START_TEST(discover_is_as_large_as_announce)
{
    size_t disc = encode_sample(&kinds[K_DISC]);

    ck_assert_uint_eq(disc, encode_sample(&kinds[K_ANN]));
}
END_TEST

/* ---- proto/auth.c: tags ---- */

static const int tagged_kinds[] = {K_NAK, K_PROG, K_DONE, K_ABORT, K_REJOIN};
#define N_TAGGED ((int)(sizeof(tagged_kinds) / sizeof(tagged_kinds[0])))

START_TEST(auth_tag_is_over_the_exact_bytes)
{
    const struct kind *k = &kinds[tagged_kinds[_i]];
    size_t n = encode_sample(k);
    uint8_t want[FC_TAG_LEN];

    ck_assert_int_eq(
        crypto_generichash(want, FC_TAG_LEN, pkt, n - FC_TAG_LEN, test_key, FC_SECRET_LEN), 0);
    ck_assert_int_eq(fc_auth_seal(pkt, n, test_key), 0);
    ck_assert_mem_eq(pkt + n - FC_TAG_LEN, want, FC_TAG_LEN);
    ck_assert_int_eq(fc_auth_verify(pkt, n, test_key), 0);
    /* Whatever the tag bytes held, sealing gives the same tag: it covers
     * what precedes it, not itself. */
    memset(pkt + n - FC_TAG_LEN, 0xa5, FC_TAG_LEN);
    ck_assert_int_eq(fc_auth_verify(pkt, n, test_key), FC_EPROTO);
    ck_assert_int_eq(fc_auth_seal(pkt, n, test_key), 0);
    ck_assert_mem_eq(pkt + n - FC_TAG_LEN, want, FC_TAG_LEN);
    /* Nothing past the packet is read or written. */
    ck_assert_uint_eq(pkt[n], 0xee);
}
END_TEST

/* Any one flipped bit, in the header (session, sequence, type), the body
 * or the tag itself, and the packet no longer verifies. */
START_TEST(auth_any_flipped_bit_fails)
{
    const struct kind *k = &kinds[tagged_kinds[_i]];
    size_t n = encode_sample(k), bit;

    ck_assert_int_eq(fc_auth_seal(pkt, n, test_key), 0);
    for (bit = 0; bit < n * 8; bit++) {
        pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(fc_auth_verify(pkt, n, test_key) == FC_EPROTO,
                      "%s: bit %zu flipped, verified", k->name, bit);
        pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    ck_assert_int_eq(fc_auth_verify(pkt, n, test_key), 0);
    /* Nor does a packet cut short or extended by a byte. */
    ck_assert_int_eq(fc_auth_verify(pkt, n - 1, test_key), FC_EPROTO);
    ck_assert_int_eq(fc_auth_verify(pkt, n + 1, test_key), FC_EPROTO);
}
END_TEST

/* The two directions have keys of their own: a receiver's packet (say its
 * NAK, which every host on the group sees) sent back at it as if from the
 * server never verifies; and neither key is the secret itself. */
START_TEST(auth_directions_have_own_keys)
{
    const struct kind *k = &kinds[tagged_kinds[_i]];
    size_t n = encode_sample(k);
    uint8_t up[FC_SECRET_LEN], down[FC_SECRET_LEN], up2[FC_SECRET_LEN];

    fc_auth_dir_key(test_key, FC_AUTH_TO_SERVER, up);
    fc_auth_dir_key(test_key, FC_AUTH_TO_RECEIVER, down);
    fc_auth_dir_key(test_key, FC_AUTH_TO_SERVER, up2);
    ck_assert_mem_eq(up, up2, FC_SECRET_LEN); /* both ends derive the same */
    ck_assert(memcmp(up, down, FC_SECRET_LEN) != 0);
    ck_assert(memcmp(up, test_key, FC_SECRET_LEN) != 0);
    ck_assert(memcmp(down, test_key, FC_SECRET_LEN) != 0);
    ck_assert_int_eq(fc_auth_seal(pkt, n, up), 0);
    ck_assert_int_eq(fc_auth_verify(pkt, n, up), 0);
    ck_assert_int_eq(fc_auth_verify(pkt, n, down), FC_EPROTO);
    ck_assert_int_eq(fc_auth_verify(pkt, n, test_key), FC_EPROTO);
}
END_TEST

START_TEST(auth_wrong_key_fails)
{
    const struct kind *k = &kinds[tagged_kinds[_i]];
    size_t n = encode_sample(k), bit;
    uint8_t key[FC_SECRET_LEN], zero[FC_SECRET_LEN] = {0};

    /* Untagged: the zero tag an encoder leaves verifies under no key we
     * use (the untagged "join again" ABORT is told from a tagged one). */
    ck_assert_int_eq(fc_auth_verify(pkt, n, test_key), FC_EPROTO);
    ck_assert_int_eq(fc_auth_seal(pkt, n, test_key), 0);
    memcpy(key, test_key, sizeof(key));
    for (bit = 0; bit < FC_SECRET_LEN * 8; bit++) {
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(fc_auth_verify(pkt, n, key), FC_EPROTO);
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    ck_assert_int_eq(fc_auth_verify(pkt, n, zero), FC_EPROTO);
    ck_assert_int_eq(fc_auth_verify(pkt, n, key), 0);
    /* Sealed under another receiver's key: not ours. */
    ck_assert_int_eq(fc_auth_seal(pkt, n, zero), 0);
    ck_assert_int_eq(fc_auth_verify(pkt, n, zero), 0);
    ck_assert_int_eq(fc_auth_verify(pkt, n, test_key), FC_EPROTO);
}
END_TEST

/* A packet with no room for a header and a tag is refused, and nothing is
 * written; so is one larger than any datagram we send. */
START_TEST(auth_short_and_oversized_packets_are_refused)
{
    uint8_t buf[FC_PKT_MAX + 2];
    size_t len;

    for (len = 0; len < FC_HDR_LEN + FC_TAG_LEN; len++) {
        memset(buf, 0x5c, sizeof(buf));
        ck_assert_int_eq(fc_auth_seal(buf, len, test_key), FC_EPROTO);
        ck_assert_uint_eq(buf[0], 0x5c);
        ck_assert_uint_eq(buf[len > 0 ? len - 1 : 0], 0x5c);
        ck_assert_int_eq(fc_auth_verify(buf, len, test_key), FC_EPROTO);
    }
    memset(buf, 0x5c, sizeof(buf));
    ck_assert_int_eq(fc_auth_seal(buf, FC_HDR_LEN + FC_TAG_LEN, test_key), 0);
    ck_assert_int_eq(fc_auth_verify(buf, FC_HDR_LEN + FC_TAG_LEN, test_key), 0);
    ck_assert_int_eq(fc_auth_seal(buf, FC_PKT_MAX, test_key), 0);
    ck_assert_int_eq(fc_auth_verify(buf, FC_PKT_MAX, test_key), 0);
    memset(buf, 0x5c, sizeof(buf));
    ck_assert_int_eq(fc_auth_seal(buf, FC_PKT_MAX + 1, test_key), FC_EPROTO);
    ck_assert_uint_eq(buf[FC_PKT_MAX], 0x5c);
    ck_assert_int_eq(fc_auth_verify(buf, FC_PKT_MAX + 1, test_key), FC_EPROTO);
}
END_TEST

/* ---- proto/auth.c: the secret sealed in JOIN_ACK ---- */

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    size_t i;

    for (i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return 1;
    return 0;
}

/* The secret alone in a grant, and back (what these tests are about). */
static int seal_secret(uint8_t *sealed, const uint8_t *secret, const uint8_t *pub)
{
    struct fc_grant g;

    memset(&g, 0, sizeof(g));
    memcpy(g.secret, secret, FC_SECRET_LEN);
    return fc_auth_seal_grant(sealed, &g, pub);
}

static int open_secret(uint8_t *secret, const uint8_t *sealed, const uint8_t *pub,
                       const uint8_t *sec)
{
    struct fc_grant g;
    int rc = fc_auth_open_grant(&g, sealed, pub, sec);

    if (!rc)
        memcpy(secret, g.secret, FC_SECRET_LEN);
    return rc;
}

/* The machine's identity travels sealed with its secret: MAC, host name
 * and lab come back as given; a text too long is refused at sealing. */
START_TEST(grant_carries_the_identity)
{
    uint8_t pub[FC_BOXPUB_LEN], sec[32], sealed[FC_SEALED_LEN];
    struct fc_grant g, out;

    ck_assert_int_eq(sodium_init() >= 0, 1);
    fc_auth_box_keypair(pub, sec);
    memset(&g, 0, sizeof(g));
    randombytes_buf(g.secret, sizeof(g.secret));
    memcpy(g.mac, "\x52\x54\x00\x12\x34\x56", FC_GRANT_MAC_LEN);
    snprintf(g.hostname, sizeof(g.hostname), "pc-07");
    snprintf(g.lab, sizeof(g.lab), "lab-a");
    ck_assert_int_eq(fc_auth_seal_grant(sealed, &g, pub), 0);
    ck_assert(!contains(sealed, FC_SEALED_LEN, (const uint8_t *)"pc-07", 5));
    ck_assert_int_eq(fc_auth_open_grant(&out, sealed, pub, sec), 0);
    ck_assert_mem_eq(out.secret, g.secret, FC_SECRET_LEN);
    ck_assert_mem_eq(out.mac, g.mac, FC_GRANT_MAC_LEN);
    ck_assert_str_eq(out.hostname, "pc-07");
    ck_assert_str_eq(out.lab, "lab-a");
    ck_assert_mem_eq(out.hooks_hash, g.hooks_hash, FC_HOOKS_HASH_LEN); /* zero: no hooks */
    randombytes_buf(g.hooks_hash, sizeof(g.hooks_hash));
    ck_assert_int_eq(fc_auth_seal_grant(sealed, &g, pub), 0);
    ck_assert_int_eq(fc_auth_open_grant(&out, sealed, pub, sec), 0);
    ck_assert_mem_eq(out.hooks_hash, g.hooks_hash, FC_HOOKS_HASH_LEN);
    memset(g.hostname, 'a', sizeof(g.hostname));
    ck_assert_int_eq(fc_auth_seal_grant(sealed, &g, pub), FC_EINVAL); /* no NUL in 64 */
}
END_TEST

/* The hooks fetch: MANIFEST_REQ's body under its own type, a head bounded
 * by FC_HOOKS_MAX; neither is taken for the manifest's. */
START_TEST(hooks_fetch_messages)
{
    struct fc_manifest_req q = {{0}}, q2;
    struct fc_manifest_head mh = {FC_REASON_OK, FC_HOOKS_MAX}, mh2;
    struct fc_hdr h;
    uint8_t pkt[64];
    int n;

    q.image_id[0] = 7;
    n = fc_hooks_req_encode(pkt, sizeof(pkt), 5, 1, &q);
    ck_assert_int_eq(n, FC_HDR_LEN + FC_ID_LEN);
    ck_assert_uint_eq(pkt[5], FC_PKT_HOOKS_REQ);
    ck_assert_int_eq(fc_hooks_req_decode(pkt, (size_t)n, &h, &q2), 0);
    ck_assert_mem_eq(q2.image_id, q.image_id, FC_ID_LEN);
    ck_assert_int_eq(fc_manifest_req_decode(pkt, (size_t)n, &h, &q2), FC_EPROTO);
    n = fc_hooks_head_encode(pkt, sizeof(pkt), 5, 2, &mh);
    ck_assert_int_eq(n, FC_MANIFEST_HEAD_LEN);
    ck_assert_int_eq(fc_hooks_head_decode(pkt, (size_t)n, &h, &mh2), 0);
    ck_assert_uint_eq(mh2.length, FC_HOOKS_MAX);
    ck_assert_int_eq(fc_manifest_head_decode(pkt, (size_t)n, &h, &mh2), FC_EPROTO);
    mh.length = FC_HOOKS_MAX + 1;
    ck_assert_int_eq(fc_hooks_head_encode(pkt, sizeof(pkt), 5, 2, &mh), FC_EINVAL);
    pkt[FC_HDR_LEN + 1] = 0xff; /* length byte 0: FC_HOOKS_MAX + 255 */
    ck_assert_int_eq(fc_hooks_head_decode(pkt, (size_t)n, &h, &mh2), FC_EPROTO);
}
END_TEST

START_TEST(sealed_secret_round_trip)
{
    uint8_t pub[FC_BOXPUB_LEN], sec[32], pub2[FC_BOXPUB_LEN], sec2[32];
    uint8_t secret[FC_SECRET_LEN], out[FC_SECRET_LEN];
    uint8_t sealed[FC_SEALED_LEN], sealed2[FC_SEALED_LEN];
    size_t bit;

    ck_assert_int_eq(sodium_init() >= 0, 1);
    fc_auth_box_keypair(pub, sec);
    fc_auth_box_keypair(pub2, sec2);
    ck_assert_int_ne(memcmp(pub, pub2, FC_BOXPUB_LEN), 0); /* one-time: fresh each JOIN */
    randombytes_buf(secret, sizeof(secret));

    ck_assert_int_eq(seal_secret(sealed, secret, pub), 0);
    ck_assert_int_eq(open_secret(out, sealed, pub, sec), 0);
    ck_assert_mem_eq(out, secret, FC_SECRET_LEN);
    /* Not in clear, and not the same bytes twice (an ephemeral key each
     * time): an onlooker learns nothing from the JOIN_ACK. */
    ck_assert(!contains(sealed, FC_SEALED_LEN, secret, FC_SECRET_LEN));
    ck_assert_int_eq(seal_secret(sealed2, secret, pub), 0);
    ck_assert_int_ne(memcmp(sealed, sealed2, FC_SEALED_LEN), 0);
    ck_assert_int_eq(open_secret(out, sealed2, pub, sec), 0);
    ck_assert_mem_eq(out, secret, FC_SECRET_LEN);

    /* Another key pair cannot open it, nor the right secret key with the
     * wrong public one. */
    ck_assert_int_eq(open_secret(out, sealed, pub2, sec2), FC_EPROTO);
    ck_assert_int_eq(open_secret(out, sealed, pub2, sec), FC_EPROTO);
    ck_assert_int_eq(open_secret(out, sealed, pub, sec2), FC_EPROTO);
    /* Nor does any flipped bit of the sealed box open. */
    for (bit = 0; bit < FC_SEALED_LEN * 8; bit++) {
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(open_secret(out, sealed, pub, sec), FC_EPROTO);
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* A refusal's all-zero field opens under no key. */
    memset(sealed, 0, sizeof(sealed));
    ck_assert_int_eq(open_secret(out, sealed, pub, sec), FC_EPROTO);
}
END_TEST

/* JOIN with a one-time key -> JOIN_ACK with the secret sealed to it -> the
 * receiver's tagged PROGRESS verifies with the server's copy; a host that
 * only saw the two packets (it has the public key, not the secret one)
 * cannot open the secret. */
START_TEST(join_exchange_gives_both_sides_the_secret)
{
    uint8_t rx_sec[32], other_pub[FC_BOXPUB_LEN], other_sec[32];
    uint8_t srv_secret[FC_SECRET_LEN], rx_secret[FC_SECRET_LEN];
    struct fc_join j, sj;
    struct fc_join_ack a, ra;
    struct fc_progress p;
    struct fc_hdr h;
    int n;

    ck_assert_int_eq(sodium_init() >= 0, 1);
    sample_join(&j);
    fc_auth_box_keypair(j.box_pub, rx_sec);
    n = fc_join_encode(pkt, sizeof(pkt), 0, 1, &j);
    ck_assert_int_eq(fc_join_decode(pkt, (size_t)n, &h, &sj), 0);

    randombytes_buf(srv_secret, sizeof(srv_secret));
    memset(&a, 0, sizeof(a));
    a.nonce = sj.nonce;
    a.receiver_id = 0x51ed2a7bu;
    a.report_ms = 1000;
    ck_assert_int_eq(seal_secret(a.sealed, srv_secret, sj.box_pub), 0);
    n = fc_join_ack_encode(pkt, sizeof(pkt), SESSION, 1, &a);
    ck_assert_int_eq(fc_join_ack_decode(pkt, (size_t)n, &h, &ra), 0);
    ck_assert_int_eq(open_secret(rx_secret, ra.sealed, j.box_pub, rx_sec), 0);
    ck_assert_mem_eq(rx_secret, srv_secret, FC_SECRET_LEN);
    fc_auth_box_keypair(other_pub, other_sec);
    ck_assert_int_eq(open_secret(rx_secret, ra.sealed, j.box_pub, other_sec), FC_EPROTO);

    sample_progress(&p);
    p.receiver_id = ra.receiver_id;
    n = fc_progress_encode(pkt, sizeof(pkt), SESSION, 2, &p);
    ck_assert_int_eq(fc_auth_seal(pkt, (size_t)n, srv_secret), 0);
    ck_assert_int_eq(fc_auth_verify(pkt, (size_t)n, srv_secret), 0);
}
END_TEST

/* ---- proto/auth.c: the replay window ---- */

START_TEST(replay_new_and_repeat)
{
    struct fc_replay w;
    uint32_t s;

    memset(&w, 0, sizeof(w)); /* how every user starts one */
    ck_assert_int_eq(fc_replay_accept(&w, 1000), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 1000), 0);
    for (s = 1001; s < 1200; s++) {
        ck_assert_int_eq(fc_replay_accept(&w, s), 1);
        ck_assert_int_eq(fc_replay_accept(&w, s), 0);
        ck_assert_int_eq(fc_replay_accept(&w, s - 1), 0);
    }
    ck_assert_uint_eq(w.top, 1199);
    /* Any first number is taken: 0, and one "before" 0 in serial order. */
    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 0), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 0), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 1), 1);
    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 0x90000000u), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 0x90000000u), 0);
    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 0xffffffc0u), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 0xffffffc0u - 1), 1);
}
END_TEST

/* Late packets within the window are taken once each; beyond it, never. */
START_TEST(replay_reordering_within_64)
{
    struct fc_replay w;
    uint32_t back;

    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 5000), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 5000 - 64), 0); /* older than the window */
    for (back = 63; back >= 1; back--) {
        ck_assert_int_eq(fc_replay_accept(&w, 5000 - back), 1);
        ck_assert_int_eq(fc_replay_accept(&w, 5000 - back), 0);
    }
    ck_assert_uint_eq(w.top, 5000);
    ck_assert_int_eq(fc_replay_accept(&w, 5000 - 64), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 5000 - 1000), 0);

    /* Moving on by 10: what was seen stays seen, the gap is new. */
    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 100), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 98), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 110), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 100), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 98), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 99), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 105), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 105), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 110 - 63), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 110 - 64), 0);
}
END_TEST

/* The shift that moves the window is exact at its edge: 63 ahead keeps
 * the old top in the window (and seen), 64 ahead drops it. */
START_TEST(replay_window_edge)
{
    struct fc_replay w;

    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 200), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 263), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 200), 0); /* seen, 63 back */
    ck_assert_int_eq(fc_replay_accept(&w, 201), 1); /* not seen, 62 back */
    ck_assert_int_eq(fc_replay_accept(&w, 199), 0); /* 64 back */

    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 200), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 199), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 264), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 200), 0); /* 64 back: out */
    ck_assert_int_eq(fc_replay_accept(&w, 201), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 263), 1); /* no stale bit carried over */
    ck_assert_int_eq(fc_replay_accept(&w, 264), 0);
    /* A jump of more than 64 forgets everything before it too. */
    ck_assert_int_eq(fc_replay_accept(&w, 264 + 1000), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 264 + 1000 - 1), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 264 + 1000 - 63), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 264), 0);
}
END_TEST

/* The 32-bit sequence wraps: 0 comes after 0xffffffff (serial numbers). */
START_TEST(replay_wraps_around)
{
    struct fc_replay w;
    uint32_t s;

    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 0xfffffff0u), 1);
    for (s = 0xfffffff1u; s != 20; s++)
        if (s % 3)
            ck_assert_int_eq(fc_replay_accept(&w, s), 1);
    ck_assert_uint_eq(w.top, 19);
    /* The ones skipped on either side of the wrap are still new, once. */
    ck_assert_int_eq(fc_replay_accept(&w, 0xfffffff3u), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 0xfffffff3u), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 0xffffffffu), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 0xffffffffu), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 0), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 0), 0);
    /* The ones taken on either side are repeats. */
    ck_assert_int_eq(fc_replay_accept(&w, 0xfffffff0u), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 0xfffffff1u), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 1), 0);
    /* The window reaches back across the wrap: 63 back is in, 64 is out. */
    ck_assert_int_eq(fc_replay_accept(&w, 19u - 63u), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 19u - 64u), 0);
}
END_TEST

/* A far jump forward (only a holder of the key can make one pass the tag
 * check) moves the window: what was current is now too old. Exactly half
 * the sequence space ahead is ambiguous in serial arithmetic: refused. */
START_TEST(replay_far_jump)
{
    struct fc_replay w;

    memset(&w, 0, sizeof(w));
    ck_assert_int_eq(fc_replay_accept(&w, 10), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 10 + 0x80000000u), 0);
    ck_assert_uint_eq(w.top, 10);
    ck_assert_int_eq(fc_replay_accept(&w, 11), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 11 + 0x7fffffffu), 1);
    ck_assert_uint_eq(w.top, 11 + 0x7fffffffu);
    ck_assert_int_eq(fc_replay_accept(&w, 11), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 12), 0);
    ck_assert_int_eq(fc_replay_accept(&w, 11 + 0x7fffffffu - 1), 1);
    ck_assert_int_eq(fc_replay_accept(&w, 11 + 0x7fffffffu), 0);
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
    TCase *auth = tcase_create("authentication");
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
    tcase_add_test(bad, progress_window_trimmed);
    tcase_add_test(bad, control_inconsistencies);
    tcase_add_test(bad, encoders_refuse_invalid_bodies);
    tcase_add_test(bad, v2_field_offsets);
    tcase_add_test(bad, discover_is_as_large_as_announce);
    tcase_add_test(bad, version_refusal_names_both_versions);
    suite_add_tcase(s, bad);

    tcase_set_timeout(auth, 60);
    tcase_add_loop_test(auth, auth_tag_is_over_the_exact_bytes, 0, N_TAGGED);
    tcase_add_loop_test(auth, auth_any_flipped_bit_fails, 0, N_TAGGED);
    tcase_add_loop_test(auth, auth_wrong_key_fails, 0, N_TAGGED);
    tcase_add_loop_test(auth, auth_directions_have_own_keys, 0, N_TAGGED);
    tcase_add_test(auth, auth_short_and_oversized_packets_are_refused);
    tcase_add_test(auth, sealed_secret_round_trip);
    tcase_add_test(auth, grant_carries_the_identity);
    tcase_add_test(auth, hooks_fetch_messages);
    tcase_add_test(auth, join_exchange_gives_both_sides_the_secret);
    tcase_add_test(auth, replay_new_and_repeat);
    tcase_add_test(auth, replay_reordering_within_64);
    tcase_add_test(auth, replay_window_edge);
    tcase_add_test(auth, replay_wraps_around);
    tcase_add_test(auth, replay_far_jump);
    suite_add_tcase(s, auth);

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
