/* proto/dhcp.c, the DHCP parser of the passive PXE watcher: messages as a
 * PXE ROM (BIOS and UEFI), busybox udhcpc and a relay send them are read
 * field by field; every short, oversized or inconsistent one is refused
 * (no cookie, a length past the end, a duplicated or ill-sized option, a
 * hardware type other than Ethernet); option 52 lends the file and sname
 * fields to options; the frame around a message (Ethernet, VLAN, IPv4, UDP)
 * is peeled only when every length adds up; the architecture names follow
 * the IANA registry. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/dhcp.h"
#include "tests/unit/dhcp-build.h"
#include "tests/unit/unit.h"

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t uuid1[16] = {0x4c, 0x4c, 0x45, 0x44, 0x00, 0x31, 0x10, 0x80,
                                  0x80, 0x36, 0xb2, 0xc0, 0x4f, 0x57, 0x37, 0x32};

static int decode(const struct dhcp_msg *m, struct fc_dhcp *d)
{
    return fc_dhcp_decode(m->buf, m->len, d);
}

START_TEST(test_pxe_discover_uefi)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_pxe(&m, mac1, 0xdeadbeef, FC_DHCPDISCOVER, 7, uuid1);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert_uint_eq(d.op, FC_BOOTREQUEST);
    ck_assert_uint_eq(d.xid, 0xdeadbeef);
    ck_assert_mem_eq(d.mac, mac1, 6);
    ck_assert_uint_eq(d.msg_type, FC_DHCPDISCOVER);
    ck_assert_uint_eq(d.n_arch, 1);
    ck_assert_uint_eq(d.n_arch_total, 1);
    ck_assert_uint_eq(d.arch[0], 7);
    ck_assert(d.has_uuid);
    ck_assert_mem_eq(d.uuid, uuid1, 16);
    ck_assert_str_eq(d.vendor, "PXEClient:Arch:00007:UNDI:003016");
    ck_assert_uint_eq(d.vendor_len, 32);
    ck_assert_uint_eq(d.hostname_len, 0);
    ck_assert(fc_dhcp_is_pxe(&d));
}
END_TEST

/* A BIOS ROM's REQUEST without option 97 (older ROMs omit it). */
START_TEST(test_pxe_request_bios_no_uuid)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_pxe(&m, mac1, 1, FC_DHCPREQUEST, 0, NULL);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert_uint_eq(d.msg_type, FC_DHCPREQUEST);
    ck_assert_uint_eq(d.arch[0], 0);
    ck_assert(!d.has_uuid);
    ck_assert(fc_dhcp_is_pxe(&d));
}
END_TEST

/* busybox udhcpc with its default vendor class and a host name: DHCP, not PXE. */
START_TEST(test_udhcpc_not_pxe)
{
    static const uint8_t cid[7] = {1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_begin(&m, mac1, 0x11223344);
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_opt(&m, 61, cid, sizeof(cid));
    dhcp_opt_text(&m, 60, "udhcp 1.35.0");
    dhcp_opt_text(&m, 12, "lab-pc-07");
    dhcp_end(&m);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert_str_eq(d.vendor, "udhcp 1.35.0");
    ck_assert_str_eq(d.hostname, "lab-pc-07");
    ck_assert_uint_eq(d.n_arch, 0);
    ck_assert(!fc_dhcp_is_pxe(&d));
    /* "PXEClien" is not "PXEClient" */
    dhcp_begin(&m, mac1, 1);
    dhcp_opt_text(&m, 60, "PXEClien");
    dhcp_end(&m);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert(!fc_dhcp_is_pxe(&d));
}
END_TEST

/* 240 bytes with the cookie is a plain BOOTP request: no options, no end. */
START_TEST(test_sizes)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_begin(&m, mac1, 9);
    ck_assert_int_eq(fc_dhcp_decode(m.buf, FC_DHCP_MIN_LEN, &d), 0);
    ck_assert_uint_eq(d.msg_type, 0);
    ck_assert_int_eq(fc_dhcp_decode(m.buf, FC_DHCP_MIN_LEN - 1, &d), FC_EPROTO);
    ck_assert_int_eq(fc_dhcp_decode(m.buf, 0, &d), FC_EPROTO);
    ck_assert_int_eq(fc_dhcp_decode(NULL, 300, &d), FC_EPROTO);
    ck_assert_int_eq(fc_dhcp_decode(m.buf, FC_DHCP_MAX_LEN, &d), 0); /* all pads */
    ck_assert_int_eq(fc_dhcp_decode(m.buf, FC_DHCP_MAX_LEN + 1, &d), FC_EPROTO);
}
END_TEST

