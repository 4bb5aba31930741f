/* The receiver's choice among the sessions that answered discovery
 * (client/choose.c), with a fake manifest check: a session claiming another
 * signer is refused without a fetch; one claiming the trusted key is kept
 * only if its manifest verifies; a verified older image is refused when
 * another is pinned (its creation time reported); exactly one left is
 * chosen, several are refused and listed; without a key, only several
 * different images are ambiguous; answers of one session are not counted
 * twice, and one whose manifest was out of reach is judged again. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "client/choose.h"
#include "common/error.h"
#include "common/key.h"
#include "tests/unit/unit.h"

static const uint8_t TRUSTED[FC_SIGNER_LEN] = {1, 2, 3};
static const uint8_t ROGUE[FC_SIGNER_LEN] = {9, 9, 9};

/* The fake check: what each candidate's manifest turns out to be, by
 * session id, and what the checker was asked. */
struct fake {
    int result[8]; /* indexed by session id: 0 verified, or a verdict */
    uint64_t created[8];
    int calls[8], keeps[8];
};

/* One scenario per test: the sessions seen, the fake's answers, the choice. */
static struct fc_choice ch;
static struct fake f;
static unsigned idx;
static char rep[2048];

static void fresh(void)
{
    memset(&ch, 0, sizeof(ch));
    memset(&f, 0, sizeof(f));
    idx = 99;
}

static int fake_confirm(void *ctx, struct fc_cand *c, int keep)
{
    struct fake *f = ctx;

    f->calls[c->s.session]++;
    f->keeps[c->s.session] += keep;
    if (f->result[c->s.session]) {
        strcpy(c->why, "its manifest is not signed by the trusted key");
        return f->result[c->s.session];
    }
    c->created = f->created[c->s.session];
    return 0;
}

static struct fc_sess sess(uint32_t id, const char *addr, const uint8_t *signer, uint8_t image)
{
    struct fc_sess s;

    memset(&s, 0, sizeof(s));
    s.session = id;
    s.srv.sin_family = AF_INET;
    inet_pton(AF_INET, addr, &s.srv.sin_addr);
    s.srv.sin_port = htons(7650);
    memcpy(s.ann.signer, signer, FC_SIGNER_LEN);
    memset(s.ann.image_id, image, FC_ID_LEN);
    return s;
}

static void add(struct fc_sess s, int want)
{
    ck_assert_int_eq(fc__choice_add(&ch, &s), want);
}

static enum fc_chose choose(const struct fc_choose_policy *p)
{
    return fc__choose(&ch, p, fake_confirm, &f, &idx);
}

static struct fc_choose_policy trusting(int pin_image)
{
    struct fc_choose_policy p;

    memset(&p, 0, sizeof(p));
    p.name = "m1";
    p.have_trusted = 1;
    memcpy(p.trusted, TRUSTED, FC_SIGNER_LEN);
    if (pin_image) {
        p.have_pin = 1;
        memset(p.pin, pin_image, FC_ID_LEN);
    }
    return p;
}

START_TEST(rogue_signer_refused_real_chosen)
{
    struct fc_choose_policy p = trusting(0);
    char fpr[FC_FPR_LEN + 1];

    fresh();
    add(sess(1, "10.77.0.99", ROGUE, 0xaa), 1); /* the rogue answers first */
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_ONE);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(ch.c[0].verdict, FC_CAND_OTHER_SIGNER);
    ck_assert_int_eq(f.calls[1], 0); /* no manifest fetched from it */
    ck_assert_int_eq(f.keeps[2], 1);
    fc__choice_report(&ch, &p, 0, rep, sizeof(rep));
    fc_key_fingerprint(ROGUE, fpr);
    ck_assert_ptr_nonnull(
        strstr(rep, "2 sessions answered: 10.77.0.99 session 00000001 image aaaa"));
    ck_assert_ptr_nonnull(strstr(rep, fpr));
    ck_assert_ptr_nonnull(strstr(rep, "(not the trusted key); 10.77.0.1 session 00000002"));
}
END_TEST

START_TEST(only_rogue_none)
{
    struct fc_choose_policy p = trusting(0);

    fresh();
    add(sess(1, "10.77.0.99", ROGUE, 0xaa), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_NONE);
    add(sess(1, "10.77.0.99", ROGUE, 0xaa), 0); /* answering again: judged already */
    ck_assert_uint_eq(ch.n, 1);
    /* The real server shows up in a later round. */
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_ONE);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(f.calls[1], 0);
    ck_assert_int_eq(f.calls[2], 1);
}
END_TEST

