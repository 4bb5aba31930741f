/* Loss as the receiver counts it. Only packets that came from the server's
 * address to the group and fit the manifest get here; but those can still be
 * forged. So a gap counts as loss at once only up to FC_SEQ_JUMP_MAX; a jump
 * further ahead moves nothing until a second packet close after it confirms
 * it, and is then counted as loss as far as the kernel's drops on our socket
 * since the previous jump explain it (issue 9: a receiver starved of CPU
 * overflows its socket buffer by more than that, and used to report no loss
 * at all, so rate control never heard of it while it NAKed whole blocks). A
 * jump the kernel did not cause (a cut link, a restarted server, a forged
 * pair) counts nothing, so two forged packets cannot make every receiver
 * report a storm of loss; the next real packet (far behind: taken as a
 * restart) undoes a forged jump, and the loss it counted. The kernel's drop
 * count on the socket cannot be forged from the LAN (a flood that fills the
 * buffer is real loss) and is the floor of what is reported. */
#include "client/seqloss.h"

static void jump_undone(struct fc_seqloss *l)
{
    l->lost -= l->jump_lost <= l->lost ? l->jump_lost : l->lost;
    l->jump_lost = 0;
}

int fc_seqloss_data(struct fc_seqloss *l, uint32_t seq)
{
    uint32_t gap;

    if (!l->seq_set) {
        l->seq_set = 1;
        l->max_seq = seq;
        return 0;
    }
    if (!fc_seq_after(seq, l->max_seq)) {
        if (l->max_seq - seq > FC_SEQ_JUMP_MAX) {
            jump_undone(l);
            l->max_seq = seq;
            l->jump_set = 0;
            return 1;
        }
        if (seq != l->max_seq && l->lost) {
            l->lost--; /* late, not lost: reordering */
            l->late++;
        }
        return 0;
    }
    gap = seq - l->max_seq - 1;
    if (gap < FC_SEQ_JUMP_MAX) {
        l->lost += gap;
        l->max_seq = seq;
        return 0;
    }
    if (l->jump_set && fc_seq_after(seq, l->jump_seq) && seq - l->jump_seq < FC_SEQ_JUMP_MAX) {
        /* confirmed: an overflow (lost), a long cut or a new stream */
        uint64_t gap_lost = seq - l->max_seq - 2, drops = l->kernel_drops - l->jump_mark;

        l->jump_lost = gap_lost < drops ? gap_lost : drops; /* the jump's first packet came */
        l->jump_mark = l->kernel_drops;
        l->lost += l->jump_lost;
        l->jumps += l->jump_lost > 0;
        l->max_seq = seq;
        l->jump_set = 0;
        return 0;
    }
    l->jump_set = 1;
    l->jump_seq = seq;
    return 0;
}

void fc_seqloss_ovfl(struct fc_seqloss *l, uint32_t drops)
{
    if (l->ovfl_set)
        l->kernel_drops += (uint32_t)(drops - l->ovfl_last);
    else
        l->kernel_drops += drops; /* the socket's count starts at 0 when it is made */
    l->ovfl_set = 1;
    l->ovfl_last = drops;
}

void fc_seqloss_restart(struct fc_seqloss *l, int new_socket)
{
    l->seq_set = l->jump_set = 0;
    l->jump_lost = 0;
    if (new_socket)
        l->ovfl_set = 0;
}

uint64_t fc_seqloss_report(struct fc_seqloss *l)
{
    uint64_t v = l->lost > l->kernel_drops ? l->lost : l->kernel_drops;

    if (v > l->reported)
        l->reported = v;
    return l->reported;
}
