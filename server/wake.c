/* Wake-on-LAN jobs (wake.h): magic packets to a broadcast address in a
 * few rounds, on the daemon's loop. A job owns two handles (a UDP socket
 * and a timer); it leaves the daemon's list when it starts closing and is
 * freed by the second close callback, never before. */
#include "server/wake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

/* When each round goes out, in seconds from the start. One packet is easy
 * to lose, and the first ones often reach nobody: a NIC in soft-off may
 * renegotiate its link when the port comes back, a switch port whose link
 * just came up sits in spanning tree listening/learning for up to 2 x 15 s
 * without portfast, and a freshly woken machine's neighbours may flood or
 * drop. Spreading six rounds over a minute covers those; a NIC that is
 * awake already ignores the rest, so sending more costs nothing. */
static const unsigned round_at_s[] = {0, 2, 5, 15, 30, 60};
#define ROUNDS (sizeof(round_at_s) / sizeof(round_at_s[0]))
#define WAKE_HANDLES 2

struct fc_wake {
    struct fc_daemon *d;
    struct fc_wake *next;
    int id;
    char iface[IF_NAMESIZE];
    char to[32]; /* the destination, for logs and JSON */
    struct sockaddr_in dst;
    uv_udp_t sock;
    uv_timer_t timer;
    int closing, handles_closed;
    unsigned rounds_sent;
    int64_t started_wall;
    size_t n;
    uint8_t (*macs)[FC_MAC_LEN];
};

static void on_closed(uv_handle_t *h)
{
    struct fc_wake *w = h->data;

    if (++w->handles_closed < WAKE_HANDLES)
        return;
    free(w->macs);
    free(w);
}

static void unlist(struct fc_wake *w)
{
    struct fc_wake **p;

    for (p = &w->d->wakes; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            w->d->n_wakes--;
            return;
        }
}

/* From here no lookup finds it; the close callbacks free it. */
static void finish(struct fc_wake *w)
{
    if (w->closing)
        return;
    w->closing = 1;
    unlist(w);
    uv_close((uv_handle_t *)&w->timer, on_closed);
    uv_close((uv_handle_t *)&w->sock, on_closed);
}

static void send_round(struct fc_wake *w)
{
    uint8_t pkt[FC_WOL_MAX];
    struct fc_wol wol;
    size_t i, failed = 0;
    int n, err = 0;

    memset(&wol, 0, sizeof(wol));
    for (i = 0; i < w->n; i++) {
        uv_buf_t b;

        memcpy(wol.mac, w->macs[i], FC_MAC_LEN);
        n = fc_wol_encode(pkt, sizeof(pkt), &wol);
        b = uv_buf_init((char *)pkt, (unsigned)n);
        n = uv_udp_try_send(&w->sock, &b, 1, (const struct sockaddr *)&w->dst);
        if (n < 0) {
            failed++;
            err = n;
        }
    }
    w->rounds_sent++;
    if (failed)
        fc_warn("wake: %zu machine%s on %s to %s (round %u/%zu): %zu not sent: %s", w->n,
                w->n == 1 ? "" : "s", w->iface, w->to, w->rounds_sent, ROUNDS, failed,
                uv_strerror(err));
    else
        fc_info("wake: %zu machine%s on %s to %s (round %u/%zu)", w->n, w->n == 1 ? "" : "s",
                w->iface, w->to, w->rounds_sent, ROUNDS);
}

static void on_timer(uv_timer_t *t)
{
    struct fc_wake *w = t->data;

    send_round(w);
    if (w->rounds_sent == ROUNDS) {
        finish(w);
        return;
    }
    uv_timer_start(&w->timer, on_timer,
                   (uint64_t)(round_at_s[w->rounds_sent] - round_at_s[w->rounds_sent - 1]) * 1000,
                   0);
}

/* "A.B.C.D" or "A.B.C.D:PORT" into dst (port 9 if not given). */
static int parse_addr(const char *addr, struct sockaddr_in *dst)
{
    char host[INET_ADDRSTRLEN], *end;
    const char *colon = strchr(addr, ':');
    size_t len = colon ? (size_t)(colon - addr) : strlen(addr);
    unsigned long port = FC_WOL_PORT;

    if (colon) {
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || errno || port == 0 || port > 65535)
            return FC_EINVAL;
    }
    if (len >= sizeof(host))
        return FC_EINVAL;
    memcpy(host, addr, len);
    host[len] = 0;
    if (inet_pton(AF_INET, host, &dst->sin_addr) != 1)
        return FC_EINVAL;
    dst->sin_port = htons((uint16_t)port);
    return 0;
}

/* addr if given, else iface's broadcast address, port 9. */
static int destination(struct fc_wake *w, const char *addr, char *why, size_t cap)
{
    char host[INET_ADDRSTRLEN];

    w->dst.sin_family = AF_INET;
    w->dst.sin_port = htons(FC_WOL_PORT);
    if (addr && parse_addr(addr, &w->dst))
        return snprintf(why, cap, "wake address '%.64s' is not A.B.C.D[:PORT]", addr), FC_EINVAL;
    if (!addr && fc_netio_iface_broadcast(w->iface, &w->dst.sin_addr))
        return snprintf(why, cap, "interface %s has no IPv4 broadcast address", w->iface),
               FC_EINVAL;
    inet_ntop(AF_INET, &w->dst.sin_addr, host, sizeof(host));
    snprintf(w->to, sizeof(w->to), "%s:%u", host, ntohs(w->dst.sin_port));
    return 0;
}

