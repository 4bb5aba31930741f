/* Snapshot, event ring and command queue shared by the loop and HTTP. */
#include "server/console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

static void on_async(uv_async_t *a)
{
    struct fc_console *c = a->data;
    struct fc_cmd *cmd;

    for (;;) {
        pthread_mutex_lock(&c->mu);
        cmd = c->queue;
        if (cmd) {
            c->queue = cmd->next;
            if (!c->queue)
                c->queue_tail = NULL;
        }
        pthread_mutex_unlock(&c->mu);
        if (!cmd)
            return;
        c->execute(c->ctx, cmd);
        pthread_mutex_lock(&c->mu);
        cmd->done = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
}

int fc_console_init(struct fc_console *c, uv_loop_t *loop,
                    void (*execute)(void *ctx, struct fc_cmd *cmd), void *ctx)
{
    pthread_condattr_t ca;

    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    c->execute = execute;
    c->ctx = ctx;
    c->next_seq = 1;
    c->async.data = c;
    return uv_async_init(loop, &c->async, on_async) ? FC_EIO : 0;
}

void fc_console_close(struct fc_console *c)
{
    int i;

    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    uv_close((uv_handle_t *)&c->async, NULL);
    json_decref(c->snapshot);
    c->snapshot = NULL;
    json_decref(c->pxe);
    c->pxe = NULL;
    for (i = 0; i < FC_EVENTS_KEPT; i++) {
        free(c->ev[i].data);
        c->ev[i].data = NULL;
    }
}

/* Publishing replaces a document under the mutex; readers hold their own
 * reference to the one they got. */
static void publish(struct fc_console *c, json_t **slot, json_t *doc)
{
    json_t *old;

    pthread_mutex_lock(&c->mu);
    old = *slot;
    *slot = doc;
    pthread_mutex_unlock(&c->mu);
    json_decref(old);
}

static json_t *published(struct fc_console *c, json_t *const *slot)
{
    json_t *doc;

    pthread_mutex_lock(&c->mu);
    doc = json_incref(*slot);
    pthread_mutex_unlock(&c->mu);
    return doc;
}

void fc_console_publish(struct fc_console *c, json_t *snap)
{
    publish(c, &c->snapshot, snap);
}

void fc_console_publish_pxe(struct fc_console *c, json_t *pxe)
{
    publish(c, &c->pxe, pxe);
}

void fc_console_event(struct fc_console *c, const char *name, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    struct fc_event *e;

    json_decref(data);
    if (!text)
        return;
    pthread_mutex_lock(&c->mu);
    e = &c->ev[c->next_seq % FC_EVENTS_KEPT];
    free(e->data);
    e->seq = c->next_seq++;
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->data = text;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

json_t *fc_console_snapshot(struct fc_console *c)
{
    return published(c, &c->snapshot);
}

json_t *fc_console_pxe(struct fc_console *c)
{
    return published(c, &c->pxe);
}

static void deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int fc_console_submit(struct fc_console *c, struct fc_cmd *cmd, int timeout_ms)
{
    struct timespec ts;
    int rc = 0;

    deadline(&ts, timeout_ms);
    cmd->next = NULL;
    cmd->done = 0;
    pthread_mutex_lock(&c->mu);
    if (c->queue_tail)
        c->queue_tail->next = cmd;
    else
        c->queue = cmd;
    c->queue_tail = cmd;
    pthread_mutex_unlock(&c->mu);
    uv_async_send(&c->async);
    pthread_mutex_lock(&c->mu);
    while (!cmd->done && !c->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    /* A command the loop has not taken yet must not outlive its waiter. */
    if (!cmd->done) {
        struct fc_cmd **p = &c->queue, *prev = NULL;
        while (*p && *p != cmd) {
            prev = *p;
            p = &(*p)->next;
        }
        if (*p) {
            *p = cmd->next;
            if (c->queue_tail == cmd)
                c->queue_tail = prev;
        } else {
            while (!cmd->done) /* being executed right now: it finishes soon */
                pthread_cond_wait(&c->cv, &c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return cmd->done ? 0 : FC_ETIMEDOUT;
}

uint64_t fc_console_latest_seq(struct fc_console *c)
{
    uint64_t s;

    pthread_mutex_lock(&c->mu);
    s = c->next_seq;
    pthread_mutex_unlock(&c->mu);
    return s;
}

char *fc_console_next_event(struct fc_console *c, uint64_t *next, int timeout_ms)
{
    struct timespec ts;
    char *out = NULL;
    int rc = 0;

    deadline(&ts, timeout_ms);
    pthread_mutex_lock(&c->mu);
    while (*next >= c->next_seq && !c->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    if (*next < c->next_seq && !c->stopping) {
        /* A reader that fell behind the ring skips to the oldest kept. */
        if (c->next_seq - *next > FC_EVENTS_KEPT - 1)
            *next = c->next_seq - (FC_EVENTS_KEPT - 1);
        struct fc_event *e = &c->ev[*next % FC_EVENTS_KEPT];
        size_t n = strlen(e->name) + strlen(e->data) + 32;
        out = malloc(n);
        if (out)
            snprintf(out, n, "event: %s\ndata: %s\n\n", e->name, e->data);
        (*next)++;
    }
    pthread_mutex_unlock(&c->mu);
    return out;
}
