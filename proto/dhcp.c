/* DHCP/BOOTP parsing for the passive PXE watcher (see dhcp.h): the fixed
 * header, the options field and the fields option 52 lends to options, and
 * the frame around a captured message. DHCP is big-endian on the wire, unlike
 * fleetcast's own packets, so the reads here are their own. */
#include "proto/dhcp.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"

enum {
    OPT_PAD = 0,
    OPT_HOSTNAME = 12,
    OPT_OVERLOAD = 52,
    OPT_MSG_TYPE = 53,
    OPT_VENDOR = 60,
    OPT_ARCH = 93,
    OPT_UUID = 97,
    OPT_END = 255,
};

#define OFF_SNAME 44
#define SNAME_LEN 64
#define OFF_FILE 108
#define FILE_LEN 128
#define UUID_OPT_LEN 17 /* type 0, then 16 bytes */

static const uint8_t cookie[4] = {99, 130, 83, 99};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What the option walk has seen so far. */
struct walk {
    uint8_t seen[32]; /* one bit per option code read below */
    uint8_t overload; /* option 52's value */
};

static int first_time(struct walk *w, uint8_t code)
{
    uint8_t bit = (uint8_t)(1u << (code & 7));

    if (w->seen[code >> 3] & bit)
        return 0;
    w->seen[code >> 3] |= bit;
    return 1;
}

static void copy_text(char *dst, uint8_t *dst_len, const uint8_t *v, uint8_t len)
{
    memcpy(dst, v, len);
    dst[len] = 0;
    *dst_len = len;
}

static int take_arch(struct fc_dhcp *d, const uint8_t *v, uint8_t len)
{
    unsigned i;

    /* RFC 4578 2.1: an even number of octets, greater than zero. */
    if (len == 0 || len % 2)
        return FC_EPROTO;
    d->n_arch_total = (uint8_t)(len / 2);
    d->n_arch = d->n_arch_total < FC_DHCP_ARCH_MAX ? d->n_arch_total : FC_DHCP_ARCH_MAX;
    for (i = 0; i < d->n_arch; i++)
        d->arch[i] = be16(v + 2 * i);
    return 0;
}

/* One option the watcher reads; the rest are skipped. in_options: found in
 * the options field itself, the only place option 52 may be (RFC 2131 4.1). */
static int take_option(struct fc_dhcp *d, struct walk *w, uint8_t code, const uint8_t *v,
                       uint8_t len, int in_options)
{
    switch (code) {
    case OPT_MSG_TYPE:
    case OPT_OVERLOAD:
    case OPT_VENDOR:
    case OPT_HOSTNAME:
    case OPT_ARCH:
    case OPT_UUID:
        break;
    default:
        return 0;
    }
    /* RFC 3396 lets a long option be split and repeated; none of these is
     * long, so a second copy is a forgery or a bug, and either would make
     * what is recorded depend on which copy wins. */
    if (!first_time(w, code))
        return FC_EPROTO;
    switch (code) {
    case OPT_MSG_TYPE:
        if (len != 1 || v[0] == 0)
            return FC_EPROTO;
        d->msg_type = v[0];
        return 0;
    case OPT_OVERLOAD:
        if (!in_options || len != 1 || v[0] < 1 || v[0] > 3)
            return FC_EPROTO;
        w->overload = v[0];
        return 0;
    case OPT_VENDOR:
    case OPT_HOSTNAME:
        if (len == 0) /* RFC 2132: minimum length 1 */
            return FC_EPROTO;
        if (code == OPT_VENDOR)
            copy_text(d->vendor, &d->vendor_len, v, len);
        else
            copy_text(d->hostname, &d->hostname_len, v, len);
        return 0;
    case OPT_ARCH:
        return take_arch(d, v, len);
    default: /* OPT_UUID, RFC 4578 2.3: type 0 and a 16-octet UUID */
        if (len != UUID_OPT_LEN || v[0] != 0)
            return FC_EPROTO;
        d->has_uuid = 1;
        memcpy(d->uuid, v + 1, 16);
        return 0;
    }
}

