/* fleetcastd's HTTP server (libmicrohttpd, its own threads): the JSON API of
 * docs/api.md, the Server-Sent Events stream, and the dashboard's files.
 * It reads the console snapshot and queues commands; it never touches a
 * session directly. It also owns the console's guards: the Host check, the
 * two tokens (write and viewer), security headers and connection limits. */
#ifndef FC_HTTP_H
#define FC_HTTP_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "server/console.h"

#define FC_HTTP_DEFAULT "127.0.0.1:7680"
#define FC_HTTP_BODY_MAX (64 * 1024)
#define FC_TOKEN_HEX 64
#define FC_HTTP_MAX_HOSTS 16         /* --http-host names */
#define FC_HTTP_HOST_TABLE 64        /* names accepted in Host: defaults, own addresses, those */
#define FC_HTTP_HOST_MAX 253         /* a DNS name's length */
#define FC_HTTP_MAX_CONNECTIONS 512u /* all clients (one thread each) */
#define FC_HTTP_MAX_PER_IP 64u       /* one client address */
#define FC_HTTP_MAX_STREAMS 256      /* event streams at once, half the connections */
#define FC_HTTP_STREAMS_PER_IP 16    /* a quarter of one address's connections */
#define FC_HTTP_STREAM_SECONDS 600   /* an event stream's lifetime; EventSource reconnects */

struct MHD_Daemon;

/* What the operator set (flags or config file). */
struct fc_http_opts {
    int read_open;                        /* reads without a token from anywhere */
    const char *hosts[FC_HTTP_MAX_HOSTS]; /* --http-host: more names accepted in Host */
    unsigned n_hosts;
    unsigned stream_seconds; /* 0: FC_HTTP_STREAM_SECONDS */
};

struct fc_http {
    struct MHD_Daemon *mhd;
    char store_db[1100]; /* the store's file ("" without one): history, report, inventory */
    struct fc_console *con;
    char token[FC_TOKEN_HEX + 1];  /* api.token: reads and changes, header only */
    char viewer[FC_TOKEN_HEX + 1]; /* viewer.token: reads only, header or ?token= */
    int read_open;
    char hosts[FC_HTTP_HOST_TABLE][FC_HTTP_HOST_MAX + 1]; /* lower case, no port */
    unsigned n_hosts;
    unsigned stream_seconds;
    pthread_mutex_t mu; /* the stream counts */
    int n_streams;
    struct {
        uint32_t addr; /* IPv4, network order; 0: free */
        int n;
    } streams_of[FC_HTTP_MAX_STREAMS];
};

/* Reads DIR/NAME (api.token, viewer.token; DIR is the daemon's state
 * directory) or creates it, mode 0640 with the daemon's group, and logs the
 * path. */
int fc_http_load_token(const char *dir, const char *name, char token[FC_TOKEN_HEX + 1]);
/* The tokens live in state_dir (fc_http_load_token); store_db is the store's
 * file ("" or NULL without one). */
int fc_http_start(struct fc_http *h, const char *addr_port, struct fc_console *con,
                  const struct fc_http_opts *o, const char *state_dir, const char *store_db);
void fc_http_stop(struct fc_http *h);

/* http_store.c: the calls answered from the store, on the HTTP thread. */
typedef const char *(*fc_http_query_fn)(void *ctx, const char *name);
/* 1 if path is one of them (then *status and *out are the answer), else 0. */
int fc_http_store_get(const char *db, const char *path, fc_http_query_fn query, void *qctx,
                      unsigned *status, json_t **out);
int fc_http_store_change(const char *db, const char *method, const char *path, const json_t *body,
                         unsigned *status, json_t **out);
/* {"sessions", "machines"} of the newest ended sessions (NULL without a
 * store). */
json_t *fc_http_store_recent(const char *db, int limit);
/* {"session", "machines"} of an ended session, or NULL. */
json_t *fc_http_store_session(const char *db, const char *id);
/* GET /api/v1/pxe: the PXE watcher's list as the loop published it (takes
 * that reference), each machine's "known" and "name" filled from the
 * inventory; as published (every machine unknown) without a store. */
json_t *fc_http_store_pxe(const char *db, json_t *published);

#endif