static int parse_macs(struct fc_wake *w, const char (*macs)[FC_MAC_TEXT], size_t n, char *why,
                      size_t cap)
{
    size_t i;

    if (n == 0 || n > FC_WAKE_MACS_MAX)
        return snprintf(why, cap, "wake needs 1 to %d MACs, not %zu", FC_WAKE_MACS_MAX, n),
               FC_EINVAL;
    w->macs = calloc(n, sizeof(*w->macs));
    if (!w->macs)
        return snprintf(why, cap, "out of memory"), FC_ENOMEM;
    for (i = 0; i < n; i++)
        if (fc_mac_parse(macs[i], w->macs[i]))
            return snprintf(why, cap, "'%.17s' is not a machine's MAC (52:54:00:ab:cd:ef)",
                            macs[i]),
                   FC_EINVAL;
    w->n = n;
    return 0;
}

/* The socket: any port, broadcast allowed, and tied to iface where the
 * kernel lets us (root or CAP_NET_RAW): a limited broadcast
 * (255.255.255.255) would otherwise leave by the default route. A subnet's
 * broadcast address is routed out of its own interface either way. */
static int open_socket(struct fc_wake *w, char *why, size_t cap)
{
    struct sockaddr_in any;
    uv_os_fd_t fd;
    int rc;

    memset(&any, 0, sizeof(any));
    any.sin_family = AF_INET;
    rc = uv_udp_bind(&w->sock, (const struct sockaddr *)&any, 0);
    if (!rc)
        rc = uv_udp_set_broadcast(&w->sock, 1);
    if (rc)
        return snprintf(why, cap, "wake socket: %s", uv_strerror(rc)), FC_EIO;
    if (!uv_fileno((uv_handle_t *)&w->sock, &fd) &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, w->iface, (socklen_t)strlen(w->iface)) &&
        w->dst.sin_addr.s_addr == htonl(INADDR_BROADCAST))
        fc_warn("wake: cannot tie the socket to %s (%s): 255.255.255.255 leaves by the default "
                "route; give the subnet's broadcast address instead",
                w->iface, strerror(errno));
    return 0;
}

static int check_args(struct fc_daemon *d, const char *iface, char *why, size_t cap)
{
    struct in_addr a;
    int lo;

    if (d->n_wakes >= FC_WAKE_JOBS_MAX)
        return snprintf(why, cap, "%d wake jobs are running already", FC_WAKE_JOBS_MAX), FC_ESTATE;
    if (!iface || !*iface || strlen(iface) >= IF_NAMESIZE)
        return snprintf(why, cap, "wake needs an interface name"), FC_EINVAL;
    if (fc_netio_iface_addr(iface, &a, &lo))
        return snprintf(why, cap, "interface %s not found or without IPv4", iface), FC_EINVAL;
    return 0;
}

int fc_wake_start(struct fc_daemon *d, const char *iface, const char *addr,
                  const char (*macs)[FC_MAC_TEXT], size_t n, char *why, size_t cap)
{
    struct fc_wake *w;
    int rc = check_args(d, iface, why, cap);

    if (rc)
        return rc;
    w = calloc(1, sizeof(*w));
    if (!w)
        return snprintf(why, cap, "out of memory"), FC_ENOMEM;
    w->d = d;
    snprintf(w->iface, sizeof(w->iface), "%s", iface);
    rc = parse_macs(w, macs, n, why, cap);
    if (!rc)
        rc = destination(w, addr, why, cap);
    if (rc) {
        free(w->macs);
        free(w);
        return rc;
    }
    /* Both handles exist from here: closing them frees the job. */
    uv_udp_init(d->loop, &w->sock);
    uv_timer_init(d->loop, &w->timer);
    w->sock.data = w->timer.data = w;
    w->id = ++d->wake_seq;
    w->next = d->wakes;
    d->wakes = w;
    d->n_wakes++;
    rc = open_socket(w, why, cap);
    if (rc) {
        finish(w);
        return rc;
    }
    w->started_wall = (int64_t)time(NULL);
    on_timer(&w->timer); /* the first round now */
    return w->id;
}

static struct fc_wake *find(const struct fc_daemon *d, int id)
{
    struct fc_wake *w;

    for (w = d->wakes; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

json_t *fc_wake_json(const struct fc_daemon *d, int id)
{
    const struct fc_wake *w = find(d, id);
    json_t *macs;
    char text[FC_MAC_TEXT];
    size_t i;

    if (!w)
        return NULL;
    macs = json_array();
    for (i = 0; macs && i < w->n; i++) {
        fc_mac_format(w->macs[i], ':', text);
        json_array_append_new(macs, json_string(text));
    }
    return json_pack("{s:i, s:s, s:s, s:o, s:i, s:i, s:I, s:I}", "id", w->id, "iface", w->iface,
                     "to", w->to, "macs", macs, "rounds", (int)ROUNDS, "rounds_sent",
                     (int)w->rounds_sent, "started_at", (json_int_t)w->started_wall, "ends_at",
                     (json_int_t)(w->started_wall + round_at_s[ROUNDS - 1]));
}

int fc_wake_cancel(struct fc_daemon *d, int id)
{
    struct fc_wake *w = find(d, id);

    if (!w)
        return FC_EINVAL;
    fc_info("wake: %zu machine%s on %s: cancelled after round %u/%zu", w->n, w->n == 1 ? "" : "s",
            w->iface, w->rounds_sent, ROUNDS);
    finish(w);
    return 0;
}

void fc_wake_stop_all(struct fc_daemon *d)
{
    while (d->wakes)
        finish(d->wakes);
}
