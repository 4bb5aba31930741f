/* The passive PXE watcher without a capture (server/pxewatch.c and
 * pxetable.c): frames fed as libpcap would hand them over. PXE DISCOVERs
 * and REQUESTs are recorded per MAC with first/last seen, count, message,
 * architecture, UUID and vendor; other DHCP (udhcpc, replies, INFORM) is
 * only counted and malformed frames are refused; a machine quiet for two
 * minutes is booting anew; the on_seen callback sees each record; the list
 * runs newest first; and a flood of 100 000 random MACs keeps the table at
 * its size, the newest ones in it, without the heap growing. A capture on
 * a missing interface fails cleanly; as root, one on lo opens and closes
 * through its close callback. */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "server/pxewatch.h"
#include "tests/unit/dhcp-build.h"
#include "tests/unit/unit.h"

#define T0 1700000000

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
static const uint8_t uuid1[16] = {0x4c, 0x4c, 0x45, 0x44, 0x00, 0x31, 0x10, 0x80,
                                  0x80, 0x36, 0xb2, 0xc0, 0x4f, 0x57, 0x37, 0x32};

/* A PXE message from mac as a captured frame, fed at wall time T0 + t. */
static int feed_pxe(struct fc_pxewatch *w, const uint8_t mac[6], uint8_t type, uint16_t arch,
                    double t)
{
    static uint8_t frame[1600];
    struct dhcp_msg m;
    size_t n;

    dhcp_pxe(&m, mac, 0x1000, type, arch, uuid1);
    n = dhcp_frame(frame, mac, m.buf, m.len, 67);
    return fc_pxewatch_feed(w, frame, n, "br0", T0 + (int64_t)t, 1000.0 + t);
}

static int feed_msg(struct fc_pxewatch *w, const struct dhcp_msg *m)
{
    uint8_t frame[1600];
    size_t n = dhcp_frame(frame, mac2, m->buf, m->len, 67);

    return fc_pxewatch_feed(w, frame, n, "br0", T0, 1000.0);
}

START_TEST(test_records_pxe)
{
    struct fc_pxewatch *w = fc_pxewatch_new(NULL, 16);
    const struct fc_pxe_seen *e;
    char uuid[37];

    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(feed_pxe(w, mac1, FC_DHCPDISCOVER, 7, 0), 1);
    e = fc_pxewatch_lookup(w, mac1);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->mac_text, "52:54:00:12:34:56");
    ck_assert_int_eq(e->first_seen, T0);
    ck_assert_int_eq(e->last_seen, T0);
    ck_assert_uint_eq(e->count, 1);
    ck_assert_uint_eq(e->msg_type, FC_DHCPDISCOVER);
    ck_assert(e->has_arch);
    ck_assert_uint_eq(e->arch, 7);
    ck_assert(e->has_uuid);
    fc_pxe_uuid_text(e->uuid, uuid);
    ck_assert_str_eq(uuid, "4c4c4544-0031-1080-8036-b2c04f573732");
    ck_assert_str_eq(e->vendor, "PXEClient:Arch:00007:UNDI:003016");
    ck_assert_str_eq(e->iface, "br0");
    /* its REQUEST 3 s later: the same entry */
    ck_assert_int_eq(feed_pxe(w, mac1, FC_DHCPREQUEST, 7, 3), 1);
    e = fc_pxewatch_lookup(w, mac1);
    ck_assert_uint_eq(e->count, 2);
    ck_assert_uint_eq(e->msg_type, FC_DHCPREQUEST);
    ck_assert_int_eq(e->first_seen, T0);
    ck_assert_int_eq(e->last_seen, T0 + 3);
    ck_assert_uint_eq(fc_pxe_table_count(fc_pxewatch_table(w)), 1);
    ck_assert_uint_eq(fc_pxewatch_counters(w).pxe, 2);
    ck_assert_uint_eq(fc_pxewatch_generation(w), 2);
    ck_assert_ptr_null(fc_pxewatch_lookup(w, mac2));
    fc_pxewatch_close(w);
}
END_TEST