START_TEST(test_header_checks)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    m.buf[239] = 0; /* cookie */
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    m.buf[0] = 3; /* op */
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    m.buf[1] = 6; /* htype IEEE 802 */
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    m.buf[2] = 16; /* hlen */
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    m.buf[0] = FC_BOOTREPLY; /* a reply parses; the watcher ignores it */
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert_uint_eq(d.op, FC_BOOTREPLY);
}
END_TEST

/* Every cut inside an option is refused; a cut between two options (no end
 * option) is taken as the end. The decoded struct is zero on failure. */
START_TEST(test_truncations)
{
    struct dhcp_msg m;
    struct fc_dhcp d, zero;
    size_t full, cut, i = FC_DHCP_MIN_LEN, n_ok = 0;
    uint8_t boundary[FC_DHCP_MAX_LEN + 1] = {0};

    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    memset(&zero, 0, sizeof(zero));
    while (m.buf[i] != 255) { /* where each option starts */
        boundary[i] = 1;
        i += 2u + m.buf[i + 1];
    }
    boundary[i] = 1;
    full = i;
    for (cut = FC_DHCP_MIN_LEN; cut <= full; cut++) {
        int rc = fc_dhcp_decode(m.buf, cut, &d);
        if (boundary[cut]) {
            ck_assert_int_eq(rc, 0);
            n_ok++;
        } else {
            ck_assert_int_eq(rc, FC_EPROTO);
            ck_assert_mem_eq(&d, &zero, sizeof(d));
        }
    }
    ck_assert_uint_eq(n_ok, 8); /* where each of the 7 options starts, and the end */
}
END_TEST

/* An option whose length byte says more than the message holds. */
START_TEST(test_length_past_end)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_begin(&m, mac1, 1);
    dhcp_opt_u8(&m, 53, 1);
    m.buf[m.len++] = 60;
    m.buf[m.len++] = 200;
    memcpy(m.buf + m.len, "PXEClient", 9);
    m.len += 9;
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    m.buf[m.len - 10] = 9; /* now it fits */
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert(fc_dhcp_is_pxe(&d));
    m.buf[m.len++] = 43; /* a code without its length byte */
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
}
END_TEST

static int with_extra(uint8_t code, const void *v, uint8_t len)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_begin(&m, mac1, 1);
    dhcp_opt_text(&m, 60, "PXEClient:Arch:00000:UNDI:002001");
    dhcp_opt(&m, code, v, len);
    dhcp_end(&m);
    return decode(&m, &d);
}

START_TEST(test_inconsistent_options)
{
    static const uint8_t two[2] = {1, 1}, odd[3] = {0, 7, 0}, uuid_t1[17] = {1};
    static const uint8_t short_uuid[16] = {0};

    ck_assert_int_eq(with_extra(53, two, 2), FC_EPROTO);         /* message type of 2 bytes */
    ck_assert_int_eq(with_extra(53, two, 0), FC_EPROTO);         /* of none */
    ck_assert_int_eq(with_extra(53, "\0", 1), FC_EPROTO);        /* type 0 */
    ck_assert_int_eq(with_extra(93, odd, 3), FC_EPROTO);         /* odd architecture list */
    ck_assert_int_eq(with_extra(93, odd, 0), FC_EPROTO);         /* empty */
    ck_assert_int_eq(with_extra(97, uuid_t1, 17), FC_EPROTO);    /* uuid of type 1 */
    ck_assert_int_eq(with_extra(97, short_uuid, 16), FC_EPROTO); /* 15 bytes of uuid */
    ck_assert_int_eq(with_extra(60, "PXEClient", 9), FC_EPROTO); /* vendor class twice */
    ck_assert_int_eq(with_extra(12, "", 0), FC_EPROTO);          /* empty host name */
    ck_assert_int_eq(with_extra(52, "\4", 1), FC_EPROTO);        /* overload 4 */
    ck_assert_int_eq(with_extra(43, "", 0), 0);                  /* unread options: any size */
    ck_assert_int_eq(with_extra(93, "\0\x07\0\x09", 4), 0);
}
END_TEST