START_TEST(lying_claim_refused_by_manifest)
{
    struct fc_choose_policy p = trusting(0);

    fresh();
    f.result[1] = FC_CAND_BAD;
    add(sess(1, "10.77.0.99", TRUSTED, 0xaa), 1); /* claims the trusted key */
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_ONE);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(ch.c[0].verdict, FC_CAND_BAD);
    ck_assert_int_eq(f.keeps[1], 1); /* it was first: its manifest would have been the one */
    ck_assert_int_eq(f.keeps[2], 1); /* and after it failed, this one's is */
    fc__choice_report(&ch, &p, 0, rep, sizeof(rep));
    ck_assert_ptr_nonnull(strstr(rep, "(its manifest is not signed by the trusted key)"));
}
END_TEST

START_TEST(old_image_refused_when_pinned)
{
    struct fc_choose_policy p = trusting(0xbb);

    fresh();
    f.created[1] = 1000000000; /* 2001-09-09 01:46:40 UTC */
    add(sess(1, "10.77.0.99", TRUSTED, 0xaa), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_NONE);
    ck_assert_int_eq(ch.c[0].verdict, FC_CAND_NOT_PINNED);
    ck_assert_int_eq(f.calls[1], 1); /* verified, for its creation time */
    ck_assert_int_eq(f.keeps[1], 0); /* but never the manifest to write */
    ck_assert_uint_eq(ch.c[0].created, 1000000000);
    fc__choice_report(&ch, &p, 0, rep, sizeof(rep));
    ck_assert_ptr_nonnull(strstr(rep, "(created 2001-09-09 01:46:40 UTC) (not the pinned image)"));
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_ONE);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(f.keeps[2], 1);
}
END_TEST

START_TEST(several_trusted_ambiguous)
{
    struct fc_choose_policy p = trusting(0);

    fresh();
    add(sess(1, "10.77.0.99", ROGUE, 0xaa), 1);
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    add(sess(3, "10.77.0.1", TRUSTED, 0xcc), 1); /* same server, another session */
    ck_assert_int_eq(choose(&p), FC_CHOSE_AMBIGUOUS);
    ck_assert_int_eq(f.keeps[2] + f.keeps[3], 1); /* one manifest held, not two */
    fc__choice_report(&ch, &p, 1, rep, sizeof(rep));
    ck_assert_ptr_nonnull(strstr(rep, "2 sessions answered: 10.77.0.1 session 00000002"));
    ck_assert_ptr_nonnull(strstr(rep, "; 10.77.0.1 session 00000003 image cccc"));
    ck_assert_ptr_null(strstr(rep, "10.77.0.99"));
}
END_TEST

START_TEST(no_key_ambiguous_only_for_different_images)
{
    struct fc_choose_policy p = {.name = "m1"};

    fresh();
    add(sess(1, "10.77.0.1", ROGUE, 0xaa), 1);
    add(sess(1, "10.77.0.2", TRUSTED, 0xaa), 1); /* the same image from another server */
    ck_assert_int_eq(choose(&p), FC_CHOSE_ONE);
    ck_assert_uint_eq(idx, 0);
    fresh();
    add(sess(1, "10.77.0.1", ROGUE, 0xaa), 1);
    add(sess(2, "10.77.0.2", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_AMBIGUOUS);
}
END_TEST

START_TEST(unreachable_judged_again)
{
    struct fc_choose_policy p = trusting(0);

    fresh();
    f.result[2] = FC_CAND_UNREACHABLE;
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_NONE);
    ck_assert_int_eq(ch.c[0].verdict, FC_CAND_UNREACHABLE);
    f.result[2] = 0;
    add(sess(2, "10.77.0.1", TRUSTED, 0xbb), 1);
    ck_assert_int_eq(choose(&p), FC_CHOSE_ONE);
    ck_assert_int_eq(f.calls[2], 2);
}
END_TEST

START_TEST(table_full_and_image_id)
{
    uint8_t id[FC_ID_LEN];
    unsigned i;

    fresh();
    for (i = 0; i < FC_CAND_MAX; i++)
        add(sess(i + 1, "10.77.0.1", TRUSTED, 0xbb), 1);
    add(sess(1000, "10.77.0.1", TRUSTED, 0xbb), -1);
    ck_assert_uint_eq(ch.ignored, 1);
    ck_assert_int_eq(fc__parse_image_id("00112233445566778899aabbccddEEFF", id), 0);
    ck_assert_uint_eq(id[0], 0x00);
    ck_assert_uint_eq(id[15], 0xff);
    ck_assert_int_eq(fc__parse_image_id("00112233445566778899aabbccddeef", id), FC_EINVAL);
    ck_assert_int_eq(fc__parse_image_id("00112233445566778899aabbccddeefg", id), FC_EINVAL);
    ck_assert_int_eq(fc__parse_image_id(" 0112233445566778899aabbccddeeff", id), FC_EINVAL);
}
END_TEST

FC_TEST_MAIN("choose", rogue_signer_refused_real_chosen, only_rogue_none,
             lying_claim_refused_by_manifest, old_image_refused_when_pinned,
             several_trusted_ambiguous, no_key_ambiguous_only_for_different_images,
             unreachable_judged_again, table_full_and_image_id)
