/* Little-endian helpers and bounded cursors. */
#include "tests/unit/unit.h"
#include <stdlib.h>

#include "common/bytes.h"

START_TEST(test_roundtrip)
{
    uint8_t b[8];

    fc_put64(b, 0x0102030405060708ull);
    ck_assert_uint_eq(b[0], 0x08);
    ck_assert_uint_eq(b[7], 0x01);
    ck_assert_uint_eq(fc_get64(b), 0x0102030405060708ull);
    fc_put32(b, 0xdeadbeef);
    ck_assert_uint_eq(fc_get32(b), 0xdeadbeef);
    fc_put16(b, 0xabcd);
    ck_assert_uint_eq(fc_get16(b), 0xabcd);
}
END_TEST

START_TEST(test_reader_overrun_sets_bad)
{
    uint8_t b[5] = {1, 2, 3, 4, 5};
    struct fc_rd r;

    fc_rd_init(&r, b, sizeof(b));
    ck_assert_uint_eq(fc_rd_u32(&r), 0x04030201);
    ck_assert_int_eq(r.bad, 0);
    ck_assert_uint_eq(fc_rd_u16(&r), 0); /* only one byte left */
    ck_assert_int_eq(r.bad, 1);
    ck_assert_uint_eq(fc_rd_u8(&r), 0); /* stays bad */
}
END_TEST

START_TEST(test_writer_overrun_sets_bad)
{
    uint8_t b[3];
    struct fc_wr w;

    fc_wr_init(&w, b, sizeof(b));
    fc_wr_u16(&w, 7);
    ck_assert_int_eq(w.bad, 0);
    fc_wr_u16(&w, 7);
    ck_assert_int_eq(w.bad, 1);
    ck_assert_uint_eq(w.off, 2);
}
END_TEST

FC_TEST_MAIN("bytes", test_roundtrip, test_reader_overrun_sets_bad, test_writer_overrun_sets_bad)
