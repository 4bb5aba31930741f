/* THE session state machine. Every state change happens here and is logged:
 *   WAITING  --start policy met-->  SENDING  --pass done-->  REPAIR
 *   SENDING/REPAIR --every receiver done, failed or dropped--> FINISHED
 *   any --operator or fatal error--> ABORTED
 * The 1 s tick applies the drop rules, rate control and the status line.
 * Its life: four handles (fc_session_init_handles); on FINISHED or ABORTED
 * the daemon keeps a summary and forgets it, its handles close, and the last
 * close callback frees it (fc_daemon_free_session). Nothing here runs the
 * loop, and nothing frees it before libuv is done with its handles. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/meter.h"
#include "server/server.h"

#define STATUS_EVERY 5.0

const char *fc_session_state_name(enum fc_sess_state st)
{
    static const char *names[] = {"waiting", "sending", "repair", "finished", "aborted"};
    return names[st];
}

static void set_state(struct fc_session *s, enum fc_sess_state st, const char *why)
{
    fc_info("session %08x: %s -> %s (%s)", s->session_id, fc_session_state_name(s->state),
            fc_session_state_name(st), why);
    s->state = st;
    if (st == FC_SS_SENDING)
        s->started_wall = (int64_t)time(NULL);
    if (st == FC_SS_FINISHED || st == FC_SS_ABORTED)
        s->ended_wall = (int64_t)time(NULL);
    fc_api_session_changed(s);
}

/* The session is over: the daemon keeps its summary and decides what next
 * (exit in one-shot mode, keep serving other sessions otherwise); then its
 * handles close. This may run deep in a call stack (a DONE, a drop in the
 * tick, the sender's last packet): s stays valid until the close callbacks
 * run on a later loop iteration, so the callers above may still read it. */
static void end_session(struct fc_session *s)
{
    fc_daemon_session_ended(s->d, s);
    fc_session_release(s);
}

/* --max-wait counts from the first join, as in udpcast: a session created
 * hours before its machines boot (a schedule, an operator who sets it up
 * in the evening) still gives the rest of them max_wait seconds to join
 * after the first one, instead of streaming to whoever boots first. The
 * first join stays the mark even if that receiver is dropped later. */
static void note_first_join(struct fc_session *s, uint32_t active)
{
    if (s->first_join_wall || active == 0)
        return;
    s->first_join_at = fc_server_now(s);
    s->first_join_wall = (int64_t)time(NULL);
    if (s->cfg.max_wait > 0 && active < s->cfg.min_receivers)
        fc_info("session %08x: first receiver joined; starting at %u receivers or in %.0f s",
                s->session_id, s->cfg.min_receivers, s->cfg.max_wait);
}

void fc_session_resume_first_join(struct fc_session *s, int64_t wall)
{
    int64_t ago = (int64_t)time(NULL) - wall;

    if (wall <= 0 || s->first_join_wall)
        return;
    s->first_join_wall = wall;
    s->first_join_at = fc_server_now(s) - (double)(ago > 0 ? ago : 0);
}

int64_t fc_session_start_deadline(const struct fc_session *s)
{
    if (!s->first_join_wall || s->cfg.max_wait <= 0)
        return 0;
    return s->first_join_wall + (int64_t)(s->cfg.max_wait + 0.5);
}

void fc_session_maybe_start(struct fc_session *s)
{
    uint32_t active = fc_rx_count(s, FC_RXS_ACTIVE);
    char why[96];

    if (s->state != FC_SS_WAITING)
        return;
    note_first_join(s, active);
    if (active == 0 && !s->force_start)
        return;
    if (s->force_start)
        snprintf(why, sizeof(why), "started by the operator with %u receivers", active);
    else if (active >= s->cfg.min_receivers)
        snprintf(why, sizeof(why), "%u of %u receivers joined", active, s->cfg.min_receivers);
    else if (s->cfg.max_wait > 0 && fc_server_now(s) - s->first_join_at >= s->cfg.max_wait)
        snprintf(why, sizeof(why), "max-wait %.0f s after the first join, with %u of %u receivers",
                 s->cfg.max_wait, active, s->cfg.min_receivers);
    else
        return;
    s->sending_at = fc_server_now(s);
    set_state(s, FC_SS_SENDING, why);
    fc_sender_begin_pass(s);
}

