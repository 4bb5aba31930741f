/* CHUNK_REQ and CHUNK (proto/chunkreq.c): the byte offsets of
 * docs/protocol.md, the tag (a request sealed with the receiver's secret
 * verifies, with another secret or one byte changed it does not), and strict
 * decoding: every shorter or longer packet, another type or version, a zero
 * receiver id, a refusal with bytes, a success without bytes or above the
 * largest chunk are rejected; whatever is accepted re-encodes the same. */
#include <check.h>
#include <string.h>

#include "common/bytes.h"
#include "common/error.h"
#include "proto/packet.h"
#include "tests/unit/unit.h"

static const uint8_t key[FC_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static int req(uint8_t *buf, size_t cap, uint32_t rid, uint32_t chunk)
{
    struct fc_chunk_req q = {.receiver_id = rid, .chunk = chunk};
    int n = fc_chunk_req_encode(buf, cap, 0x11223344u, 77, &q);

    if (n > 0)
        ck_assert_int_eq(fc_auth_seal(buf, (size_t)n, key), 0);
    return n;
}

START_TEST(req_layout)
{
    uint8_t buf[128];
    struct fc_chunk_req q;
    struct fc_hdr h;
    int n = req(buf, sizeof(buf), 0xa1b2c3d4u, 4242);

    ck_assert_int_eq(n, FC_CHUNK_REQ_LEN);
    ck_assert_int_eq(n, 38);
    ck_assert_mem_eq(buf, "FLCT", 4);
    ck_assert_uint_eq(buf[4], FC_PROTO_VERSION);
    ck_assert_uint_eq(buf[5], 12);
    ck_assert_uint_eq(fc_get32(buf + 6), 0x11223344u);
    ck_assert_uint_eq(fc_get32(buf + 10), 77);
    ck_assert_uint_eq(fc_get32(buf + 14), 0xa1b2c3d4u);
    ck_assert_uint_eq(fc_get32(buf + 18), 4242);
    ck_assert_int_eq(fc_chunk_req_decode(buf, (size_t)n, &h, &q), 0);
    ck_assert_uint_eq(h.type, FC_PKT_CHUNK_REQ);
    ck_assert_uint_eq(h.session, 0x11223344u);
    ck_assert_uint_eq(h.seq, 77);
    ck_assert_uint_eq(q.receiver_id, 0xa1b2c3d4u);
    ck_assert_uint_eq(q.chunk, 4242);
}
END_TEST

START_TEST(req_tag)
{
    uint8_t buf[128], other[FC_SECRET_LEN];
    int n = req(buf, sizeof(buf), 9, 3), i;

    ck_assert_int_eq(fc_auth_verify(buf, (size_t)n, key), 0);
    memcpy(other, key, sizeof(other));
    other[0] ^= 1;
    ck_assert_int_eq(fc_auth_verify(buf, (size_t)n, other), FC_EPROTO);
    for (i = 0; i < n; i++) {
        buf[i] ^= 0x40;
        ck_assert_int_eq(fc_auth_verify(buf, (size_t)n, key), FC_EPROTO);
        buf[i] ^= 0x40;
    }
}
END_TEST

START_TEST(req_strict)
{
    uint8_t buf[128];
    struct fc_chunk_req q = {.receiver_id = 0, .chunk = 1};
    struct fc_hdr h;
    size_t len;
    int n = req(buf, sizeof(buf), 9, 3);

    for (len = 0; len < sizeof(buf); len++)
        if (len != (size_t)n)
            ck_assert_int_eq(fc_chunk_req_decode(buf, len, &h, &q), FC_EPROTO);
    buf[5] = FC_PKT_MANIFEST_REQ;
    ck_assert_int_eq(fc_chunk_req_decode(buf, (size_t)n, &h, &q), FC_EPROTO);
    buf[5] = FC_PKT_CHUNK_REQ;
    buf[4] = 1; /* version 1 had no such packet */
    ck_assert_int_eq(fc_chunk_req_decode(buf, (size_t)n, &h, &q), FC_EPROTO);
    buf[4] = FC_PROTO_VERSION;
    fc_put32(buf + 14, 0); /* receiver 0 is nobody */
    ck_assert_int_eq(fc_chunk_req_decode(buf, (size_t)n, &h, &q), FC_EPROTO);
    q.receiver_id = 0;
    ck_assert_int_eq(fc_chunk_req_encode(buf, sizeof(buf), 1, 1, &q), FC_EINVAL);
    q.receiver_id = 5;
    ck_assert_int_eq(fc_chunk_req_encode(buf, FC_CHUNK_REQ_LEN - 1, 1, 1, &q), FC_EINVAL);
}
END_TEST

START_TEST(head_layout)
{
    struct fc_chunk_head c = {.status = 0, .chunk = 7, .length = 123456};
    uint8_t buf[64];
    struct fc_hdr h;
    int n = fc_chunk_head_encode(buf, sizeof(buf), 5, 6, &c);

    ck_assert_int_eq(n, FC_CHUNK_HEAD_LEN);
    ck_assert_int_eq(n, 23);
    ck_assert_uint_eq(buf[5], 13);
    ck_assert_uint_eq(buf[14], 0);
    ck_assert_uint_eq(fc_get32(buf + 15), 7);
    ck_assert_uint_eq(fc_get32(buf + 19), 123456);
    memset(&c, 0xff, sizeof(c));
    ck_assert_int_eq(fc_chunk_head_decode(buf, (size_t)n, &h, &c), 0);
    ck_assert_uint_eq(c.status, 0);
    ck_assert_uint_eq(c.chunk, 7);
    ck_assert_uint_eq(c.length, 123456);
}
END_TEST

/* Encode and decode agree on what is valid. */
static void head_case(uint8_t status, uint32_t length, int valid)
{
    struct fc_chunk_head c = {.status = status, .chunk = 1, .length = length}, d;
    uint8_t buf[64];
    struct fc_hdr h;
    int n;

    ck_assert_int_eq(fc_chunk_head_encode(buf, sizeof(buf), 1, 1, &c) > 0, valid);
    /* The same bytes written by hand reach the decoder either way. */
    c.status = 0;
    c.length = 1;
    n = fc_chunk_head_encode(buf, sizeof(buf), 1, 1, &c);
    ck_assert_int_eq(n, FC_CHUNK_HEAD_LEN);
    buf[14] = status;
    fc_put32(buf + 19, length);
    ck_assert_int_eq(fc_chunk_head_decode(buf, (size_t)n, &h, &d) == 0, valid);
}

START_TEST(head_strict)
{
    struct fc_chunk_head c = {.status = 0, .chunk = 1, .length = 10};
    uint8_t buf[64];
    struct fc_hdr h;
    size_t len;
    int n;

    head_case(0, 1, 1);
    head_case(0, FC_CHUNK_MAX, 1);
    head_case(0, 0, 0);                /* a success carries bytes */
    head_case(0, FC_CHUNK_MAX + 1, 0); /* no chunk is larger */
    head_case(FC_REASON_FULL, 0, 1);
    head_case(FC_REASON_FULL, 5, 0); /* a refusal carries none */
    head_case(FC_REASON_MAX + 1, 0, 0);
    n = fc_chunk_head_encode(buf, sizeof(buf), 1, 1, &c);
    for (len = 0; len < sizeof(buf); len++)
        if (len != (size_t)n)
            ck_assert_int_eq(fc_chunk_head_decode(buf, len, &h, &c), FC_EPROTO);
    buf[5] = FC_PKT_MANIFEST;
    ck_assert_int_eq(fc_chunk_head_decode(buf, (size_t)n, &h, &c), FC_EPROTO);
}
END_TEST

/* Any single-byte change is rejected or re-encodes to the very same bytes. */
START_TEST(reencode)
{
    uint8_t buf[64], out[64];
    struct fc_chunk_req q = {.receiver_id = 3, .chunk = 9};
    struct fc_chunk_head c;
    struct fc_hdr h;
    int n = fc_chunk_req_encode(buf, sizeof(buf), 2, 2, &q), i, v, m;

    for (i = 0; i < n; i++)
        for (v = 0; v < 256; v += 37) {
            uint8_t save = buf[i];

            buf[i] = (uint8_t)v;
            if (fc_chunk_req_decode(buf, (size_t)n, &h, &q) == 0) {
                m = fc_chunk_req_encode(out, sizeof(out), h.session, h.seq, &q);
                ck_assert_int_eq(m, n);
                /* the tag is the sealer's business; the body must match */
                ck_assert_mem_eq(out, buf, (size_t)n - FC_TAG_LEN);
            }
            buf[i] = save;
        }
    c = (struct fc_chunk_head){.status = 0, .chunk = 4, .length = 99};
    n = fc_chunk_head_encode(buf, sizeof(buf), 2, 2, &c);
    for (i = 0; i < n; i++)
        for (v = 0; v < 256; v += 37) {
            uint8_t save = buf[i];

            buf[i] = (uint8_t)v;
            if (fc_chunk_head_decode(buf, (size_t)n, &h, &c) == 0) {
                m = fc_chunk_head_encode(out, sizeof(out), h.session, h.seq, &c);
                ck_assert_int_eq(m, n);
                ck_assert_mem_eq(out, buf, (size_t)n);
            }
            buf[i] = save;
        }
}
END_TEST

FC_TEST_MAIN("chunkreq", req_layout, req_tag, req_strict, head_layout, head_strict, reencode)
