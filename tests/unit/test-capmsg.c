/* Capture upload messages (proto/capture.c): the byte offsets of
 * docs/protocol.md "Capture upload", strict decoding (every shorter or
 * longer message, another type, a non-zero session, each bound one past its
 * limit), encoders refusing what decoders refuse, fc_cap_msg_len, and that
 * whatever is accepted re-encodes the same. */
#include <check.h>
#include <string.h>

#include "common/bytes.h"
#include "common/error.h"
#include "proto/packet.h"
#include "tests/unit/unit.h"

static const struct fc_cap_hello hello0 = {
    .token = {1, 2, 3}, .disk_size = 1ull << 33, .chunk_size = 4u << 20, .level = 3};
static const struct fc_cap_chunk chunk0 = {
    .index = 7, .raw_size = 4u << 20, .comp_size = 99999, .comp_hash = {0xaa}, .raw_hash = {0xbb}};

START_TEST(layouts)
{
    uint8_t buf[256];
    struct fc_cap_hello hl;
    struct fc_cap_chunk ck;
    struct fc_cap_finish fin = {.length = 5000};
    struct fc_cap_reply rep = {.status = FC_REASON_FULL, .chunks = 12};
    struct fc_hdr h;
    int n = fc_cap_hello_encode(buf, sizeof(buf), 0, 1, &hello0);

    ck_assert_int_eq(n, FC_CAP_HELLO_LEN);
    ck_assert_int_eq(n, 43);
    ck_assert_uint_eq(buf[5], 14);
    ck_assert_uint_eq(fc_get32(buf + 6), 0);
    ck_assert_uint_eq(buf[14], 1);
    ck_assert_uint_eq(fc_get64(buf + 30), 1ull << 33);
    ck_assert_uint_eq(fc_get32(buf + 38), 4u << 20);
    ck_assert_uint_eq(buf[42], 3);
    ck_assert_int_eq(fc_cap_hello_decode(buf, (size_t)n, &h, &hl), 0);
    ck_assert_mem_eq(&hl.token, hello0.token, FC_CAP_TOKEN_LEN);
    ck_assert_uint_eq(fc_cap_msg_len(buf), FC_CAP_HELLO_LEN);

    n = fc_cap_chunk_encode(buf, sizeof(buf), 0, 2, &chunk0);
    ck_assert_int_eq(n, FC_CAP_CHUNK_LEN);
    ck_assert_int_eq(n, 90);
    ck_assert_uint_eq(buf[5], 15);
    ck_assert_uint_eq(fc_get32(buf + 14), 7);
    ck_assert_uint_eq(fc_get32(buf + 18), 4u << 20);
    ck_assert_uint_eq(fc_get32(buf + 22), 99999);
    ck_assert_uint_eq(buf[26], 0xaa);
    ck_assert_uint_eq(buf[58], 0xbb);
    ck_assert_int_eq(fc_cap_chunk_decode(buf, (size_t)n, &h, &ck), 0);
    ck_assert_uint_eq(ck.comp_size, 99999);
    ck_assert_uint_eq(fc_cap_msg_len(buf), FC_CAP_CHUNK_LEN);

    n = fc_cap_finish_encode(buf, sizeof(buf), 0, 3, &fin);
    ck_assert_int_eq(n, 18);
    ck_assert_uint_eq(fc_get32(buf + 14), 5000);
    ck_assert_uint_eq(fc_cap_msg_len(buf), FC_CAP_FINISH_LEN);

    n = fc_cap_reply_encode(buf, sizeof(buf), 0, 4, &rep);
    ck_assert_int_eq(n, 19);
    ck_assert_uint_eq(buf[14], FC_REASON_FULL);
    ck_assert_uint_eq(fc_get32(buf + 15), 12);
    memset(&rep, 0, sizeof(rep));
    ck_assert_int_eq(fc_cap_reply_decode(buf, (size_t)n, &h, &rep), 0);
    ck_assert_uint_eq(rep.chunks, 12);
    ck_assert_uint_eq(fc_cap_msg_len(buf), FC_CAP_REPLY_LEN);
}
END_TEST

START_TEST(strict_lengths)
{
    uint8_t buf[256];
    struct fc_cap_hello hl;
    struct fc_hdr h;
    size_t len;
    int n = fc_cap_hello_encode(buf, sizeof(buf), 0, 1, &hello0);

    for (len = 0; len < sizeof(buf); len++)
        if (len != (size_t)n)
            ck_assert_int_eq(fc_cap_hello_decode(buf, len, &h, &hl), FC_EPROTO);
    fc_put32(buf + 6, 5); /* an upload is in no session */
    ck_assert_int_eq(fc_cap_hello_decode(buf, (size_t)n, &h, &hl), FC_EPROTO);
    ck_assert_uint_eq(fc_cap_msg_len(buf), 0);
    fc_put32(buf + 6, 0);
    buf[5] = FC_PKT_CAP_CHUNK;
    ck_assert_int_eq(fc_cap_hello_decode(buf, (size_t)n, &h, &hl), FC_EPROTO);
    buf[5] = FC_PKT_CHUNK_REQ; /* not an upload message */
    ck_assert_uint_eq(fc_cap_msg_len(buf), 0);
    ck_assert_int_eq(fc_cap_hello_encode(buf, sizeof(buf), 1, 1, &hello0), FC_EINVAL);
    ck_assert_int_eq(fc_cap_hello_encode(buf, FC_CAP_HELLO_LEN - 1, 0, 1, &hello0), FC_EINVAL);
}
END_TEST

