/* JOINs answered but not yet confirmed. A JOIN is not authenticated (the
 * receiver has no secret yet): anyone can send one from any address. So a
 * JOIN only earns a JOIN_ACK carrying a random receiver id and a fresh
 * secret sealed to the JOIN's one-time key, and a slot here; the machine
 * enters the receiver table (receivers.c) with its first packet tagged with
 * that secret, which a host that forged its source address never learns.
 * This table is bounded (the oldest is evicted) and its entries expire. */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "proto/wol.h"
#include "server/server.h"

int fc_joins_init(struct fc_session *s)
{
    s->pending = calloc(FC_PENDING_MAX, sizeof(*s->pending));
    s->n_pending = 0;
    return s->pending ? 0 : FC_ENOMEM;
}

void fc_joins_free(struct fc_session *s)
{
    if (s->pending)
        sodium_memzero(s->pending, FC_PENDING_MAX * sizeof(*s->pending));
    free(s->pending);
    s->pending = NULL;
    s->n_pending = 0;
}

void fc_joins_grant(struct fc_grant *g, const uint8_t *secret, const char *mac,
                    const char *hostname, const char *lab)
{
    memset(g, 0, sizeof(*g));
    memcpy(g->secret, secret, FC_SECRET_LEN);
    if (mac[0])
        fc_mac_parse(mac, g->mac);
    snprintf(g->hostname, sizeof(g->hostname), "%s", hostname);
    snprintf(g->lab, sizeof(g->lab), "%s", lab);
}

void fc_joins_send_ack(struct fc_session *s, const struct sockaddr_in *to, uint64_t nonce,
                       uint32_t id, uint8_t status, const struct fc_grant *g,
                       const uint8_t *box_pub)
{
    struct fc_join_ack a;
    uint8_t buf[FC_PKT_MAX];
    int n;

    memset(&a, 0, sizeof(a));
    a.nonce = nonce;
    a.receiver_id = id;
    a.status = status;
    a.report_ms = fc_rx_report_ms(s);
    if (status == FC_REASON_OK) {
        /* The session's hooks hash goes in every grant, first or again. */
        struct fc_grant sg = *g;
        int rc;

        memcpy(sg.hooks_hash, s->hooks_hash, FC_HOOKS_HASH_LEN);
        rc = fc_auth_seal_grant(a.sealed, &sg, box_pub);
        sodium_memzero(&sg, sizeof(sg));
        if (rc)
            return;
    }
    n = fc_join_ack_encode(buf, sizeof(buf), s->session_id, ++s->ctrl_seq, &a);
    if (n > 0)
        fc_netio_send_ctrl(s, to, buf, (size_t)n);
}

static void remove_at(struct fc_session *s, uint32_t i)
{
    sodium_memzero(&s->pending[i], sizeof(s->pending[i]));
    s->pending[i] = s->pending[--s->n_pending];
}

void fc_joins_expire(struct fc_session *s, double now)
{
    uint32_t i = 0;

    while (i < s->n_pending)
        if (now - s->pending[i].at > FC_PENDING_TTL)
            remove_at(s, i);
        else
            i++;
}

int fc_joins_known(const struct fc_session *s, uint32_t id)
{
    uint32_t i;

    for (i = 0; i < s->n_pending; i++)
        if (s->pending[i].id == id)
            return 1;
    return 0;
}

/* Random and unused: ids are not sequential, so knowing one's own says
 * nothing of the others'. */
static uint32_t new_id(struct fc_session *s)
{
    uint32_t id;

    do
        id = randombytes_random();
    while (!id || fc_rx_find(s, id) || fc_joins_known(s, id));
    return id;
}

/* The same JOIN again (our JOIN_ACK was lost): same nonce, address and
 * one-time key. The key must match too, or a host that saw the JOIN could
 * have the secret sealed to a key of its own. */
static struct fc_pending *find_repeat(struct fc_session *s, const struct sockaddr_in *from,
                                      const struct fc_join *j)
{
    uint32_t i;

    for (i = 0; i < s->n_pending; i++) {
        struct fc_pending *p = &s->pending[i];
        if (p->nonce == j->nonce && p->addr.sin_addr.s_addr == from->sin_addr.s_addr &&
            p->addr.sin_port == from->sin_port && !memcmp(p->box_pub, j->box_pub, FC_BOXPUB_LEN))
            return p;
    }
    return NULL;
}

static int refused(struct fc_session *s, const struct sockaddr_in *from, const struct fc_join *j,
                   const char *who)
{
    char sz1[16], sz2[16];
    uint8_t status = FC_REASON_OK;

    if (memcmp(j->image_id, s->img.m.image_id, FC_ID_LEN) != 0) {
        fc_error("session %08x machine %s: refused: it holds another image's manifest",
                 s->session_id, who);
        status = FC_REASON_WRONG_IMAGE;
    } else if (j->target_size < s->img.m.disk_size) {
        fc_error("session %08x machine %s: refused: target disk is %s, the image needs %s",
                 s->session_id, who, fc_human_bytes(j->target_size, sz1, sizeof(sz1)),
                 fc_human_bytes(s->img.m.disk_size, sz2, sizeof(sz2)));
        status = FC_REASON_TOO_SMALL;
    } else if (s->state == FC_SS_FINISHED || s->state == FC_SS_ABORTED ||
               !fc_rx_room_for(s, from->sin_addr)) {
        status = FC_REASON_FULL;
    }
    if (status == FC_REASON_OK)
        return 0;
    s->st.joins_refused++;
    fc_joins_send_ack(s, from, j->nonce, 0, status, NULL, NULL);
    return 1;
}

