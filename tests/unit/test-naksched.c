/* The receiver's per-block NAK timer (client/naksched.c) with a clock and
 * randomness supplied by the test: a block is due only once DATA passed it
 * by the grace, goes out after its back-off, is suppressed by a NAK asking at
 * least as much (not by one asking less), is asked again after the repair
 * passes or the repair timeout (backing off while unanswered), and a forced
 * block goes out without any DATA. Serial arithmetic across the wrap. */
#include <check.h>

#include "client/naksched.h"
#include "tests/unit/unit.h"

static const struct fc_naks_cfg cfg = FC_NAKS_CFG_DEFAULT;

START_TEST(serial)
{
    ck_assert(fc_seq_after(1, 0));
    ck_assert(!fc_seq_after(0, 1));
    ck_assert(!fc_seq_after(5, 5));
    ck_assert(fc_seq_after(3, 0xfffffffeu)); /* across the wrap */
    ck_assert(!fc_seq_after(0xfffffffeu, 3));
}
END_TEST

START_TEST(due_after_grace_and_backoff)
{
    struct fc_nakst s;

    fc_naks_init(&s);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.0, 100, 3, 0.5), 0); /* nothing known yet */
    fc_naks_data(&s, 100);
    /* Far behind, but the server is still sending the block (repairs of
     * other blocks interleaved): not due. */
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.0, 500, 3, 0.5), 0);
    fc_naks_passed(&s, 90);
    ck_assert_uint_eq(s.ref_seq, 100); /* its own latest packet is the reference */
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.0, 100 + cfg.grace, 3, 0.5), 0); /* within grace */
    ck_assert_uint_eq(s.phase, FC_NAKS_IDLE);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0, 101 + cfg.grace, 3, 0.5), 0); /* back-off starts */
    ck_assert_uint_eq(s.phase, FC_NAKS_PENDING);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0 + cfg.backoff * 0.4, 120, 3, 0.9), 0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0 + cfg.backoff * 0.5, 120, 3, 0.9), 1);
    fc_naks_sent(&s, 1.003, 120);
    ck_assert_uint_eq(s.phase, FC_NAKS_WAIT);
    /* A complete block is never due. */
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 5.0, 500, 0, 0.0), 0);
    ck_assert_uint_eq(s.phase, FC_NAKS_IDLE);
}
END_TEST

START_TEST(passed_block_without_packets)
{
    struct fc_nakst s;

    fc_naks_init(&s);
    fc_naks_passed(&s, 50);
    fc_naks_passed(&s, 70); /* the first pass mark stays */
    ck_assert_uint_eq(s.ref_seq, 50);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.0, 51 + cfg.grace, 7, 0.0), 1);
}
END_TEST

START_TEST(suppression)
{
    struct fc_nakst s;

    fc_naks_init(&s);
    fc_naks_data(&s, 10);
    fc_naks_passed(&s, 10);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.0, 100, 4, 0.99), 0);
    ck_assert_uint_eq(s.phase, FC_NAKS_PENDING);
    /* Asking less does not cover our holes. */
    ck_assert_int_eq(fc_naks_heard(&s, 0.001, 100, 3, 4), 0);
    ck_assert_uint_eq(s.phase, FC_NAKS_PENDING);
    /* Asking as much does. */
    ck_assert_int_eq(fc_naks_heard(&s, 0.002, 100, 4, 4), 1);
    ck_assert_uint_eq(s.phase, FC_NAKS_WAIT);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.01, 101, 4, 0.0), 0);
    /* Hearing another while waiting changes nothing. */
    ck_assert_int_eq(fc_naks_heard(&s, 0.02, 102, 9, 4), 0);
}
END_TEST

