/* DHCP messages and the frames around them, built byte by byte the way a
 * PXE ROM, busybox udhcpc or a relay sends them, for the tests of
 * proto/dhcp.c and server/pxewatch.c and the seeds of fuzz-dhcp. fleetcast
 * itself never builds DHCP: this is test code only. */
#ifndef FC_TESTS_DHCP_BUILD_H
#define FC_TESTS_DHCP_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/dhcp.h"

struct dhcp_msg {
    uint8_t buf[FC_DHCP_MAX_LEN + 64];
    size_t len;
};

/* The fixed part: a BOOTREQUEST from mac, transaction xid, and the cookie. */
static inline void dhcp_begin(struct dhcp_msg *m, const uint8_t mac[6], uint32_t xid)
{
    memset(m, 0, sizeof(*m));
    m->buf[0] = 1; /* BOOTREQUEST */
    m->buf[1] = 1; /* Ethernet */
    m->buf[2] = 6;
    m->buf[4] = (uint8_t)(xid >> 24);
    m->buf[5] = (uint8_t)(xid >> 16);
    m->buf[6] = (uint8_t)(xid >> 8);
    m->buf[7] = (uint8_t)xid;
    m->buf[10] = 0x80; /* broadcast flag, as PXE ROMs set it */
    memcpy(m->buf + 28, mac, 6);
    m->buf[236] = 99;
    m->buf[237] = 130;
    m->buf[238] = 83;
    m->buf[239] = 99;
    m->len = FC_DHCP_MIN_LEN;
}

static inline void dhcp_opt(struct dhcp_msg *m, uint8_t code, const void *v, uint8_t len)
{
    m->buf[m->len++] = code;
    m->buf[m->len++] = len;
    memcpy(m->buf + m->len, v, len);
    m->len += len;
}

static inline void dhcp_opt_u8(struct dhcp_msg *m, uint8_t code, uint8_t v)
{
    dhcp_opt(m, code, &v, 1);
}

static inline void dhcp_opt_text(struct dhcp_msg *m, uint8_t code, const char *s)
{
    dhcp_opt(m, code, s, (uint8_t)strlen(s));
}

/* Option 93 with one architecture, 97 with a type-0 UUID. */
static inline void dhcp_opt_arch(struct dhcp_msg *m, uint16_t arch)
{
    const uint8_t v[2] = {(uint8_t)(arch >> 8), (uint8_t)arch};

    dhcp_opt(m, 93, v, 2);
}

static inline void dhcp_opt_uuid(struct dhcp_msg *m, const uint8_t uuid[16])
{
    uint8_t v[17] = {0};

    memcpy(v + 1, uuid, 16);
    dhcp_opt(m, 97, v, 17);
}

/* The end option, then pad to the 300 bytes BOOTP clients send at least. */
static inline void dhcp_end(struct dhcp_msg *m)
{
    m->buf[m->len++] = 255;
    if (m->len < 300)
        m->len = 300;
}

/* What a PXE ROM sends: DISCOVER (or another type), its parameter list,
 * max message size, option 93 arch, 94 (UNDI 3.16), 97 uuid, 60
 * PXEClient:Arch:NNNNN:UNDI:003016. */
static inline void dhcp_pxe(struct dhcp_msg *m, const uint8_t mac[6], uint32_t xid, uint8_t type,
                            uint16_t arch, const uint8_t uuid[16])
{
    static const uint8_t params[] = {1,  2,  3,   4,   5,   6,   12,  13,  15,  17, 18, 22,
                                     23, 28, 40,  41,  42,  43,  50,  51,  54,  58, 59, 60,
                                     66, 67, 128, 129, 130, 131, 132, 133, 134, 135};
    static const uint8_t maxsize[2] = {0x04, 0xec}, undi[3] = {1, 3, 16};
    char vendor[40];

    dhcp_begin(m, mac, xid);
    dhcp_opt_u8(m, 53, type);
    dhcp_opt(m, 57, maxsize, 2);
    dhcp_opt(m, 55, params, sizeof(params));
    dhcp_opt_arch(m, arch);
    dhcp_opt(m, 94, undi, 3);
    if (uuid)
        dhcp_opt_uuid(m, uuid);
    snprintf(vendor, sizeof(vendor), "PXEClient:Arch:%05u:UNDI:003016", arch);
    dhcp_opt_text(m, 60, vendor);
    dhcp_end(m);
}

/* An Ethernet/IPv4/UDP broadcast frame from mac carrying payload to port
 * dport (67 or 4011) into out; returns its length. */
static inline size_t dhcp_frame(uint8_t *out, const uint8_t mac[6], const uint8_t *payload,
                                size_t len, uint16_t dport)
{
    size_t ip_len = 20 + 8 + len;

    memset(out, 0xff, 6); /* to everyone */
    memcpy(out + 6, mac, 6);
    out[12] = 0x08;
    out[13] = 0x00;
    memset(out + 14, 0, 28);
    out[14] = 0x45;
    out[16] = (uint8_t)(ip_len >> 8);
    out[17] = (uint8_t)ip_len;
    out[22] = 64;              /* TTL */
    out[23] = 17;              /* UDP */
    memset(out + 30, 0xff, 4); /* 0.0.0.0 -> 255.255.255.255 */
    out[34] = 0;
    out[35] = 68;
    out[36] = (uint8_t)(dport >> 8);
    out[37] = (uint8_t)dport;
    out[38] = (uint8_t)((len + 8) >> 8);
    out[39] = (uint8_t)(len + 8);
    memcpy(out + 42, payload, len);
    return 42 + len;
}

#endif
