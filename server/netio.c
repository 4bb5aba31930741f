/* Sockets of fleetcastd. The interface is always explicit (--iface): the
 * wrong interface picked silently is a classic multicast imaging failure.
 * - data: a plain UDP socket, sent to with sendmmsg by sender.c;
 * - group: libuv UDP bound to the data port, member of the group, hears NAKs;
 * - ctrl: libuv UDP on the control port, member of the discovery group;
 * - tcp: libuv TCP listener on the control port, for the manifest. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

int fc_netio_iface_addr(const char *iface, struct in_addr *addr, int *is_loopback)
{
    struct ifaddrs *ifs, *i;
    int rc = FC_EINVAL;

    if (getifaddrs(&ifs) < 0)
        return FC_EIO;
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, iface))
            continue;
        *addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        *is_loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
        if (!(i->ifa_flags & IFF_UP))
            fc_warn("interface %s is down", iface);
        if (!(i->ifa_flags & IFF_MULTICAST) && !*is_loopback)
            fc_warn("interface %s has multicast disabled", iface);
        rc = 0;
        break;
    }
    freeifaddrs(ifs);
    if (rc)
        fc_error("interface %s not found or has no IPv4 address", iface);
    return rc;
}

static int open_data_socket(struct fc_server *s)
{
    const struct fc_server_config *c = &s->cfg;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unsigned char ttl = c->ttl, loop = c->loopback ? 1 : 0;
    int sndbuf = 4 << 20;

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
    s->snd.fd = fd;
    memset(&s->snd.dst, 0, sizeof(s->snd.dst));
    s->snd.dst.sin_family = AF_INET;
    s->snd.dst.sin_addr = c->group;
    s->snd.dst.sin_port = htons(c->data_port);
    return 0;
}

static int open_udp(struct fc_server *s, uv_udp_t *h, uint16_t port, struct in_addr group,
                    uv_udp_recv_cb cb)
{
    struct sockaddr_in any;
    char g[INET_ADDRSTRLEN], ifa[INET_ADDRSTRLEN];
    int rc;

    uv_ip4_addr("0.0.0.0", port, &any);
    inet_ntop(AF_INET, &group, g, sizeof(g));
    inet_ntop(AF_INET, &s->cfg.iface_addr, ifa, sizeof(ifa));
    rc = uv_udp_bind(h, (const struct sockaddr *)&any, UV_UDP_REUSEADDR);
    if (!rc)
        rc = uv_udp_set_membership(h, g, ifa, UV_JOIN_GROUP);
    if (!rc)
        rc = uv_udp_recv_start(h, fc_control_alloc, cb);
    if (rc)
        fc_error("UDP port %u, group %s on %s: %s", port, g, s->cfg.iface, uv_strerror(rc));
    return rc ? FC_EIO : 0;
}

static int open_tcp(struct fc_server *s)
{
    struct sockaddr_in any;
    int rc;

    uv_ip4_addr("0.0.0.0", s->cfg.ctrl_port, &any);
    rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&any, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&s->tcp, 64, fc_manifest_srv_on_connect);
    if (rc)
        fc_error("TCP port %u: %s", s->cfg.ctrl_port, uv_strerror(rc));
    return rc ? FC_EIO : 0;
}

int fc_netio_open(struct fc_server *s)
{
    struct in_addr disc;
    int rc;

    inet_pton(AF_INET, FC_DISCOVERY_GROUP, &disc);
    /* All handles exist from here on, so closing is always valid. */
    uv_udp_init(s->loop, &s->group);
    uv_udp_init(s->loop, &s->ctrl);
    uv_tcp_init(s->loop, &s->tcp);
    s->group.data = s->ctrl.data = s->tcp.data = s;
    rc = open_data_socket(s);
    if (!rc)
        rc = open_udp(s, &s->group, s->cfg.data_port, s->cfg.group, fc_control_on_group);
    if (!rc)
        rc = open_udp(s, &s->ctrl, s->cfg.ctrl_port, disc, fc_control_on_ctrl);
    if (!rc)
        rc = open_tcp(s);
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

void fc_netio_close(struct fc_server *s)
{
    if (s->snd.fd >= 0)
        close(s->snd.fd);
    s->snd.fd = -1;
    if (!uv_is_closing((uv_handle_t *)&s->group))
        uv_close((uv_handle_t *)&s->group, on_closed);
    if (!uv_is_closing((uv_handle_t *)&s->ctrl))
        uv_close((uv_handle_t *)&s->ctrl, on_closed);
    if (!uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, on_closed);
}

void fc_netio_send_ctrl(struct fc_server *s, const struct sockaddr_in *to, const uint8_t *buf,
                        size_t len)
{
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);

    /* Control packets are small and rare: a try_send that fails is the same
     * as a lost packet, which the protocol already survives. */
    if (uv_udp_try_send(&s->ctrl, &b, 1, (const struct sockaddr *)to) < 0)
        s->st.send_errors++;
}
