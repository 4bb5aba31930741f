/* The choice among the sessions that answered discovery (see choose.h). */
#include "client/choose.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/key.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int fc__parse_image_id(const char *hex, uint8_t id[FC_ID_LEN])
{
    size_t i;

    if (!hex || strlen(hex) != 2 * FC_ID_LEN)
        return FC_EINVAL;
    for (i = 0; i < FC_ID_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return FC_EINVAL;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static void id_hex(const uint8_t id[FC_ID_LEN], char out[2 * FC_ID_LEN + 1])
{
    size_t i;

    for (i = 0; i < FC_ID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static void addr_text(const struct fc_cand *c, char out[INET_ADDRSTRLEN])
{
    inet_ntop(AF_INET, &c->s.srv.sin_addr, out, INET_ADDRSTRLEN);
}

/* " (created 2024-05-01 10:00:00 UTC)", or "" when the manifest gave none:
 * an operator tells an old image offered from the current one by it. */
static void created_text(uint64_t created, char *out, size_t cap)
{
    time_t t = (time_t)created;
    struct tm tm;

    out[0] = 0;
    if (created && gmtime_r(&t, &tm))
        strftime(out, cap, " (created %Y-%m-%d %H:%M:%S UTC)", &tm);
}

static int same_server(const struct fc_sess *a, const struct fc_sess *b)
{
    return a->session == b->session && a->srv.sin_addr.s_addr == b->srv.sin_addr.s_addr &&
           a->srv.sin_port == b->srv.sin_port;
}

int fc__choice_add(struct fc_choice *ch, const struct fc_sess *s)
{
    unsigned i;

    for (i = 0; i < ch->n; i++) {
        struct fc_cand *c = &ch->c[i];

        if (!same_server(&c->s, s))
            continue;
        c->s = *s; /* the latest state and flags */
        if (c->verdict != FC_CAND_UNREACHABLE)
            return 0;
        c->verdict = FC_CAND_NEW;
        return 1;
    }
    if (ch->n == FC_CAND_MAX) {
        ch->ignored++;
        return -1;
    }
    memset(&ch->c[ch->n], 0, sizeof(ch->c[0]));
    ch->c[ch->n++].s = *s;
    return 1;
}

static void log_verdict(const struct fc_choose_policy *p, const struct fc_cand *c)
{
    char a[INET_ADDRSTRLEN], img[2 * FC_ID_LEN + 1], pin[2 * FC_ID_LEN + 1];
    char fpr[FC_FPR_LEN + 1], tfpr[FC_FPR_LEN + 1], when[64];

    addr_text(c, a);
    id_hex(c->s.ann.image_id, img);
    id_hex(p->pin, pin);
    fc_key_fingerprint(c->s.ann.signer, fpr);
    fc_key_fingerprint(p->trusted, tfpr);
    created_text(c->created, when, sizeof(when));
    switch (c->verdict) {
    case FC_CAND_OTHER_SIGNER:
        fc__rlog(c->s.session, p->name, FC_LOG_WARN,
                 "refusing server %s: its image %s is signed by %s, not the trusted key %s", a, img,
                 fpr, tfpr);
        break;
    case FC_CAND_NOT_PINNED:
        fc__rlog(c->s.session, p->name, FC_LOG_WARN,
                 "refusing server %s: it offers image %s%s signed by %s, but image %s is pinned "
                 "(--image-id)",
                 a, img, when, fpr, pin);
        break;
    case FC_CAND_BAD:
    case FC_CAND_UNREACHABLE:
        fc__rlog(c->s.session, p->name, FC_LOG_WARN, "refusing server %s (image %s): %s", a, img,
                 c->why);
        break;
    default:
        fc__rlog(c->s.session, p->name, FC_LOG_INFO, "server %s offers image %s%s signed by %s%s",
                 a, img, when, fpr, p->have_trusted ? " (the trusted key)" : " (no key to check)");
    }
}

/* The claims first: no manifest is fetched from a server that says itself
 * its image is not signed by the trusted key. */
static int claims_ok(const struct fc_choose_policy *p, struct fc_cand *c)
{
    if (p->have_trusted && memcmp(c->s.ann.signer, p->trusted, FC_SIGNER_LEN) != 0) {
        c->verdict = FC_CAND_OTHER_SIGNER;
        return 0;
    }
    return 1;
}

static int pinned(const struct fc_choose_policy *p, const struct fc_cand *c)
{
    return !p->have_pin || memcmp(c->s.ann.image_id, p->pin, FC_ID_LEN) == 0;
}

/* A session not pinned is verified too, though never chosen: its verified
 * creation time shows the operator an old image is being offered. */
static void judge(struct fc_choice *ch, unsigned i, const struct fc_choose_policy *p,
                  fc_confirm_fn confirm, void *ctx, int *have_ok)
{
    struct fc_cand *c = &ch->c[i];
    int rc;

    if (claims_ok(p, c)) {
        rc = confirm(ctx, c, pinned(p, c) && !*have_ok);
        if (rc)
            c->verdict = rc == FC_CAND_UNREACHABLE ? FC_CAND_UNREACHABLE : FC_CAND_BAD;
        else
            c->verdict = pinned(p, c) ? FC_CAND_OK : FC_CAND_NOT_PINNED;
    }
    *have_ok |= c->verdict == FC_CAND_OK;
    log_verdict(p, c);
}

enum fc_chose fc__choose(struct fc_choice *ch, const struct fc_choose_policy *p,
                         fc_confirm_fn confirm, void *ctx, unsigned *idx)
{
    int have_ok = 0, first = -1, ambiguous = 0;
    unsigned i;

    for (i = 0; i < ch->n; i++)
        have_ok |= ch->c[i].verdict == FC_CAND_OK;
    for (i = 0; i < ch->n; i++)
        if (ch->c[i].verdict == FC_CAND_NEW)
            judge(ch, i, p, confirm, ctx, &have_ok);
    for (i = 0; i < ch->n; i++) {
        const struct fc_cand *c = &ch->c[i];

        if (c->verdict != FC_CAND_OK)
            continue;
        if (first < 0)
            first = (int)i;
        /* Without a key any signer goes, but which image to write is
         * still not ours to guess. */
        else if (p->have_trusted ||
                 memcmp(c->s.ann.image_id, ch->c[first].s.ann.image_id, FC_ID_LEN) != 0)
            ambiguous = 1;
    }
    if (first < 0)
        return FC_CHOSE_NONE;
    if (ambiguous)
        return FC_CHOSE_AMBIGUOUS;
    *idx = (unsigned)first;
    return FC_CHOSE_ONE;
}

static const char *verdict_text(const struct fc_cand *c, const struct fc_choose_policy *p,
                                char *tmp, size_t cap)
{
    char when[64];

    switch (c->verdict) {
    case FC_CAND_OTHER_SIGNER:
        return " (not the trusted key)";
    case FC_CAND_NOT_PINNED:
        created_text(c->created, when, sizeof(when));
        snprintf(tmp, cap, "%s (not the pinned image)", when);
        return tmp;
    case FC_CAND_BAD:
    case FC_CAND_UNREACHABLE:
        snprintf(tmp, cap, " (%s)", c->why);
        return tmp;
    case FC_CAND_OK:
        created_text(c->created, when, sizeof(when));
        snprintf(tmp, cap, "%s%s", when, p->have_trusted ? " (trusted)" : "");
        return tmp;
    default:
        return " (not judged)";
    }
}

void fc__choice_report(const struct fc_choice *ch, const struct fc_choose_policy *p, int ok_only,
                       char *buf, size_t cap)
{
    char a[INET_ADDRSTRLEN], img[2 * FC_ID_LEN + 1], fpr[FC_FPR_LEN + 1], tmp[200];
    const char *sep = "";
    unsigned i, n = 0;
    size_t len;

    for (i = 0; i < ch->n; i++)
        n += !ok_only || ch->c[i].verdict == FC_CAND_OK;
    len = (size_t)snprintf(buf, cap, "%u session%s answered: ", n, n == 1 ? "" : "s");
    for (i = 0; i < ch->n && len < cap; i++) {
        const struct fc_cand *c = &ch->c[i];

        if (ok_only && c->verdict != FC_CAND_OK)
            continue;
        addr_text(c, a);
        id_hex(c->s.ann.image_id, img);
        fc_key_fingerprint(c->s.ann.signer, fpr);
        len +=
            (size_t)snprintf(buf + len, cap - len, "%s%s session %08x image %s signed by %s%s", sep,
                             a, c->s.session, img, fpr, verdict_text(c, p, tmp, sizeof(tmp)));
        sep = "; ";
    }
    if (len < cap && ch->ignored)
        snprintf(buf + len, cap - len, "; and %u answers more", ch->ignored);
}