static void hello_case(uint64_t disk, uint32_t chunk, uint8_t level, int valid)
{
    struct fc_cap_hello c = hello0, d;
    uint8_t buf[128];
    struct fc_hdr h;
    int n;

    c.disk_size = disk;
    c.chunk_size = chunk;
    c.level = level;
    ck_assert_int_eq(fc_cap_hello_encode(buf, sizeof(buf), 0, 1, &c) > 0, valid);
    n = fc_cap_hello_encode(buf, sizeof(buf), 0, 1, &hello0);
    fc_put64(buf + 30, disk);
    fc_put32(buf + 38, chunk);
    buf[42] = level;
    ck_assert_int_eq(fc_cap_hello_decode(buf, (size_t)n, &h, &d) == 0, valid);
}

static void chunk_case(uint32_t raw, uint32_t comp, int valid)
{
    struct fc_cap_chunk c = chunk0, d;
    uint8_t buf[128];
    struct fc_hdr h;
    int n;

    c.raw_size = raw;
    c.comp_size = comp;
    ck_assert_int_eq(fc_cap_chunk_encode(buf, sizeof(buf), 0, 1, &c) > 0, valid);
    n = fc_cap_chunk_encode(buf, sizeof(buf), 0, 1, &chunk0);
    fc_put32(buf + 18, raw);
    fc_put32(buf + 22, comp);
    ck_assert_int_eq(fc_cap_chunk_decode(buf, (size_t)n, &h, &d) == 0, valid);
}

START_TEST(bounds)
{
    struct fc_cap_finish f = {.length = FC_CAP_MANIFEST_MAX};
    struct fc_cap_reply r = {.status = FC_REASON_MAX + 1};
    uint8_t buf[64];

    hello_case(1, 4096, 1, 1);
    hello_case(1, FC_CHUNK_MAX, 22, 1);
    hello_case(0, 4096, 1, 0);
    hello_case(1, 4095, 1, 0);
    hello_case(1, FC_CHUNK_MAX + 1, 1, 0);
    hello_case(1, 4096, 0, 0);
    hello_case(1, 4096, 23, 0);
    chunk_case(1, 1, 1);
    chunk_case(FC_CHUNK_MAX, FC_CHUNK_MAX, 1);
    chunk_case(0, 1, 0);
    chunk_case(FC_CHUNK_MAX + 1, 1, 0);
    chunk_case(1, 0, 0);
    chunk_case(1, 0xffffffffu, 0);
    ck_assert_int_eq(fc_cap_finish_encode(buf, sizeof(buf), 0, 1, &f), FC_CAP_FINISH_LEN);
    f.length++;
    ck_assert_int_eq(fc_cap_finish_encode(buf, sizeof(buf), 0, 1, &f), FC_EINVAL);
    f.length = 0;
    ck_assert_int_eq(fc_cap_finish_encode(buf, sizeof(buf), 0, 1, &f), FC_EINVAL);
    ck_assert_int_eq(fc_cap_reply_encode(buf, sizeof(buf), 0, 1, &r), FC_EINVAL);
}
END_TEST

/* Any single-byte change is rejected or re-encodes to the very same bytes. */
START_TEST(reencode)
{
    uint8_t buf[128], out[128];
    struct fc_cap_chunk c;
    struct fc_cap_hello hl;
    struct fc_hdr h;
    int n = fc_cap_chunk_encode(buf, sizeof(buf), 0, 2, &chunk0), i, v;

    for (i = 0; i < n; i++)
        for (v = 0; v < 256; v += 37) {
            uint8_t save = buf[i];

            buf[i] = (uint8_t)v;
            if (fc_cap_chunk_decode(buf, (size_t)n, &h, &c) == 0) {
                ck_assert_int_eq(fc_cap_chunk_encode(out, sizeof(out), h.session, h.seq, &c), n);
                ck_assert_mem_eq(out, buf, (size_t)n);
            }
            buf[i] = save;
        }
    n = fc_cap_hello_encode(buf, sizeof(buf), 0, 2, &hello0);
    for (i = 0; i < n; i++)
        for (v = 0; v < 256; v += 37) {
            uint8_t save = buf[i];

            buf[i] = (uint8_t)v;
            if (fc_cap_hello_decode(buf, (size_t)n, &h, &hl) == 0) {
                ck_assert_int_eq(fc_cap_hello_encode(out, sizeof(out), h.session, h.seq, &hl), n);
                ck_assert_mem_eq(out, buf, (size_t)n);
            }
            buf[i] = save;
        }
}
END_TEST

FC_TEST_MAIN("capmsg", layouts, strict_lengths, bounds, reencode)
