/* A chunk over TCP (docs/protocol.md "CHUNK_REQ and CHUNK"): the way out for
 * a receiver whose copy of a chunk failed its hash twice, as happens when a
 * host on the LAN forges DATA faster than repairs come. Only an active
 * receiver that proves its secret (the request's tag, its replay window) is
 * served, one chunk at a time and at most FC_TCP_SHARE of the image plus a
 * few: the fallback must not turn fleetcastd into a unicast server. The
 * bytes are the image's as stored; the receiver checks them against the
 * signed manifest like any other. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

#define TCP_SHARE_PCT 5 /* of the image's chunks, per receiver */
#define TCP_EXTRA 8     /* ... plus this many, so a small image gets some */

static uint32_t allowance(const struct fc_session *s)
{
    return s->img.m.n_chunks * TCP_SHARE_PCT / 100 + TCP_EXTRA;
}

static int head(struct fc_session *s, struct fc_chunk_reply *out, uint8_t status, uint32_t chunk,
                uint32_t length)
{
    struct fc_chunk_head h = {.status = status, .chunk = chunk, .length = length};
    int n = fc_chunk_head_encode(out->head, sizeof(out->head), s->session_id, ++s->ctrl_seq, &h);

    return n == FC_CHUNK_HEAD_LEN ? 0 : FC_EINVAL;
}

/* Why r may not have chunk c now, or NULL. */
static const char *refusal(const struct fc_session *s, const struct fc_rx *r, uint32_t c)
{
    if (c >= s->img.m.n_chunks)
        return "no such chunk";
    if (r->tcp_busy)
        return "one already being sent";
    if (r->tcp_chunks >= allowance(s))
        return "its allowance is spent";
    return NULL;
}

static int refuse(struct fc_session *s, struct fc_rx *r, uint32_t c, const char *why,
                  struct fc_chunk_reply *out)
{
    s->st.tcp_refused++;
    fc_warn("session %08x machine %s: chunk %u over TCP refused: %s (%u of %u sent)", s->session_id,
            r->name, c, why, r->tcp_chunks, allowance(s));
    return head(s, out, c >= s->img.m.n_chunks ? FC_REASON_WRONG_IMAGE : FC_REASON_FULL, c, 0);
}

int fc_chunk_srv_answer(struct fc_daemon *d, const uint8_t *req, size_t len,
                        const struct sockaddr_in *peer, struct fc_chunk_reply *out)
{
    struct fc_session *s;
    struct fc_chunk_req q;
    struct fc_hdr h;
    struct fc_rx *r;
    const char *why;
    int rc;

    memset(out, 0, sizeof(*out));
    if (fc_chunk_req_decode(req, len, &h, &q) || !(s = fc_daemon_find(d, h.session)))
        return FC_EPROTO;
    /* Not on the control socket: the receiver's UDP address stays. */
    r = fc_rx_authenticate(s, peer, req, len, h.seq, q.receiver_id, 0);
    if (!r || r->status != FC_RXS_ACTIVE)
        return FC_EREFUSED;
    if ((why = refusal(s, r, q.chunk)))
        return refuse(s, r, q.chunk, why, out);
    out->len = s->img.m.chunks[q.chunk].comp_size;
    out->bytes = malloc(out->len);
    rc = out->bytes ? fc_image_read_chunk(&s->img, q.chunk, out->bytes) : FC_ENOMEM;
    if (rc) {
        fc_error("session %08x machine %s: chunk %u for TCP: %s", s->session_id, r->name, q.chunk,
                 fc_strerror(rc));
        free(out->bytes);
        out->bytes = NULL;
        return head(s, out, FC_REASON_INTERNAL, q.chunk, 0);
    }
    rc = head(s, out, FC_REASON_OK, q.chunk, (uint32_t)out->len);
    if (rc) {
        free(out->bytes);
        out->bytes = NULL;
        return rc;
    }
    r->tcp_busy = 1;
    r->tcp_chunks++;
    s->st.tcp_chunks++;
    out->session = s->session_id;
    out->rid = r->id;
    fc_info("session %08x machine %s: chunk %u sent over TCP after failing its hash twice there "
            "(%u of %u allowed)",
            s->session_id, r->name, q.chunk, r->tcp_chunks, allowance(s));
    return 0;
}

void fc_chunk_srv_sent(struct fc_daemon *d, struct fc_chunk_reply *rep, int ok)
{
    struct fc_session *s;
    struct fc_rx *r;

    uint32_t rid = rep->rid;

    free(rep->bytes);
    rep->bytes = NULL;
    rep->rid = 0;
    if (!rid || !(s = fc_daemon_find(d, rep->session)) || !(r = fc_rx_find(s, rid)))
        return;
    r->tcp_busy = 0;
    if (!ok)
        fc_warn("session %08x machine %s: sending a chunk over TCP failed", s->session_id, r->name);
}
