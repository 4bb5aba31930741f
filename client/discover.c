/* Finding the server: DISCOVER to the discovery group (out of --iface) or
 * straight to --server, repeated with back-off until an ANNOUNCE echoing our
 * nonce arrives (on a re-discovery), or collecting every session that answers
 * for a short window (the first discovery: client/choose.c picks among
 * them); and the IPv4 address of an interface, which multicast sending and
 * group membership are pinned to. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/choose.h"
#include "client/recv.h"
#include "common/error.h"

int fc__iface_addr(const char *iface, struct in_addr *out)
{
    struct ifaddrs *ifa, *i;
    int rc = FC_EINVAL;

    if (getifaddrs(&ifa) < 0)
        return FC_EIO;
    for (i = ifa; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, iface)) {
            *out = ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
            rc = 0;
            break;
        }
    freeifaddrs(ifa);
    return rc;
}

/* --server ADDR[:PORT] (a name or a dotted quad), else the discovery group. */
int fc__disc_target(struct fc_recv *r)
{
    char host[256];
    const char *colon;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    long port = FC_PORT_DEFAULT;

    memset(&r->disc_to, 0, sizeof(r->disc_to));
    r->disc_to.sin_family = AF_INET;
    if (!r->o.server) {
        inet_pton(AF_INET, FC_DISCOVERY_GROUP, &r->disc_to.sin_addr);
        r->disc_to.sin_port = htons(FC_PORT_DEFAULT);
        return 0;
    }
    colon = strchr(r->o.server, ':');
    snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - r->o.server) : 255, r->o.server);
    if (colon) {
        char *end;

        port = strtol(colon + 1, &end, 10);
        if (*end || port < 1 || port > 65535)
            return FC_EINVAL;
    }
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return FC_EINVAL;
    r->disc_to.sin_addr = ((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr;
    r->disc_to.sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return 0;
}

static int disc_socket(struct fc_recv *r)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (r->have_if && IN_MULTICAST(ntohl(r->disc_to.sin_addr.s_addr)))
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &r->ifaddr, sizeof(r->ifaddr));
    return fd;
}

static int disc_send(struct fc_recv *r, int fd, uint64_t nonce)
{
    struct fc_discover d = {.nonce = nonce};
    uint8_t buf[FC_PKT_MAX];
    int n = fc_discover_encode(buf, sizeof(buf), r->o.have_session ? r->o.session : 0,
                               r->tx_seq[FC_PKT_DISCOVER]++, &d);

    if (n < 0)
        return n;
    if (sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)&r->disc_to, sizeof(r->disc_to)) < 0)
        return FC_EIO;
    return 0;
}

/* An ANNOUNCE we can use: to one of our two latest nonces, of the session
 * asked for, and on a re-discovery of the image we already hold. */
static int announce_ok(struct fc_recv *r, const uint8_t *buf, size_t len, const uint64_t *nonces,
                       int same_image, struct fc_hdr *h, struct fc_announce *a)
{
    if (fc_announce_decode(buf, len, h, a) < 0)
        return 0;
    if (a->nonce != nonces[0] && a->nonce != nonces[1])
        return 0;
    if (r->o.have_session && h->session != r->o.session)
        return 0;
    if (same_image && memcmp(a->image_id, r->m.image_id, FC_ID_LEN) != 0) {
        RLOG(r, FC_LOG_WARN, "server now announces another image; still looking for ours");
        return 0;
    }
    return 1;
}

static int disc_wait(struct fc_recv *r, int fd, double until, const uint64_t *nonces,
                     int same_image, struct fc_sess *out)
{
    uint8_t buf[2048];
    struct sockaddr_in from;
    struct fc_hdr h;
    ssize_t n;

    while ((n = fc__recv_until(r, fd, buf, sizeof(buf), until, &from)) > 0) {
        /* Another version's refusal; on a re-discovery only our own
         * server's counts (one of another build elsewhere on the LAN must
         * not end a session that runs). */
        if (fc__version_refused(r, buf, (size_t)n, &from)) {
            if (!same_image || from.sin_addr.s_addr == r->s.srv.sin_addr.s_addr)
                return FC_EVERSION;
            continue;
        }
        if (!announce_ok(r, buf, (size_t)n, nonces, same_image, &h, &out->ann))
            continue;
        out->session = h.session;
        out->srv = from;
        out->srv.sin_port = htons(out->ann.ctrl_port);
        return 0;
    }
    return *r->stop ? FC_EINTR : FC_ETIMEDOUT;
}

int fc__discover(struct fc_recv *r, double deadline, int same_image, struct fc_sess *out)
{
    uint64_t nonces[2] = {0, 0};
    double wait = 0.25, now;
    int fd = disc_socket(r), rc = FC_ETIMEDOUT;

    if (fd < 0)
        return FC_EIO;
    while ((now = fc__now()) < deadline && !*r->stop) {
        double until = now + wait < deadline ? now + wait : deadline;

        nonces[1] = nonces[0];
        nonces[0] = fc__rand(r) | 1;
        if (disc_send(r, fd, nonces[0]) < 0 && errno != ENETUNREACH)
            fc_debug("DISCOVER not sent: %s", strerror(errno));
        rc = disc_wait(r, fd, until, nonces, same_image, out);
        if (rc != FC_ETIMEDOUT)
            break;
        wait = wait * 2 > 2.0 ? 2.0 : wait * 2;
    }
    close(fd);
    if (*r->stop)
        return FC_EINTR;
    return rc;
}

/* One DISCOVER every `wait` (backing off), keeping every answer in ch. The
 * window starts at the first session not seen before, so answers slower than
 * the first still count. A server of another wire version starts the window
 * too: another server of ours may still answer; if none does, FC_EVERSION. */
int fc__discover_collect(struct fc_recv *r, double deadline, double window, struct fc_choice *ch)
{
    uint64_t nonces[2] = {0, 0};
    double wait = 0.25, now, end = deadline;
    int fd = disc_socket(r), found = 0, refused = 0, rc;

    if (fd < 0)
        return FC_EIO;
    while ((now = fc__now()) < end && !*r->stop) {
        double until = now + wait < end ? now + wait : end;
        struct fc_sess s;

        nonces[1] = nonces[0];
        nonces[0] = fc__rand(r) | 1;
        if (disc_send(r, fd, nonces[0]) < 0 && errno != ENETUNREACH)
            fc_debug("DISCOVER not sent: %s", strerror(errno));
        while ((rc = disc_wait(r, fd, until, nonces, 0, &s)) == 0 || rc == FC_EVERSION) {
            int first =
                rc == FC_EVERSION ? !found && !refused++ : fc__choice_add(ch, &s) == 1 && !found++;
            if (first && fc__now() + window < end)
                end = fc__now() + window;
            until = until < end ? until : end;
        }
        wait = wait * 2 > 2.0 ? 2.0 : wait * 2;
    }
    close(fd);
    if (*r->stop)
        return FC_EINTR;
    return !found && refused ? FC_EVERSION : found;
}
