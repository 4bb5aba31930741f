/* When a receiver NAKs one FEC block (docs/protocol.md "When a receiver NAKs,
 * and suppression"): the block's NAK timer, as a small state machine with the
 * clock, the random back-off and the DATA sequence passed in, so it is pure
 * and unit-tested without sockets (tests/unit/test-naksched.c).
 *
 *   IDLE ──(passed: the server sent the block's end or went on to later data;
 *          then a grace of a few packets; still short)──▶ PENDING (back-off)
 *   PENDING ──(back-off over)──▶ entry sent ──▶ WAIT
 *   PENDING/IDLE ──(heard a NAK asking >= ours)──▶ WAIT (suppressed)
 *   WAIT ──(a packet of the block after the NAK, then passed again, + back-off;
 *          or no answer at all within the repair timeout)──▶ PENDING
 *   IDLE, or WAIT forced before the block was passed and fed since
 *        ──(no DATA at all for a while: the caller's idle sweep)──▶ PENDING */
#ifndef FC_CLIENT_NAKSCHED_H
#define FC_CLIENT_NAKSCHED_H

#include <stdint.h>

#include "common/bytes.h" /* fc_seq_after */

enum fc_naks_phase { FC_NAKS_IDLE = 0, FC_NAKS_PENDING, FC_NAKS_WAIT };

struct fc_naks_cfg {
    double backoff;        /* T: back-off uniform in [0, T), seconds */
    uint32_t grace;        /* DATA packets after a block's last one before it counts as passed */
    double repair_timeout; /* re-NAK when nothing of the block came this long after a NAK */
    double timeout_max;    /* the repair timeout doubles per unanswered NAK up to this */
};

/* The defaults used on a LAN: 5 ms back-off, 8 packets of grace for
 * reordering, 80 ms before a NAK is taken as lost, backing off to 1 s while
 * the server stays silent. */
#define FC_NAKS_CFG_DEFAULT                                                                        \
    {                                                                                              \
        0.005, 8, 0.080, 1.0                                                                       \
    }

struct fc_nakst {
    uint8_t phase;    /* enum fc_naks_phase */
    uint8_t ref_set;  /* ref_seq is known */
    uint8_t fresh;    /* WAIT: a packet of the block arrived after the NAK */
    uint8_t tries;    /* NAKs since the block last received anything */
    uint8_t passed;   /* the server has sent all of the block once */
    uint8_t asked;    /* NAKed before (by us, or one we heard): our NAKs carry the bitmap */
    uint32_t ref_seq; /* sequence of the block's latest packet, or where DATA passed it */
    uint32_t nak_seq; /* highest DATA sequence when NAKed or cancelled */
    double t;         /* PENDING: when the entry goes out; WAIT: when it went out */
};

void fc_naks_init(struct fc_nakst *s);
/* A packet of this block arrived with DATA sequence seq. */
void fc_naks_data(struct fc_nakst *s, uint32_t seq);
/* The server has moved past the block (the caller saw its last source
 * packet, a later block of its chunk, or new data of another chunk) at seq.
 * Only a passed block is ever due: DATA sequence gaps alone would make a
 * block still being sent look due whenever repairs for other blocks are
 * interleaved with it. */
void fc_naks_passed(struct fc_nakst *s, uint32_t seq);
/* Advances the timer of a block short of `missing` packets (0: complete) at
 * time now, max_seq the highest DATA sequence seen, u uniform in [0, 1).
 * Returns 1 when an entry for the block must go out now; the caller then
 * sends it and calls fc_naks_sent(). */
int fc_naks_tick(struct fc_nakst *s, const struct fc_naks_cfg *c, double now, uint32_t max_seq,
                 unsigned missing, double u);
void fc_naks_sent(struct fc_nakst *s, double now, uint32_t max_seq);
/* When fc_naks_tick() may next return 1 or change the phase if no DATA
 * arrives before (DATA wakes the caller anyway): the caller sleeps until
 * the earliest of its blocks' times instead of polling. FC_NAKS_NEVER when
 * only DATA can make the block due. Call it after fc_naks_tick() at the
 * same max_seq, so that a time already past means the block acts now. */
#define FC_NAKS_NEVER 1e300
double fc_naks_next(const struct fc_nakst *s, const struct fc_naks_cfg *c, uint32_t max_seq);
/* Another receiver NAKed this block asking `needed` while we miss `missing`.
 * Returns 1 if a pending entry of ours was cancelled (suppressed). */
int fc_naks_heard(struct fc_nakst *s, double now, uint32_t max_seq, unsigned needed,
                  unsigned missing);
/* Makes the block due after a back-off whatever DATA says: its chunk failed
 * the hash and was dropped, or nothing arrived for a while (end of a pass). */
void fc_naks_force(struct fc_nakst *s, const struct fc_naks_cfg *c, double now, double u);
/* 1 if nothing but an idle sweep (no DATA at all for a while) makes the
 * block due: it was never NAKed, or it was forced before the server passed
 * it and packets of it came since (still being sent, or the stream ended). */
int fc_naks_stalled(const struct fc_nakst *s);

#endif
