/* Word of a session's end for whoever is not watching: a webhook (an HTTP
 * POST of the session's report entry as JSON, libcurl) and a mail through
 * the local sendmail (`--notify-url`, `--notify-mail`). Both run on a thread
 * of their own, detached, each bounded in time: a slow or dead receiver
 * never holds the loop, nor libuv's thread pool, where the sessions' chunk
 * reads run. A failure is one warning line; the store has the result
 * either way. (A notice still under way when fleetcastd exits is lost.) */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"
#include "server/server.h"

#define NOTIFY_TIMEOUT_S 15L

struct notify {
    char id[9];
    char *url, *mail_to, *sendmail;
    char *json;    /* the webhook's body */
    char *subject; /* the mail's */
    char *text;    /* the mail's body */
};

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p, (void)ctx;
    return size * n;
}

static void post(const struct notify *n)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    long code = 0;
    CURLcode rc;

    if (!c)
        return;
    curl_easy_setopt(c, CURLOPT_URL, n->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, n->json);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, NOTIFY_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK || code / 100 != 2)
        fc_warn("session %s: webhook %s: %s", n->id, n->url,
                rc != CURLE_OK ? curl_easy_strerror(rc) : "not a 2xx answer");
    else
        fc_info("session %s: webhook %s answered %ld", n->id, n->url, code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* sendmail -t reads the recipients from the headers; -oi: a lone dot is
 * not the end. */
static void mail(const struct notify *n)
{
    char cmd[1200];
    FILE *p;
    int st;

    /* timeout(1): a hung MTA must not keep this thread forever */
    snprintf(cmd, sizeof(cmd), "timeout %ld '%s' -t -oi", NOTIFY_TIMEOUT_S, n->sendmail);
    p = popen(cmd, "w");
    if (!p) {
        fc_warn("session %s: cannot run %s: %s", n->id, n->sendmail, strerror(errno));
        return;
    }
    fprintf(p, "To: %s\nSubject: %s\nContent-Type: text/plain; charset=utf-8\n\n%s", n->mail_to,
            n->subject, n->text);
    st = pclose(p);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
        fc_warn("session %s: %s did not take the mail to %s", n->id, n->sendmail, n->mail_to);
    else
        fc_info("session %s: mail to %s handed to %s", n->id, n->mail_to, n->sendmail);
}

static void notify_free(struct notify *n)
{
    free(n->url);
    free(n->mail_to);
    free(n->sendmail);
    free(n->json);
    free(n->subject);
    free(n->text);
    free(n);
}

static void *run(void *arg)
{
    struct notify *n = arg;

    if (n->url)
        post(n);
    if (n->mail_to)
        mail(n);
    notify_free(n);
    return NULL;
}

/* The mail's text: the report's lines for this session. */
static char *mail_text(const json_t *machines, const char *summary)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const json_t *m;
    size_t i;

    if (!f)
        return NULL;
    fprintf(f, "%s\n\n", summary);
    json_array_foreach(machines, i, m)
    {
        const char *err = json_string_value(json_object_get(m, "error"));
        fprintf(f, "  %-16s %-17s %-8s %s\n", json_string_value(json_object_get(m, "name")) ?: "",
                json_string_value(json_object_get(m, "mac")) ?: "",
                json_string_value(json_object_get(m, "state")) ?: "", err ? err : "");
    }
    fclose(f);
    return buf;
}

static int start(struct notify *n)
{
    pthread_attr_t a;
    pthread_t t;
    int rc;

    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &a, run, n);
    pthread_attr_destroy(&a);
    if (rc)
        fc_warn("session %s: no thread for its notices", n->id);
    return rc;
}

void fc_notify_ended(struct fc_session *s, const json_t *session, const json_t *machines)
{
    const struct fc_daemon_config *c = &s->d->cfg;
    struct notify *n;
    char summary[256];
    const json_t *rx = json_object_get(session, "receivers");
    json_t *body;

    if (!c->notify_url && !c->notify_mail)
        return;
    n = calloc(1, sizeof(*n));
    if (!n)
        return;
    snprintf(n->id, sizeof(n->id), "%s", s->id_text);
    snprintf(summary, sizeof(summary),
             "fleetcast: session %s %s: %lld done, %lld failed, %lld dropped", s->id_text,
             json_string_value(json_object_get(session, "result")) ?: "ended",
             (long long)json_integer_value(json_object_get(rx, "done")),
             (long long)json_integer_value(json_object_get(rx, "failed")),
             (long long)json_integer_value(json_object_get(rx, "dropped")));
    n->url = c->notify_url ? strdup(c->notify_url) : NULL;
    n->mail_to = c->notify_mail ? strdup(c->notify_mail) : NULL;
    n->sendmail = strdup(c->sendmail ? c->sendmail : "/usr/sbin/sendmail");
    body =
        json_pack("{s:O, s:O, s:s}", "session", session, "machines", machines, "summary", summary);
    n->json = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    n->subject = strdup(summary);
    n->text = mail_text(machines, summary);
    if (!n->json || !n->subject || !n->text || !n->sendmail || start(n))
        notify_free(n);
}
