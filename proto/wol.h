/* Wake-on-LAN: the magic packet a sleeping NIC wakes on (6 bytes 0xFF, then
 * its MAC 16 times, then an optional 4 or 6 byte SecureOn password), its
 * encoder and a strict decoder, and MAC addresses as text: the one place
 * that parses "52:54:00:ab:cd:ef" (or with dashes, any case) and prints it.
 * Pure functions on buffers, like the rest of proto/. */
#ifndef FC_PROTO_WOL_H
#define FC_PROTO_WOL_H

#include <stddef.h>
#include <stdint.h>

#define FC_MAC_LEN 6
#define FC_MAC_TEXT 18                            /* "52:54:00:ab:cd:ef" and its NUL */
#define FC_WOL_LEN (6 + 16 * FC_MAC_LEN)          /* 102: without a password */
#define FC_WOL_PASS_MAX 6                         /* SecureOn: 4 or 6 bytes */
#define FC_WOL_MAX (FC_WOL_LEN + FC_WOL_PASS_MAX) /* 108 */
#define FC_WOL_PORT 9                             /* "discard": what NICs listen on */

struct fc_wol {
    uint8_t mac[FC_MAC_LEN];
    uint8_t pass[FC_WOL_PASS_MAX];
    uint8_t pass_len; /* 0, 4 or 6 */
};

/* "52:54:00:AB:cd:ef" or "52-54-00-ab-cd-ef" (one separator throughout)
 * into 6 bytes; FC_EINVAL for anything else, and for a MAC no NIC has: a
 * group (multicast/broadcast) address or all zeros. */
int fc_mac_parse(const char *text, uint8_t mac[FC_MAC_LEN]);
/* Lower-case hex pairs joined by sep (':' or '-'). */
void fc_mac_format(const uint8_t mac[FC_MAC_LEN], char sep, char out[FC_MAC_TEXT]);
/* text in the form fc_mac_format gives it with sep; FC_EINVAL as fc_mac_parse. */
int fc_mac_normalize(const char *text, char sep, char out[FC_MAC_TEXT]);

/* The magic packet for w into buf: its length, or FC_EINVAL (a MAC
 * fc_mac_parse refuses, a password length other than 0, 4, 6, cap short). */
int fc_wol_encode(uint8_t *buf, size_t cap, const struct fc_wol *w);
/* A magic packet, strictly: exactly 102, 106 or 108 bytes, the sync bytes,
 * sixteen equal copies of a MAC fc_mac_parse would take; 0, or FC_EPROTO.
 * Whatever it accepts re-encodes to the same bytes. */
int fc_wol_decode(const uint8_t *buf, size_t len, struct fc_wol *w);

#endif
