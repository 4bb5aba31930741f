/* The manifest fetch: one TCP connection to the server's control port,
 * MANIFEST_REQ, then the MANIFEST head, the manifest bytes and the signature
 * block, all under one 10 s deadline. Only bytes here: the signature and the
 * fields are checked by trust.c before anything reads them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/recv.h"
#include "common/error.h"
#include "common/image.h"

#define FETCH_TIMEOUT 10.0

static int wait_fd(int fd, short ev, double deadline)
{
    struct pollfd p = {.fd = fd, .events = ev};
    double left = deadline - fc__now();

    if (left <= 0)
        return FC_ETIMEDOUT;
    if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
        return FC_ETIMEDOUT;
    return 0;
}

static int connect_to(const struct sockaddr_in *sa, double deadline, int *out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0, rc;
    socklen_t el = sizeof(err);

    if (fd < 0)
        return FC_EIO;
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) {
        rc = FC_EIO;
        goto fail;
    }
    rc = wait_fd(fd, POLLOUT, deadline);
    if (rc)
        goto fail;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        errno = err;
        rc = FC_EIO;
        goto fail;
    }
    *out = fd;
    return 0;
fail:
    close(fd);
    return rc;
}

static int read_full(int fd, uint8_t *buf, size_t len, double deadline)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n;
        int rc = wait_fd(fd, POLLIN, deadline);

        if (rc)
            return rc;
        n = recv(fd, buf + got, len - got, 0);
        if (n == 0)
            return FC_ETRUNC;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return FC_EIO;
        }
        got += (size_t)n;
    }
    return 0;
}

static int send_req(struct fc_recv *r, int fd, double deadline)
{
    struct fc_manifest_req q;
    uint8_t buf[64];
    int n;

    memcpy(q.image_id, r->s.ann.image_id, FC_ID_LEN);
    n = fc_manifest_req_encode(buf, sizeof(buf), r->s.session, r->tx_seq[FC_PKT_MANIFEST_REQ]++,
                               &q);
    if (n < 0)
        return n;
    if (wait_fd(fd, POLLOUT, deadline))
        return FC_ETIMEDOUT;
    /* 30 bytes on a fresh connection: one send does it. */
    return send(fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : FC_EIO;
}

int fc__fetch_manifest(struct fc_recv *r, uint8_t **man, size_t *len, uint8_t *sigblock,
                       int *status)
{
    double deadline = fc__now() + FETCH_TIMEOUT;
    uint8_t head[FC_MANIFEST_HEAD_LEN], *buf = NULL;
    struct fc_manifest_head mh;
    struct fc_hdr h;
    int fd = -1, rc;

    *man = NULL;
    *status = 0;
    rc = connect_to(&r->s.srv, deadline, &fd);
    if (!rc)
        rc = send_req(r, fd, deadline);
    if (!rc)
        rc = read_full(fd, head, sizeof(head), deadline);
    if (rc)
        goto out;
    if (fc_manifest_head_decode(head, sizeof(head), &h, &mh) < 0) {
        rc = FC_EPROTO;
        goto out;
    }
    if (mh.status != FC_REASON_OK) {
        *status = mh.status;
        rc = FC_EREFUSED;
        goto out;
    }
    buf = malloc(mh.length);
    if (!buf) {
        rc = FC_ENOMEM;
        goto out;
    }
    rc = read_full(fd, buf, mh.length, deadline);
    if (!rc)
        rc = read_full(fd, sigblock, FC_SIGBLOCK_SIZE, deadline);
    if (!rc) {
        *man = buf;
        *len = mh.length;
        buf = NULL;
    }
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
