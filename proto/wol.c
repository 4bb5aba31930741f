/* Wake-on-LAN magic packets and MAC text (wol.h). */
#include "proto/wol.h"

#include <ctype.h>
#include <string.h>

#include "common/error.h"

/* A NIC's own address: not a group address (bit 0 of the first byte, which
 * includes broadcast), not all zeros. */
static int mac_usable(const uint8_t mac[FC_MAC_LEN])
{
    static const uint8_t zero[FC_MAC_LEN];

    return !(mac[0] & 1) && memcmp(mac, zero, FC_MAC_LEN) != 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int fc_mac_parse(const char *text, uint8_t mac[FC_MAC_LEN])
{
    char sep;
    int i;

    if (!text || strlen(text) != FC_MAC_TEXT - 1)
        return FC_EINVAL;
    sep = text[2];
    if (sep != ':' && sep != '-')
        return FC_EINVAL;
    for (i = 0; i < FC_MAC_LEN; i++) {
        const char *p = text + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

        if (hi < 0 || lo < 0 || (i < FC_MAC_LEN - 1 && p[2] != sep))
            return FC_EINVAL;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return mac_usable(mac) ? 0 : FC_EINVAL;
}

void fc_mac_format(const uint8_t mac[FC_MAC_LEN], char sep, char out[FC_MAC_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    int i;

    for (i = 0; i < FC_MAC_LEN; i++) {
        out[3 * i] = hex[mac[i] >> 4];
        out[3 * i + 1] = hex[mac[i] & 15];
        out[3 * i + 2] = i < FC_MAC_LEN - 1 ? sep : 0;
    }
}

int fc_mac_normalize(const char *text, char sep, char out[FC_MAC_TEXT])
{
    uint8_t mac[FC_MAC_LEN];

    if (fc_mac_parse(text, mac))
        return FC_EINVAL;
    fc_mac_format(mac, sep, out);
    return 0;
}

int fc_wol_encode(uint8_t *buf, size_t cap, const struct fc_wol *w)
{
    size_t len = FC_WOL_LEN + w->pass_len;
    int i;

    if (!mac_usable(w->mac) || (w->pass_len != 0 && w->pass_len != 4 && w->pass_len != 6) ||
        cap < len)
        return FC_EINVAL;
    memset(buf, 0xff, 6);
    for (i = 0; i < 16; i++)
        memcpy(buf + 6 + i * FC_MAC_LEN, w->mac, FC_MAC_LEN);
    memcpy(buf + FC_WOL_LEN, w->pass, w->pass_len);
    return (int)len;
}

int fc_wol_decode(const uint8_t *buf, size_t len, struct fc_wol *w)
{
    static const uint8_t sync[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    int i;

    memset(w, 0, sizeof(*w));
    if (len != FC_WOL_LEN && len != FC_WOL_LEN + 4 && len != FC_WOL_LEN + 6)
        return FC_EPROTO;
    if (memcmp(buf, sync, 6) != 0)
        return FC_EPROTO;
    memcpy(w->mac, buf + 6, FC_MAC_LEN);
    for (i = 1; i < 16; i++)
        if (memcmp(buf + 6 + i * FC_MAC_LEN, w->mac, FC_MAC_LEN) != 0)
            return FC_EPROTO;
    if (!mac_usable(w->mac))
        return FC_EPROTO;
    w->pass_len = (uint8_t)(len - FC_WOL_LEN);
    memcpy(w->pass, buf + FC_WOL_LEN, w->pass_len);
    return 0;
}
