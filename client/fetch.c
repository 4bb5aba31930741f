/* The manifest fetch: one TCP connection to the server's control port,
 * MANIFEST_REQ, then the MANIFEST head, the manifest bytes and the signature
 * block, all under one 10 s deadline. Only bytes here: the signature and the
 * fields are checked by trust.c before anything reads them. The image's
 * hooks tar is fetched the same way (HOOKS_REQ; identity.c checks it
 * against the hash sealed in JOIN_ACK before it unpacks it). A chunk that
 * failed its hash twice on multicast is fetched the same way (CHUNK_REQ,
 * CHUNK); its bytes are checked by the writer's verified path. */
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

/* One request on a fresh connection to the control port, and the head of
 * the answer: 0 with *fd open for the rest, or a code (*fd closed). */
static int exchange(const struct fc_recv *r, const uint8_t *req, int n, uint8_t *head,
                    size_t head_len, double deadline, int *fd)
{
    int rc;

    *fd = -1;
    if (n < 0)
        return n;
    rc = connect_to(&r->s.srv, deadline, fd);
    if (rc)
        return rc;
    rc = wait_fd(*fd, POLLOUT, deadline);
    /* A few dozen bytes on a fresh connection: one send does it. */
    if (!rc && send(*fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        rc = FC_EIO;
    if (!rc)
        rc = read_full(*fd, head, head_len, deadline);
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* len bytes of the answer's body, malloc'd into *out. */
static int read_body(int fd, size_t len, double deadline, uint8_t **out)
{
    uint8_t *buf = malloc(len);
    int rc = buf ? read_full(fd, buf, len, deadline) : FC_ENOMEM;

    if (rc)
        free(buf);
    else
        *out = buf;
    return rc;
}

/* MANIFEST_REQ or HOOKS_REQ for the announced image: its head, and the
 * fd to read the body from. */
static int fetch_head(struct fc_recv *r, int hooks, double deadline, struct fc_manifest_head *mh,
                      int *status, int *fd)
{
    uint8_t req[64], head[FC_MANIFEST_HEAD_LEN];
    struct fc_manifest_req q;
    struct fc_hdr h;
    int rc, n;

    *status = 0;
    memcpy(q.image_id, r->s.ann.image_id, FC_ID_LEN);
    n = hooks
            ? fc_hooks_req_encode(req, sizeof(req), r->s.session, r->tx_seq[FC_PKT_HOOKS_REQ]++, &q)
            : fc_manifest_req_encode(req, sizeof(req), r->s.session,
                                     r->tx_seq[FC_PKT_MANIFEST_REQ]++, &q);
    rc = exchange(r, req, n, head, sizeof(head), deadline, fd);
    if (rc)
        return rc;
    if ((hooks ? fc_hooks_head_decode(head, sizeof(head), &h, mh)
               : fc_manifest_head_decode(head, sizeof(head), &h, mh)) < 0) {
        rc = FC_EPROTO;
    } else if (mh->status != FC_REASON_OK) {
        *status = mh->status;
        rc = FC_EREFUSED;
    }
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* The body of a MANIFEST or HOOKS answer, and the signature block after
 * a manifest (sigblock NULL for hooks). */
static int fetch_body(struct fc_recv *r, int hooks, uint8_t **out, size_t *len, uint8_t *sigblock,
                      int *status)
{
    double deadline = fc__now() + FETCH_TIMEOUT;
    struct fc_manifest_head mh;
    int fd, rc;

    *out = NULL;
    rc = fetch_head(r, hooks, deadline, &mh, status, &fd);
    if (rc)
        return rc;
    rc = read_body(fd, mh.length, deadline, out);
    if (!rc && sigblock && (rc = read_full(fd, sigblock, FC_SIGBLOCK_SIZE, deadline))) {
        free(*out);
        *out = NULL;
    }
    *len = mh.length;
    close(fd);
    return rc;
}

int fc__fetch_manifest(struct fc_recv *r, uint8_t **man, size_t *len, uint8_t *sigblock,
                       int *status)
{
    return fetch_body(r, 0, man, len, sigblock, status);
}

int fc__fetch_hooks(struct fc_recv *r, uint8_t **tar, size_t *len, int *status)
{
    return fetch_body(r, 1, tar, len, NULL, status);
}

/* The request is tagged and numbered like every packet we send the server
 * (r->auth_seq): only a joined, active receiver is served. */
int fc__fetch_chunk(struct fc_recv *r, uint32_t idx, double timeout, uint8_t **out, size_t *len,
                    int *status)
{
    struct fc_chunk_req q = {.receiver_id = r->rid, .chunk = idx};
    double deadline = fc__now() + timeout;
    uint8_t req[FC_CHUNK_REQ_LEN], head[FC_CHUNK_HEAD_LEN];
    struct fc_chunk_head ch;
    struct fc_hdr h;
    int fd, rc, n;

    *out = NULL;
    *status = 0;
    n = fc_chunk_req_encode(req, sizeof(req), r->s.session, ++r->auth_seq, &q);
    if (n > 0)
        n = fc__seal(r, req, (size_t)n);
    rc = exchange(r, req, n, head, sizeof(head), deadline, &fd);
    if (rc)
        return rc;
    /* The answer must be to this request and of the size the manifest
     * says: anything else is not worth reading. */
    if (fc_chunk_head_decode(head, sizeof(head), &h, &ch) < 0 || h.session != r->s.session ||
        ch.chunk != idx || (ch.status == FC_REASON_OK && ch.length != r->m.chunks[idx].comp_size)) {
        rc = FC_EPROTO;
    } else if (ch.status != FC_REASON_OK) {
        *status = ch.status;
        rc = FC_EREFUSED;
    } else {
        rc = read_body(fd, ch.length, deadline, out);
        *len = ch.length;
    }
    close(fd);
    return rc;
}
