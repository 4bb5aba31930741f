/* Wake-on-LAN jobs (server/wake.c) on a real libuv loop, sending to a UDP
 * socket of the test on 127.0.0.1 (the job's explicit address) instead of a
 * broadcast address; the interface lookups are reduced to "lo exists, its
 * broadcast is 127.255.255.255". Covered: the first round goes out at
 * once, one well-formed magic packet per MAC (fc_wol_decode), the MACs in
 * any spelling; the Wake JSON; bad requests refused with a reason and
 * nothing left behind (no MAC, a bad MAC, 1025 MACs, a bad address, an
 * unknown interface, the 33rd job at once); cancel; the second round 2 s
 * later; every job freed by its close callbacks at shutdown (ASan). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "server/server.h"
#include "tests/unit/unit.h"

/* --- the neighbours, reduced */

int fc_netio_iface_addr(const char *iface, struct in_addr *addr, int *is_loopback)
{
    if (strcmp(iface, "lo"))
        return FC_EINVAL;
    addr->s_addr = htonl(INADDR_LOOPBACK);
    *is_loopback = 1;
    return 0;
}

int fc_netio_iface_broadcast(const char *iface, struct in_addr *bcast)
{
    if (strcmp(iface, "lo"))
        return FC_EINVAL;
    bcast->s_addr = htonl(0x7fffffff);
    return 0;
}

/* --- the fixture */

static uv_loop_t loop;
static struct fc_daemon dm;
static int rx_fd;
static char to[32];

static const char macs3[3][FC_MAC_TEXT] = {"52:54:00:ab:cd:01", "52-54-00-AB-CD-02",
                                           "52:54:00:Ab:cD:03"};

static void setup(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    struct timeval tv = {.tv_sec = 5};

    memset(&dm, 0, sizeof(dm));
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    dm.loop = &loop;
    rx_fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(rx_fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(rx_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(rx_fd, (struct sockaddr *)&a, &len), 0);
    setsockopt(rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    snprintf(to, sizeof(to), "127.0.0.1:%u", ntohs(a.sin_port));
}

/* Shutdown as the daemon does it: stop every job, run the close callbacks;
 * then no handle is left on the loop. */
static void teardown(void)
{
    fc_wake_stop_all(&dm);
    ck_assert_ptr_null(dm.wakes);
    ck_assert_uint_eq(dm.n_wakes, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    close(rx_fd);
}

/* The next datagram: a magic packet, whose MAC is returned as text. */
static void expect_packet(char mac[FC_MAC_TEXT])
{
    uint8_t buf[256];
    struct fc_wol w;
    ssize_t n = recv(rx_fd, buf, sizeof(buf), 0);

    ck_assert_int_eq(n, FC_WOL_LEN);
    ck_assert_int_eq(fc_wol_decode(buf, (size_t)n, &w), 0);
    ck_assert_uint_eq(w.pass_len, 0);
    fc_mac_format(w.mac, ':', mac);
}

static void expect_round(void)
{
    char mac[FC_MAC_TEXT];

    expect_packet(mac);
    ck_assert_str_eq(mac, "52:54:00:ab:cd:01");
    expect_packet(mac);
    ck_assert_str_eq(mac, "52:54:00:ab:cd:02");
    expect_packet(mac);
    ck_assert_str_eq(mac, "52:54:00:ab:cd:03");
}

START_TEST(test_first_round_and_json)
{
    char why[256] = "";
    json_t *j;
    int id;

    setup();
    id = fc_wake_start(&dm, "lo", to, macs3, 3, why, sizeof(why));
    ck_assert_msg(id > 0, "%s", why);
    expect_round(); /* before the loop ran: the first round is sent at once */
    j = fc_wake_json(&dm, id);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), id);
    ck_assert_str_eq(json_string_value(json_object_get(j, "to")), to);
    ck_assert_str_eq(json_string_value(json_object_get(j, "iface")), "lo");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "rounds")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "rounds_sent")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(j, "macs")), 3);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "macs"), 1)),
                     "52:54:00:ab:cd:02");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "ends_at")) -
                         json_integer_value(json_object_get(j, "started_at")),
                     60);
    json_decref(j);
    teardown();
}
END_TEST

