/* The choice among the sessions that answered discovery (issue 8, "secure by
 * default"). Any host on the LAN can answer DISCOVER, and the first answer is
 * the one a rogue makes sure to win; so the receiver collects the answers
 * for a short window, keeps only the sessions whose image is signed by its
 * trusted key (and is the pinned image, when one is pinned), and joins only
 * when exactly one is left. The ANNOUNCE's signer is only a claim: a session
 * is kept once its manifest has been fetched and verified, which the caller
 * does in a callback. No sockets here, so tests drive it with fakes. */
#ifndef FC_CLIENT_CHOOSE_H
#define FC_CLIENT_CHOOSE_H

#include <stddef.h>
#include <stdint.h>

#include "client/recv.h"

enum fc_cand_verdict {
    FC_CAND_NEW = 0,      /* not judged yet */
    FC_CAND_OTHER_SIGNER, /* its ANNOUNCE names another signer than the trusted key */
    FC_CAND_NOT_PINNED,   /* a verified image, but not the pinned one (an older image?) */
    FC_CAND_BAD,          /* its manifest did not verify (signature, signer, image id) */
    FC_CAND_UNREACHABLE,  /* its manifest could not be fetched; judged again if it answers again */
    FC_CAND_OK,           /* verified: the trusted signer, the pinned image */
};

struct fc_cand {
    struct fc_sess s;
    uint8_t verdict;  /* enum fc_cand_verdict */
    uint64_t created; /* from its verified manifest (unix seconds), 0 unknown */
    char why[128];    /* FC_CAND_BAD, FC_CAND_UNREACHABLE: what went wrong */
};

#define FC_CAND_MAX 32

struct fc_choice {
    struct fc_cand c[FC_CAND_MAX];
    unsigned n;
    unsigned ignored; /* answers of sessions beyond FC_CAND_MAX */
};

struct fc_choose_policy {
    int have_trusted;
    uint8_t trusted[FC_SIGNER_LEN]; /* --pubkey */
    int have_pin;
    uint8_t pin[FC_ID_LEN]; /* --image-id */
    const char *name;       /* the machine's, for the log */
};

enum fc_chose { FC_CHOSE_NONE = 0, FC_CHOSE_ONE, FC_CHOSE_AMBIGUOUS };

/* Fetches and verifies candidate c's manifest: its signature, the trusted
 * key when there is one, the image id its ANNOUNCE gave. Sets c->created;
 * on failure fills c->why and returns FC_CAND_BAD or FC_CAND_UNREACHABLE.
 * keep: the manifest is the one to write if c is chosen (the caller holds
 * on to it). Returns 0 when verified. */
typedef int (*fc_confirm_fn)(void *ctx, struct fc_cand *c, int keep);

/* Records a session that answered. The same session of the same server
 * answering again is not a new candidate (its ANNOUNCE is refreshed), except
 * one whose manifest could not be fetched: it is judged again. Returns 1 for
 * a candidate to judge, 0 for one already judged, -1 when the table is full. */
int fc__choice_add(struct fc_choice *ch, const struct fc_sess *s);

/* Judges the new candidates (the signer and image claimed first, then the
 * manifest of those that pass), logging one line each, and decides. *idx
 * gets the chosen one for FC_CHOSE_ONE. Ambiguous: with a trusted key,
 * several verified sessions; without one, several different images. */
enum fc_chose fc__choose(struct fc_choice *ch, const struct fc_choose_policy *p,
                         fc_confirm_fn confirm, void *ctx, unsigned *idx);

/* "10.0.0.5 session 1a2b3c4d image <hex> signed by <fpr> (why not)" for
 * every candidate, "; "-separated, preceded by "N sessions answered: ";
 * only the verified ones (FC_CAND_OK) when ok_only. */
void fc__choice_report(const struct fc_choice *ch, const struct fc_choose_policy *p, int ok_only,
                       char *buf, size_t cap);

/* 32 hex digits into 16 bytes; FC_EINVAL for anything else. */
int fc__parse_image_id(const char *hex, uint8_t id[FC_ID_LEN]);

#endif
