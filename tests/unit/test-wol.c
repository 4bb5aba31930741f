/* Wake-on-LAN (proto/wol.c): MAC text parsed in every accepted spelling and
 * refused in every other; the magic packet's exact bytes, with and without
 * a SecureOn password; the decoder refuses every length but 102, 106, 108,
 * a broken sync, a copy that differs, a group MAC; random input never
 * passes unless it re-encodes to itself. */
#include <string.h>

#include "common/error.h"
#include "proto/wol.h"
#include "tests/unit/unit.h"

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

START_TEST(test_mac_parse_spellings)
{
    static const char *ok[] = {"52:54:00:ab:cd:ef", "52:54:00:AB:CD:EF", "52-54-00-ab-cd-ef",
                               "52-54-00-Ab-cD-eF"};
    uint8_t m[6];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        memset(m, 0, sizeof(m));
        ck_assert_int_eq(fc_mac_parse(ok[i], m), 0);
        ck_assert_mem_eq(m, MAC, 6);
    }
}
END_TEST

START_TEST(test_mac_parse_refused)
{
    static const char *bad[] = {
        "",
        "52:54:00:ab:cd",     /* short */
        "52:54:00:ab:cd:ef:", /* long */
        "52:54:00:ab:cd:eg",  /* not hex */
        "52:54-00:ab:cd:ef",  /* mixed separators */
        "52.54.00.ab.cd.ef",  /* another separator */
        "5254:00:ab:cd:ef0",  /* misplaced */
        " 52:54:00:ab:cd:e",  /* space */
        "01:00:5e:00:00:01",  /* multicast: no NIC has it */
        "ff:ff:ff:ff:ff:ff",  /* broadcast */
        "00:00:00:00:00:00",  /* zero */
    };
    uint8_t m[6];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(fc_mac_parse(bad[i], m) == FC_EINVAL, "%s accepted", bad[i]);
    ck_assert_int_eq(fc_mac_parse(NULL, m), FC_EINVAL);
}
END_TEST

START_TEST(test_mac_format_normalize)
{
    char out[FC_MAC_TEXT];

    fc_mac_format(MAC, ':', out);
    ck_assert_str_eq(out, "52:54:00:ab:cd:ef");
    ck_assert_int_eq(fc_mac_normalize("52:54:00:AB:CD:EF", '-', out), 0);
    ck_assert_str_eq(out, "52-54-00-ab-cd-ef");
    ck_assert_int_eq(fc_mac_normalize("52-54-00-ab-cd-eF", ':', out), 0);
    ck_assert_str_eq(out, "52:54:00:ab:cd:ef");
    ck_assert_int_eq(fc_mac_normalize("nonsense", ':', out), FC_EINVAL);
}
END_TEST

static void expect_packet(const uint8_t *p, int n, const uint8_t *pass, int pass_len)
{
    int i;

    ck_assert_int_eq(n, 102 + pass_len);
    for (i = 0; i < 6; i++)
        ck_assert_uint_eq(p[i], 0xff);
    for (i = 0; i < 16; i++)
        ck_assert_mem_eq(p + 6 + 6 * i, MAC, 6);
    if (pass_len)
        ck_assert_mem_eq(p + 102, pass, (size_t)pass_len);
}

START_TEST(test_encode_bytes)
{
    static const uint8_t pass[6] = {1, 2, 3, 4, 5, 6};
    uint8_t buf[FC_WOL_MAX + 8];
    struct fc_wol w, back;
    int n;

    memset(&w, 0, sizeof(w));
    memcpy(w.mac, MAC, 6);
    n = fc_wol_encode(buf, sizeof(buf), &w);
    expect_packet(buf, n, NULL, 0);
    ck_assert_int_eq(fc_wol_decode(buf, (size_t)n, &back), 0);
    ck_assert_mem_eq(back.mac, MAC, 6);
    ck_assert_uint_eq(back.pass_len, 0);
    ck_assert_int_eq(fc_wol_encode(buf, 101, &w), FC_EINVAL); /* no room */

    memcpy(w.pass, pass, 6);
    for (w.pass_len = 4; w.pass_len <= 6; w.pass_len += 2) {
        n = fc_wol_encode(buf, sizeof(buf), &w);
        expect_packet(buf, n, pass, w.pass_len);
        ck_assert_int_eq(fc_wol_decode(buf, (size_t)n, &back), 0);
        ck_assert_uint_eq(back.pass_len, w.pass_len);
        ck_assert_mem_eq(back.pass, pass, w.pass_len);
    }
    w.pass_len = 5;
    ck_assert_int_eq(fc_wol_encode(buf, sizeof(buf), &w), FC_EINVAL);
    w.pass_len = 0;
    w.mac[0] = 0x01; /* a group address */
    ck_assert_int_eq(fc_wol_encode(buf, sizeof(buf), &w), FC_EINVAL);
}
END_TEST

START_TEST(test_decode_strict)
{
    uint8_t buf[FC_WOL_MAX + 8], copy[FC_WOL_MAX + 8];
    struct fc_wol w;
    size_t len;
    int i;

    memset(&w, 0, sizeof(w));
    memcpy(w.mac, MAC, 6);
    ck_assert_int_eq(fc_wol_encode(buf, sizeof(buf), &w), 102);
    memset(buf + 102, 0, 8);
    for (len = 0; len <= sizeof(buf); len++)
        ck_assert_int_eq(fc_wol_decode(buf, len, &w) == 0, len == 102 || len == 106 || len == 108);
    for (i = 0; i < 102; i++) { /* any byte changed breaks the sync or a copy */
        memcpy(copy, buf, 102);
        copy[i] ^= 0x10;
        ck_assert_msg(fc_wol_decode(copy, 102, &w) == FC_EPROTO, "byte %d changed", i);
    }
    memset(copy, 0xff, 102); /* all 0xFF: the broadcast MAC, which no NIC has */
    ck_assert_int_eq(fc_wol_decode(copy, 102, &w), FC_EPROTO);
}
END_TEST

START_TEST(test_decode_random)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t buf[FC_WOL_MAX], out[FC_WOL_MAX];
    struct fc_wol w;
    int i, n;
    size_t j, len;

    for (i = 0; i < 20000; i++) {
        len = (size_t)(i % 3 == 0 ? 102 : i % (FC_WOL_MAX + 1));
        for (j = 0; j < len; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[j] = (uint8_t)x;
        }
        if (i % 2) /* a valid sync, so the copies get looked at */
            memset(buf, 0xff, len < 6 ? len : 6);
        if (fc_wol_decode(buf, len, &w))
            continue;
        n = fc_wol_encode(out, sizeof(out), &w);
        ck_assert_int_eq(n, (int)len);
        ck_assert_mem_eq(out, buf, len);
    }
}
END_TEST

FC_TEST_MAIN("wol", test_mac_parse_spellings, test_mac_parse_refused, test_mac_format_normalize,
             test_encode_bytes, test_decode_strict, test_decode_random)