/* The second round comes about 2 s after the first, from the loop. */
START_TEST(test_second_round)
{
    char why[256];
    uint64_t t0;
    int id;

    setup();
    id = fc_wake_start(&dm, "lo", to, macs3, 3, why, sizeof(why));
    ck_assert_int_gt(id, 0);
    expect_round();
    t0 = uv_hrtime();
    while (uv_hrtime() - t0 < 2500000000ull)
        uv_run(&loop, UV_RUN_ONCE);
    expect_round();
    ck_assert(uv_hrtime() - t0 >= 1900000000ull);
    teardown();
}
END_TEST

START_TEST(test_refused)
{
    static char many[FC_WAKE_MACS_MAX + 1][FC_MAC_TEXT];
    static const char bad[2][FC_MAC_TEXT] = {"52:54:00:ab:cd:01", "52:54:00:ab:cd:zz"};
    char why[256];
    size_t i;

    setup();
    ck_assert_int_eq(fc_wake_start(&dm, "lo", to, bad, 2, why, sizeof(why)), FC_EINVAL);
    ck_assert_msg(strstr(why, "52:54:00:ab:cd:zz") != NULL, "%s", why);
    ck_assert_int_eq(fc_wake_start(&dm, "lo", to, macs3, 0, why, sizeof(why)), FC_EINVAL);
    for (i = 0; i < FC_WAKE_MACS_MAX + 1; i++)
        snprintf(many[i], FC_MAC_TEXT, "52:54:00:00:%02zx:%02zx", i >> 8, i & 255);
    ck_assert_int_eq(fc_wake_start(&dm, "lo", to, (const char(*)[FC_MAC_TEXT])many,
                                   FC_WAKE_MACS_MAX + 1, why, sizeof(why)),
                     FC_EINVAL);
    ck_assert_int_eq(fc_wake_start(&dm, "eth9", NULL, macs3, 3, why, sizeof(why)), FC_EINVAL);
    ck_assert_int_eq(fc_wake_start(&dm, "lo", "10.0.0.300", macs3, 3, why, sizeof(why)), FC_EINVAL);
    ck_assert_int_eq(fc_wake_start(&dm, "lo", "10.0.0.255:0", macs3, 3, why, sizeof(why)),
                     FC_EINVAL);
    ck_assert_int_eq(fc_wake_start(&dm, "lo", "10.0.0.255:x", macs3, 3, why, sizeof(why)),
                     FC_EINVAL);
    ck_assert_ptr_null(dm.wakes); /* nothing started, nothing left behind */
    ck_assert_int_gt(fc_wake_start(&dm, "lo", to, (const char(*)[FC_MAC_TEXT])many,
                                   FC_WAKE_MACS_MAX, why, sizeof(why)),
                     0);
    teardown();
}
END_TEST

START_TEST(test_job_limit_and_cancel)
{
    char why[256];
    int i, id = 0;

    setup();
    for (i = 0; i < FC_WAKE_JOBS_MAX; i++) {
        id = fc_wake_start(&dm, "lo", to, macs3, 1, why, sizeof(why));
        ck_assert_int_gt(id, 0);
    }
    ck_assert_int_eq(fc_wake_start(&dm, "lo", to, macs3, 1, why, sizeof(why)), FC_ESTATE);
    ck_assert_int_eq(fc_wake_cancel(&dm, id), 0);
    ck_assert_ptr_null(fc_wake_json(&dm, id));
    ck_assert_int_eq(fc_wake_cancel(&dm, id), FC_EINVAL);
    ck_assert_uint_eq(dm.n_wakes, FC_WAKE_JOBS_MAX - 1);
    ck_assert_int_gt(fc_wake_start(&dm, "lo", to, macs3, 1, why, sizeof(why)), 0);
    uv_run(&loop, UV_RUN_NOWAIT); /* the cancelled job's close callbacks */
    teardown();
}
END_TEST

FC_TEST_MAIN("wake", test_first_round_and_json, test_second_round, test_refused,
             test_job_limit_and_cancel)
