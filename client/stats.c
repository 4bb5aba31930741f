/* --stats FILE: the receiver's counters as one small JSON object at exit,
 * written by hand so that fleetcast-recv needs no JSON library. */
#include <stdio.h>

#include "client/recv.h"
#include "common/error.h"
#include "common/log.h"

int fc__stats_write(const struct fc_recv *r, const char *path, int exit_code)
{
    const struct fc_recv_counters *n = &r->n;
    FILE *f = fopen(path, "w");

    if (!f) {
        fc_warn("cannot write stats to %s", path);
        return FC_EIO;
    }
    fprintf(f,
            "{\"chunks_total\": %u, \"chunks_written\": %u, \"bytes_written\": %llu, "
            "\"pkts_received\": %llu, \"pkts_lost\": %llu, \"pkts_duplicate\": %llu, "
            "\"pkts_dropped_new\": %llu, \"rejects\": %llu, \"hash_failures\": %llu, "
            "\"naks_sent\": %llu, \"nak_entries_sent\": %llu, \"naks_suppressed\": %llu, "
            "\"pkts_late\": %llu, \"idle_sweeps\": %llu, \"blocks_swept\": %llu, "
            "\"kernel_drops\": %llu, \"seq_jumps\": %llu, \"pkts_lost_reported\": %llu, "
            "\"rejoins\": %llu, \"wakeups\": %llu, \"data_wakeups\": %llu, "
            "\"tcp_chunks\": %llu, \"tcp_fetch_failed\": %llu, "
            "\"receiver_id\": %u, \"session\": %u, \"exit_code\": %d, "
            "\"check_ok\": %s}\n",
            r->have_m ? r->m.n_chunks : 0, n->chunks_written, (unsigned long long)n->bytes_written,
            (unsigned long long)n->pkts_received, (unsigned long long)n->pkts_lost,
            (unsigned long long)n->pkts_duplicate, (unsigned long long)n->pkts_dropped_new,
            (unsigned long long)n->rejects, (unsigned long long)n->hash_failures,
            (unsigned long long)n->naks_sent, (unsigned long long)n->nak_entries_sent,
            (unsigned long long)n->naks_suppressed, (unsigned long long)n->pkts_late,
            (unsigned long long)n->idle_sweeps, (unsigned long long)n->blocks_swept,
            (unsigned long long)n->kernel_drops, (unsigned long long)n->seq_jumps,
            (unsigned long long)n->pkts_lost_reported, (unsigned long long)n->rejoins,
            (unsigned long long)n->wakeups, (unsigned long long)n->data_wakeups,
            (unsigned long long)n->tcp_chunks, (unsigned long long)n->tcp_fetch_failed, r->rid,
            r->s.session, exit_code, r->check_ok ? "true" : "false");
    if (fclose(f) != 0) {
        fc_warn("cannot write stats to %s", path);
        return FC_EIO;
    }
    return 0;
}
