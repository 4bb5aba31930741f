/* The bridge between the session loop (libuv thread) and the HTTP threads.
 * The loop publishes an immutable JSON snapshot of every session and machine
 * and appends events; HTTP threads only read those, under one mutex, so a
 * browser never touches session state and never slows the sender. Requests
 * that change things are queued to the loop (uv_async) and waited for. */
#ifndef FC_CONSOLE_H
#define FC_CONSOLE_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#define FC_EVENTS_KEPT 256

enum fc_cmd_type {
    FC_CMD_CREATE,
    FC_CMD_START,
    FC_CMD_CANCEL,
    FC_CMD_WAKE,
    FC_CMD_SCHEDULE,
    FC_CMD_BOOT,
    FC_CMD_UNSCHEDULE,
    FC_CMD_CAPTURE,
    FC_CMD_CAPTURE_CANCEL
};

struct fc_cmd {
    enum fc_cmd_type type;
    char session[16]; /* or the schedule's id (FC_CMD_UNSCHEDULE) */
    json_t *body;     /* create, wake, schedule: the request body (owned) */
    int status;       /* HTTP status, set by the loop */
    json_t *result;   /* answer body, set by the loop (owned by the waiter) */
    int done;
    struct fc_cmd *next;
};

struct fc_event {
    uint64_t seq;
    char name[16];
    char *data; /* one line of JSON */
};

struct fc_console {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* snapshot, event or command completion */
    json_t *snapshot;  /* {"sessions": [...], "machines": [...]}, never modified once published */
    /* GET /api/v1/pxe: the PXE watcher's machines (api.c), never modified once
     * published; apart from the snapshot, which every event stream is sent */
    json_t *pxe;
    uint64_t next_seq;
    struct fc_event ev[FC_EVENTS_KEPT];
    struct fc_cmd *queue, *queue_tail;
    uv_async_t async;
    int stopping;
    /* the loop's handler of a queued command (runs in the loop thread) */
    void (*execute)(void *ctx, struct fc_cmd *cmd);
    void *ctx;
};

int fc_console_init(struct fc_console *c, uv_loop_t *loop,
                    void (*execute)(void *ctx, struct fc_cmd *cmd), void *ctx);
void fc_console_close(struct fc_console *c);

/* Loop thread: publish (takes ownership of snap) and append an event. */
void fc_console_publish(struct fc_console *c, json_t *snap);
void fc_console_publish_pxe(struct fc_console *c, json_t *pxe);
void fc_console_event(struct fc_console *c, const char *name, json_t *data);

/* HTTP threads. */
json_t *fc_console_snapshot(struct fc_console *c); /* a reference, or NULL */
json_t *fc_console_pxe(struct fc_console *c);      /* a reference, or NULL */
/* Queues cmd and waits (at most timeout_ms) for the loop to run it. */
int fc_console_submit(struct fc_console *c, struct fc_cmd *cmd, int timeout_ms);
/* Event with seq >= *next, waiting up to timeout_ms; returns a malloc'd
 * "event: ...\ndata: ...\n\n" string and advances *next, or NULL. */
char *fc_console_next_event(struct fc_console *c, uint64_t *next, int timeout_ms);
uint64_t fc_console_latest_seq(struct fc_console *c);

#endif