void fc_session_pass_done(struct fc_session *s)
{
    if (s->state == FC_SS_SENDING)
        set_state(s, FC_SS_REPAIR, "first pass sent; repairs and catch-up");
    fc_session_check_end(s);
}

void fc_session_check_end(struct fc_session *s)
{
    uint32_t active = fc_rx_count(s, FC_RXS_ACTIVE);

    if (s->state != FC_SS_SENDING && s->state != FC_SS_REPAIR)
        return;
    if (active > 0 || s->n_rx == 0)
        return;
    s->finished_at = fc_server_now(s);
    s->exit_code = fc_rx_count(s, FC_RXS_DONE) == s->n_rx ? 0 : 1;
    set_state(s, FC_SS_FINISHED,
              s->exit_code ? "every receiver ended, NOT all of them done" : "every receiver done");
    end_session(s);
}

void fc_session_abort(struct fc_session *s, uint8_t reason, const char *why)
{
    uint32_t i;

    if (s->state == FC_SS_FINISHED || s->state == FC_SS_ABORTED)
        return;
    for (i = 0; i < s->n_rx; i++)
        if (s->rx[i].status == FC_RXS_ACTIVE)
            fc_rx_send_abort(s, &s->rx[i], reason, why);
    s->finished_at = fc_server_now(s);
    s->exit_code = 2;
    set_state(s, FC_SS_ABORTED, why);
    end_session(s);
}

void fc_session_force_start(struct fc_session *s)
{
    s->force_start = 1;
    fc_session_maybe_start(s);
}

#define SESSION_HANDLES 4 /* the group socket and three timers */

void fc_session_init_handles(struct fc_session *s, uv_loop_t *loop)
{
    s->loop = loop;
    uv_udp_init(loop, &s->group);
    uv_timer_init(loop, &s->send_timer);
    uv_timer_init(loop, &s->round_timer);
    uv_timer_init(loop, &s->tick_timer);
    s->group.data = s->send_timer.data = s->round_timer.data = s->tick_timer.data = s;
}

/* Every handle of a session closes through here; the session is freed when
 * the last one has closed, never right after uv_close and never by running
 * the loop from inside a callback. */
void fc_session_handle_closed(uv_handle_t *h)
{
    struct fc_session *s = h->data;

    if (++s->handles_closed == SESSION_HANDLES)
        fc_daemon_free_session(s);
}

/* Closing a handle cancels its callbacks: no timer or read of this session
 * runs after this returns. */
void fc_session_release(struct fc_session *s)
{
    if (s->closed)
        return;
    s->closed = 1;
    uv_close((uv_handle_t *)&s->group, fc_session_handle_closed);
    fc_netio_close(s); /* the data socket; the group handle is closing already */
    uv_close((uv_handle_t *)&s->send_timer, fc_session_handle_closed);
    uv_close((uv_handle_t *)&s->round_timer, fc_session_handle_closed);
    uv_close((uv_handle_t *)&s->tick_timer, fc_session_handle_closed);
}

static void apply_drop_rules(struct fc_session *s, double now)
{
    uint32_t i;

    for (i = 0; i < s->n_rx; i++) {
        struct fc_rx *r = &s->rx[i];
        /* A stall counts from the start of sending at the earliest: the
         * time a machine waited for the others to join is not its own. */
        double since = r->last_advance > s->sending_at ? r->last_advance : s->sending_at;
        char why[96];

        if (r->status != FC_RXS_ACTIVE)
            continue;
        /* Its link's loss: a socket that overflows is rate control's to
         * cure (the sender slows down), not a reason to drop the machine. */
        r->lossy_secs = r->loss_link > s->cfg.drop_loss ? r->lossy_secs + 1 : 0;
        if (now - r->last_seen > s->cfg.drop_silent) {
            snprintf(why, sizeof(why), "silent for %.0f s", now - r->last_seen);
            fc_rx_drop(s, r, FC_REASON_SILENT, why);
        } else if (s->state != FC_SS_WAITING && r->best_done < s->img.m.n_chunks &&
                   now - since > s->cfg.drop_stall) {
            /* Every chunk written: it is finishing (fsync, read-back, the
             * clone's identity and hooks, each bounded on its side), not
             * stalled; silence still drops it. */
            snprintf(why, sizeof(why), "no chunk written for %.0f s", now - since);
            fc_rx_drop(s, r, FC_REASON_BEHIND, why);
        } else if (r->lossy_secs >= 10) {
            snprintf(why, sizeof(why), "losing %.0f%% of packets for 10 s", r->loss_link * 100);
            fc_rx_drop(s, r, FC_REASON_BEHIND, why);
        }
    }
}

