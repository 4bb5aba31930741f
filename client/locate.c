/* From nothing to the session to join and its verified manifest: discovery
 * rounds (discover.c) until a choice (choose.c) is made or the discovery
 * timeout, the manifest fetch (fetch.c) and its check (trust.c) as the
 * choice's confirmation, and what the operator is told in each outcome. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/choose.h"
#include "client/recv.h"
#include "client/trust.h"
#include "common/error.h"
#include "common/image.h"
#include "common/key.h"

/* Answers later than the first still count for this long, so that a rogue
 * answering fastest does not win; on a LAN every server answers in a few ms. */
#define CHOICE_WINDOW 1.0

static int policy_init(struct fc_recv *r, struct fc_choose_policy *p)
{
    int rc;

    memset(p, 0, sizeof(*p));
    p->name = r->name;
    if (r->o.pubkey) {
        rc = fc_key_load_public(r->o.pubkey, p->trusted);
        if (rc) {
            fc_error("cannot read public key %s: %s", r->o.pubkey, fc_strerror(rc));
            return FC_RX_EXIT_IMAGE;
        }
        p->have_trusted = 1;
    }
    if (r->o.image_id) {
        if (fc__parse_image_id(r->o.image_id, p->pin)) {
            fc_error("--image-id %s: expected the 32 hex digits of `fleetcast image info`",
                     r->o.image_id);
            return FC_RX_EXIT_USAGE;
        }
        p->have_pin = 1;
    }
    return 0;
}

static int fetch_failed(struct fc_cand *c, int rc, int status)
{
    if (rc == FC_EREFUSED) {
        snprintf(c->why, sizeof(c->why), "it refused the manifest: %s",
                 fc__reason_text((uint8_t)status));
        return FC_CAND_BAD;
    }
    snprintf(c->why, sizeof(c->why), "cannot fetch its manifest: %s%s%s", fc_strerror(rc),
             rc == FC_EIO ? ": " : "", rc == FC_EIO ? strerror(errno) : "");
    return rc == FC_EPROTO ? FC_CAND_BAD : FC_CAND_UNREACHABLE;
}

/* The manifest decides, whatever the ANNOUNCE claimed: the signature, the
 * trusted key, and the image the session announced. */
static int verify(struct fc_recv *r, struct fc_cand *c, const uint8_t *man, size_t len,
                  const uint8_t *sig, struct fc_manifest *m)
{
    char fpr[FC_FPR_LEN + 1];
    int rc = fc__manifest_trust(man, len, sig, r->o.pubkey, m, fpr, sizeof(fpr));

    if (rc) {
        snprintf(c->why, sizeof(c->why), "its manifest %s",
                 rc == FC_EKEY ? "is not signed by the trusted key, whatever it announced"
                               : "fails its signature check or does not decode");
        return FC_CAND_BAD;
    }
    if (memcmp(m->image_id, c->s.ann.image_id, FC_ID_LEN) != 0) {
        snprintf(c->why, sizeof(c->why), "its manifest is of another image than it announced");
        fc_manifest_free(m);
        return FC_CAND_BAD;
    }
    c->created = m->created;
    return 0;
}

/* fc_confirm_fn: fetch.c asks the server in r->s, so r->s is the candidate
 * for the time of the fetch (its log lines then carry its session too). */
static int confirm(void *ctx, struct fc_cand *c, int keep)
{
    struct fc_recv *r = ctx;
    struct fc_sess saved = r->s;
    struct fc_manifest m;
    uint8_t sig[FC_SIGBLOCK_SIZE], *man = NULL;
    size_t len = 0;
    int status, rc;

    r->s = c->s;
    rc = fc__fetch_manifest(r, &man, &len, sig, &status);
    r->s = saved;
    if (rc)
        return fetch_failed(c, rc, status);
    rc = verify(r, c, man, len, sig, &m);
    free(man);
    if (rc)
        return rc;
    if (!keep) {
        fc_manifest_free(&m);
        return 0;
    }
    if (r->have_m)
        fc_manifest_free(&r->m);
    r->m = m;
    r->have_m = 1;
    return 0;
}

static void log_chosen(struct fc_recv *r)
{
    char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &r->s.srv.sin_addr, a, sizeof(a));
    inet_ntop(AF_INET, r->s.ann.group, g, sizeof(g));
    RLOG(r, FC_LOG_INFO, "server %s control port %u, group %s:%u, %u-byte packets, k max %u", a,
         r->s.ann.ctrl_port, g, r->s.ann.data_port, r->s.ann.payload_size, r->s.ann.k_max);
    if (!r->o.pubkey)
        RLOG(r, FC_LOG_WARN,
             "no --pubkey: the image's signer is not checked against a trusted key");
    RLOG(r, FC_LOG_INFO, "image: %u chunks, %llu bytes of disk data, disk of %llu bytes",
         r->m.n_chunks, (unsigned long long)r->m.stored_bytes, (unsigned long long)r->m.disk_size);
}

static int none_chosen(struct fc_recv *r, const struct fc_choice *ch,
                       const struct fc_choose_policy *p)
{
    char list[4096];

    if (!ch->n) {
        fc_error("%s: no fleetcast server answered %s within %.0f s", r->name,
                 r->o.server ? r->o.server : "discovery on " FC_DISCOVERY_GROUP,
                 r->o.discover_timeout);
        return FC_RX_EXIT_LOST;
    }
    fc__choice_report(ch, p, 0, list, sizeof(list));
    fc_error("%s: no acceptable session within %.0f s (%s%s%s); %s", r->name, r->o.discover_timeout,
             p->have_trusted ? "signed by the trusted key" : "any signer",
             p->have_pin ? ", pinned image " : "", p->have_pin ? r->o.image_id : "", list);
    return FC_RX_EXIT_IMAGE;
}

static int ambiguous(struct fc_recv *r, const struct fc_choice *ch,
                     const struct fc_choose_policy *p)
{
    char list[4096];

    fc__choice_report(ch, p, 1, list, sizeof(list));
    fc_error("%s: refusing to guess: %s; name one with --session ID%s", r->name, list,
             p->have_trusted ? "" : " (or --image-id HEX)");
    return FC_RX_EXIT_AMBIG;
}

int fc__locate(struct fc_recv *r)
{
    double deadline = fc__now() + r->o.discover_timeout;
    struct fc_choose_policy p;
    struct fc_choice *ch = calloc(1, sizeof(*ch));
    enum fc_chose res = FC_CHOSE_NONE;
    unsigned idx = 0;
    int rc = ch ? policy_init(r, &p) : FC_RX_EXIT_IO;

    while (!rc && res == FC_CHOSE_NONE && fc__now() < deadline) {
        int found = fc__discover_collect(r, deadline, CHOICE_WINDOW, ch);

        if (found == FC_EINTR)
            rc = FC_RX_EXIT_INTR;
        else if (found == FC_EVERSION)
            rc = (fc__version_log(r), FC_RX_EXIT_ABORTED);
        else if (found < 0)
            rc = (fc_error("%s: no socket for discovery: %s", r->name, strerror(errno)),
                  FC_RX_EXIT_LOST);
        else if (found > 0)
            res = fc__choose(ch, &p, confirm, r, &idx);
    }
    if (!rc && *r->stop)
        rc = FC_RX_EXIT_INTR;
    if (!rc && res == FC_CHOSE_NONE)
        rc = none_chosen(r, ch, &p);
    if (!rc && res == FC_CHOSE_AMBIGUOUS)
        rc = ambiguous(r, ch, &p);
    if (!rc) {
        r->s = ch->c[idx].s;
        log_chosen(r);
    }
    free(ch);
    return rc;
}
