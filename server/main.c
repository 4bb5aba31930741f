/* fleetcastd: serves one image to a lab in one multicast session. Start-up
 * (config, image, sockets), the libuv loop, signals, and the final report.
 *   fleetcastd --image IMG --group 239.x.y.z:PORT --iface IF [--rate 900M]
 *              [--min-receivers N] [--max-wait S] [--fec P] [--stats FILE] ...
 * Exit status: 0 every receiver done and verified; 1 some failed or were
 * dropped; 2 aborted (signal or fatal error); 3 bad image; 64 usage. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "server/server.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: fleetcastd --image IMG --group 239.X.Y.Z:PORT --iface IF [options]\n"
            "  --rate R            rate cap, bits/s with K/M/G suffix (default 100M)\n"
            "  --min-receivers N   start when N receivers joined (default 1)\n"
            "  --max-wait S        or after S seconds with at least one receiver\n"
            "  --fec P             proactive parity, percent of each block (default 0)\n"
            "  --ctrl-port P       control UDP/TCP port (default %d)\n"
            "  --k K               source packets per FEC block (default 200)\n"
            "  --payload B         bytes per DATA packet (default %d)\n"
            "  --drop-silent S     drop a receiver silent for S s (default 15)\n"
            "  --drop-stall S      drop a receiver writing nothing for S s (default 120)\n"
            "  --drop-loss P       drop a receiver losing over P%% for 10 s (default 50)\n"
            "  --stats FILE        write the session's counters as JSON at the end\n"
            "  --config FILE       read 'name = value' lines with these names\n"
            "  --loopback          receivers run on this host (multicast loop on)\n"
            "  --verbose           status line every second\n",
            FC_PORT_DEFAULT, FC_DATA_MAX_PAYLOAD);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct fc_server *s = h->data;

    fc_session_abort(s, FC_REASON_OPERATOR,
                     sig == SIGINT ? "interrupted by the operator" : "fleetcastd terminated");
}

/* Derived from the image and the group, so that a restarted server keeps
 * the id and its receivers keep listening to it. */
static uint32_t derive_session_id(const struct fc_server *s)
{
    uint8_t in[FC_ID_LEN + 6], h[4];
    uint32_t id;

    memcpy(in, s->img.m.image_id, FC_ID_LEN);
    memcpy(in + FC_ID_LEN, &s->cfg.group.s_addr, 4);
    in[FC_ID_LEN + 4] = (uint8_t)(s->cfg.data_port >> 8);
    in[FC_ID_LEN + 5] = (uint8_t)s->cfg.data_port;
    crypto_generichash(h, sizeof(h), in, sizeof(in), NULL, 0);
    id = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    return id ? id : 1;
}

static int setup(struct fc_server *s)
{
    int is_lo = 0, rc = fc_image_open(s->cfg.image_path, NULL, &s->img);

    if (rc)
        return rc;
    fc_sigblock_encode(s->img.signer, s->img.sig, s->sigblock);
    fc_checkval_expected(&s->img.m, s->expected_check);
    s->session_id = derive_session_id(s);
    rc = fc_netio_iface_addr(s->cfg.iface, &s->cfg.iface_addr, &is_lo);
    if (rc)
        return rc;
    s->cfg.loopback |= is_lo;
    if (fc_fec_new(&s->fec))
        return FC_ENOMEM;
    rc = fc_chunkcache_init(&s->cache, s->img.fd, &s->img.m, s->cfg.payload, s->cfg.k_max);
    if (!rc)
        rc = fc_repair_init(s);
    if (!rc)
        rc = fc_sender_init(s);
    if (!rc)
        rc = fc_netio_open(s);
    return rc;
}

static void announce(const struct fc_server *s)
{
    char g[16], b1[16], b2[16];
    const uint8_t *a = (const uint8_t *)&s->cfg.group.s_addr;

    snprintf(g, sizeof(g), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    fc_info("session %08x: image %s (%s in %u chunks, disk %s), group %s:%u on %s, control port "
            "%u, rate cap %.0f Mbit/s, start at %u receivers%s",
            s->session_id, s->cfg.image_path,
            fc_human_bytes(s->img.m.compressed_bytes, b1, sizeof(b1)), s->img.m.n_chunks,
            fc_human_bytes(s->img.m.disk_size, b2, sizeof(b2)), g, s->cfg.data_port, s->cfg.iface,
            s->cfg.ctrl_port, s->cfg.rate_bps / 1e6, s->cfg.min_receivers,
            s->cfg.max_wait > 0 ? " or max-wait" : "");
    fc_info("session %08x: the network must pass UDP multicast to %s:%u and 239.255.70.67:%u "
            "(IGMP snooping needs a querier), and UDP+TCP to port %u",
            s->session_id, g, s->cfg.data_port, FC_PORT_DEFAULT, s->cfg.ctrl_port);
}

static void teardown(struct fc_server *s)
{
    fc_netio_close(s);
    uv_close((uv_handle_t *)&s->send_timer, NULL);
    uv_close((uv_handle_t *)&s->round_timer, NULL);
    uv_close((uv_handle_t *)&s->tick_timer, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT); /* let the close callbacks run */
    fc_sender_free(s);
    fc_repair_free(s);
    fc_chunkcache_free(&s->cache);
    fc_fec_free(s->fec);
    fc_image_close(&s->img);
    free(s->rx);
}

int main(int argc, char **argv)
{
    struct fc_server *s = calloc(1, sizeof(*s));
    int rc;

    fc_log_init("fleetcastd", FC_LOG_INFO);
    if (!s || sodium_init() < 0)
        return 2;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage();
        return 0;
    }
    if (fc_server_config_parse(&s->cfg, argc, argv)) {
        usage();
        return 64;
    }
    s->snd.fd = -1;
    s->loop = uv_default_loop();
    rc = setup(s);
    if (rc) {
        fc_error("cannot start: %s", fc_strerror(rc));
        return rc == FC_EIO || rc == FC_EINVAL ? 2 : 3;
    }
    uv_signal_init(s->loop, &s->sigint);
    uv_signal_init(s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    fc_session_start_tick(s);
    announce(s);
    uv_run(s->loop, UV_RUN_DEFAULT);
    fc_stats_log_summary(s);
    if (s->cfg.stats_path)
        fc_stats_write(s, s->cfg.stats_path);
    rc = s->exit_code;
    teardown(s);
    free(s);
    return rc;
}
