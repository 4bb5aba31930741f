/* What a receiver counts as lost DATA (docs/protocol.md, "Counters that
 * cannot be poisoned"; docs/design.md "Loss a receiver reports"): gaps in
 * the DATA sequence, far jumps once confirmed, and the kernel's own drops
 * on the data socket (SO_RXQ_OVFL). Pure, with the sequence numbers and
 * the kernel's counter passed in, so it is unit-tested without sockets
 * (tests/unit/test-seqloss.c). */
#ifndef FC_CLIENT_SEQLOSS_H
#define FC_CLIENT_SEQLOSS_H

#include <stdint.h>

#include "common/bytes.h" /* fc_seq_after */

/* A larger jump: a long cut, a descheduled receiver whose socket overflowed,
 * a new stream (server restart), or a forgery. */
#define FC_SEQ_JUMP_MAX 4096

struct fc_seqloss {
    int seq_set;
    uint32_t max_seq; /* highest DATA sequence believed */
    int jump_set;     /* a far jump seen once: believed when a second packet confirms it */
    uint32_t jump_seq;
    uint64_t jump_lost; /* loss counted for the last confirmed jump: undone if it was forged */
    uint64_t jump_mark; /* kernel_drops when the last confirmed jump was counted */
    int ovfl_set;
    uint32_t ovfl_last;    /* the kernel's last drop count (it wraps at 2^32) */
    uint64_t lost;         /* sequence gaps, confirmed jumps included */
    uint64_t late;         /* DATA behind a later packet: counted lost, then not */
    uint64_t jumps;        /* far jumps confirmed and counted as loss */
    uint64_t kernel_drops; /* datagrams the kernel dropped on the socket: its buffer was full */
    uint64_t reported;     /* the last loss reported: it never goes down */
};

/* One DATA sequence number: 1 when it was far behind what we believed (a
 * restarted count, or a forged jump undone): the caller's NAK timers ran on
 * numbers no longer believed. */
int fc_seqloss_data(struct fc_seqloss *l, uint32_t seq);
/* The kernel's drop count of the socket, as a datagram's SO_RXQ_OVFL
 * message gives it (cumulative for the socket). */
void fc_seqloss_ovfl(struct fc_seqloss *l, uint32_t drops);
/* The socket was opened again (its kernel count starts over) or the
 * stream restarted: the next numbers start afresh, the totals stay. */
void fc_seqloss_restart(struct fc_seqloss *l, int new_socket);
/* The loss PROGRESS reports: the larger of the gaps and the kernel's drops
 * (each drop of DATA leaves a gap, so they agree when both see it; the
 * kernel's count is the floor when the sequence cannot tell), never less
 * than before (the server takes a smaller count for a restarted receiver). */
uint64_t fc_seqloss_report(struct fc_seqloss *l);

#endif
