/* `fleetcast` as a client of fleetcastd's HTTP API (docs/api.md): where the
 * server and the token come from, one call returning parsed JSON, and the
 * one-line error with its exit status. Used by cmd_session.c and
 * cmd_watch.c. */
#ifndef FC_CLI_API_H
#define FC_CLI_API_H

#include <jansson.h>

#include "cli/cli.h"
#include "cli/http_client.h"

#define FC_API_DEFAULT_SERVER "http://127.0.0.1:7680"
#define FC_API_EXIT_NOTFOUND 4

/* The options every API command takes (--server, --token, --token-file,
 * --json), as given on the command line. */
struct fc_api_opts {
    const char *server;
    const char *token;
    const char *token_file;
    int json;
};

struct fc_api {
    struct fc_http http;
    char token_from[600]; /* where the token was found, "" if none */
    char what[160];       /* the call being made, for error lines */
    char err[512];        /* why the last call failed */
};

/* If argv[pos] is one of the common options, consume it: returns 1, or an
 * exit status > 1 in *rc on a usage error; 0 if it is not one of them. */
int fc_api_opt(struct fc_args *a, struct fc_api_opts *o, int *rc);

/* Resolves the server and the token: flags, else FLEETCAST_SERVER /
 * FLEETCAST_TOKEN, else $FLEETCAST_HOME/cli.conf (server = ..., token-file
 * = ...), else $FLEETCAST_HOME/api.token, else the service's
 * FC_STATE_DIR/api.token (the fleetcast group reads it). A default token
 * file that is there but unreadable is an error, not skipped. Returns 0 or
 * an exit status (after printing the error line). */
int fc_api_open(struct fc_api *api, const struct fc_api_opts *o);

/* METHOD PATH with BODY (NULL for none; not stolen). On a 2xx reply with a
 * JSON object returns 0 and the object in *out (json_decref it). Otherwise
 * a negative FC_E* code: FC_EIO no reply, FC_EKEY token refused (401),
 * FC_EREFUSED another 4xx/5xx, FC_EPROTO a reply that is not JSON; the
 * reason is kept for fc_api_fail. */
int fc_api_call(struct fc_api *api, const char *method, const char *path, json_t *body,
                json_t **out);

/* Prints "fleetcast: error: ..." for the failed call and returns its exit
 * status: 4 for 404, 1 otherwise. */
int fc_api_fail(struct fc_api *api, int rc);

/* fc_api_open, fc_api_call and, on failure, fc_api_fail: 0 with the reply
 * in *out, or the exit status (the error line printed). */
int fc_api_request(const struct fc_api_opts *o, const char *method, const char *path, json_t *body,
                   json_t **out);

/* Prints a JSON value as the API gave it (indented), then a newline. */
void fc_api_print_json(json_t *j);

/* Field access that tolerates absent or null fields. */
const char *fc_jstr(json_t *o, const char *key);
double fc_jnum(json_t *o, const char *key, double dflt);
int fc_jnull(json_t *o, const char *key);

/* "199 Mbit/s" style (bits per second); buf of at least 24 bytes. */
const char *fc_human_bits(double bps, char *buf, unsigned cap);
/* "1:02:03" or "2:03"; "-" for a negative value. */
const char *fc_human_secs(double s, char *buf, unsigned cap);

#endif