/* --max-time: a session ends by a time the operator chose, whoever is
 * left (a machine that never finishes must not keep the passes going). */
static void apply_deadline(struct fc_session *s, double now)
{
    char why[96];
    uint32_t i;

    int64_t wall = (int64_t)time(NULL);
    int by_clock = s->cfg.deadline_wall && wall >= s->cfg.deadline_wall;

    if (s->deadline_passed || (!by_clock && (s->cfg.max_time <= 0 || s->state == FC_SS_WAITING ||
                                             now - s->sending_at < s->cfg.max_time)))
        return;
    s->deadline_passed = 1;
    if (by_clock && s->state == FC_SS_WAITING) {
        fc_session_abort(s, FC_REASON_DEADLINE, "the deadline passed before the session started");
        return;
    }
    if (by_clock)
        snprintf(why, sizeof(why), "the schedule's deadline passed");
    else
        snprintf(why, sizeof(why), "session deadline passed (--max-time %.0f s)", s->cfg.max_time);
    fc_warn("session %08x: %s; failing the %u unfinished", s->session_id, why,
            fc_rx_count(s, FC_RXS_ACTIVE));
    for (i = 0; i < s->n_rx; i++)
        fc_rx_fail(s, &s->rx[i], FC_REASON_DEADLINE, why);
}

static void status_line(struct fc_session *s, double now)
{
    uint64_t done = 0, total = (uint64_t)s->img.m.n_chunks * (s->n_rx ? s->n_rx : 1);
    uint64_t sent = s->st.data_pkts + s->st.catchup_pkts;
    char rate[16];
    uint32_t i;

    for (i = 0; i < s->n_rx; i++)
        done += s->rx[i].status == FC_RXS_DONE ? s->img.m.n_chunks : s->rx[i].p.chunks_done;
    fc_info("session %08x: %s, %.0f s, rate %s/s, chunks %.1f%% written, receivers %u active %u "
            "done %u failed %u dropped, repair %.1f%% of data",
            s->session_id, fc_session_state_name(s->state), now - s->started_at,
            fc_human_bytes((uint64_t)fc_sender_rate(s), rate, sizeof(rate)),
            total ? 100.0 * (double)done / (double)total : 0, fc_rx_count(s, FC_RXS_ACTIVE),
            fc_rx_count(s, FC_RXS_DONE), fc_rx_count(s, FC_RXS_FAILED),
            fc_rx_count(s, FC_RXS_DROPPED),
            sent ? 100.0 * (double)s->st.repair_pkts / (double)sent : 0);
}

/* Each step may end the session (the last receiver dropped or failed):
 * the steps after it would act on a session that is closing. */
void fc_session_tick(struct fc_session *s)
{
    double now = fc_server_now(s);

    fc_session_maybe_start(s);
    fc_joins_expire(s, now);
    apply_drop_rules(s, now);
    if (!s->closed)
        apply_deadline(s, now);
    if (s->closed)
        return;
    if (s->state == FC_SS_SENDING || s->state == FC_SS_REPAIR)
        fc_ratectl_tick(s);
    if (s->cfg.verbose || (int)(now - s->started_at) % (int)STATUS_EVERY == 0)
        status_line(s, now);
}

static void tick_cb(uv_timer_t *t)
{
    fc_session_tick(t->data);
}

static void round_cb(uv_timer_t *t)
{
    fc_repair_end_round(t->data);
}

void fc_session_start_tick(struct fc_session *s, int64_t created_wall)
{
    s->started_at = fc_server_now(s);
    s->created_wall = created_wall ? created_wall : (int64_t)time(NULL);
    uv_timer_start(&s->tick_timer, tick_cb, 1000, 1000);
    /* A round is a few group round-trips: receivers back off up to 5 ms. */
    uv_timer_start(&s->round_timer, round_cb, 10, 10);
}
