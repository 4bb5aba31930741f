/* fleetcastd's HTTP server (libmicrohttpd, its own threads): the JSON API of
 * docs/api.md, the Server-Sent Events stream, and the dashboard's files.
 * It reads the console snapshot and queues commands; it never touches a
 * session directly. */
#ifndef FC_HTTP_H
#define FC_HTTP_H

#include "server/console.h"

#define FC_HTTP_DEFAULT "127.0.0.1:7680"
#define FC_HTTP_BODY_MAX (64 * 1024)
#define FC_TOKEN_HEX 64

struct MHD_Daemon;

struct fc_http {
    struct MHD_Daemon *mhd;
    struct fc_console *con;
    char token[FC_TOKEN_HEX + 1];
    int read_open; /* reads without a token from anywhere */
};

/* Reads $FLEETCAST_HOME/api.token or creates it (mode 0600) and logs the
 * path. */
int fc_http_load_token(char token[FC_TOKEN_HEX + 1]);
int fc_http_start(struct fc_http *h, const char *addr_port, struct fc_console *con, int read_open);
void fc_http_stop(struct fc_http *h);

#endif
