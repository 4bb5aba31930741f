/* The receiver's two session sockets: the data socket (member of the
 * session's group on --iface, a large receive buffer, and the sender of our
 * NAKs to the group) and the control socket (UDP connected to the server's
 * control port, so the kernel drops anything not from the server). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/recv.h"
#include "common/error.h"

#define RCVBUF (16 << 20)

static void group_addr(const struct fc_recv *r, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    memcpy(&sa->sin_addr, r->s.ann.group, 4);
    sa->sin_port = htons(r->s.ann.data_port);
}

/* A big buffer rides out the writer or the scheduler pausing us for a few
 * tens of milliseconds at a gigabit; FORCE needs CAP_NET_ADMIN, so fall
 * back to what rmem_max allows. Returns what the kernel granted (netloop.c
 * bounds its waits by it), 0 if unknown. */
static int big_rcvbuf(int fd, int v)
{
    int got = 0;
    socklen_t l = sizeof(got);

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &l) == 0 ? got : 0;
}

static int data_options(struct fc_recv *r, int fd)
{
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(r->s.ann.data_port)};
    struct ip_mreq mr;
    int one = 1, zero = 0;

    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (const struct sockaddr *)&any, sizeof(any)) < 0)
        return FC_EIO;
    memcpy(&mr.imr_multiaddr, r->s.ann.group, 4);
    mr.imr_interface.s_addr = r->have_if ? r->ifaddr.s_addr : htonl(INADDR_ANY);
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
        return FC_EIO;
    /* Only our group's traffic, not every group some other socket on this
     * host joined on the same port. */
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
    /* Where each datagram was sent: DATA unicast to our port is not the
     * session's stream (netloop.c counts only what went to the group). */
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
        return FC_EIO;
    r->data_rcvbuf = big_rcvbuf(fd, r->o.rcvbuf ? r->o.rcvbuf : RCVBUF);
    /* The kernel's count of datagrams it dropped on this socket, its buffer
     * full, with every datagram (netloop.c): loss the sequence cannot always
     * show (a gap beyond FC_SEQ_JUMP_MAX), reported to rate control. */
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    if (r->have_if)
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &r->ifaddr, sizeof(r->ifaddr));
    /* Receivers sharing a host (loopback labs) must hear each other's NAKs. */
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one));
    return 0;
}

int fc__open_data(struct fc_recv *r)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc;
    char g[INET_ADDRSTRLEN];

    if (fd < 0)
        return FC_EIO;
    rc = data_options(r, fd);
    if (rc) {
        inet_ntop(AF_INET, r->s.ann.group, g, sizeof(g));
        RLOG(r, FC_LOG_ERROR, "cannot join group %s port %u%s%s: %s", g, r->s.ann.data_port,
             r->o.iface ? " on " : "", r->o.iface ? r->o.iface : "", strerror(errno));
        close(fd);
        return rc;
    }
    if (r->data_fd >= 0)
        close(r->data_fd);
    r->data_fd = fd;
    return 0;
}

int fc__open_ctrl(struct fc_recv *r)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return FC_EIO;
    if (connect(fd, (const struct sockaddr *)&r->s.srv, sizeof(r->s.srv)) < 0) {
        RLOG(r, FC_LOG_ERROR, "cannot reach the server's control port: %s", strerror(errno));
        close(fd);
        return FC_EIO;
    }
    if (r->ctrl_fd >= 0)
        close(r->ctrl_fd);
    r->ctrl_fd = fd;
    return 0;
}

void fc__close_sockets(struct fc_recv *r)
{
    if (r->data_fd >= 0)
        close(r->data_fd);
    if (r->ctrl_fd >= 0)
        close(r->ctrl_fd);
    r->data_fd = r->ctrl_fd = -1;
}

/* A server restarting answers with ICMP port unreachable, which a connected
 * UDP socket reports on the next call: not an error worth more than a try. */
int fc__ctrl_send(struct fc_recv *r, const uint8_t *buf, size_t len)
{
    if (send(r->ctrl_fd, buf, len, 0) < 0 && send(r->ctrl_fd, buf, len, 0) < 0)
        return FC_EIO;
    return 0;
}

int fc__group_send(struct fc_recv *r, const uint8_t *buf, size_t len)
{
    struct sockaddr_in g;

    group_addr(r, &g);
    if (sendto(r->data_fd, buf, len, 0, (const struct sockaddr *)&g, sizeof(g)) < 0)
        return FC_EIO;
    return 0;
}

ssize_t fc__recv_until(struct fc_recv *r, int fd, uint8_t *buf, size_t cap, double until,
                       struct sockaddr_in *from)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    double now;

    while ((now = fc__now()) < until && !*r->stop) {
        socklen_t fl = sizeof(*from);
        int ms = (int)((until - now) * 1000) + 1;
        ssize_t n;

        if (poll(&p, 1, ms > 100 ? 100 : ms) <= 0)
            continue;
        n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, from ? &fl : NULL);
        if (n > 0)
            return n;
    }
    return 0;
}
