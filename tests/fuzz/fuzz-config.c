/* libFuzzer harness of fleetcastd's config file parser (server/config.c):
 * the input is the file, given as `fleetcastd --config FILE` would be
 * (through a memfd), then checked as fc_config_parse() checks a command
 * line. Properties: no crash or UB on any line (long, unterminated, NUL
 * bytes, no '=', unknown names, numbers out of range); an accepted session
 * has what fc_session_config_check() demands; the PXE watcher's interfaces
 * (watch-iface) stay within their table. The file's strings are freed by
 * fc_config_free() (leak detection stays off for this harness in
 * scripts/fuzz.sh, as before). */
#include <string.h>

#include "server/server.h"
#include "tests/fuzz/fuzz.h"

/* pxecfg.c, linked for config.c's --tftp-root check, refers to netio.c's
 * MAC lookup, which nothing reached from config.c calls. */
int fc_netio_mac_of(struct in_addr ip, char out[18])
{
    (void)ip, (void)out;
    abort();
}

static void write_seeds(void)
{
    static const char *const seeds[][2] = {
        {"session.conf",
         "# fleetcastd config\nimage = /srv/images/lab.fci\ngroup = 239.255.1.1:9000\n"
         "iface = eth0\nrate = 900M\nmin-receivers = 10\nmax-wait = 600\nfec = 5\n"
         "k = 200\npayload = 1448\nreport-ms = 1000\ndrop-silent = 15\n"
         "drop-stall = 120\ndrop-loss = 50\nttl = 1\nverbose = yes\n"},
        {"daemon.conf", "daemon = true\nhttp = 127.0.0.1:7680\nctrl-port = 7650\n"
                        "http-read-open = no\nloopback = 1\n"},
        {"bad-line.conf", "   \n# only a comment\nrate\n"},
        {"out-of-range.conf", "k = 201\npayload = 99999\nrate = 1e300G\ngroup = 239.1.1.1:0\n"},
        {"watch.conf", "daemon = yes\nwatch-iface = eth0,br0\nwatch-iface = eth1\n"},
    };

    fuzz_seed_texts(seeds, sizeof(seeds) / sizeof(seeds[0]));
}

FUZZ_SEEDS(write_seeds)

/* The PXE watcher's interfaces: bounded, each a name without a comma. */
static void check_watch_ifaces(const struct fc_daemon_config *dc)
{
    unsigned i;

    FUZZ_ASSERT(dc->n_watch_ifaces <= FC_WATCH_IFACES_MAX);
    for (i = 0; i < dc->n_watch_ifaces; i++)
        FUZZ_ASSERT(dc->watch_ifaces[i][0] && !strchr(dc->watch_ifaces[i], ',') &&
                    strlen(dc->watch_ifaces[i]) < FC_PXE_IFNAME_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fc_daemon_config dc;
    struct fc_session_config c;
    char path[64], arg0[] = "fleetcastd", arg1[] = "--config";
    char *argv[] = {arg0, arg1, path, NULL};
    int fd, has_session = 0;

    fuzz_quiet();
    fd = fuzz_memfd(data, size);
    FUZZ_ASSERT(fd >= 0);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (fc_config_parse(&dc, &c, &has_session, 3, argv) == 0) {
        check_watch_ifaces(&dc);
        if (has_session) {
            char why[128];

            FUZZ_ASSERT(fc_session_config_check(&c, why, sizeof(why)) == 0);
            FUZZ_ASSERT(c.k_max >= 1 && c.k_max <= FC_FEC_MAX_K);
            FUZZ_ASSERT(c.payload >= 1 && c.payload <= FC_DATA_MAX_PAYLOAD);
        }
    }
    fc_config_free(&dc);
    close(fd);
    return 0;
}
