/* Sockets of fleetcastd. The interface is always explicit (--iface): the
 * wrong interface picked silently is a classic multicast imaging failure.
 * Per session:
 * - data: a plain UDP socket, sent to with sendmmsg by sender.c;
 * - group: libuv UDP bound to the data port, member of the group, hears NAKs.
 * Per daemon, shared by every session (packets name their session):
 * - ctrl: libuv UDP on the control port, member of the discovery group on
 *   every session's interface;
 * - tcp: libuv TCP listener on the control port, for the manifest. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

/* The one interface lookup: iface's first IPv4 entry, from a list the
 * caller frees (freeifaddrs), or NULL (logged). */
static struct ifaddrs *iface_ipv4(const char *iface, struct ifaddrs **ifs)
{
    struct ifaddrs *i;

    if (getifaddrs(ifs) < 0) {
        fc_error("interface %s: cannot list interfaces: %s", iface, strerror(errno));
        *ifs = NULL;
        return NULL;
    }
    for (i = *ifs; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, iface))
            return i;
    fc_error("interface %s not found or has no IPv4 address", iface);
    return NULL;
}

int fc_netio_iface_addr(const char *iface, struct in_addr *addr, int *is_loopback)
{
    struct ifaddrs *ifs, *i = iface_ipv4(iface, &ifs);

    if (i) {
        *addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        *is_loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
        if (!(i->ifa_flags & IFF_UP))
            fc_warn("interface %s is down", iface);
        if (!(i->ifa_flags & IFF_MULTICAST) && !*is_loopback)
            fc_warn("interface %s has multicast disabled", iface);
    }
    freeifaddrs(ifs);
    return i ? 0 : FC_EINVAL;
}

/* The broadcast address the interface was given, or, when it was given
 * none (`ip addr add A/23` without `brd +`: getifaddrs then reports 0.0.0.0
 * or the address itself), the one its address and netmask imply. */
int fc_netio_iface_broadcast(const char *iface, struct in_addr *bcast)
{
    struct ifaddrs *ifs, *i = iface_ipv4(iface, &ifs);
    int rc = i ? 0 : FC_EINVAL;

    if (i && (!(i->ifa_flags & IFF_BROADCAST) || !i->ifa_netmask)) {
        fc_error("interface %s has no IPv4 broadcast address", iface);
        rc = FC_EINVAL;
    } else if (i) {
        const struct sockaddr_in *b = (const struct sockaddr_in *)i->ifa_broadaddr;
        uint32_t a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
        uint32_t m = ((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;

        if (b && b->sin_addr.s_addr != INADDR_ANY && b->sin_addr.s_addr != a)
            *bcast = b->sin_addr;
        else
            bcast->s_addr = a | ~m;
    }
    freeifaddrs(ifs);
    return rc;
}

static int open_data_socket(struct fc_session *s)
{
    const struct fc_session_config *c = &s->cfg;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unsigned char ttl = c->ttl, loop = c->loopback ? 1 : 0;
    int sndbuf = 4 << 20;
    struct sockaddr_in dst;

    if (fd < 0)
        return FC_EIO;
    /* Loop only when receivers share this host: otherwise the server's own
     * group socket would be handed every DATA packet it sends. */
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &c->iface_addr, sizeof(c->iface_addr)) ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop))) {
        fc_error("data socket on %s: %s", c->iface, strerror(errno));
        close(fd);
        return FC_EIO;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_addr = c->group;
    dst.sin_port = htons(c->data_port);
    fc_sender_attach(s, fd, &dst);
    return 0;
}

/* What an operator does about a port in use. */
static const char *in_use_hint(int rc)
{
    return rc == UV_EADDRINUSE ? " (another fleetcastd, or another program, has it: stop it, or "
                                 "choose another port with --ctrl-port / --group)"
                               : "";
}

static int bind_udp(uv_udp_t *h, uint16_t port, uv_alloc_cb alloc, uv_udp_recv_cb cb)
{
    struct sockaddr_in any;
    int rc;

    uv_ip4_addr("0.0.0.0", port, &any);
    rc = uv_udp_bind(h, (const struct sockaddr *)&any, UV_UDP_REUSEADDR);
    if (!rc)
        rc = uv_udp_recv_start(h, alloc, cb);
    if (rc)
        fc_error("UDP port %u: %s%s", port, uv_strerror(rc), in_use_hint(rc));
    return rc ? FC_EIO : 0;
}

