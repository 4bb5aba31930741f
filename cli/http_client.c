/* The HTTP client of `fleetcast`: libcurl does the protocol; this file sets
 * it up, collects bodies and maps its failures to FC_E* codes. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http_client.h"
#include "common/error.h"

struct sink {
    struct fc_http_reply *r;
    int too_big;
};

struct stream {
    CURL *c;
    fc_http_data_fn fn;
    void *ctx;
    volatile sig_atomic_t *stop;
    struct sink err;
    int ended_by_us;
    int checked_status;
    int ok_status;
};

int fc_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : FC_ENOMEM;
}

int fc_http_init(struct fc_http *h, const char *base, const char *token)
{
    size_t n;

    memset(h, 0, sizeof(*h));
    h->timeout_s = 30;
    if (!base || snprintf(h->base, sizeof(h->base), "%s", base) >= (int)sizeof(h->base))
        return FC_EINVAL;
    n = strlen(h->base);
    while (n > 0 && h->base[n - 1] == '/')
        h->base[--n] = 0;
    if (token && snprintf(h->token, sizeof(h->token), "%s", token) >= (int)sizeof(h->token))
        return FC_EINVAL;
    return n ? 0 : FC_EINVAL;
}

void fc_http_reply_free(struct fc_http_reply *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

static int sink_add(struct sink *s, const char *data, size_t len)
{
    char *p;

    if (s->r->len + len > FC_HTTP_MAX_BODY) {
        s->too_big = 1;
        return -1;
    }
    p = realloc(s->r->body, s->r->len + len + 1);
    if (!p)
        return -1;
    memcpy(p + s->r->len, data, len);
    s->r->len += len;
    p[s->r->len] = 0;
    s->r->body = p;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t len = size * nmemb;

    return sink_add(ud, data, len) ? 0 : len;
}

static struct curl_slist *make_headers(const struct fc_http *h, int json_body, int sse)
{
    struct curl_slist *l = NULL, *t;
    char auth[600];

    l = curl_slist_append(l, sse ? "Accept: text/event-stream" : "Accept: application/json");
    if (l && json_body && (t = curl_slist_append(l, "Content-Type: application/json")))
        l = t;
    if (l && h->token[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", h->token);
        if ((t = curl_slist_append(l, auth)))
            l = t;
    }
    /* no "Expect: 100-continue" round trip for small bodies */
    if (l && json_body && (t = curl_slist_append(l, "Expect:")))
        l = t;
    return l;
}

static CURL *make_handle(struct fc_http *h, const char *path, struct curl_slist *hdrs)
{
    char url[1024];
    CURL *c;

    if (snprintf(url, sizeof(url), "%s%s", h->base, path) >= (int)sizeof(url))
        return NULL;
    c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "fleetcast/" FC_VERSION);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    return c;
}

/* The outcome of curl_easy_perform as an FC_E* code, h->status and h->error. */
static int finish(struct fc_http *h, CURL *c, CURLcode rc)
{
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    if (rc == CURLE_OK)
        return 0;
    if (!h->error[0])
        snprintf(h->error, sizeof(h->error), "%s", curl_easy_strerror(rc));
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
        h->refused = 1;
        return FC_EREFUSED;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return FC_ETIMEDOUT;
    return FC_EIO;
}

int fc_http_request(struct fc_http *h, const char *method, const char *path, const char *body,
                    struct fc_http_reply *out)
{
    struct curl_slist *hdrs = make_headers(h, body != NULL, 0);
    struct sink s = {out, 0};
    CURL *c;
    CURLcode rc;
    int ret;

    memset(out, 0, sizeof(*out));
    h->status = 0;
    h->error[0] = 0;
    h->refused = 0;
    c = hdrs ? make_handle(h, path, hdrs) : NULL;
    if (!c) {
        curl_slist_free_all(hdrs);
        return FC_ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    rc = curl_easy_perform(c);
    ret = finish(h, c, rc);
    if (s.too_big)
        snprintf(h->error, sizeof(h->error), "reply larger than %u bytes", FC_HTTP_MAX_BODY);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    if (ret)
        fc_http_reply_free(out);
    else if (!out->body && sink_add(&s, "", 0))
        return FC_ENOMEM;
    return ret;
}

static size_t on_stream(char *data, size_t size, size_t nmemb, void *ud)
{
    struct stream *st = ud;
    size_t len = size * nmemb;
    long status = 0;

    if (!st->checked_status) {
        curl_easy_getinfo(st->c, CURLINFO_RESPONSE_CODE, &status);
        st->ok_status = status >= 200 && status < 300;
        st->checked_status = 1;
    }
    if (!st->ok_status)
        return sink_add(&st->err, data, len) ? 0 : len;
    if (st->fn(st->ctx, data, len) || (st->stop && *st->stop)) {
        st->ended_by_us = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

/* Called about once a second even when nothing comes: lets Ctrl-C end a
 * quiet stream. */
static int on_tick(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    struct stream *st = ud;

    (void)a, (void)b, (void)c, (void)d;
    if (st->stop && *st->stop) {
        st->ended_by_us = 1;
        return 1;
    }
    return 0;
}

int fc_http_stream(struct fc_http *h, const char *path, fc_http_data_fn fn, void *ctx,
                   volatile sig_atomic_t *stop, long idle_s, struct fc_http_reply *err_out)
{
    struct curl_slist *hdrs = make_headers(h, 0, 1);
    struct fc_http_reply scratch;
    struct stream st;
    CURLcode rc;
    int ret;

    memset(&st, 0, sizeof(st));
    memset(&scratch, 0, sizeof(scratch));
    st.fn = fn;
    st.ctx = ctx;
    st.stop = stop;
    st.err.r = err_out ? err_out : &scratch;
    memset(st.err.r, 0, sizeof(*st.err.r));
    h->status = 0;
    h->error[0] = 0;
    h->refused = 0;
    st.c = hdrs ? make_handle(h, path, hdrs) : NULL;
    if (!st.c) {
        curl_slist_free_all(hdrs);
        return FC_ENOMEM;
    }
    curl_easy_setopt(st.c, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(st.c, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(st.c, CURLOPT_XFERINFOFUNCTION, on_tick);
    curl_easy_setopt(st.c, CURLOPT_XFERINFODATA, &st);
    curl_easy_setopt(st.c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(st.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(st.c, CURLOPT_LOW_SPEED_TIME, idle_s > 0 ? idle_s : 60L);
    rc = curl_easy_perform(st.c);
    ret = st.ended_by_us ? 0 : finish(h, st.c, rc);
    if (st.ended_by_us)
        curl_easy_getinfo(st.c, CURLINFO_RESPONSE_CODE, &h->status);
    curl_easy_cleanup(st.c);
    curl_slist_free_all(hdrs);
    fc_http_reply_free(&scratch);
    return ret;
}
