/* A tiny HTTP client for the `fleetcast` commands that talk to fleetcastd's
 * API (docs/api.md): a thin wrapper over libcurl, which does all the HTTP.
 * One request at a time per handle; bodies are JSON text. */
#ifndef FC_HTTP_CLIENT_H
#define FC_HTTP_CLIENT_H

#include <signal.h>
#include <stddef.h>

#define FC_HTTP_MAX_BODY (16u << 20) /* a reply larger than this is refused */

struct fc_http {
    char base[512];  /* "http://127.0.0.1:7680", no trailing slash */
    char token[512]; /* bearer token; "" sends none */
    long status;     /* HTTP status of the last request; 0 if none came */
    char error[256]; /* why the last request failed without a status */
    int refused;     /* the last failure was "could not connect" */
    long timeout_s;  /* whole-request timeout for fc_http_request (default 30) */
};

struct fc_http_reply {
    char *body; /* NUL-terminated; free with fc_http_reply_free */
    size_t len;
};

/* Called with each piece of a streamed body as it arrives; return non-zero
 * to end the stream. */
typedef int (*fc_http_data_fn)(void *ctx, const char *data, size_t len);

/* Global set-up of libcurl; once per program, before any request. */
int fc_http_global_init(void);
int fc_http_init(struct fc_http *h, const char *base, const char *token);

/* METHOD PATH (PATH starts with '/'), with a JSON body or NULL. Returns 0
 * when an HTTP reply came (any status: see h->status), FC_EIO/FC_EREFUSED
 * when none did (h->error says why), FC_ENOMEM. */
int fc_http_request(struct fc_http *h, const char *method, const char *path, const char *body,
                    struct fc_http_reply *out);
void fc_http_reply_free(struct fc_http_reply *r);

/* GET PATH as a stream (Server-Sent Events): FN gets the body as it comes,
 * until it returns non-zero, the server ends it, *stop is set, or nothing
 * (not even a keep-alive) came for idle_s seconds. Returns 0 when FN or
 * *stop ended it, FC_EINTR never, FC_EIO/FC_EREFUSED/FC_ETIMEDOUT otherwise;
 * a non-2xx status is returned as 0 with h->status set and the (short)
 * error body in *err_out if given. */
int fc_http_stream(struct fc_http *h, const char *path, fc_http_data_fn fn, void *ctx,
                   volatile sig_atomic_t *stop, long idle_s, struct fc_http_reply *err_out);

#endif