/* The options in one field: codes with a length byte, except pad and end.
 * A length running past the field is refused; a field that ends without
 * the end option is taken as ended (some clients omit it in sname/file). */
static int walk_field(struct fc_dhcp *d, struct walk *w, const uint8_t *p, size_t len,
                      int in_options)
{
    size_t i = 0;
    int rc;

    while (i < len) {
        uint8_t code = p[i++], olen;

        if (code == OPT_PAD)
            continue;
        if (code == OPT_END)
            return 0;
        if (i >= len || p[i] > len - i - 1)
            return FC_EPROTO;
        olen = p[i++];
        rc = take_option(d, w, code, p + i, olen, in_options);
        if (rc)
            return rc;
        i += olen;
    }
    return 0;
}

int fc_dhcp_decode(const uint8_t *buf, size_t len, struct fc_dhcp *out)
{
    struct walk w;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&w, 0, sizeof(w));
    if (!buf || len < FC_DHCP_MIN_LEN || len > FC_DHCP_MAX_LEN)
        return FC_EPROTO;
    /* op, then htype 1 (Ethernet) and hlen 6: the chaddr is a MAC. */
    if ((buf[0] != FC_BOOTREQUEST && buf[0] != FC_BOOTREPLY) || buf[1] != 1 || buf[2] != 6)
        return FC_EPROTO;
    if (memcmp(buf + FC_DHCP_FIXED_LEN, cookie, sizeof(cookie)) != 0)
        return FC_EPROTO;
    out->op = buf[0];
    out->xid = be32(buf + 4);
    memcpy(out->mac, buf + 28, 6);
    rc = walk_field(out, &w, buf + FC_DHCP_MIN_LEN, len - FC_DHCP_MIN_LEN, 1);
    /* RFC 2131 4.1: the file field first, then sname. */
    if (!rc && (w.overload & 1))
        rc = walk_field(out, &w, buf + OFF_FILE, FILE_LEN, 0);
    if (!rc && (w.overload & 2))
        rc = walk_field(out, &w, buf + OFF_SNAME, SNAME_LEN, 0);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- the frame around it ---- */

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_UDP_NUM 17
#define UDP_HLEN 8

/* The IPv4 packet after the Ethernet header (and one VLAN tag), or NULL. */
static const uint8_t *ipv4_of(const uint8_t *frame, size_t len, size_t *left)
{
    size_t off = ETH_HLEN;
    uint16_t type;

    if (len < ETH_HLEN)
        return NULL;
    type = be16(frame + 12);
    if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
        if (len < ETH_HLEN + 4)
            return NULL;
        type = be16(frame + 16);
        off += 4;
    }
    if (type != ETHERTYPE_IPV4)
        return NULL;
    *left = len - off;
    return frame + off;
}

int fc_dhcp_frame_payload(const uint8_t *frame, size_t len, const uint8_t **payload, size_t *plen)
{
    size_t left, ihl, total, ulen;
    const uint8_t *ip = frame ? ipv4_of(frame, len, &left) : NULL, *udp;
    uint16_t dport;

    if (!ip || left < 20 || (ip[0] >> 4) != 4)
        return FC_EPROTO;
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    total = be16(ip + 2);
    /* Ethernet pads short frames: the IP length may be less than what is left. */
    if (ihl < 20 || total < ihl + UDP_HLEN || total > left || ip[9] != IPPROTO_UDP_NUM)
        return FC_EPROTO;
    if (be16(ip + 6) & 0x3fff) /* more fragments, or a fragment's offset */
        return FC_EPROTO;
    udp = ip + ihl;
    ulen = be16(udp + 4);
    dport = be16(udp + 2);
    if (ulen != total - ihl || (dport != FC_DHCP_PORT_SERVER && dport != FC_DHCP_PORT_PXE))
        return FC_EPROTO;
    *payload = udp + UDP_HLEN;
    *plen = ulen - UDP_HLEN;
    return 0;
}