START_TEST(test_duplicate_message_type)
{
    struct dhcp_msg m;
    struct fc_dhcp d;

    dhcp_begin(&m, mac1, 1);
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_opt_u8(&m, 53, FC_DHCPREQUEST);
    dhcp_end(&m);
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
}
END_TEST

START_TEST(test_arch_list)
{
    uint8_t v[40];
    struct dhcp_msg m;
    struct fc_dhcp d;
    int i;

    for (i = 0; i < 20; i++) {
        v[2 * i] = 0;
        v[2 * i + 1] = (uint8_t)i;
    }
    dhcp_begin(&m, mac1, 1);
    dhcp_opt(&m, 93, v, 40);
    dhcp_end(&m);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert_uint_eq(d.n_arch_total, 20);
    ck_assert_uint_eq(d.n_arch, FC_DHCP_ARCH_MAX);
    ck_assert_uint_eq(d.arch[15], 15);
}
END_TEST

/* Option 52: the file field (1), sname (2) or both (3) hold options too. */
START_TEST(test_overload)
{
    struct dhcp_msg m;
    struct fc_dhcp d;
    uint8_t *file, *sname;

    dhcp_begin(&m, mac1, 1);
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_opt_u8(&m, 52, 3);
    dhcp_end(&m);
    file = m.buf + 108;
    sname = m.buf + 44;
    memcpy(file, "\x3c\x09PXEClient\xff", 12);
    memcpy(sname, "\x5d\x02\x00\x07\x0c\x02pc\xff", 9);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert(fc_dhcp_is_pxe(&d));
    ck_assert_uint_eq(d.arch[0], 7);
    ck_assert_str_eq(d.hostname, "pc");
    /* without 52 the same fields are a server name and a file name */
    m.buf[FC_DHCP_MIN_LEN + 5] = 1; /* 52 = 1: file only */
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert(fc_dhcp_is_pxe(&d));
    ck_assert_uint_eq(d.n_arch, 0);
    /* an option running past the file field */
    memcpy(file + 120, "\x2b\x20", 2);
    file[11] = 0;
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    /* 52 inside the file field */
    memset(file, 0, 128);
    memcpy(file, "\x34\x01\x02\xff", 4);
    ck_assert_int_eq(decode(&m, &d), FC_EPROTO);
    /* a file field without an end option ends with the field */
    memset(file, 0, 128);
    memcpy(file, "\x3c\x09PXEClient", 11);
    ck_assert_int_eq(decode(&m, &d), 0);
    ck_assert(fc_dhcp_is_pxe(&d));
}
END_TEST

/* ---- frames ---- */

START_TEST(test_frame)
{
    uint8_t frame[1600], tagged[1600];
    const uint8_t *p;
    struct dhcp_msg m;
    size_t n, plen;

    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    n = dhcp_frame(frame, mac1, m.buf, m.len, 67);
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), 0);
    ck_assert_ptr_eq(p, frame + 42);
    ck_assert_uint_eq(plen, m.len);
    /* Ethernet padding after the IP packet is not part of it */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n + 20, &p, &plen), 0);
    ck_assert_uint_eq(plen, m.len);
    /* one 802.1Q tag */
    memcpy(tagged, frame, 12);
    memcpy(tagged + 12, "\x81\x00\x00\x05", 4);
    memcpy(tagged + 16, frame + 12, n - 12);
    ck_assert_int_eq(fc_dhcp_frame_payload(tagged, n + 4, &p, &plen), 0);
    ck_assert_uint_eq(plen, m.len);
    /* the PXE boot server's port */
    n = dhcp_frame(frame, mac1, m.buf, m.len, 4011);
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), 0);
}
END_TEST

