/* Server address and token resolution, JSON calls and error lines for the
 * `fleetcast` commands that talk to fleetcastd (see api.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "common/error.h"

int fc_api_opt(struct fc_args *a, struct fc_api_opts *o, int *rc)
{
    *rc = 0;
    if (fc_opt_flag(a, "--json")) {
        o->json = 1;
        return 1;
    }
    if (fc_opt_value(a, "--server", &o->server)) {
        if (!o->server || !*o->server)
            *rc = fc_usage_error("--server needs a URL like http://10.0.0.1:7680");
        return 1;
    }
    if (fc_opt_value(a, "--token", &o->token)) {
        if (!o->token || !*o->token)
            *rc = fc_usage_error("--token needs the API token");
        return 1;
    }
    if (fc_opt_value(a, "--token-file", &o->token_file)) {
        if (!o->token_file || !*o->token_file)
            *rc = fc_usage_error("--token-file needs a file name");
        return 1;
    }
    return 0;
}

static void home_path(const char *name, char *buf, size_t cap)
{
    const char *home = getenv("FLEETCAST_HOME");
    const char *user = getenv("HOME");

    if (home && *home)
        snprintf(buf, cap, "%s/%s", home, name);
    else
        snprintf(buf, cap, "%s/.fleetcast/%s", user && *user ? user : "/root", name);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

/* Reads the first line of PATH into buf. Returns 0, or -errno. */
static int read_token_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int ok;

    if (!f)
        return -errno;
    ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok)
        return -ENODATA;
    snprintf(buf, cap, "%s", trim(line));
    return buf[0] ? 0 : -ENODATA;
}

struct conf {
    char server[512];
    char token_file[512];
};

static int conf_line(struct conf *c, char *line, const char *path, int n)
{
    char *eq, *name, *val;

    line = trim(line);
    if (!*line || *line == '#')
        return 0;
    eq = strchr(line, '=');
    if (!eq) {
        fprintf(stderr, "fleetcast: error: %s:%d: expected 'name = value'\n", path, n);
        return 1;
    }
    *eq = 0;
    name = trim(line);
    val = trim(eq + 1);
    if (!strcmp(name, "server"))
        snprintf(c->server, sizeof(c->server), "%s", val);
    else if (!strcmp(name, "token-file"))
        snprintf(c->token_file, sizeof(c->token_file), "%s", val);
    else {
        fprintf(stderr, "fleetcast: error: %s:%d: unknown setting '%s' (server, token-file)\n",
                path, n, name);
        return 1;
    }
    return 0;
}

/* $FLEETCAST_HOME/cli.conf, if there. Returns 0 or exit status 1. */
static int read_conf(struct conf *c)
{
    char path[600], line[1200];
    FILE *f;
    int n = 0, rc = 0;

    memset(c, 0, sizeof(*c));
    home_path("cli.conf", path, sizeof(path));
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (!rc && fgets(line, sizeof(line), f))
        rc = conf_line(c, line, path, ++n);
    fclose(f);
    return rc;
}

/* A token file given (must: any failure is an error) or looked for (a
 * missing one is passed over; one that is there but cannot be read is an
 * error, with hint: a default token is not silently skipped). */
static int token_from_file(struct fc_api *api, const char *path, char *tok, size_t cap, int must,
                           const char *hint)
{
    int rc = read_token_file(path, tok, cap);

    if (rc == 0) {
        snprintf(api->token_from, sizeof(api->token_from), "%s", path);
        return 0;
    }
    if (!must && rc == -ENOENT)
        return 0;
    fprintf(stderr, "fleetcast: error: cannot read the token file %s: %s%s\n", path,
            rc == -ENODATA ? "empty" : strerror(-rc), rc == -EACCES && hint ? hint : "");
    return 1;
}

static int resolve_token(struct fc_api *api, const struct fc_api_opts *o, const struct conf *c,
                         char *tok, size_t cap)
{
    const char *env = getenv("FLEETCAST_TOKEN");
    char path[600];

    tok[0] = 0;
    if (o->token) {
        snprintf(tok, cap, "%s", o->token);
        snprintf(api->token_from, sizeof(api->token_from), "--token");
        return 0;
    }
    if (o->token_file)
        return token_from_file(api, o->token_file, tok, cap, 1, NULL);
    if (env && *env) {
        snprintf(tok, cap, "%s", env);
        snprintf(api->token_from, sizeof(api->token_from), "FLEETCAST_TOKEN");
        return 0;
    }
    if (c->token_file[0])
        return token_from_file(api, c->token_file, tok, cap, 1, NULL);
    home_path("api.token", path, sizeof(path));
    if (token_from_file(api, path, tok, cap, 0, NULL))
        return 1;
    if (tok[0])
        return 0;
    /* the service's token (fleetcastd.service, StateDirectory=fleetcast) */
    return token_from_file(api, FC_STATE_DIR "/api.token", tok, cap, 0,
                           " (the service's token is readable by the 'fleetcast' group: "
                           "ask for your user to be added to it, log in again, or use "
                           "--token-file)");
}

