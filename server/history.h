/* Ended sessions as the console shows them: an immutable summary each (the
 * session's JSON and its machines' JSON, made by api.c when it ended), the
 * newest FC_HISTORY_KEPT of them. The session itself is freed; only this
 * stays. A small interface on purpose: a store on disk (issue 10, SQLite)
 * can take its place without the daemon or the API changing. Loop thread
 * only. */
#ifndef FC_HISTORY_H
#define FC_HISTORY_H

#include <jansson.h>
#include <stddef.h>

#define FC_HISTORY_KEPT 100 /* ended sessions kept; the oldest is dropped */

struct fc_summary {
    char id[9];       /* the session's id, 8 hex digits */
    json_t *session;  /* Session object (docs/api.md), never modified once added */
    json_t *machines; /* array of Machine objects, never modified once added */
};

struct fc_history;

struct fc_history *fc_history_new(size_t cap);
void fc_history_free(struct fc_history *h);
/* Takes both references, even on failure. A summary with the same id (the
 * same image served again on the same group) replaces the older one: an id
 * names one session in the API. Past cap, the oldest is dropped. */
int fc_history_add(struct fc_history *h, const char *id, json_t *session, json_t *machines);
/* The summary of an ended session, or NULL. Valid until the next add. */
const struct fc_summary *fc_history_get(const struct fc_history *h, const char *id);
size_t fc_history_count(const struct fc_history *h);
/* i = 0 is the newest. */
const struct fc_summary *fc_history_at(const struct fc_history *h, size_t i);

#endif
