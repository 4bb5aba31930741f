/* The API calls answered from the store (docs/api.md): ended sessions,
 * the history, the morning report, the inventory (machines, labs), and
 * which machines the PXE watcher saw are in the inventory. They
 * run on the HTTP thread that got the request, on a store connection of its
 * own (store.h): the loop thread and its sender never see them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "server/http.h"
#include "server/store.h"

#define HISTORY_DEFAULT 100
#define HISTORY_MAX 1000
#define IMPORT_MAX 4096 /* machines in one request */

static json_t *error_body(const char *msg)
{
    return json_pack("{s:s}", "error", msg);
}

/* A non-negative integer argument, or def when absent; -1 when malformed. */
static long long int_arg(const char *v, long long def)
{
    char *end;
    long long n;

    if (!v || !*v)
        return def;
    n = strtoll(v, &end, 10);
    return *end || n < 0 ? -1 : n;
}

json_t *fc_http_store_recent(const char *db, int limit)
{
    struct fc_store_reader *r = db ? fc_store_reader_open_path(db) : NULL;
    json_t *m = NULL, *s = r ? fc_store_ended_sessions(r, 0, limit, &m) : NULL;

    fc_store_reader_close(r);
    return s ? json_pack("{s:o, s:o}", "sessions", s, "machines", m) : NULL;
}

json_t *fc_http_store_session(const char *db, const char *id)
{
    struct fc_store_reader *r = db ? fc_store_reader_open_path(db) : NULL;
    json_t *out = r ? fc_store_session(r, id) : NULL;

    fc_store_reader_close(r);
    return out;
}

/* THE place the PXE watcher's machines meet the inventory ("unknown MACs
 * listed for adoption"): a machine is known when its MAC is in the
 * inventory, and then shown with its inventory name. */
json_t *fc_http_store_pxe(const char *db, json_t *published)
{
    struct fc_store_reader *r = db && published ? fc_store_reader_open_path(db) : NULL;
    json_t *inv = r ? fc_store_machines(r, NULL) : NULL, *by_mac = json_object(), *out = NULL;
    json_t *m, *e;
    size_t i;

    fc_store_reader_close(r);
    json_array_foreach(inv, i, e)
        json_object_set(by_mac, json_string_value(json_object_get(e, "mac")) ?: "", e);
    if (inv && by_mac)
        out = json_deep_copy(published); /* the published one is shared: never changed */
    json_array_foreach(out ? json_object_get(out, "machines") : NULL, i, m)
    {
        e = json_object_get(by_mac, json_string_value(json_object_get(m, "mac")) ?: "");
        if (e) {
            json_object_set_new(m, "known", json_true());
            json_object_set(m, "name", json_object_get(e, "name"));
        }
    }
    json_decref(inv);
    json_decref(by_mac);
    if (!out)
        return published;
    json_decref(published);
    return out;
}

static json_t *get_on(struct fc_store_reader *r, const char *path, fc_http_query_fn query,
                      void *qctx, unsigned *status)
{
    /* a report without since is the last 24 hours, as the CLI's */
    long long since = int_arg(query(qctx, "since"), (long long)time(NULL) - 86400);
    long long limit = int_arg(query(qctx, "limit"), HISTORY_DEFAULT);
    const char *session = query(qctx, "session");
    json_t *out;

    if (since < 0 || limit < 0 || limit > HISTORY_MAX)
        return *status = 400, error_body("since and limit must be whole numbers (limit <= 1000)");
    if (!strcmp(path, "history"))
        return json_pack("{s:o*}", "sessions", fc_store_ended_sessions(r, since, (int)limit, NULL));
    if (!strcmp(path, "report")) {
        out = fc_store_report(r, since, session && *session ? session : NULL);
        if (!out)
            *status = 404, out = error_body("no such session in the store");
        return out;
    }
    if (!strcmp(path, "inventory/machines"))
        return json_pack("{s:o*}", "machines", fc_store_machines(r, query(qctx, "lab")));
    return json_pack("{s:o*}", "labs", fc_store_labs(r));
}

/* A connection for one request; NULL with the answer set if there is none. */
static struct fc_store_reader *reader(const char *db, unsigned *status, json_t **out)
{
    struct fc_store_reader *r;