int fc_api_open(struct fc_api *api, const struct fc_api_opts *o)
{
    const char *server = o->server, *env = getenv("FLEETCAST_SERVER");
    struct conf c;
    char tok[512];

    memset(api, 0, sizeof(*api));
    if (read_conf(&c))
        return 1;
    if (!server)
        server = env && *env ? env : c.server[0] ? c.server : FC_API_DEFAULT_SERVER;
    if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8))
        return fc_usage_error("the server is a URL like http://10.0.0.1:7680 (got '%s')", server);
    if (resolve_token(api, o, &c, tok, sizeof(tok)))
        return 1;
    if (fc_http_global_init() || fc_http_init(&api->http, server, tok)) {
        fprintf(stderr, "fleetcast: error: cannot set up the HTTP client for %s\n", server);
        return 1;
    }
    return 0;
}

/* The "error" text of a JSON error body, else the body's start. */
static void reply_error(struct fc_api *api, const char *body)
{
    json_t *j = json_loads(body ? body : "", 0, NULL);
    const char *e = j ? fc_jstr(j, "error") : "";

    if (*e)
        snprintf(api->err, sizeof(api->err), "%s", e);
    else
        snprintf(api->err, sizeof(api->err), "%.200s", body && *body ? body : "(no text)");
    json_decref(j);
}

static int status_error(struct fc_api *api, const struct fc_http_reply *r)
{
    reply_error(api, r->body);
    return api->http.status == 401 ? FC_EKEY : FC_EREFUSED;
}

int fc_api_call(struct fc_api *api, const char *method, const char *path, json_t *body,
                json_t **out)
{
    struct fc_http_reply r;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_error_t jerr;
    int rc;

    *out = NULL;
    api->err[0] = 0;
    snprintf(api->what, sizeof(api->what), "%s %s", method, path);
    if (body && !text)
        return FC_ENOMEM;
    rc = fc_http_request(&api->http, method, path, text, &r);
    free(text);
    if (rc) {
        snprintf(api->err, sizeof(api->err), "%s", api->http.error);
        return rc == FC_ENOMEM ? rc : FC_EIO;
    }
    if (api->http.status < 200 || api->http.status >= 300) {
        rc = status_error(api, &r);
        fc_http_reply_free(&r);
        return rc;
    }
    *out = json_loads(r.body, 0, &jerr);
    fc_http_reply_free(&r);
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        snprintf(api->err, sizeof(api->err), "reply is not a JSON object: %s", jerr.text);
        return FC_EPROTO;
    }
    return 0;
}

int fc_api_request(const struct fc_api_opts *o, const char *method, const char *path, json_t *body,
                   json_t **out)
{
    struct fc_api api;
    int rc = fc_api_open(&api, o);

    if (rc)
        return rc;
    rc = fc_api_call(&api, method, path, body, out);
    return rc ? fc_api_fail(&api, rc) : 0;
}

int fc_api_fail(struct fc_api *api, int rc)
{
    const char *url = api->http.base;

    if (rc == FC_EIO || rc == FC_ETIMEDOUT) {
        fprintf(stderr, "fleetcast: error: cannot reach fleetcastd at %s: %s\n", url, api->err);
        return 1;
    }
    if (rc == FC_EKEY) {
        if (api->token_from[0])
            fprintf(stderr,
                    "fleetcast: error: token refused by fleetcastd at %s (token from %s): %s\n",
                    url, api->token_from, api->err);
        else
            fprintf(stderr,
                    "fleetcast: error: token refused by fleetcastd at %s: %s (no token found: use "
                    "--token, --token-file, FLEETCAST_TOKEN, $FLEETCAST_HOME/api.token or "
                    "the group of " FC_STATE_DIR "/api.token)\n",
                    url, api->err);
        return 1;
    }
    if (rc == FC_EREFUSED) {
        fprintf(stderr, "fleetcast: error: %s: %s (HTTP %ld)\n", api->what, api->err,
                api->http.status);
        return api->http.status == 404 ? FC_API_EXIT_NOTFOUND : 1;
    }
    fprintf(stderr, "fleetcast: error: %s: %s\n", api->what,
            api->err[0] ? api->err : fc_strerror(rc));
    return 1;
}

void fc_api_print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

const char *fc_jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

double fc_jnum(json_t *o, const char *key, double dflt)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : dflt;
}

int fc_jnull(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return !v || json_is_null(v);
}

const char *fc_human_bits(double bps, char *buf, unsigned cap)
{
    if (bps >= 1e9)
        snprintf(buf, cap, "%.2f Gbit/s", bps / 1e9);
    else if (bps >= 1e6)
        snprintf(buf, cap, "%.1f Mbit/s", bps / 1e6);
    else if (bps >= 1e3)
        snprintf(buf, cap, "%.0f kbit/s", bps / 1e3);
    else
        snprintf(buf, cap, "%.0f bit/s", bps < 0 ? 0 : bps);
    return buf;
}

const char *fc_human_secs(double s, char *buf, unsigned cap)
{
    long t = (long)(s + 0.5);

    if (s < 0)
        snprintf(buf, cap, "-");
    else if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
    return buf;
}
