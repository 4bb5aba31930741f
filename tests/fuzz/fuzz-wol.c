/* libFuzzer harness of proto/wol.c. The first input byte picks what is
 * fuzzed, the rest is the input:
 *   even: a magic packet. Whatever fc_wol_decode accepts re-encodes to the
 *         very same bytes, and is 102, 106 or 108 bytes long.
 *   odd:  MAC text. Whatever fc_mac_parse accepts is 17 characters, prints
 *         back (fc_mac_format) to the same text up to case and separator,
 *         and that print parses to the same 6 bytes. */
#include <ctype.h>
#include <string.h>

#include "proto/wol.h"
#include "tests/fuzz/fuzz.h"

static void packet(const uint8_t *p, size_t len)
{
    uint8_t out[FC_WOL_MAX];
    struct fc_wol w;
    int n;

    if (fc_wol_decode(p, len, &w))
        return;
    FUZZ_ASSERT(len == FC_WOL_LEN || len == FC_WOL_LEN + 4 || len == FC_WOL_LEN + 6);
    n = fc_wol_encode(out, sizeof(out), &w);
    FUZZ_ASSERT(n >= 0 && (size_t)n == len && memcmp(out, p, len) == 0);
}

static void text(const uint8_t *p, size_t len)
{
    char in[64], out[FC_MAC_TEXT];
    uint8_t mac[FC_MAC_LEN], again[FC_MAC_LEN];
    int i;

    if (len >= sizeof(in))
        return;
    memcpy(in, p, len);
    in[len] = 0;
    if (fc_mac_parse(in, mac))
        return;
    FUZZ_ASSERT(strlen(in) == FC_MAC_TEXT - 1);
    fc_mac_format(mac, in[2], out);
    for (i = 0; i < FC_MAC_TEXT - 1; i++)
        FUZZ_ASSERT(out[i] == tolower((unsigned char)in[i]));
    FUZZ_ASSERT(fc_mac_parse(out, again) == 0 && memcmp(mac, again, FC_MAC_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        text(data + 1, size - 1);
    else
        packet(data + 1, size - 1);
    return 0;
}

static void write_seeds(void)
{
    uint8_t pkt[1 + FC_WOL_MAX];
    struct fc_wol w = {.mac = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}, .pass = {1, 2, 3, 4, 5, 6}};
    int n;

    pkt[0] = 0;
    n = fc_wol_encode(pkt + 1, sizeof(pkt) - 1, &w);
    fuzz_seed("magic.bin", pkt, (size_t)n + 1);
    w.pass_len = 6;
    n = fc_wol_encode(pkt + 1, sizeof(pkt) - 1, &w);
    fuzz_seed("magic-secureon.bin", pkt, (size_t)n + 1);
    fuzz_seed("mac-colons.txt",
              "\x01"
              "52:54:00:ab:cd:ef",
              18);
    fuzz_seed("mac-dashes.txt",
              "\x01"
              "52-54-00-AB-CD-EF",
              18);
}

FUZZ_SEEDS(write_seeds)