START_TEST(test_ignores_the_rest)
{
    struct fc_pxewatch *w = fc_pxewatch_new(NULL, 16);
    struct fc_pxewatch_counters c;
    struct dhcp_msg m;
    uint8_t frame[1600];
    size_t n;

    /* udhcpc: a DHCP client that is not PXE firmware */
    dhcp_begin(&m, mac2, 7);
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_opt_text(&m, 60, "udhcp 1.35.0");
    dhcp_end(&m);
    ck_assert_int_eq(feed_msg(w, &m), 0);
    /* no vendor class at all */
    dhcp_begin(&m, mac2, 7);
    dhcp_opt_u8(&m, 53, FC_DHCPDISCOVER);
    dhcp_end(&m);
    ck_assert_int_eq(feed_msg(w, &m), 0);
    /* a PXE client's INFORM, and a reply relayed to port 67 */
    dhcp_pxe(&m, mac2, 7, FC_DHCPINFORM, 7, NULL);
    ck_assert_int_eq(feed_msg(w, &m), 0);
    dhcp_pxe(&m, mac2, 7, FC_DHCPDISCOVER, 7, NULL);
    m.buf[0] = FC_BOOTREPLY;
    ck_assert_int_eq(feed_msg(w, &m), 0);
    /* malformed: no cookie; a frame that is not UDP to port 67 */
    dhcp_pxe(&m, mac2, 7, FC_DHCPDISCOVER, 7, NULL);
    m.buf[236] = 0;
    ck_assert_int_eq(feed_msg(w, &m), 0);
    dhcp_pxe(&m, mac2, 7, FC_DHCPDISCOVER, 7, NULL);
    n = dhcp_frame(frame, mac2, m.buf, m.len, 68);
    ck_assert_int_eq(fc_pxewatch_feed(w, frame, n, "br0", T0, 1000.0), 0);
    c = fc_pxewatch_counters(w);
    ck_assert_uint_eq(c.frames, 6);
    ck_assert_uint_eq(c.other_dhcp, 4);
    ck_assert_uint_eq(c.rejected, 2);
    ck_assert_uint_eq(c.pxe, 0);
    ck_assert_uint_eq(fc_pxe_table_count(fc_pxewatch_table(w)), 0);
    fc_pxewatch_close(w);
}
END_TEST

/* A machine heard again after two quiet minutes boots anew (logged again);
 * before that it is the same boot. */
START_TEST(test_new_boot_after_quiet)
{
    struct fc_pxe_table *t = fc_pxe_table_new(4);
    struct dhcp_msg m;
    struct fc_dhcp d;
    int fresh = -1;

    dhcp_pxe(&m, mac1, 1, FC_DHCPDISCOVER, 0, NULL);
    ck_assert_int_eq(fc_dhcp_decode(m.buf, m.len, &d), 0);
    fc_pxe_table_record(t, &d, "eth0", T0, 10.0, &fresh);
    ck_assert_int_eq(fresh, 1);
    fc_pxe_table_record(t, &d, "eth0", T0 + 119, 129.0, &fresh);
    ck_assert_int_eq(fresh, 0);
    fc_pxe_table_record(t, &d, "eth1", T0 + 300, 129.0 + FC_PXE_BOOTING_SECONDS, &fresh);
    ck_assert_int_eq(fresh, 1);
    ck_assert_int_eq(fc_pxe_table_lookup(t, mac1)->first_seen, T0);
    ck_assert_str_eq(fc_pxe_table_lookup(t, mac1)->iface, "eth1");
    ck_assert_uint_eq(fc_pxe_table_lookup(t, mac1)->count, 3);
    fc_pxe_table_free(t);
}
END_TEST

struct seen_log {
    int calls;
    char last_mac[18];
    uint64_t last_count;
};

static void on_seen(void *ctx, const struct fc_pxe_seen *e)
{
    struct seen_log *l = ctx;

    l->calls++;
    memcpy(l->last_mac, e->mac_text, sizeof(l->last_mac));
    l->last_count = e->count;
}

START_TEST(test_callback)
{
    struct fc_pxewatch *w = fc_pxewatch_new(NULL, 16);
    struct seen_log l = {0};

    fc_pxewatch_on_seen(w, on_seen, &l);
    feed_pxe(w, mac1, FC_DHCPDISCOVER, 7, 0);
    feed_pxe(w, mac2, FC_DHCPDISCOVER, 0, 1);
    feed_pxe(w, mac1, FC_DHCPREQUEST, 7, 2);
    ck_assert_int_eq(l.calls, 3);
    ck_assert_str_eq(l.last_mac, "52:54:00:12:34:56");
    ck_assert_uint_eq(l.last_count, 2);
    fc_pxewatch_close(w);
}
END_TEST

/* next() walks from the most recently seen to the least. */
START_TEST(test_newest_first)
{
    struct fc_pxewatch *w = fc_pxewatch_new(NULL, 16);
    const struct fc_pxe_table *t = fc_pxewatch_table(w);
    const struct fc_pxe_seen *e;

    feed_pxe(w, mac1, FC_DHCPDISCOVER, 7, 0);
    feed_pxe(w, mac2, FC_DHCPDISCOVER, 0, 1);
    e = fc_pxe_table_next(t, NULL);
    ck_assert_mem_eq(e->mac, mac2, 6);
    e = fc_pxe_table_next(t, e);
    ck_assert_mem_eq(e->mac, mac1, 6);
    ck_assert_ptr_null(fc_pxe_table_next(t, e));
    feed_pxe(w, mac1, FC_DHCPREQUEST, 7, 2); /* mac1 is the newest now */
    ck_assert_mem_eq(fc_pxe_table_next(t, NULL)->mac, mac1, 6);
    ck_assert_mem_eq(fc_pxe_table_next(t, fc_pxe_table_next(t, NULL))->mac, mac2, 6);
    fc_pxewatch_close(w);
}
END_TEST

