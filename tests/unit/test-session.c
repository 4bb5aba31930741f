/* THE session state machine (server/session.c) with the real receiver
 * table (server/receivers.c) and a real libuv loop, but no network: the
 * session's handles are made on the test's loop and never bound, and its
 * neighbours are reduced to what session.c and receivers.c ask of them
 * (below). Covered: the start policy (min-receivers, max-wait counted from
 * the first join, start now),
 * the end (every receiver done, some failed, the operator's abort, the
 * --max-time deadline), the drop rules (silent, stalled, lossy; the last one
 * dropped ends the session), the report interval asked of a lab of many
 * machines, rate control acting once per report (server/ratectl.c), and an
 * ended session freed by its last handle's close callback when the test
 * runs the loop, never before. */
#include <string.h>

#include "server/server.h"
#include "tests/unit/unit.h"

/* --- the neighbours, reduced */

static double clock_now;
static uint32_t sent_seq;     /* the sender's DATA sequence */
static unsigned passes_begun; /* fc_sender_begin_pass */
static double send_rate;      /* fc_sender_set_rate, bytes per second */
static unsigned ctrl_sent;    /* control packets "sent" (ABORT, DONE acks) */
static unsigned ended_calls;  /* fc_daemon_session_ended */
static unsigned freed_calls;  /* fc_daemon_free_session */
static int closed_when_ended; /* s->closed when the daemon heard of the end */
static enum fc_sess_state state_when_ended;

double fc_server_now(const struct fc_session *s)
{
    (void)s;
    return clock_now;
}

void fc_sender_begin_pass(struct fc_session *s)
{
    (void)s;
    passes_begun++;
}

void fc_sender_preinit(struct fc_session *s)
{
    s->snd.fd = -1;
}

double fc_sender_rate(const struct fc_session *s)
{
    (void)s;
    return send_rate;
}

#define RATE_MAX 1e7

double fc_sender_rate_max(const struct fc_session *s)
{
    (void)s;
    return RATE_MAX;
}

void fc_sender_set_rate(struct fc_session *s, double bytes_per_s)
{
    (void)s;
    send_rate = bytes_per_s;
}

void fc_sender_observe_loss(struct fc_session *s, double worst)
{
    (void)s, (void)worst;
}

uint32_t fc_sender_seq(const struct fc_session *s)
{
    (void)s;
    return sent_seq;
}

void fc_repair_end_round(struct fc_session *s)
{
    (void)s;
}

uint64_t fc_repair_src_pkts(const struct fc_session *s)
{
    (void)s;
    return 1000;
}

void fc_joins_expire(struct fc_session *s, double now)
{
    (void)s;
    (void)now;
}

struct fc_rx *fc_joins_confirm(struct fc_session *s, uint32_t id, const uint8_t *pkt, size_t len,
                               uint32_t seq)
{
    (void)s, (void)id, (void)pkt, (void)len, (void)seq;
    return NULL;
}

int fc_joins_known(const struct fc_session *s, uint32_t id)
{
    (void)s, (void)id;
    return 0;
}

void fc_joins_send_ack(struct fc_session *s, const struct sockaddr_in *to, uint64_t nonce,
                       uint32_t id, uint8_t status, const struct fc_grant *g,
                       const uint8_t *box_pub)
{
    (void)s, (void)to, (void)nonce, (void)id, (void)status, (void)g, (void)box_pub;
}

void fc_joins_grant(struct fc_grant *g, const uint8_t *secret, const char *mac,
                    const char *hostname, const char *lab)
{
    (void)secret, (void)mac, (void)hostname, (void)lab;
    memset(g, 0, sizeof(*g));
}

/* No network: no data socket to close, nothing leaves. */
void fc_netio_close(struct fc_session *s)
{
    fc_sender_preinit(s);
}

void fc_netio_send_ctrl(struct fc_session *s, const struct sockaddr_in *to, const uint8_t *buf,
                        size_t len)
{
    (void)s, (void)to, (void)buf, (void)len;
    ctrl_sent++;
}

int fc_netio_mac_of(struct in_addr ip, char out[18])
{
    (void)ip;
    out[0] = 0;
    return -1;
}

int fc_pxecfg_machine_done(struct fc_session *s, struct fc_rx *r)
{
    (void)s, (void)r;
    return 0;
}

