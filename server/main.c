/* fleetcastd: serves images to labs over multicast.
 *   fleetcastd --image IMG --group 239.x.y.z:PORT --iface IF [options]
 *       one session; exits when it ends
 *   fleetcastd --daemon [--http 127.0.0.1:7680] [a first session]
 *       serves sessions created over the HTTP API until stopped
 * Exit status: 0 every receiver done and verified; 1 some failed or were
 * dropped; 2 aborted (signal or fatal error); 3 bad image; 64 usage (an
 * unknown option is named: "unknown option --foo"). SIGHUP reloads the
 * config (daemon.c, fc_config_reload). */
#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fleetcastd --image IMG --group 239.X.Y.Z:PORT --iface IF [options]\n"
            "       fleetcastd --daemon [--http ADDR:PORT] [a first session as above]\n"
            "session:\n"
            "  --rate R            rate cap, bits/s with K/M/G suffix (default 100M)\n"
            "  --min-receivers N   start when N receivers joined (default 1)\n"
            "  --max-wait S        or S seconds after the first receiver joined (with at\n"
            "                      least one; none before the first join)\n"
            "  --fec P             least proactive parity, percent of each block (default 0;\n"
            "                      more is sent for the worst receiver's loss, up to 25)\n"
            "  --k K               source packets per FEC block (default 200)\n"
            "  --payload B         bytes per DATA packet (default %d)\n"
            "  --drop-silent S     drop a receiver silent for S s (default 15)\n"
            "  --drop-stall S      drop a receiver writing nothing for S s (default 120)\n"
            "  --drop-loss P       drop a receiver losing over P%% for 10 s (default 50)\n"
            "  --stats FILE        write the session's counters as JSON at its end\n"
            "  --max-time S        fail what is unfinished S s after sending starts (0: none)\n"
            "  --max-per-ip N      active receivers from one address (default 4; loopback\n"
            "                      exempt; 0: no limit)\n"
            "  --repair-budget P   repair packets one receiver may ask, %% of the image's\n"
            "                      packets (default 100)\n"
            "  --zero-free         receivers zero what the image does not store\n"
            "  --readback          receivers read the whole disk back after fsync and\n"
            "                      check it (a second pass; default: the verified chunks\n"
            "                      as written and fsynced)\n"
            "  --names FILE        \"MAC,hostname\" lines: the host name each machine's clone\n"
            "                      gets (before the inventory's; docs/identity.md)\n"
            "  --grow              receivers grow the last partition and its ext2/3/4 or\n"
            "                      swap to fill a disk bigger than the image's\n"
            "  --grow-part N       partition N (1-31) instead (implies --grow)\n"
            "  --loopback          receivers run on this host (multicast loop on)\n"
            "  --verbose           status line every second\n"
            "daemon:\n"
            "  --ctrl-port P       control UDP/TCP port (default %d)\n"
            "  --daemon            keep serving when sessions end (API mode)\n"
            "  --http ADDR:PORT    the console: HTTP API and dashboard (docs/api.md);\n"
            "                      use %s; another address only on purpose\n"
            "  --http-read-open    let any address read the API without a token\n"
            "  --http-host NAME    one more name the console answers to (repeatable; it\n"
            "                      always answers to its address and localhost)\n"
            "  --http-stream-seconds S  an event stream's lifetime (default %d; browsers\n"
            "                      reconnect)\n"
            "  --trusted-key PUB   serve only images signed by this key (docs/security.md)\n"
            "  --capture-key SECRET  sign uploaded captures with this key (default:\n"
            "                      STATE_DIR/capture.key, made on first use)\n"
            "  --capture-dir DIR   captures are written only under DIR: a capture's out is a\n"
            "                      name or a relative path in it (default STATE_DIR/images)\n"
            "  --tftp-root DIR     a machine done and verified gets DIR/pxelinux.cfg/01-<mac>:\n"
            "                      it boots its local disk next time (docs/pxe.md)\n"
            "  --notify-url URL    POST each ended session's JSON there (a webhook)\n"
            "  --notify-mail ADDR  mail each ended session's report there, through\n"
            "  --sendmail PATH     this sendmail (default /usr/sbin/sendmail)\n"
            "  --watch-iface IF    watch IF for machines PXE booting (repeatable or IF,IF;\n"
            "                      passive: libpcap, needs CAP_NET_RAW; docs/pxe.md)\n"
            "  --keep-history DAYS ended sessions older than this leave the store (default\n"
            "                      %d; 0: never)\n"
            "  --state-dir DIR     the daemon's state: API tokens, the store (default\n"
            "                      $STATE_DIRECTORY, else $FLEETCAST_HOME, else ~/.fleetcast)\n"
            "  --config FILE       'name = value' lines with the names above (yes/no for\n"
            "                      the flags without a value); SIGHUP reads it again\n"
            "  --check-config      check the settings (and --config FILE), then exit: 0\n"
            "                      valid, 64 not\n"
            "  --help, --version\n",
            FC_DATA_MAX_PAYLOAD, FC_PORT_DEFAULT, FC_HTTP_DEFAULT, FC_HTTP_STREAM_SECONDS,
            FC_KEEP_HISTORY_DEFAULT);
}

/* --help or --version anywhere: 1 and the exit status in *rc. */
static int help_or_version(int argc, char **argv, int *rc)
{
    int i;

    *rc = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("fleetcastd %s\n", FC_VERSION);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct fc_daemon *d = calloc(1, sizeof(*d));
    struct fc_daemon_config dc;
    struct fc_session_config sc;
    struct fc_session *s;
    char why[256];
    int has_session, rc;

    fc_log_init("fleetcastd", FC_LOG_INFO);
    /* A peer that goes away mid-write (sendmail, a webhook, a TCP client)
     * is an error to handle, not a reason to die. */
    signal(SIGPIPE, SIG_IGN);
    if (!d || sodium_init() < 0)
        return 2;
    if (help_or_version(argc, argv, &rc)) {
        free(d);
        return rc;
    }
    if (fc_config_parse(&dc, &sc, &has_session, argc, argv)) {
        fprintf(stderr, "fleetcastd: see fleetcastd --help\n");
        fc_config_free(&dc);
        free(d);
        return 64;
    }
    if (dc.check_only) {
        printf("fleetcastd: the settings are valid%s%s\n", dc.config_path ? ": " : "",
               dc.config_path ? dc.config_path : "");
        fc_config_free(&dc);
        free(d);
        return 0;
    }
    /* once, before any thread uses libcurl; always: a reload may set --notify-url */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = fc_daemon_init(d, &dc, &sc);
    if (!rc && d->store) {
        fc_record_resume(d);
        fc_pxecfg_sync(d);
        fc_schedule_start(d);
    }
    if (!rc && has_session) {
        rc = fc_daemon_add_session(d, &sc, &s, why, sizeof(why));
        /* The command line's session may be one the store just resumed. */
        if (rc == FC_ESTATE && d->n_sessions)
            fc_warn("the session of the command line is not started: %s", why), rc = 0;
    }
    if (rc) {
        fc_error("cannot start: %s", fc_strerror(rc));
        fc_daemon_free(d);
        free(d);
        return rc == FC_EIO || rc == FC_EINVAL || rc == FC_ESTATE ? 2 : 3;
    }
    fc_daemon_run(d);
    rc = d->exit_code;
    fc_daemon_free(d);
    free(d);
    return rc;
}
