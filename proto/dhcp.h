/* DHCP and BOOTP messages as the passive PXE watcher reads them (RFC 951,
 * RFC 2131, RFC 2132, PXE options of RFC 4578): the fixed BOOTP header, the
 * magic cookie, the options fleetcast records, and the Ethernet/IPv4/UDP
 * wrapping a captured frame puts around them. Parsing only: fleetcast never
 * builds or sends DHCP (server/pxewatch.c only listens).
 *
 * Pure functions on byte buffers, no allocation, no state. Decoders return
 * 0, or FC_EPROTO for anything short, oversized or inconsistent: an option
 * whose length runs past its field, no magic cookie, a hardware type other
 * than Ethernet, a message type or PXE option of the wrong size, one of the
 * options read here given twice. Options fleetcast does not read are
 * skipped by their length. */
#ifndef FC_PROTO_DHCP_H
#define FC_PROTO_DHCP_H

#include <stddef.h>
#include <stdint.h>

#define FC_DHCP_FIXED_LEN 236 /* op .. file, before the magic cookie */
#define FC_DHCP_MIN_LEN (FC_DHCP_FIXED_LEN + 4)
/* The UDP payload of one unfragmented frame on a 1500-byte Ethernet MTU;
 * PXE ROMs send about 548 bytes. Larger is not a DHCP message we read. */
#define FC_DHCP_MAX_LEN 1472
#define FC_DHCP_ARCH_MAX 16 /* option 93 entries kept (a PXE client sends one) */
#define FC_DHCP_TEXT_MAX 255

#define FC_DHCP_PORT_SERVER 67
#define FC_DHCP_PORT_CLIENT 68
#define FC_DHCP_PORT_PXE 4011 /* the PXE boot server (proxyDHCP) */

enum fc_dhcp_op { FC_BOOTREQUEST = 1, FC_BOOTREPLY = 2 };

/* Option 53 (RFC 2132 9.6, RFC 4388 leasequery). */
enum fc_dhcp_type {
    FC_DHCPDISCOVER = 1,
    FC_DHCPOFFER = 2,
    FC_DHCPREQUEST = 3,
    FC_DHCPDECLINE = 4,
    FC_DHCPACK = 5,
    FC_DHCPNAK = 6,
    FC_DHCPRELEASE = 7,
    FC_DHCPINFORM = 8,
};

struct fc_dhcp {
    uint8_t op; /* enum fc_dhcp_op */
    uint32_t xid;
    uint8_t mac[6];   /* chaddr: htype 1 (Ethernet), hlen 6 only */
    uint8_t msg_type; /* option 53; 0: absent (plain BOOTP) */
    /* option 93, client system architectures, in order; n_arch_total
     * counts them all, arch[] keeps the first FC_DHCP_ARCH_MAX */
    uint16_t arch[FC_DHCP_ARCH_MAX];
    uint8_t n_arch, n_arch_total;
    uint8_t has_uuid;                  /* option 97, client machine identifier of type 0 */
    uint8_t uuid[16];                  /* as on the wire */
    uint8_t vendor_len;                /* option 60, vendor class identifier */
    char vendor[FC_DHCP_TEXT_MAX + 1]; /* the bytes, NUL-terminated (may hold NULs) */
    uint8_t hostname_len;              /* option 12 */
    char hostname[FC_DHCP_TEXT_MAX + 1];
};

/* A DHCP or BOOTP message (a UDP payload) into *out. */
int fc_dhcp_decode(const uint8_t *buf, size_t len, struct fc_dhcp *out);

/* The UDP payload of a captured Ethernet frame (DIX, at most one 802.1Q
 * tag) carrying IPv4/UDP to port 67 or 4011: 0 with *payload and *plen set,
 * or FC_EPROTO for anything else (other protocols and ports, IP fragments,
 * IP options or lengths that do not add up, a bad UDP length). */
int fc_dhcp_frame_payload(const uint8_t *frame, size_t len, const uint8_t **payload, size_t *plen);

/* 1 if the vendor class says a PXE client ("PXEClient" first, PXE 2.1). */
int fc_dhcp_is_pxe(const struct fc_dhcp *d);

/* "DHCPDISCOVER", ...; "BOOTP" for 0, "DHCP type N" past the table. */
const char *fc_dhcp_type_name(uint8_t type, char *buf, size_t cap);

/* The IANA name of a client system architecture (option 93, "Processor
 * Architecture Types"): "BIOS", "EFI x64", ...; "arch N" past the table. */
const char *fc_dhcp_arch_name(uint16_t arch, char *buf, size_t cap);

#endif