static void flood_mac(uint32_t i, uint8_t mac[6])
{
    mac[0] = 0x02; /* locally administered, as a forger would make them */
    mac[1] = (uint8_t)(i >> 24);
    mac[2] = (uint8_t)(i >> 16);
    mac[3] = (uint8_t)(i >> 8);
    mac[4] = (uint8_t)i;
    mac[5] = (uint8_t)(i * 7);
}

/* 100 000 made-up MACs through the whole path (frame, parser, table, log):
 * the table holds its cap, the newest cap MACs in order, the heap in use
 * does not grow, and the machine that booted first is gone. */
START_TEST(test_flood_bounded)
{
    const uint32_t cap = FC_PXE_TABLE_DEFAULT, n = 100000;
    struct fc_pxewatch *w = fc_pxewatch_new(NULL, cap);
    const struct fc_pxe_table *t = fc_pxewatch_table(w);
    const struct fc_pxe_seen *e = NULL;
    size_t bytes = fc_pxe_table_bytes(t), heap0, heap1;
    uint8_t mac[6];
    uint32_t i;

    fc_log_set_level(FC_LOG_ERROR); /* the log lines of a flood are not the point here */
    feed_pxe(w, mac1, FC_DHCPDISCOVER, 7, 0);
    heap0 = mallinfo2().uordblks;
    for (i = 0; i < n; i++) {
        flood_mac(i, mac);
        feed_pxe(w, mac, FC_DHCPDISCOVER, (uint16_t)(i % 12), 1 + i * 0.0001);
    }
    heap1 = mallinfo2().uordblks;
    fc_log_set_level(FC_LOG_INFO);
    ck_assert_uint_eq(fc_pxe_table_count(t), cap);
    ck_assert_uint_eq(fc_pxe_table_bytes(t), bytes);
    ck_assert_uint_le(heap1, heap0 + 4096); /* nothing allocated per MAC */
    ck_assert_uint_eq(fc_pxe_table_evicted(t), n + 1 - cap);
    ck_assert_ptr_null(fc_pxewatch_lookup(w, mac1));
    for (i = n; i-- > n - cap;) { /* newest first: the last cap fed */
        e = fc_pxe_table_next(t, e);
        flood_mac(i, mac);
        ck_assert_ptr_nonnull(e);
        ck_assert_mem_eq(e->mac, mac, 6);
        ck_assert_ptr_eq(fc_pxewatch_lookup(w, mac), e);
    }
    ck_assert_ptr_null(fc_pxe_table_next(t, e));
    ck_assert_uint_eq(fc_pxewatch_counters(w).pxe, n + 1);
    ck_assert_uint_gt(fc_pxewatch_counters(w).not_logged, n - 1000);
    fc_pxewatch_close(w);
}
END_TEST

START_TEST(test_table_bounds)
{
    ck_assert_ptr_null(fc_pxe_table_new(0));
}
END_TEST

static void run_closes(uv_loop_t *loop)
{
    ck_assert_int_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
}

START_TEST(test_capture_open_close)
{
    uv_loop_t loop;
    struct fc_pxewatch *w;
    const char names[2][FC_PXE_IFNAME_MAX] = {"lo", "fc-no-such0"};

    ck_assert_int_eq(uv_loop_init(&loop), 0);
    w = fc_pxewatch_new(&loop, 16);
    ck_assert_int_ne(fc_pxewatch_listen(w, "fc-no-such0"), 0);
    ck_assert_int_ne(fc_pxewatch_listen(w, "an-interface-name-too-long"), 0);
    ck_assert_uint_eq(fc_pxewatch_iface_count(w), 0);
    if (geteuid() == 0) { /* capturing needs CAP_NET_RAW */
        ck_assert_int_eq(fc_pxewatch_listen(w, "lo"), 0);
        ck_assert_uint_eq(fc_pxewatch_iface_count(w), 1);
        ck_assert_str_eq(fc_pxewatch_iface(w, 0), "lo");
    }
    fc_pxewatch_close(w); /* freed by the poll handle's close callback */
    run_closes(&loop);
    /* open: the second name fails, nothing is left open */
    ck_assert_int_ne(fc_pxewatch_open(&w, &loop, names, 2), 0);
    ck_assert_ptr_null(w);
    run_closes(&loop);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

FC_TEST_MAIN("pxewatch", test_records_pxe, test_ignores_the_rest, test_new_boot_after_quiet,
             test_callback, test_newest_first, test_flood_bounded, test_table_bounds,
             test_capture_open_close)
