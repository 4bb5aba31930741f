/* The server's repair rounds: NAKs for one block merge into the largest
 * `needed` (the neediest receiver), not the sum; each block is answered once
 * per round with fresh parity indices; a NAK made before the receiver could
 * see the last repair is stale; invalid entries, entries for chunks the
 * receiver has written and entries past its budget are refused. */
#include <string.h>

#include "server/server.h"
#include "tests/unit/unit.h"

/* repair.c's neighbours, reduced to what it asks of them: the receiver's
 * last report (which chunks it has written) and its repair budget. */
static uint32_t written_mask; /* bit c: the receiver reported chunk c written */
static unsigned budget_left;  /* repair packets it may still ask */
static struct fc_rx the_rx;

int fc_rx_lacks(const struct fc_rx *r, uint32_t c)
{
    (void)r;
    return !(written_mask & (1u << c));
}

int fc_rx_charge_repair(struct fc_session *s, struct fc_rx *rx, unsigned pkts)
{
    (void)s;
    (void)rx;
    if (pkts > budget_left)
        return -17;
    budget_left -= pkts;
    return 0;
}

static double clock_now = 1000.0;

double fc_server_now(const struct fc_session *s)
{
    (void)s;
    return clock_now;
}

static uint32_t sender_seq; /* the last DATA sequence the server sent */

uint32_t fc_sender_seq(const struct fc_session *s)
{
    (void)s;
    return sender_seq;
}

static uint32_t cursor_chunk = 99; /* the pass: chunks from here on are in flight */

int fc_sender_in_flight(const struct fc_session *s, uint32_t chunk, uint32_t block)
{
    (void)s;
    (void)block;
    return chunk >= cursor_chunk;
}

static struct fc_chunk chunks[3];
static struct fc_session srv;

static void setup(void)
{
    int i;

    cursor_chunk = 99;
    clock_now = 1000.0;
    written_mask = 0;
    budget_left = 1u << 30;
    memset(&srv, 0, sizeof(srv));
    for (i = 0; i < 3; i++)
        chunks[i].comp_size = 1448 * 300; /* 300 packets: 2 blocks of 150 at k 200 */
    srv.img.m.chunks = chunks;
    srv.img.m.n_chunks = 3;
    srv.cfg.payload = 1448;
    srv.cfg.k_max = 200;
    srv.state = FC_SS_SENDING;
    sender_seq = 2000;
    ck_assert_int_eq(fc_repair_init(&srv), 0);
}

static struct fc_nak n;

static void nak_build(uint32_t seq_seen, uint32_t chunk, uint16_t block, uint8_t needed)
{
    memset(&n, 0, sizeof(n));
    n.receiver_id = 1;
    n.seq_seen = seq_seen;
    n.count = 1;
    n.e[0].chunk = chunk;
    n.e[0].block = block;
    n.e[0].k = 150;
    n.e[0].needed = needed;
}

static void nak(uint32_t seq_seen, uint32_t chunk, uint16_t block, uint8_t needed)
{
    nak_build(seq_seen, chunk, block, needed);
    fc_repair_on_nak(&srv, &the_rx, &n);
}

static unsigned drain(uint32_t *chunk, uint32_t *block, uint8_t *first, uint8_t *last)
{
    unsigned n = 0;
    uint8_t p;

    while (fc_repair_next(&srv, chunk, block, &p)) {
        if (!n)
            *first = p;
        *last = p;
        n++;
    }
    return n;
}

START_TEST(test_max_not_sum)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    nak(10, 1, 1, 3);
    nak(10, 1, 1, 5); /* the neediest of fifty: 5 */
    nak(10, 1, 1, 2);
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 5);
    ck_assert_uint_eq(c, 1);
    ck_assert_uint_eq(b, 1);
    ck_assert_uint_eq(first, 150); /* fresh parity: wire indices from k */
    ck_assert_uint_eq(last, 154);
    fc_repair_free(&srv);
}
END_TEST

START_TEST(test_fresh_parity_and_stale_naks)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    nak(10, 0, 0, 2);
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 2);
    fc_repair_sent(&srv, 0, 0, 500); /* the last repair went out as seq 500 */
    nak(499, 0, 0, 2);               /* made before it could be seen: stale */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 0);
    ck_assert_uint_eq(srv.st.naks_stale, 1);
    nak(501, 0, 0, 1); /* after: a real new need, answered with new parity */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 1);
    ck_assert_uint_eq(first, 152);
    fc_repair_free(&srv);
}
END_TEST