START_TEST(test_frame_refused)
{
    uint8_t frame[1600], opts[1600];
    const uint8_t *p;
    struct dhcp_msg m;
    size_t n, plen, cut;

    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 7, uuid1);
    n = dhcp_frame(frame, mac1, m.buf, m.len, 68); /* to a client */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    n = dhcp_frame(frame, mac1, m.buf, m.len, 67);
    for (cut = 0; cut < n; cut++) /* every truncation of the frame */
        ck_assert_int_eq(fc_dhcp_frame_payload(frame, cut, &p, &plen), FC_EPROTO);
    frame[12] = 0x86; /* IPv6 */
    frame[13] = 0xdd;
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    n = dhcp_frame(frame, mac1, m.buf, m.len, 67);
    frame[20] = 0x20; /* more fragments */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    frame[20] = 0x00;
    frame[21] = 0x10; /* a fragment's offset */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    frame[21] = 0;
    frame[23] = 6; /* TCP */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    frame[23] = 17;
    frame[39]++; /* UDP length one more than the IP packet holds */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    frame[39]--;
    frame[14] = 0x44; /* IHL 4 */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    frame[14] = 0x45;
    frame[17] += 40; /* IP length past the frame */
    ck_assert_int_eq(fc_dhcp_frame_payload(frame, n, &p, &plen), FC_EPROTO);
    /* IP options (IHL 6): the UDP header moves with them */
    n = dhcp_frame(frame, mac1, m.buf, m.len, 67);
    memcpy(opts, frame, 34);
    memset(opts + 34, 1, 4); /* four NOPs */
    memcpy(opts + 38, frame + 34, n - 34);
    opts[14] = 0x46;
    opts[17] += 4;
    ck_assert_int_eq(fc_dhcp_frame_payload(opts, n + 4, &p, &plen), 0);
    ck_assert_uint_eq(plen, m.len);
    ck_assert_int_eq(fc_dhcp_frame_payload(NULL, 100, &p, &plen), FC_EPROTO);
}
END_TEST

START_TEST(test_names)
{
    char buf[24];

    ck_assert_str_eq(fc_dhcp_arch_name(0, buf, sizeof(buf)), "BIOS");
    ck_assert_str_eq(fc_dhcp_arch_name(6, buf, sizeof(buf)), "EFI IA32");
    ck_assert_str_eq(fc_dhcp_arch_name(7, buf, sizeof(buf)), "EFI x64");
    ck_assert_str_eq(fc_dhcp_arch_name(9, buf, sizeof(buf)), "EFI BC");
    ck_assert_str_eq(fc_dhcp_arch_name(11, buf, sizeof(buf)), "EFI ARM64");
    ck_assert_str_eq(fc_dhcp_arch_name(16, buf, sizeof(buf)), "EFI x64 HTTP");
    ck_assert_str_eq(fc_dhcp_arch_name(500, buf, sizeof(buf)), "arch 500");
    ck_assert_str_eq(fc_dhcp_type_name(1, buf, sizeof(buf)), "DHCPDISCOVER");
    ck_assert_str_eq(fc_dhcp_type_name(3, buf, sizeof(buf)), "DHCPREQUEST");
    ck_assert_str_eq(fc_dhcp_type_name(0, buf, sizeof(buf)), "BOOTP");
    ck_assert_str_eq(fc_dhcp_type_name(13, buf, sizeof(buf)), "DHCP type 13");
}
END_TEST

/* Random bytes behind a valid header: never a crash, and whatever is
 * accepted keeps its counts within their arrays. */
START_TEST(test_random_options)
{
    struct dhcp_msg m;
    struct fc_dhcp d;
    uint32_t x = 12345;
    int round;
    size_t i;

    for (round = 0; round < 20000; round++) {
        dhcp_begin(&m, mac1, (uint32_t)round);
        m.len = FC_DHCP_MIN_LEN + (size_t)(x % 300);
        for (i = FC_DHCP_MIN_LEN; i < m.len; i++) {
            x = x * 1103515245u + 12345u;
            m.buf[i] = (uint8_t)(x >> 16);
        }
        if (decode(&m, &d) == 0) {
            ck_assert_uint_le(d.n_arch, FC_DHCP_ARCH_MAX);
            ck_assert_uint_eq(strnlen(d.vendor, sizeof(d.vendor)) <= d.vendor_len, 1);
        }
    }
}
END_TEST

FC_TEST_MAIN("dhcp", test_pxe_discover_uefi, test_pxe_request_bios_no_uuid, test_udhcpc_not_pxe,
             test_sizes, test_header_checks, test_truncations, test_length_past_end,
             test_inconsistent_options, test_duplicate_message_type, test_arch_list, test_overload,
             test_frame, test_frame_refused, test_names, test_random_options)
