/* libFuzzer harness of proto/dhcp.c, what the passive PXE watcher runs on
 * every frame a lab machine (or anyone on the lab's wire) sends to port 67.
 * The first input byte says how the rest is read: even, a DHCP message (UDP
 * payload); odd, a captured Ethernet frame, peeled, then its payload
 * decoded, as server/pxewatch.c does. Properties: no read out of bounds or
 * undefined behaviour (ASan, UBSan); a payload lies inside the frame; what
 * is accepted keeps its counts inside its arrays and its texts terminated
 * at their lengths; decoding is a function of the bytes alone (the same
 * input decodes the same way into a dirty struct). */
#include <string.h>

#include "proto/dhcp.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/dhcp-build.h"

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t uuid[16] = {0x4c, 0x4c, 0x45, 0x44, 0x00, 0x31, 0x10, 0x80,
                                 0x80, 0x36, 0xb2, 0xc0, 0x4f, 0x57, 0x37, 0x32};

static void seed_bytes(const char *name, uint8_t how, const uint8_t *buf, size_t len)
{
    static uint8_t out[1 + 2048];

    out[0] = how;
    memcpy(out + 1, buf, len);
    fuzz_seed(name, out, len + 1);
}

static void seed_msg(const char *name, const struct dhcp_msg *m)
{
    uint8_t frame[2048];
    char fname[64];

    snprintf(fname, sizeof(fname), "%s.bin", name);
    seed_bytes(fname, 0, m->buf, m->len);
    snprintf(fname, sizeof(fname), "%s-frame.bin", name);
    seed_bytes(fname, 1, frame, dhcp_frame(frame, mac, m->buf, m->len, 67));
}

static void write_seeds(void)
{
    struct dhcp_msg m;

    dhcp_pxe(&m, mac, 0xdeadbeef, FC_DHCPDISCOVER, 7, uuid);
    seed_msg("pxe-uefi-discover", &m);
    dhcp_pxe(&m, mac, 1, FC_DHCPREQUEST, 0, NULL);
    seed_msg("pxe-bios-request", &m);
    dhcp_begin(&m, mac, 2);
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_opt_text(&m, 60, "udhcp 1.35.0");
    dhcp_opt_text(&m, 12, "lab-pc-07");
    dhcp_end(&m);
    seed_msg("udhcpc", &m);
    dhcp_begin(&m, mac, 3); /* options in the file and sname fields */
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_opt_u8(&m, 52, 3);
    dhcp_end(&m);
    memcpy(m.buf + 108, "\x3c\x09PXEClient\xff", 12);
    memcpy(m.buf + 44, "\x5d\x02\x00\x07\xff", 5);
    seed_msg("overload", &m);
    dhcp_begin(&m, mac, 4); /* plain BOOTP */
    seed_msg("bootp", &m);
}

FUZZ_SEEDS(write_seeds)

static void check_decoded(const struct fc_dhcp *d)
{
    char buf[32];
    unsigned i;

    FUZZ_ASSERT(d->n_arch <= FC_DHCP_ARCH_MAX && d->n_arch <= d->n_arch_total);
    FUZZ_ASSERT(d->vendor[d->vendor_len] == 0 && d->hostname[d->hostname_len] == 0);
    FUZZ_ASSERT(d->op == FC_BOOTREQUEST || d->op == FC_BOOTREPLY);
    for (i = 0; i < d->n_arch; i++)
        FUZZ_ASSERT(fc_dhcp_arch_name(d->arch[i], buf, sizeof(buf)) != NULL);
    FUZZ_ASSERT(fc_dhcp_type_name(d->msg_type, buf, sizeof(buf)) != NULL);
    (void)fc_dhcp_is_pxe(d);
}

static void decode_twice(const uint8_t *p, size_t len)
{
    static struct fc_dhcp a, b;
    int rc;

    memset(&a, 0xa5, sizeof(a)); /* the decoder must not rely on a zeroed struct */
    rc = fc_dhcp_decode(p, len, &a);
    memset(&b, 0x5a, sizeof(b));
    FUZZ_ASSERT(fc_dhcp_decode(p, len, &b) == rc);
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    if (rc == 0)
        check_decoded(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *in, *payload;
    size_t len, plen;

    fuzz_quiet();
    if (size < 1)
        return 0;
    len = size - 1;
    /* A copy of exactly len bytes, so ASan sees any read past the input. */
    in = len ? memcpy(malloc(len), data + 1, len) : NULL;
    if (data[0] % 2 == 0) {
        decode_twice(in, len);
    } else if (fc_dhcp_frame_payload(in, len, &payload, &plen) == 0) {
        FUZZ_ASSERT(payload >= in && payload + plen <= in + len);
        decode_twice(payload, plen);
    }
    free((void *)in);
    return 0;
}
