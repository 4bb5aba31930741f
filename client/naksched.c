/* The per-block NAK timer of fleetcast-recv (see naksched.h): when a block is
 * due, its random back-off, suppression by other receivers' NAKs, and when
 * to ask again. No sockets, no clock of its own, no randomness of its own. */
#include "client/naksched.h"

#include <string.h>

void fc_naks_init(struct fc_nakst *s)
{
    memset(s, 0, sizeof(*s));
}

void fc_naks_data(struct fc_nakst *s, uint32_t seq)
{
    if (!s->ref_set || fc_seq_after(seq, s->ref_seq))
        s->ref_seq = seq;
    s->ref_set = 1;
    if (s->phase == FC_NAKS_WAIT && fc_seq_after(seq, s->nak_seq)) {
        /* Something the server sent after our NAK: the repair is flowing,
         * so the block is judged again by the ordinary "passed" rule. */
        s->fresh = 1;
        s->tries = 0;
    }
}

void fc_naks_passed(struct fc_nakst *s, uint32_t seq)
{
    s->passed = 1;
    if (!s->ref_set) {
        s->ref_seq = seq;
        s->ref_set = 1;
    }
}

static int passed(const struct fc_nakst *s, const struct fc_naks_cfg *c, uint32_t max_seq)
{
    return s->passed && fc_seq_after(max_seq, s->ref_seq + c->grace);
}

static void make_pending(struct fc_nakst *s, const struct fc_naks_cfg *c, double now, double u)
{
    s->phase = FC_NAKS_PENDING;
    s->t = now + u * c->backoff;
}

/* Unanswered NAKs (the server restarting, a link cut) back off
 * exponentially so a dead server is not flooded. */
static double repair_timeout(const struct fc_nakst *s, const struct fc_naks_cfg *c)
{
    double t = c->repair_timeout;
    unsigned i;

    for (i = 1; i < s->tries && t < c->timeout_max; i++)
        t *= 2;
    return t < c->timeout_max ? t : c->timeout_max;
}

/* The repair timeout is for a NAK nothing answered. A block forced while the
 * server had not passed it yet (the idle sweep during a stall of the
 * stream, not its end) that then gets packets is still being sent: asking
 * again every repair timeout until it is passed was a NAK every 80 ms from
 * every receiver of a lab whose sender stalled. It is judged again when it
 * is passed, or by the next idle sweep (fc_naks_stalled). */
static int timeout_counts(const struct fc_nakst *s)
{
    return !s->fresh || s->passed;
}

int fc_naks_stalled(const struct fc_nakst *s)
{
    return s->phase == FC_NAKS_IDLE || (s->phase == FC_NAKS_WAIT && !timeout_counts(s));
}

int fc_naks_tick(struct fc_nakst *s, const struct fc_naks_cfg *c, double now, uint32_t max_seq,
                 unsigned missing, double u)
{
    if (missing == 0) {
        s->phase = FC_NAKS_IDLE;
        return 0;
    }
    switch (s->phase) {
    case FC_NAKS_IDLE:
        if (passed(s, c, max_seq))
            make_pending(s, c, now, u);
        break;
    case FC_NAKS_WAIT:
        /* The repair we asked for came and DATA moved past it, with a
         * back-off as after the first NAK; or nothing came at all. */
        if ((s->fresh && passed(s, c, max_seq) && now >= s->t + c->backoff) ||
            (timeout_counts(s) && now >= s->t + repair_timeout(s, c)))
            make_pending(s, c, now, u);
        break;
    default:
        break;
    }
    return s->phase == FC_NAKS_PENDING && now >= s->t;
}

double fc_naks_next(const struct fc_nakst *s, const struct fc_naks_cfg *c, uint32_t max_seq)
{
    double t;

    switch (s->phase) {
    case FC_NAKS_PENDING:
        return s->t;
    case FC_NAKS_WAIT:
        t = timeout_counts(s) ? s->t + repair_timeout(s, c) : FC_NAKS_NEVER;
        if (s->fresh && passed(s, c, max_seq) && s->t + c->backoff < t)
            t = s->t + c->backoff;
        return t;
    default:
        return FC_NAKS_NEVER; /* only new DATA can make it due */
    }
}

void fc_naks_sent(struct fc_nakst *s, double now, uint32_t max_seq)
{
    s->phase = FC_NAKS_WAIT;
    s->t = now;
    s->nak_seq = max_seq;
    s->fresh = 0;
    s->asked = 1;
    if (s->tries < 255)
        s->tries++;
}

int fc_naks_heard(struct fc_nakst *s, double now, uint32_t max_seq, unsigned needed,
                  unsigned missing)
{
    int was_pending = s->phase == FC_NAKS_PENDING;

    if (missing == 0 || needed < missing || s->phase == FC_NAKS_WAIT)
        return 0;
    /* The server's answer to that NAK carries enough fresh parity for our
     * holes too: wait for it as if we had asked ourselves. */
    s->phase = FC_NAKS_WAIT;
    s->t = now;
    s->nak_seq = max_seq;
    s->fresh = 0;
    s->asked = 1;
    return was_pending;
}

void fc_naks_force(struct fc_nakst *s, const struct fc_naks_cfg *c, double now, double u)
{
    if (s->phase != FC_NAKS_PENDING)
        make_pending(s, c, now, u);
}
