/* The session's counters: the final table on the log and the JSON stats file
 * (`--stats FILE`) that tests, benchmarks and later the console read. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>

#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "server/server.h"

/* One receiver-to-JSON function (api.c: names escaped, never dropped), and
 * what the stats file adds for tests and benchmarks. */
static json_t *rx_json(const struct fc_session *s, const struct fc_rx *r)
{
    json_t *j = fc_api_machine_json(s, r);
    char ip[INET_ADDRSTRLEN];

    if (!j)
        return NULL;
    inet_ntop(AF_INET, &r->addr.sin_addr, ip, sizeof(ip));
    json_object_set_new(j, "address", json_string(ip));
    json_object_set_new(j, "status", json_string(fc_rx_status_name(r->status)));
    json_object_set_new(j, "chunks_done", json_integer((json_int_t)r->p.chunks_done));
    json_object_set_new(j, "bytes_written", json_integer((json_int_t)r->p.bytes_written));
    json_object_set_new(j, "pkts_received", json_integer((json_int_t)r->p.pkts_received));
    json_object_set_new(j, "rejects", json_integer((json_int_t)r->p.rejects));
    json_object_set_new(j, "seconds",
                        json_real((r->done_at ? r->done_at : fc_server_now(s)) - r->joined_at));
    return j;
}

int fc_stats_write(const struct fc_session *s, const char *path)
{
    const struct fc_stats *st = &s->st;
    json_t *j, *arr = json_array();
    double secs = (s->finished_at ? s->finished_at : fc_server_now(s)) -
                  (s->sending_at ? s->sending_at : s->started_at);
    uint32_t i;
    int rc;

    for (i = 0; i < s->n_rx; i++)
        json_array_append_new(arr, rx_json(s, &s->rx[i]));
    j = json_pack("{s:s, s:I, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                  "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                  "state", fc_session_state_name(s->state), "session_id", (json_int_t)s->session_id,
                  "image", s->cfg.image_path, "seconds", secs, "image_bytes",
                  (json_int_t)s->img.m.compressed_bytes, "data_pkts", (json_int_t)st->data_pkts,
                  "fec_pkts", (json_int_t)st->fec_pkts, "repair_pkts", (json_int_t)st->repair_pkts,
                  "catchup_pkts", (json_int_t)st->catchup_pkts, "udp_bytes",
                  (json_int_t)st->udp_bytes, "wire_bytes", (json_int_t)st->wire_bytes, "naks",
                  (json_int_t)st->naks, "nak_entries", (json_int_t)st->nak_entries, "naks_stale",
                  (json_int_t)st->naks_stale, "naks_bad", (json_int_t)st->naks_bad, "rejects",
                  (json_int_t)st->rejects, "receiver_rejects", (json_int_t)st->rx_rejects, "rounds",
                  (json_int_t)st->rounds, "send_errors", (json_int_t)st->send_errors,
                  "receivers_done", (json_int_t)fc_rx_count(s, FC_RXS_DONE), "receivers_failed",
                  (json_int_t)fc_rx_count(s, FC_RXS_FAILED), "receivers_dropped",
                  (json_int_t)fc_rx_count(s, FC_RXS_DROPPED), "receivers", arr);
    if (!j)
        return FC_ENOMEM;
    /* What hostile hosts cost: packets refused by authentication, and
     * repair refused past a receiver's budget. */
    json_object_set_new(j, "naks_unauth", json_integer((json_int_t)st->naks_unauth));
    json_object_set_new(j, "naks_overbudget", json_integer((json_int_t)st->naks_overbudget));
    json_object_set_new(j, "auth_fail", json_integer((json_int_t)st->auth_fail));
    json_object_set_new(j, "joins_refused", json_integer((json_int_t)st->joins_refused));
    json_object_set_new(j, "joins_throttled", json_integer((json_int_t)st->joins_throttled));
    /* Chunks that failed their hash twice at a receiver, sent over TCP. */
    json_object_set_new(j, "tcp_chunks", json_integer((json_int_t)st->tcp_chunks));
    json_object_set_new(j, "tcp_refused", json_integer((json_int_t)st->tcp_refused));
    rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? FC_EIO : 0;
    json_decref(j);
    if (rc)
        fc_error("cannot write stats to %s", path);
    return rc;
}

void fc_stats_log_summary(const struct fc_session *s)
{
    const struct fc_stats *st = &s->st;
    uint64_t data = st->data_pkts + st->catchup_pkts;
    char b1[16], b2[16];
    uint32_t i;

    fc_info("session %08x: %s: %u receivers: %u done, %u failed, %u dropped", s->session_id,
            fc_session_state_name(s->state), s->n_rx, fc_rx_count(s, FC_RXS_DONE),
            fc_rx_count(s, FC_RXS_FAILED), fc_rx_count(s, FC_RXS_DROPPED));
    fc_info("session %08x: sent %s on the wire for an image of %s: %llu data, %llu catch-up, "
            "%llu proactive parity, %llu repair packets (%.1f%% of data); %llu NAKs (%llu stale); "
            "%llu packets rejected here, %llu by receivers",
            s->session_id, fc_human_bytes(st->wire_bytes, b1, sizeof(b1)),
            fc_human_bytes(s->img.m.compressed_bytes, b2, sizeof(b2)),
            (unsigned long long)st->data_pkts, (unsigned long long)st->catchup_pkts,
            (unsigned long long)st->fec_pkts, (unsigned long long)st->repair_pkts,
            data ? 100.0 * (double)st->repair_pkts / (double)data : 0, (unsigned long long)st->naks,
            (unsigned long long)st->naks_stale, (unsigned long long)st->rejects,
            (unsigned long long)st->rx_rejects);
    for (i = 0; i < s->n_rx; i++) {
        const struct fc_rx *r = &s->rx[i];
        fc_info("session %08x machine %s: %s, %u/%u chunks, %llu lost packets, %llu repairs "
                "asked%s%s",
                s->session_id, r->name, fc_rx_status_name(r->status), r->p.chunks_done,
                s->img.m.n_chunks, (unsigned long long)r->p.pkts_lost,
                (unsigned long long)r->repairs_requested, r->error[0] ? ": " : "", r->error);
    }
}