START_TEST(test_queued_block_not_asked_twice)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    nak(10, 2, 0, 4);
    fc_repair_end_round(&srv);
    nak(10, 2, 0, 4); /* arrives while the answer still waits to be sent */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 4);
    fc_repair_free(&srv);
}
END_TEST

START_TEST(test_invalid_entries)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    nak(10, 3, 0, 1); /* no chunk 3 */
    nak(10, 0, 2, 1); /* no block 2 */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 0);
    ck_assert_uint_eq(srv.st.naks_bad, 2);
    fc_repair_free(&srv);
}
END_TEST

START_TEST(test_in_flight_is_stale)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    cursor_chunk = 1;
    nak(10, 1, 0, 7); /* the pass is still sending chunk 1 */
    nak(10, 0, 0, 1);
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 1);
    ck_assert_uint_eq(c, 0);
    ck_assert_uint_eq(srv.st.naks_stale, 1);
    fc_repair_free(&srv);
}
END_TEST

/* A block of 150 has 105 parity packets; once they are spent, the packets
 * the neediest receiver's bitmap lacks are sent again, not old parity. */
START_TEST(test_parity_spent_then_bitmap)
{
    uint32_t c, b;
    uint8_t idx;
    unsigned i;

    setup();
    nak(10, 0, 0, 105);
    fc_repair_end_round(&srv);
    for (i = 0; i < 105; i++) {
        ck_assert(fc_repair_next(&srv, &c, &b, &idx));
        ck_assert_uint_eq(idx, 150 + i);
    }
    ck_assert(!fc_repair_next(&srv, &c, &b, &idx));
    fc_repair_sent(&srv, 0, 0, 1000);
    nak_build(1001, 0, 0, 3);
    n.e[0].bitmap_len = 32; /* holds everything but sources 5, 6 and 7 */
    memset(n.e[0].bitmap, 0xff, 32);
    n.e[0].bitmap[0] = 0x1f;
    n.e[0].bitmap[31] = 0x7f; /* (index 255 does not exist) */
    memset(&srv.st, 0, sizeof(srv.st));
    fc_repair_on_nak(&srv, &the_rx, &n);
    fc_repair_end_round(&srv);
    for (i = 0; i < 3; i++) {
        ck_assert(fc_repair_next(&srv, &c, &b, &idx));
        ck_assert_uint_eq(idx, 5 + i);
    }
    fc_repair_free(&srv);
}
END_TEST

/* A receiver that lost the last repair packet sees nothing newer: once the
 * repair is old, its NAK counts again; and a seq_seen from the future (a
 * forged packet's number) never makes a NAK stale. */
START_TEST(test_stale_expires_and_future_seq)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    nak(10, 0, 0, 2);
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 2);
    fc_repair_sent(&srv, 0, 0, 1500);
    nak(1499, 0, 0, 1);
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 0); /* stale: too soon */
    clock_now += 0.5;
    nak(1499, 0, 0, 1);
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 1);
    fc_repair_sent(&srv, 0, 0, 1999);
    nak(1999 + 0x80000001u, 0, 0, 1); /* "before" 1999 in serial terms, and after 2000 */
    nak(3000, 0, 1, 1);               /* after what the server ever sent */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 2);
    fc_repair_free(&srv);
}
END_TEST

/* A receiver asks only for what its own report says it lacks, and only up
 * to its budget: what it adds to a round is charged (the max, not each
 * NAK), and past the budget its entries are ignored and counted. */
START_TEST(test_written_and_budget)
{
    uint32_t c, b;
    uint8_t first, last;

    setup();
    written_mask = 1u << 1;
    nak(10, 1, 0, 5); /* chunk 1 is written, by its own report */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 0);
    ck_assert_uint_eq(srv.st.naks_bad, 1);
    budget_left = 6;
    nak(10, 0, 0, 4);
    nak(10, 0, 0, 6); /* raises the block's answer by 2: charged 2 */
    nak(10, 2, 0, 3); /* over what is left */
    fc_repair_end_round(&srv);
    ck_assert_uint_eq(drain(&c, &b, &first, &last), 6);
    ck_assert_uint_eq(budget_left, 0);
    ck_assert_uint_eq(srv.st.naks_overbudget, 1);
    fc_repair_free(&srv);
}
END_TEST

FC_TEST_MAIN("repair", test_written_and_budget, test_stale_expires_and_future_seq,
             test_in_flight_is_stale, test_parity_spent_then_bitmap, test_max_not_sum,
             test_fresh_parity_and_stale_naks, test_queued_block_not_asked_twice,
             test_invalid_entries)