/* ---- names ---- */

int fc_dhcp_is_pxe(const struct fc_dhcp *d)
{
    return d->vendor_len >= 9 && memcmp(d->vendor, "PXEClient", 9) == 0;
}

const char *fc_dhcp_type_name(uint8_t type, char *buf, size_t cap)
{
    static const char *names[] = {"BOOTP",       "DHCPDISCOVER", "DHCPOFFER",
                                  "DHCPREQUEST", "DHCPDECLINE",  "DHCPACK",
                                  "DHCPNAK",     "DHCPRELEASE",  "DHCPINFORM"};

    if (type < sizeof(names) / sizeof(names[0]))
        return names[type];
    snprintf(buf, cap, "DHCP type %u", type);
    return buf;
}

/* IANA "Processor Architecture Types" (RFC 4578, RFC 5970 and later).
 * RFC 4578's table had 7 "EFI BC" and 9 "EFI x86-64"; its erratum 4624 and
 * the registry swap them, and x64 UEFI firmware sends 7 in practice. */
static const char *const arch_names[] = {
    "BIOS",                  /* 0 x86 BIOS */
    "NEC/PC98",              /* 1 (deprecated) */
    "Itanium",               /* 2 */
    "DEC Alpha",             /* 3 (deprecated) */
    "Arc x86",               /* 4 (deprecated) */
    "Intel Lean Client",     /* 5 (deprecated) */
    "EFI IA32",              /* 6 x86 UEFI */
    "EFI x64",               /* 7 x64 UEFI */
    "EFI Xscale",            /* 8 (deprecated) */
    "EFI BC",                /* 9 EBC (some x64 firmware sends it too) */
    "EFI ARM32",             /* 10 */
    "EFI ARM64",             /* 11 */
    "PowerPC Open Firmware", /* 12 */
    "PowerPC ePAPR",         /* 13 */
    "POWER OPAL v3",         /* 14 */
    "EFI IA32 HTTP",         /* 15 x86 UEFI boot from HTTP */
    "EFI x64 HTTP",          /* 16 x64 UEFI boot from HTTP */
    "EFI BC HTTP",           /* 17 */
    "EFI ARM32 HTTP",        /* 18 */
    "EFI ARM64 HTTP",        /* 19 */
    "BIOS HTTP",             /* 20 pc/at BIOS boot from HTTP */
    "ARM32 U-Boot",          /* 21 */
    "ARM64 U-Boot",          /* 22 */
    "ARM32 U-Boot HTTP",     /* 23 */
    "ARM64 U-Boot HTTP",     /* 24 */
    "EFI RISC-V 32",         /* 25 */
    "EFI RISC-V 32 HTTP",    /* 26 */
    "EFI RISC-V 64",         /* 27 */
    "EFI RISC-V 64 HTTP",    /* 28 */
    "EFI RISC-V 128",        /* 29 */
    "EFI RISC-V 128 HTTP",   /* 30 */
    "s390 Basic",            /* 31 */
    "s390 Extended",         /* 32 */
    "EFI MIPS32",            /* 33 */
    "EFI MIPS64",            /* 34 */
    "EFI Sunway32",          /* 35 */
    "EFI Sunway64",          /* 36 */
    "EFI LoongArch32",       /* 37 */
    "EFI LoongArch32 HTTP",  /* 38 */
    "EFI LoongArch64",       /* 39 */
    "EFI LoongArch64 HTTP",  /* 40 */
    "ARM rpiboot",           /* 41 */
};

const char *fc_dhcp_arch_name(uint16_t arch, char *buf, size_t cap)
{
    if (arch < sizeof(arch_names) / sizeof(arch_names[0]))
        return arch_names[arch];
    snprintf(buf, cap, "arch %u", arch);
    return buf;
}