START_TEST(renak_after_repair_passes)
{
    struct fc_nakst s;

    fc_naks_init(&s);
    fc_naks_data(&s, 10);
    fc_naks_passed(&s, 10);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.0, 30, 2, 0.0), 1);
    fc_naks_sent(&s, 0.0, 30);
    /* Data of other blocks keeps coming: not yet, the repair is not here. */
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.01, 60, 2, 0.0), 0);
    /* One repair of this block arrives (after the NAK), still one short. */
    fc_naks_data(&s, 61);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.012, 61 + cfg.grace, 1, 0.0), 0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.012, 62 + cfg.grace, 1, 0.0), 1);
    /* A packet older than the NAK (reordered) is not the repair. */
    fc_naks_sent(&s, 0.02, 80);
    fc_naks_data(&s, 75);
    ck_assert_uint_eq(s.fresh, 0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 0.03, 200, 1, 0.0), 0);
}
END_TEST

/* Suppression by a NAK asking less never cancels, even while idle. */
START_TEST(suppress_idle)
{
    struct fc_nakst s;

    fc_naks_init(&s);
    ck_assert_int_eq(fc_naks_heard(&s, 0.0, 10, 2, 3), 0);
    ck_assert_uint_eq(s.phase, FC_NAKS_IDLE);
    ck_assert_int_eq(fc_naks_heard(&s, 0.0, 10, 3, 3), 0); /* not pending: not counted */
    ck_assert_uint_eq(s.phase, FC_NAKS_WAIT);
}
END_TEST

START_TEST(repair_timeout_backs_off)
{
    struct fc_nakst s;
    double t = 0, prev_gap = 0;
    int i;

    fc_naks_init(&s);
    fc_naks_force(&s, &cfg, t, 0.0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, t, 0, 5, 0.0), 1);
    for (i = 0; i < 8; i++) {
        double sent = t, gap;

        fc_naks_sent(&s, t, 0);
        /* Nothing ever arrives: step time until due again. */
        while (!fc_naks_tick(&s, &cfg, t, 0, 5, 0.0))
            t += 0.001;
        gap = t - sent;
        ck_assert(gap >= cfg.repair_timeout - 1e-9);
        ck_assert(gap <= cfg.timeout_max + 0.002);
        ck_assert(gap + 0.002 >= prev_gap);
        prev_gap = gap;
    }
    ck_assert(prev_gap > 0.5); /* backed off towards timeout_max */
    /* A packet of the block after the NAK resets the back-off. */
    fc_naks_sent(&s, t, 0);
    fc_naks_data(&s, 1);
    ck_assert_uint_eq(s.tries, 0);
}
END_TEST

START_TEST(force)
{
    struct fc_nakst s;

    fc_naks_init(&s);
    fc_naks_force(&s, &cfg, 2.0, 0.5);
    ck_assert_uint_eq(s.phase, FC_NAKS_PENDING);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 2.0, 0, 200, 0.5), 0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 2.0 + cfg.backoff, 0, 200, 0.5), 1);
}
END_TEST

/* fc_naks_next() is when the receiver's network thread next wakes for a
 * block: the block acts exactly then and not a moment before, whatever the
 * phase; a block only DATA can make due has no time. */