    *status = 200;
    if (!db) {
        *status = 404;
        *out = error_body("this fleetcastd keeps no store (it runs without --daemon)");
        return NULL;
    }
    r = fc_store_reader_open_path(db);
    if (!r) {
        *status = 503;
        *out = error_body("the store cannot be opened (see fleetcastd's log)");
    }
    return r;
}

int fc_http_store_get(const char *db, const char *path, fc_http_query_fn query, void *qctx,
                      unsigned *status, json_t **out)
{
    struct fc_store_reader *r;

    if (strcmp(path, "history") && strcmp(path, "report") && strcmp(path, "inventory/machines") &&
        strcmp(path, "inventory/labs"))
        return 0;
    if (!(r = reader(db, status, out)))
        return 1;
    *out = get_on(r, path, query, qctx, status);
    fc_store_reader_close(r);
    return 1;
}

/* ---- inventory edits */

static const char *member(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* One machine {mac, name, lab}, or {"machines": [...]} (an import) in one
 * transaction: all of them or none. */
static json_t *put_machines(struct fc_store_reader *r, const json_t *body, unsigned *status)
{
    const json_t *list = json_object_get(body, "machines"), *m;
    char why[256], msg[320];
    size_t i, n;

    if (!list)
        list = json_pack("[O]", body);
    else
        json_incref((json_t *)list);
    n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > IMPORT_MAX) {
        json_decref((json_t *)list);
        return *status = 400, error_body("want {mac, name, lab} or {\"machines\": [...]} (1-4096)");
    }
    if (fc_store_begin(r)) {
        json_decref((json_t *)list);
        return *status = 503, error_body("the store is busy; nothing was changed, try again");
    }
    json_array_foreach(list, i, m)
    {
        if (fc_store_machine_set(r, member(m, "mac"), member(m, "name"), member(m, "lab"), why,
                                 sizeof(why))) {
            fc_store_end(r, 0);
            json_decref((json_t *)list);
            snprintf(msg, sizeof(msg), "machine %zu: %s; nothing was changed", i + 1, why);
            return *status = 400, error_body(msg);
        }
    }
    json_decref((json_t *)list);
    if (fc_store_end(r, 1))
        return *status = 503, error_body("the store could not commit; nothing was changed");
    return json_pack("{s:I}", "machines", (json_int_t)n);
}

static json_t *change_on(struct fc_store_reader *r, const char *method, const char *path,
                         const json_t *body, unsigned *status)
{
    int del = !strcmp(method, "DELETE");
    char why[256] = "";
    int rc;

    if (!del && !strcmp(path, "inventory/machines"))
        return put_machines(r, body, status);
    if (!del && !strcmp(path, "inventory/labs")) {
        rc = fc_store_lab_set(r, member(body, "name"), member(body, "note"), why, sizeof(why));
        return rc ? (*status = rc == FC_EIO ? 503 : 400, error_body(why))
                  : json_pack("{s:b}", "ok", 1);
    }
    if (del && !strncmp(path, "inventory/machines/", 19)) {
        rc = fc_store_machine_remove(r, path + 19);
        if (rc == FC_ESTATE)
            return *status = 404, error_body("no such machine");
        if (rc == FC_EIO)
            return *status = 503, error_body("the store is busy; try again");
        return rc ? (*status = 400, error_body("bad MAC address")) : json_pack("{s:b}", "ok", 1);
    }
    if (del && !strncmp(path, "inventory/labs/", 15)) {
        rc = fc_store_lab_remove(r, path + 15, why, sizeof(why));
        return rc ? (*status = rc == FC_ESTATE ? 409
                               : rc == FC_EIO  ? 503
                                               : 404,
                     error_body(why))
                  : json_pack("{s:b}", "ok", 1);
    }
    return *status = 404, error_body("no such call");
}

int fc_http_store_change(const char *db, const char *method, const char *path, const json_t *body,
                         unsigned *status, json_t **out)
{
    struct fc_store_reader *r;

    if (strncmp(path, "inventory/", 10))
        return 0;
    if (!json_is_object(body) && strcmp(method, "DELETE")) {
        *status = 400;
        *out = error_body("want a JSON object");
        return 1;
    }
    if (!(r = reader(db, status, out)))
        return 1;
    *out = change_on(r, method, path, body, status);
    fc_store_reader_close(r);
    return 1;
}