static int join(uv_udp_t *h, struct in_addr group, struct in_addr iface, const char *ifname)
{
    char g[INET_ADDRSTRLEN], ifa[INET_ADDRSTRLEN];
    int rc;

    inet_ntop(AF_INET, &group, g, sizeof(g));
    inet_ntop(AF_INET, &iface, ifa, sizeof(ifa));
    rc = uv_udp_set_membership(h, g, ifa, UV_JOIN_GROUP);
    if (rc)
        fc_error("joining group %s on %s: %s", g, ifname, uv_strerror(rc));
    return rc ? FC_EIO : 0;
}

int fc_netio_open_daemon(struct fc_daemon *d)
{
    struct sockaddr_in any;
    int rc;

    /* Both handles exist from here on, so closing is always valid. */
    uv_udp_init(d->loop, &d->ctrl);
    uv_tcp_init(d->loop, &d->tcp);
    d->ctrl.data = d->tcp.data = d;
    rc = bind_udp(&d->ctrl, d->cfg.ctrl_port, fc_control_alloc_daemon, fc_control_on_ctrl);
    if (rc)
        return rc;
    uv_ip4_addr("0.0.0.0", d->cfg.ctrl_port, &any);
    rc = uv_tcp_bind(&d->tcp, (const struct sockaddr *)&any, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&d->tcp, 64, fc_manifest_srv_on_connect);
    if (rc)
        fc_error("TCP port %u: %s%s", d->cfg.ctrl_port, uv_strerror(rc), in_use_hint(rc));
    return rc ? FC_EIO : 0;
}

int fc_netio_join_discovery(struct fc_daemon *d, struct in_addr iface)
{
    struct in_addr disc;
    uint32_t i;
    int rc;

    for (i = 0; i < d->n_disc_ifaces; i++)
        if (d->disc_ifaces[i].s_addr == iface.s_addr)
            return 0;
    if (d->n_disc_ifaces == sizeof(d->disc_ifaces) / sizeof(d->disc_ifaces[0]))
        return FC_EINVAL;
    inet_pton(AF_INET, FC_DISCOVERY_GROUP, &disc);
    rc = join(&d->ctrl, disc, iface, "the session's interface");
    if (!rc)
        d->disc_ifaces[d->n_disc_ifaces++] = iface;
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

void fc_netio_close_daemon(struct fc_daemon *d)
{
    if (!uv_is_closing((uv_handle_t *)&d->ctrl))
        uv_close((uv_handle_t *)&d->ctrl, on_closed);
    if (!uv_is_closing((uv_handle_t *)&d->tcp))
        uv_close((uv_handle_t *)&d->tcp, on_closed);
}

int fc_netio_open(struct fc_session *s)
{
    int rc;

    rc = open_data_socket(s);
    if (!rc)
        rc = bind_udp(&s->group, s->cfg.data_port, fc_control_alloc_session, fc_control_on_group);
    if (!rc)
        rc = join(&s->group, s->cfg.group, s->cfg.iface_addr, s->cfg.iface);
    if (!rc)
        rc = fc_netio_join_discovery(s->d, s->cfg.iface_addr);
    return rc;
}

void fc_netio_close(struct fc_session *s)
{
    int fd = fc_sender_take_fd(s);

    if (fd >= 0)
        close(fd);
    if (!uv_is_closing((uv_handle_t *)&s->group))
        uv_close((uv_handle_t *)&s->group, fc_session_handle_closed);
}

/* Control packets are small and rare: a try_send that fails is the same
 * as a lost packet, which the protocol already survives. */
int fc_netio_send_daemon(struct fc_daemon *d, const struct sockaddr_in *to, const uint8_t *buf,
                         size_t len)
{
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);

    return uv_udp_try_send(&d->ctrl, &b, 1, (const struct sockaddr *)to) < 0 ? FC_EIO : 0;
}

void fc_netio_send_ctrl(struct fc_session *s, const struct sockaddr_in *to, const uint8_t *buf,
                        size_t len)
{
    if (fc_netio_send_daemon(s->d, to, buf, len))
        s->st.send_errors++;
}

int fc_netio_mac_of(struct in_addr ip, char out[18])
{
    char line[256], addr[64], hw[64];
    FILE *f = fopen("/proc/net/arp", "r");
    int rc = FC_EINVAL;

    out[0] = 0;
    if (!f)
        return FC_EIO;
    while (fgets(line, sizeof(line), f)) {
        struct in_addr a;
        if (sscanf(line, "%63s %*s %*s %63s", addr, hw) != 2 || inet_pton(AF_INET, addr, &a) != 1)
            continue;
        if (a.s_addr == ip.s_addr && strlen(hw) == 17 && strcmp(hw, "00:00:00:00:00:00")) {
            memcpy(out, hw, 18);
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}