START_TEST(next_is_when_it_acts)
{
    struct fc_nakst s;
    double t, nx;
    int i;

    fc_naks_init(&s);
    ck_assert(fc_naks_next(&s, &cfg, 0) >= FC_NAKS_NEVER); /* idle, nothing passed */
    fc_naks_data(&s, 10);
    fc_naks_passed(&s, 10);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0, 10, 2, 0.5), 0); /* within grace */
    ck_assert(fc_naks_next(&s, &cfg, 10) >= FC_NAKS_NEVER);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0, 30, 2, 0.5), 0); /* PENDING: back-off */
    nx = fc_naks_next(&s, &cfg, 30);
    ck_assert(nx > 1.0 && nx <= 1.0 + cfg.backoff);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, nx - 1e-6, 30, 2, 0.5), 0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, nx, 30, 2, 0.5), 1);
    /* Unanswered NAKs: each wake-up is the re-NAK, backing off. */
    t = nx;
    for (i = 0; i < 6; i++) {
        fc_naks_sent(&s, t, 30);
        nx = fc_naks_next(&s, &cfg, 30);
        ck_assert(nx >= t + cfg.repair_timeout - 1e-9 && nx <= t + cfg.timeout_max + 1e-9);
        ck_assert_int_eq(fc_naks_tick(&s, &cfg, nx - 1e-6, 30, 2, 0.0), 0);
        ck_assert_int_eq(fc_naks_tick(&s, &cfg, nx, 30, 2, 0.0), 1); /* u = 0: at once */
        t = nx;
    }
    /* A repair arrives after the NAK and DATA passes it: due after the
     * back-off, long before the repair timeout. */
    fc_naks_sent(&s, t, 30);
    fc_naks_data(&s, 31);
    ck_assert(fc_naks_next(&s, &cfg, 31) >= t + cfg.repair_timeout); /* not passed yet */
    nx = fc_naks_next(&s, &cfg, 31 + cfg.grace + 1);
    ck_assert(nx <= t + cfg.backoff + 1e-9);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, nx - 1e-6, 31 + cfg.grace + 1, 1, 0.0), 0);
    ck_assert_uint_eq(s.phase, FC_NAKS_WAIT);
    fc_naks_tick(&s, &cfg, nx, 31 + cfg.grace + 1, 1, 0.0);
    ck_assert_uint_eq(s.phase, FC_NAKS_PENDING);
    /* Complete: no time. */
    fc_naks_tick(&s, &cfg, nx, 100, 0, 0.0);
    ck_assert(fc_naks_next(&s, &cfg, 100) >= FC_NAKS_NEVER);
}
END_TEST

/* The idle sweep forced a block the server had not passed (its sender
 * stalled, it did not stop): once packets of it come again it is not asked
 * for every repair timeout while it is still being sent, only when it is
 * passed and still short, or by the next sweep (the stream really ended). */
START_TEST(forced_in_flight_waits_for_its_pass)
{
    struct fc_nakst s;
    double nx;

    fc_naks_init(&s);
    fc_naks_data(&s, 100);
    ck_assert(!fc_naks_stalled(&(struct fc_nakst){.phase = FC_NAKS_PENDING}));
    ck_assert(fc_naks_stalled(&s)); /* idle */
    fc_naks_force(&s, &cfg, 1.0, 0.0);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0, 100, 50, 0.0), 1);
    fc_naks_sent(&s, 1.0, 100);
    ck_assert(!fc_naks_stalled(&s)); /* nothing came yet: the repair timeout runs */
    fc_naks_data(&s, 101);           /* the block goes on */
    ck_assert(fc_naks_stalled(&s));
    ck_assert(fc_naks_next(&s, &cfg, 101) >= FC_NAKS_NEVER);
    ck_assert_int_eq(fc_naks_tick(&s, &cfg, 1.0 + 10 * cfg.timeout_max, 101, 40, 0.0), 0);
    /* Its last packet went by: passed, short by 2, due after the back-off. */
    fc_naks_passed(&s, 150);
    fc_naks_data(&s, 150);
    nx = fc_naks_next(&s, &cfg, 151 + cfg.grace);
    ck_assert(nx < FC_NAKS_NEVER);
    ck_assert(!fc_naks_stalled(&s));
    fc_naks_tick(&s, &cfg, nx, 151 + cfg.grace, 2, 0.0);
    ck_assert_uint_eq(s.phase, FC_NAKS_PENDING);
}
END_TEST

FC_TEST_MAIN("naksched", serial, due_after_grace_and_backoff, passed_block_without_packets,
             suppression, suppress_idle, renak_after_repair_passes, repair_timeout_backs_off, force,
             next_is_when_it_acts, forced_in_flight_waits_for_its_pass)