void fc_api_session_changed(struct fc_session *s)
{
    (void)s;
}

void fc_api_machine_changed(struct fc_session *s, const struct fc_rx *r)
{
    (void)s, (void)r;
}

void fc_daemon_session_ended(struct fc_daemon *d, struct fc_session *s)
{
    (void)d;
    ended_calls++;
    closed_when_ended = s->closed;
    state_when_ended = s->state;
}

/* What the daemon frees is what open_session made; here only the table. */
void fc_daemon_free_session(struct fc_session *s)
{
    ck_assert_int_eq(s->handles_closed, 4);
    freed_calls++;
    free(s->rx);
    free(s);
}

/* --- the fixture */

static uv_loop_t loop;
static struct fc_daemon dm;
static struct fc_session *s;

static void setup_with(uint32_t min_receivers, double max_wait)
{
    clock_now = 1000.0;
    sent_seq = 0;
    send_rate = RATE_MAX;
    passes_begun = ctrl_sent = ended_calls = freed_calls = 0;
    closed_when_ended = -1;
    memset(&dm, 0, sizeof(dm));
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    s = calloc(1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    s->cfg.drop_silent = 15;
    s->cfg.drop_stall = 120;
    s->cfg.drop_loss = 0.5;
    s->cfg.max_per_ip = 4;
    s->cfg.report_ms = 1000;
    s->cfg.min_receivers = min_receivers;
    s->cfg.max_wait = max_wait;
    s->d = &dm;
    fc_sender_preinit(s);
    s->session_id = 0x5e55105e;
    s->img.m.n_chunks = 10;
    fc_session_init_handles(s, &loop);
    fc_session_start_tick(s, 0);
    ck_assert_int_eq(s->state, FC_SS_WAITING);
}

/* Runs the loop from here, the test, never from a callback: the close
 * callbacks free the session; then every handle of the loop is gone. */
static void run_closes(void)
{
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_uint_eq(freed_calls, 1);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    s = NULL;
}

/* A session that has not ended is released like a failed start: freed by
 * its last close callback all the same. */
static void teardown(void)
{
    if (!s)
        return;
    if (!s->closed)
        fc_session_release(s);
    run_closes();
}

static struct fc_rx *join(uint32_t id, const char *name)
{
    struct fc_pending p;
    struct fc_rx *r;

    memset(&p, 0, sizeof(p));
    p.id = id;
    p.addr.sin_family = AF_INET;
    p.addr.sin_addr.s_addr = htonl(0x7f000001);
    p.addr.sin_port = htons((uint16_t)(40000 + id));
    snprintf(p.name, sizeof(p.name), "%s", name);
    r = fc_rx_admit(s, &p, 1);
    ck_assert_ptr_nonnull(r);
    return fc_rx_find(s, id); /* the table may move as it grows */
}

static void done(uint32_t id)
{
    struct fc_done d;

    memset(&d, 0, sizeof(d));
    d.receiver_id = id;
    memcpy(d.check, s->expected_check, FC_CHECK_LEN);
    fc_rx_on_done(s, fc_rx_find(s, id), &d);
}

static void progress_ovfl(uint32_t id, uint32_t chunks_done, uint64_t received, uint64_t lost,
                          uint64_t overflow)
{
    static uint32_t seq = 10;
    struct fc_progress p;

    memset(&p, 0, sizeof(p));
    p.receiver_id = id;
    p.state = 2;
    p.chunks_total = s->img.m.n_chunks;
    p.chunks_done = chunks_done;
    p.win_base = chunks_done;
    p.pkts_received = received;
    p.pkts_lost = lost;
    p.pkts_overflow = overflow;
    fc_rx_on_progress(s, fc_rx_find(s, id), ++seq, &p);
}

static void progress(uint32_t id, uint32_t chunks_done, uint64_t received, uint64_t lost)
{
    progress_ovfl(id, chunks_done, received, lost, 0);
}

static enum fc_rx_status status_of(uint32_t id)
{
    return fc_rx_find(s, id)->status;
}

static void assert_rx(uint32_t id, enum fc_rx_status st, uint8_t reason)
{
    ck_assert_int_eq(fc_rx_find(s, id)->status, st);
    ck_assert_int_eq(fc_rx_find(s, id)->reason, reason);
}

/* The end was told to the daemon once, before the handles closed, and the
 * session is not freed until the loop runs the close callbacks. */
static void assert_ended(enum fc_sess_state st, int exit_code)
{
    ck_assert_int_eq(s->state, st);
    ck_assert_int_eq(s->exit_code, exit_code);
    ck_assert_uint_eq(ended_calls, 1);
    ck_assert_int_eq(state_when_ended, st);
    ck_assert_int_eq(closed_when_ended, 0);
    ck_assert_int_eq(s->closed, 1);
    ck_assert_uint_eq(freed_calls, 0);
    ck_assert(s->ended_wall != 0);
    run_closes();
}

/* --- the start policy */

START_TEST(test_start_at_min_receivers)
{
    setup_with(2, 0);
    join(1, "m1");
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    ck_assert_uint_eq(passes_begun, 0);
    join(2, "m2");
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    ck_assert_uint_eq(passes_begun, 1);
    ck_assert(s->started_wall != 0);
    ck_assert(s->sending_at == clock_now);
    fc_session_tick(s); /* already sending: no second pass */
    ck_assert_uint_eq(passes_begun, 1);
    teardown();
}
END_TEST

START_TEST(test_start_at_max_wait)
{
    setup_with(5, 30);
    clock_now += 31;
    fc_session_tick(s); /* max-wait passed, but nobody joined: keep waiting */
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    teardown();
    setup_with(5, 30);
    s->cfg.drop_silent = 1000; /* it says nothing while waiting here */
    join(1, "m1");
    clock_now += 29;
    fc_session_tick(s);
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    clock_now += 1;
    fc_session_tick(s);
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    ck_assert_uint_eq(passes_begun, 1);
    teardown();
}
END_TEST

/* --max-wait counts from the first join (udpcast's meaning), not from the
 * session's creation: a session made an hour before its first machine
 * boots still waits max_wait for the others after that one. */
START_TEST(test_max_wait_from_first_join)
{
    setup_with(3, 15);
    s->cfg.drop_silent = 10000;
    clock_now += 3600;
    fc_session_tick(s);
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    ck_assert(fc_session_start_deadline(s) == 0); /* nobody joined: no deadline yet */
    join(1, "m1");
    ck_assert_int_eq(s->state, FC_SS_WAITING); /* the old rule started here */
    ck_assert(s->first_join_wall != 0);
    ck_assert(fc_session_start_deadline(s) == s->first_join_wall + 15);
    clock_now += 10;
    join(2, "m2"); /* a later join does not move the mark */
    ck_assert(fc_session_start_deadline(s) == s->first_join_wall + 15);
    clock_now += 4;
    fc_session_tick(s);
    ck_assert_int_eq(s->state, FC_SS_WAITING); /* 14 s after the first join */
    clock_now += 1;
    fc_session_tick(s);
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    ck_assert_uint_eq(passes_begun, 1);
    teardown();
}
END_TEST

/* min_receivers reached starts at once, long before max_wait. */
START_TEST(test_min_receivers_before_max_wait)
{
    setup_with(3, 600);
    clock_now += 3600;
    join(1, "m1");
    clock_now += 2;
    join(2, "m2");
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    clock_now += 2;
    join(3, "m3");
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    ck_assert(s->sending_at == clock_now);
    ck_assert_uint_eq(passes_begun, 1);
    teardown();
}
END_TEST

/* The first receiver dropped while waiting: the mark stays, and with
 * nobody left nothing starts when max_wait passes; the next join starts
 * it (the wait is over). */
START_TEST(test_max_wait_never_with_zero)
{
    setup_with(3, 20); /* drop_silent 15 s */
    join(1, "m1");
    clock_now += 16;
    fc_session_tick(s);
    ck_assert_int_eq(status_of(1), FC_RXS_DROPPED);
    clock_now += 10; /* 26 s after the first join, nobody active */
    fc_session_tick(s);
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    ck_assert_uint_eq(passes_begun, 0);
    join(2, "m2");
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    teardown();
}
END_TEST

START_TEST(test_force_start)
{
    setup_with(50, 0);
    join(1, "m1");
    ck_assert_int_eq(s->state, FC_SS_WAITING);
    fc_session_force_start(s);
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    ck_assert_uint_eq(passes_begun, 1);
    fc_session_force_start(s); /* a second "start now" changes nothing */
    ck_assert_uint_eq(passes_begun, 1);
    teardown();
}
END_TEST

/* --- the end */

START_TEST(test_finished_when_all_done)
{
    setup_with(2, 0);
    join(1, "m1");
    join(2, "m2");
    fc_session_pass_done(s);
    ck_assert_int_eq(s->state, FC_SS_REPAIR);
    done(1);
    ck_assert_int_eq(s->state, FC_SS_REPAIR);
    ck_assert_uint_eq(ended_calls, 0);
    done(2);
    ck_assert_int_eq(status_of(1), FC_RXS_DONE);
    ck_assert_int_eq(status_of(2), FC_RXS_DONE);
    assert_ended(FC_SS_FINISHED, 0);
}
END_TEST

START_TEST(test_finished_some_failed)
{
    struct fc_abort a;

    setup_with(2, 0);
    join(1, "m1");
    join(2, "m2");
    done(1);
    memset(&a, 0, sizeof(a));
    a.receiver_id = 2;
    a.reason = FC_REASON_WRITE;
    snprintf(a.text, sizeof(a.text), "cannot write");
    fc_rx_on_abort(s, fc_rx_find(s, 2), &a);
    ck_assert_int_eq(status_of(2), FC_RXS_FAILED);
    assert_ended(FC_SS_FINISHED, 1);
}
END_TEST

/* A session that asks for a read-back takes "done" only with one: a
 * receiver that wrote and synced but did not read back (old or modified)
 * fails, with the right check value or not; one that read back is done. */
START_TEST(test_readback_required)
{
    struct fc_done d;

    setup_with(2, 0);
    s->cfg.readback = 1;
    join(1, "m1");
    join(2, "m2");
    done(1); /* no FC_DONE_READBACK flag */
    assert_rx(1, FC_RXS_FAILED, FC_REASON_VERIFY);
    memset(&d, 0, sizeof(d));
    d.receiver_id = 2;
    d.flags = FC_DONE_READBACK;
    memcpy(d.check, s->expected_check, FC_CHECK_LEN);
    fc_rx_on_done(s, fc_rx_find(s, 2), &d);
    ck_assert_int_eq(status_of(2), FC_RXS_DONE);
    assert_ended(FC_SS_FINISHED, 1);
}
END_TEST

START_TEST(test_operator_abort)
{
    setup_with(2, 0);
    join(1, "m1");
    join(2, "m2");
    done(1);
    ctrl_sent = 0;
    fc_session_abort(s, FC_REASON_OPERATOR, "cancelled by the operator");
    ck_assert_uint_eq(ctrl_sent, 1);                  /* an ABORT to the one still active */
    fc_session_abort(s, FC_REASON_OPERATOR, "again"); /* ended: nothing more */
    ck_assert_uint_eq(ctrl_sent, 1);
    assert_ended(FC_SS_ABORTED, 2);
}
END_TEST

START_TEST(test_abort_while_waiting)
{
    setup_with(5, 0);
    join(1, "m1");
    fc_session_abort(s, FC_REASON_OPERATOR, "cancelled by the operator");
    ck_assert_uint_eq(passes_begun, 0);
    assert_ended(FC_SS_ABORTED, 2);
}
END_TEST

START_TEST(test_deadline)
{
    setup_with(2, 0);
    s->cfg.max_time = 60;
    s->cfg.drop_silent = 1000;
    join(1, "m1");
    join(2, "m2");
    done(1);
    clock_now += 59;
    fc_session_tick(s);
    ck_assert_int_eq(status_of(2), FC_RXS_ACTIVE);
    clock_now += 2;
    fc_session_tick(s);
    ck_assert_int_eq(status_of(1), FC_RXS_DONE); /* a machine done stays done */
    assert_rx(2, FC_RXS_FAILED, FC_REASON_DEADLINE);
    assert_ended(FC_SS_FINISHED, 1);
}
END_TEST

/* --- the drop rules */

START_TEST(test_drop_silent)
{
    setup_with(3, 0);
    s->cfg.drop_silent = 15;
    join(1, "m1");
    clock_now += 10;
    join(2, "m2");
    clock_now += 10; /* m1 silent for 20 s, m2 for 10 */
    fc_session_tick(s);
    assert_rx(1, FC_RXS_DROPPED, FC_REASON_SILENT);
    ck_assert_int_eq(status_of(2), FC_RXS_ACTIVE);
    ck_assert_int_eq(s->state, FC_SS_WAITING); /* a drop while waiting ends nothing */
    teardown();
}
END_TEST

START_TEST(test_drop_stall_only_while_sending)
{
    setup_with(3, 0);
    s->cfg.drop_silent = 1000;
    s->cfg.drop_stall = 120;
    join(1, "m1");
    join(2, "m2");
    clock_now += 130;
    fc_session_tick(s); /* waiting: nobody writes yet, nobody stalls */
    ck_assert_uint_eq(fc_rx_count(s, FC_RXS_ACTIVE), 2);
    fc_session_force_start(s);
    fc_session_tick(s); /* the 130 s they waited are no stall */
    ck_assert_uint_eq(fc_rx_count(s, FC_RXS_ACTIVE), 2);
    clock_now += 60;
    progress(1, 3, 0, 0); /* m1 writes */
    clock_now += 70;      /* m1 stalled 70 s, m2 130 s since sending began */
    fc_session_tick(s);
    ck_assert_int_eq(status_of(1), FC_RXS_ACTIVE);
    assert_rx(2, FC_RXS_DROPPED, FC_REASON_BEHIND);
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    teardown();
}
END_TEST

START_TEST(test_drop_lossy_after_10s)
{
    int i;

    setup_with(1, 0);
    s->cfg.drop_loss = 0.5;
    join(1, "m1");
    sent_seq = 1000;
    progress(1, 0, 400, 600); /* 60 % of what was sent since it joined */
    ck_assert(fc_rx_find(s, 1)->loss_link > 0.5);
    for (i = 0; i < 9; i++) {
        clock_now += 1;
        fc_session_tick(s);
    }
    ck_assert_int_eq(status_of(1), FC_RXS_ACTIVE);
    clock_now += 1;
    fc_session_tick(s); /* the 10th second: dropped, and it was the last */
    ck_assert_int_eq(status_of(1), FC_RXS_DROPPED);
    assert_ended(FC_SS_FINISHED, 1);
}
END_TEST

/* The last receiver dropped in the tick ends the session there; the rest
 * of the tick must leave the closing session alone (ASan watches). */
START_TEST(test_last_dropped_ends)
{
    setup_with(1, 0);
    s->cfg.drop_silent = 15;
    s->cfg.max_time = 10;
    join(1, "m1");
    ck_assert_int_eq(s->state, FC_SS_SENDING);
    clock_now += 16;
    fc_session_tick(s);
    assert_rx(1, FC_RXS_DROPPED, FC_REASON_SILENT);
    assert_ended(FC_SS_FINISHED, 1);
}
END_TEST

/* --- the end of its life */

START_TEST(test_released_before_start_is_freed)
{
    setup_with(2, 0);
    join(1, "m1");
    fc_session_release(s);
    fc_session_release(s); /* once only */
    ck_assert_uint_eq(freed_calls, 0);
    ck_assert_uint_eq(ended_calls, 0);
    run_closes();
}
END_TEST

/* --- the report interval and rate control */

/* --report-ms for a small lab; longer from the expected size (the larger
 * of --min-receivers and those active with the one joining) so that the
 * lab's reports stay ~25 a second; never past 5 s nor a third of
 * --drop-silent, so a receiver on time is never dropped as silent. */
START_TEST(test_report_interval)
{
    uint32_t i;
    char name[16];

    setup_with(1, 0);
    ck_assert_uint_eq(fc_rx_report_ms(s), 1000);
    s->cfg.min_receivers = 50;
    ck_assert_uint_eq(fc_rx_report_ms(s), 2000);
    s->cfg.min_receivers = 1;
    for (i = 1; i <= 99; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        join(i, name);
    }
    ck_assert_uint_eq(fc_rx_report_ms(s), 4000); /* 99 joined, the 100th joining */
    s->cfg.min_receivers = 1000;
    ck_assert_uint_eq(fc_rx_report_ms(s), 5000);
    s->cfg.drop_silent = 6;
    ck_assert_uint_eq(fc_rx_report_ms(s), 2000);
    s->cfg.report_ms = 3000; /* the operator's own, longer: kept */
    ck_assert_uint_eq(fc_rx_report_ms(s), 3000);
    teardown();
}
END_TEST

/* With reports every 2 s and the tick every second, a report of loss over
 * the usual backs the rate off once, not at every tick until the next
 * report; the tick after it recovers. A later report of the same loss
 * (worse than the new usual) backs off again. */
START_TEST(test_one_backoff_per_report)
{
    double r0;

    setup_with(1, 0);
    join(1, "m1");
    sent_seq = 10000;
    progress(1, 0, 10000, 0); /* the usual loss: none */
    clock_now += 1;
    fc_session_tick(s);
    sent_seq = 20000;
    progress(1, 0, 19000, 1000); /* 10 %: congestion */
    r0 = send_rate;
    clock_now += 1;
    fc_session_tick(s);
    ck_assert(send_rate < r0 * 0.8);
    r0 = send_rate;
    clock_now += 1;
    fc_session_tick(s); /* no new report: recovers, does not back off again */
    ck_assert(send_rate > r0);
    r0 = send_rate;
    sent_seq = 30000;
    progress(1, 0, 26000, 3000); /* 22 % */
    clock_now += 1;
    fc_session_tick(s);
    ck_assert(send_rate < r0 * 0.8);
    teardown();
}
END_TEST

/* A receiver whose own socket overflows (too slow for the rate: 50 machines
 * on a few cores) loses 60 % from its very first report. That is no link's
 * usual loss: every report backs the rate off, the drop rule leaves it be
 * (slowing down is the cure), and the parity is sized by its link's loss
 * alone. The same 60 % lost on its link, every report, backs off nothing
 * and drops it after 10 s, as before. */
START_TEST(test_overflow_backs_off_not_dropped)
{
    double r0;
    int i;

    setup_with(2, 0);
    s->cfg.drop_loss = 0.5;
    join(1, "m1");
    join(2, "m2");
    for (i = 1; i <= 12; i++) {
        sent_seq = 10000u * (uint32_t)i;
        progress_ovfl(1, 0, 4000u * (uint64_t)i, 6000u * (uint64_t)i, 5500u * (uint64_t)i);
        progress(2, 0, 10000u * (uint64_t)i, 0);
        r0 = send_rate;
        clock_now += 1;
        fc_session_tick(s);
        ck_assert_msg(send_rate < r0 * 0.8 || send_rate <= 0.11 * RATE_MAX,
                      "report %d: rate %.0f after %.0f", i, send_rate, r0);
    }
    ck_assert_int_eq(status_of(1), FC_RXS_ACTIVE);
    ck_assert(fc_rx_find(s, 1)->overflow_recent > 0.5);
    ck_assert(fc_rx_find(s, 1)->loss_link < 0.06);
    ck_assert(fc_rx_recent_loss(s, fc_rx_find(s, 1)) < 0.06);
    teardown();

    setup_with(1, 0);
    s->cfg.drop_loss = 0.5;
    join(1, "m1");
    sent_seq = 10000;
    progress(1, 0, 4000, 6000);
    clock_now += 1;
    fc_session_tick(s);
    r0 = send_rate;
    for (i = 2; i <= 12; i++) {
        sent_seq = 10000u * (uint32_t)i;
        progress(1, 0, 4000u * (uint64_t)i, 6000u * (uint64_t)i);
        clock_now += 1;
        fc_session_tick(s);
    }
    ck_assert(send_rate >= r0);
    ck_assert_int_eq(status_of(1), FC_RXS_DROPPED);
}
END_TEST

FC_TEST_MAIN("session", test_start_at_min_receivers, test_start_at_max_wait,
             test_max_wait_from_first_join, test_min_receivers_before_max_wait,
             test_max_wait_never_with_zero, test_force_start, test_finished_when_all_done,
             test_finished_some_failed, test_readback_required, test_operator_abort,
             test_abort_while_waiting, test_deadline, test_drop_silent,
             test_drop_stall_only_while_sending, test_drop_lossy_after_10s, test_last_dropped_ends,
             test_released_before_start_is_freed, test_report_interval, test_one_backoff_per_report,
             test_overflow_backs_off_not_dropped)
