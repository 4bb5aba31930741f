/* Rate control from the loss the receivers report. Random loss on a link is
 * not a reason to slow down (it is what repair is for); loss that climbs
 * above a receiver's usual level is congestion (queues overflowing on the
 * way, or a receiver that cannot keep up), and the sender backs off by a
 * quarter, then recovers by a tenth of the cap per second (AIMD). One bad
 * link therefore slows the session instead of drowning it in repairs; a
 * receiver past the drop threshold is left to the drop rule instead.
 * A receiver whose own socket overflowed (PROGRESS's overflow count: the
 * kernel dropped what it could not read in time) is congestion from its
 * first report, whatever its link's floor: at 50 receivers on a few cores
 * that loss is there from the start, and a floor taken from it would never
 * let the rate come down while every repair adds to the load.
 * Each report's figure is judged once: with many receivers their report
 * interval is longer than this 1 s tick (receivers.c), and a figure seen
 * again must not back off again.
 * The same tick hands the sender the worst loss an active receiver reports,
 * which sizes the parity sent with the pass (sender.c). */
#include "common/log.h"
#include "server/server.h"

#define BACKOFF 0.75
#define RECOVER 0.10
#define FLOOR_MARGIN 0.02
#define MIN_FRACTION 0.10
#define OVERFLOW_MIN 0.005 /* of the packets since its last report */

static int congested(const struct fc_session *s, const struct fc_rx **who)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++) {
        const struct fc_rx *r = &s->rx[i];
        double margin = r->loss_floor > FLOOR_MARGIN ? r->loss_floor : FLOOR_MARGIN;
        if (r->status != FC_RXS_ACTIVE || !r->loss_fresh)
            continue;
        if (r->overflow_recent > OVERFLOW_MIN) {
            *who = r;
            return 1;
        }
        if (r->loss_samples < 2 || r->loss_link >= s->cfg.drop_loss)
            continue;
        if (r->loss_link > r->loss_floor + margin) {
            *who = r;
            return 1;
        }
    }
    return 0;
}

double fc_ratectl_worst_loss(const struct fc_session *s)
{
    double worst = -1;
    uint32_t i;

    for (i = 0; i < s->n_rx; i++) {
        double l = fc_rx_recent_loss(s, &s->rx[i]);
        if (l > worst)
            worst = l;
    }
    return worst;
}

void fc_ratectl_tick(struct fc_session *s)
{
    const struct fc_rx *who = NULL;
    double rate = fc_sender_rate(s), rate_max = fc_sender_rate_max(s);

    if (congested(s, &who)) {
        rate *= BACKOFF;
        if (rate < rate_max * MIN_FRACTION)
            rate = rate_max * MIN_FRACTION;
        fc_info("session %08x: machine %s loses %.1f%% (usually %.1f%%; its own socket "
                "dropped %.1f%%): rate down to %.1f Mbit/s",
                s->session_id, who->name, (who->loss_link + who->overflow_recent) * 100,
                who->loss_floor * 100, who->overflow_recent * 100, rate * 8 / 1e6);
    } else if (rate < rate_max) {
        rate += rate_max * RECOVER;
        if (rate > rate_max)
            rate = rate_max;
    }
    fc_sender_set_rate(s, rate);
    fc_sender_observe_loss(s, fc_ratectl_worst_loss(s));
    fc_rx_loss_used(s);
}