static struct fc_pending *new_slot(struct fc_session *s)
{
    uint32_t i, oldest = 0;

    fc_joins_expire(s, fc_server_now(s));
    if (s->n_pending == FC_PENDING_MAX) {
        /* A flood of JOINs evicts its own oldest; a real machine confirms
         * within a report interval and then is out of reach here. */
        for (i = 1; i < s->n_pending; i++)
            if (s->pending[i].at < s->pending[oldest].at)
                oldest = i;
        remove_at(s, oldest);
    }
    return &s->pending[s->n_pending++];
}

/* A JOIN costs a sealed box (an X25519 scalar multiplication, ~0.1 ms) on
 * the loop that also paces the sender: a flood of them from forged
 * addresses must not stall the session. Real receivers repeat their JOIN
 * every 0.5 s, so one dropped here only waits for its next try. */
#define JOIN_RATE 300.0  /* JOINs answered per second, per session */
#define JOIN_BURST 600.0 /* a whole lab booting at once */

static int join_allowed(struct fc_session *s)
{
    if (fc_bucket_take(&s->join_bucket, fc_server_now(s), JOIN_RATE, JOIN_BURST))
        return 1;
    s->st.joins_throttled++;
    return 0;
}

static void answer(struct fc_session *s, const struct sockaddr_in *to, const struct fc_pending *p)
{
    struct fc_grant g;

    fc_joins_grant(&g, p->secret, p->mac, p->hostname, p->lab);
    fc_joins_send_ack(s, to, p->nonce, p->id, FC_REASON_OK, &g, p->box_pub);
    sodium_memzero(&g, sizeof(g));
}

/* Its MAC from our ARP table (never the receiver's claim: the manifest
 * fetch before the JOIN made the entry), and the name the session gives
 * that MAC. */
static void name_machine(struct fc_session *s, struct fc_pending *p)
{
    const struct fc_name *n;
    uint8_t mac[FC_MAC_LEN];

    if (fc_netio_mac_of(p->addr.sin_addr, p->mac) || fc_mac_parse(p->mac, mac)) {
        p->mac[0] = 0;
        return;
    }
    n = fc_names_find(&s->names, mac);
    if (!n)
        return;
    snprintf(p->hostname, sizeof(p->hostname), "%s", n->hostname);
    snprintf(p->lab, sizeof(p->lab), "%s", n->lab);
}

void fc_joins_on_join(struct fc_session *s, const struct sockaddr_in *from, const uint8_t *pkt,
                      size_t len, uint32_t seq, const struct fc_join *j)
{
    char who[FC_NAME_MAX + 40], ip[INET_ADDRSTRLEN];
    struct fc_pending *p;
    struct fc_rx *r;

    if (!join_allowed(s))
        return;

    if (j->prev_id) {
        r = fc_rx_find(s, j->prev_id);
        if (r && r->status == FC_RXS_ACTIVE &&
            fc_rx_authenticate(s, from, pkt, len, seq, j->prev_id, 0) == r) {
            fc_rx_rejoined(s, r, from, j);
            return;
        }
        /* Not ours any more (we restarted, or it was dropped): a new JOIN. */
    }
    p = find_repeat(s, from, j);
    if (p) {
        answer(s, from, p);
        return;
    }
    inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip));
    snprintf(who, sizeof(who), "%s (%s:%u)", j->name, ip, ntohs(from->sin_port));
    if (refused(s, from, j, who))
        return;
    p = new_slot(s);
    memset(p, 0, sizeof(*p));
    p->id = new_id(s);
    randombytes_buf(p->secret, FC_SECRET_LEN);
    p->addr = *from;
    p->nonce = j->nonce;
    memcpy(p->box_pub, j->box_pub, FC_BOXPUB_LEN);
    p->at = fc_server_now(s);
    p->target_size = j->target_size;
    p->chunks_done = j->chunks_done;
    snprintf(p->name, sizeof(p->name), "%s", j->name);
    name_machine(s, p);
    fc_debug("session %08x machine %s: JOIN answered, receiver %08x until confirmed", s->session_id,
             who, p->id);
    answer(s, from, p);
}

struct fc_rx *fc_joins_confirm(struct fc_session *s, uint32_t id, const uint8_t *pkt, size_t len,
                               uint32_t seq)
{
    struct fc_rx *r;
    uint32_t i;

    for (i = 0; i < s->n_pending; i++) {
        struct fc_pending p;
        uint8_t up[FC_SECRET_LEN];

        if (s->pending[i].id != id)
            continue;
        fc_auth_dir_key(s->pending[i].secret, FC_AUTH_TO_SERVER, up);
        if (fc_auth_verify(pkt, len, up))
            return NULL;
        p = s->pending[i]; /* remove_at wipes the slot; admission needs it */
        remove_at(s, i);
        r = fc_rx_admit(s, &p, seq);
        sodium_memzero(&p, sizeof(p));
        return r;
    }
    return NULL;
}
