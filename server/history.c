/* The summaries of ended sessions (history.h): a small array, oldest first,
 * at most cap entries. Linear scans: cap is 100 and the loop reads it four
 * times a second. */
#include "server/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

struct fc_history {
    struct fc_summary *e; /* e[0] the oldest */
    size_t n, cap;
};

struct fc_history *fc_history_new(size_t cap)
{
    struct fc_history *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->e = calloc(cap ? cap : 1, sizeof(*h->e));
    if (!h->e) {
        free(h);
        return NULL;
    }
    h->cap = cap ? cap : 1;
    return h;
}

static void drop(struct fc_history *h, size_t i)
{
    json_decref(h->e[i].session);
    json_decref(h->e[i].machines);
    memmove(&h->e[i], &h->e[i + 1], (h->n - i - 1) * sizeof(*h->e));
    h->n--;
}

void fc_history_free(struct fc_history *h)
{
    if (!h)
        return;
    while (h->n)
        drop(h, h->n - 1);
    free(h->e);
    free(h);
}

static size_t find(const struct fc_history *h, const char *id)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (!strcmp(h->e[i].id, id))
            return i;
    return h->n;
}

int fc_history_add(struct fc_history *h, const char *id, json_t *session, json_t *machines)
{
    size_t i = find(h, id);
    struct fc_summary *e;

    if (!session || !machines) {
        json_decref(session);
        json_decref(machines);
        return FC_ENOMEM;
    }
    if (i < h->n)
        drop(h, i);
    if (h->n == h->cap)
        drop(h, 0);
    e = &h->e[h->n++];
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->session = session;
    e->machines = machines;
    return 0;
}

const struct fc_summary *fc_history_get(const struct fc_history *h, const char *id)
{
    size_t i = find(h, id);

    return i < h->n ? &h->e[i] : NULL;
}

size_t fc_history_count(const struct fc_history *h)
{
    return h->n;
}

const struct fc_summary *fc_history_at(const struct fc_history *h, size_t i)
{
    return i < h->n ? &h->e[h->n - 1 - i] : NULL;
}
