/* What a receiver reports as lost (client/seqloss.c): gaps in the DATA
 * sequence; reordered packets taken back; a far jump counted only once a
 * second packet confirms it, then as loss as far as the kernel's drops
 * explain it (a receiver whose socket overflowed by more than
 * FC_SEQ_JUMP_MAX reported none before; a forged pair counts nothing), and
 * undone, loss included, when the real stream comes back behind it; the kernel's drops on the
 * socket (SO_RXQ_OVFL, cumulative, wrapping) as the floor of the report; a report that never goes
 * down. */
#include <check.h>

#include "client/seqloss.h"
#include "tests/unit/unit.h"

START_TEST(gaps_and_reordering)
{
    struct fc_seqloss l = {0};

    ck_assert_int_eq(fc_seqloss_data(&l, 100), 0);
    fc_seqloss_data(&l, 101);
    fc_seqloss_data(&l, 105); /* 102..104 missing */
    ck_assert_uint_eq(l.lost, 3);
    fc_seqloss_data(&l, 103); /* late, not lost */
    ck_assert_uint_eq(l.lost, 2);
    ck_assert_uint_eq(l.late, 1);
    ck_assert_uint_eq(fc_seqloss_report(&l), 2);
    ck_assert_int_eq(fc_seqloss_data(&l, 105u - 10000u), 1); /* far behind: a restart */
    ck_assert_uint_eq(l.lost, 2);
}
END_TEST

/* A receiver descheduled long enough for its socket to drop 10 000 packets:
 * the gap is counted once the next packet confirms it. */
START_TEST(confirmed_jump_is_loss)
{
    struct fc_seqloss l = {0};

    fc_seqloss_data(&l, 1000);
    fc_seqloss_ovfl(&l, 10000); /* the kernel dropped them, the socket full */
    fc_seqloss_data(&l, 11001); /* 10 000 missing: believed only when confirmed */
    ck_assert_uint_eq(l.lost, 0);
    ck_assert_uint_eq(l.max_seq, 1000);
    fc_seqloss_data(&l, 11002);
    ck_assert_uint_eq(l.lost, 10000); /* 1001..11000 */
    ck_assert_uint_eq(l.jumps, 1);
    ck_assert_uint_eq(l.max_seq, 11002);
    ck_assert_uint_eq(fc_seqloss_report(&l), 10000);

    /* a cut link or a restarted server: a confirmed jump, nothing dropped here */
    fc_seqloss_data(&l, 30000);
    fc_seqloss_data(&l, 30001);
    ck_assert_uint_eq(l.max_seq, 30001);
    ck_assert_uint_eq(l.lost, 10000);
    ck_assert_uint_eq(l.jumps, 1);
    /* a jump bigger than what the kernel dropped counts what it dropped */
    fc_seqloss_ovfl(&l, 10000 + 5000);
    fc_seqloss_data(&l, 50000);
    fc_seqloss_data(&l, 50001);
    ck_assert_uint_eq(l.lost, 15000);
    ck_assert_uint_eq(l.jumps, 2);
}
END_TEST

/* Two forged packets far ahead, then the real stream: the jump's loss is
 * taken back, and the caller is told to forget its timers. */
START_TEST(forged_jump_undone)
{
    struct fc_seqloss l = {0};

    fc_seqloss_data(&l, 50);
    fc_seqloss_data(&l, 52); /* one real loss */
    fc_seqloss_data(&l, 900000);
    fc_seqloss_data(&l, 900001);
    ck_assert_uint_eq(l.lost, 1); /* the kernel dropped nothing: a forged pair counts nothing */
    ck_assert_uint_eq(fc_seqloss_report(&l), 1);
    fc_seqloss_ovfl(&l, 300); /* real drops meanwhile, then another forged pair */
    fc_seqloss_data(&l, 1900000);
    fc_seqloss_data(&l, 1900001);
    ck_assert_uint_eq(l.lost, 301);
    ck_assert_int_eq(fc_seqloss_data(&l, 53), 1); /* the real stream: the jump undone */
    ck_assert_uint_eq(l.lost, 1);
    ck_assert_uint_eq(l.max_seq, 53);
    fc_seqloss_data(&l, 55);
    ck_assert_uint_eq(l.lost, 2);
}
END_TEST

/* The kernel's count is cumulative for the socket and wraps; a new socket
 * starts it over; the report is the larger of the two, and never less. */
START_TEST(kernel_drops_floor_the_report)
{
    struct fc_seqloss l = {0};

    fc_seqloss_data(&l, 10);
    fc_seqloss_data(&l, 12); /* one gap */
    fc_seqloss_ovfl(&l,
                    40); /* the socket dropped 40: NAKs of others, DATA the sequence cannot see */
    ck_assert_uint_eq(l.kernel_drops, 40);
    ck_assert_uint_eq(fc_seqloss_report(&l), 40);
    fc_seqloss_ovfl(&l, 40); /* the same count again: nothing new */
    ck_assert_uint_eq(l.kernel_drops, 40);
    fc_seqloss_data(&l, 100); /* 87 more in the sequence */
    ck_assert_uint_eq(fc_seqloss_report(&l), 88);
    fc_seqloss_data(&l, 99); /* reordered: the gap count goes down, the report not */
    ck_assert_uint_eq(l.lost, 87);
    ck_assert_uint_eq(fc_seqloss_report(&l), 88);

    l.ovfl_last = 0xfffffff0u; /* the kernel's u32 wraps */
    fc_seqloss_ovfl(&l, 0x10);
    ck_assert_uint_eq(l.kernel_drops, 40 + 0x20);
    fc_seqloss_restart(&l, 1); /* a new socket: its count starts at 0 */
    fc_seqloss_ovfl(&l, 5);
    ck_assert_uint_eq(l.kernel_drops, 40 + 0x20 + 5);
    ck_assert_uint_eq(fc_seqloss_report(&l), 88); /* 77 dropped, 88 reported before */
    fc_seqloss_ovfl(&l, 30);
    ck_assert_uint_eq(fc_seqloss_report(&l), 40 + 0x20 + 30);
    ck_assert_int_eq(l.seq_set, 0);
}
END_TEST

FC_TEST_MAIN("seqloss", gaps_and_reordering, confirmed_jump_is_loss, forged_jump_undone,
             kernel_drops_floor_the_report)
