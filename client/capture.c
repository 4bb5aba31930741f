/* fleetcast-recv --capture: reads this machine's disk with the capture
 * pipeline of `fleetcast image create` (common/imgwrite.c) and uploads it to
 * fleetcastd over TCP (docs/protocol.md "Capture upload"): HELLO, answered
 * before a byte of the disk is read (a machine nobody armed reads nothing),
 * then each chunk in order as compressed here, then the unsigned manifest.
 * The server checks and signs; this side only sends. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client/recv.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/fdio.h"
#include "common/imgwrite.h"
#include "common/log.h"

#define IO_TIMEOUT_S 120 /* the server verifies and writes each chunk before reading on */

struct upload {
    int fd;
    uint32_t seq;
    int lost;    /* the connection failed */
    int refused; /* the server said no */
};

/* The server's CAP_REPLY: its status, or FC_EIO if none came. */
static int read_reply(struct upload *u, struct fc_cap_reply *rep)
{
    uint8_t buf[FC_CAP_REPLY_LEN];
    struct fc_hdr h;

    if (fc_fd_recv_full(u->fd, buf, sizeof(buf)) || fc_cap_reply_decode(buf, sizeof(buf), &h, rep))
        return FC_EIO;
    return 0;
}

static int up_chunk(void *ctx, uint32_t idx, const struct fc_chunk *meta, const uint8_t *comp,
                    const struct fc_extent *ext)
{
    struct upload *u = ctx;
    struct fc_cap_chunk c = {
        .index = idx, .raw_size = meta->raw_size, .comp_size = meta->comp_size};
    uint8_t head[FC_CAP_CHUNK_LEN];

    (void)ext; /* the manifest at FINISH carries them */
    memcpy(c.comp_hash, meta->comp_hash, FC_HASH_LEN);
    memcpy(c.raw_hash, meta->raw_hash, FC_HASH_LEN);
    if (fc_cap_chunk_encode(head, sizeof(head), 0, ++u->seq, &c) != FC_CAP_CHUNK_LEN)
        return FC_EINVAL;
    if (fc_fd_send_full(u->fd, head, sizeof(head)) ||
        fc_fd_send_full(u->fd, comp, meta->comp_size)) {
        u->lost = 1;
        fc_error("capture: the server closed the upload at chunk %u (the capture was cancelled, "
                 "or fleetcastd stopped: fleetcast capture list says which)",
                 idx);
        return FC_EIO;
    }
    return 0;
}

static int up_finish(void *ctx, const struct fc_manifest *m)
{
    struct upload *u = ctx;
    struct fc_cap_finish fin;
    struct fc_cap_reply rep;
    uint8_t head[FC_CAP_FINISH_LEN], *man = NULL;
    size_t len = 0;
    int rc = fc_manifest_encode(m, &man, &len);

    if (rc)
        return rc;
    fin.length = (uint32_t)len;
    if (len > FC_CAP_MANIFEST_MAX ||
        fc_cap_finish_encode(head, sizeof(head), 0, ++u->seq, &fin) != FC_CAP_FINISH_LEN)
        rc = FC_EINVAL;
    if (!rc && (fc_fd_send_full(u->fd, head, sizeof(head)) || fc_fd_send_full(u->fd, man, len)))
        rc = FC_EIO;
    free(man);
    if (!rc && (rc = read_reply(u, &rep)) == 0 && rep.status != FC_REASON_OK)
        rc = FC_EREFUSED;
    u->lost = rc == FC_EIO;
    u->refused = rc == FC_EREFUSED;
    if (rc)
        fc_error("capture: the server did not take the image: %s",
                 rc == FC_EREFUSED ? fc__reason_text(rep.status) : fc_strerror(rc));
    return rc;
}

static int connect_server(const struct sockaddr_in *sa, int *out)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return FC_EIO;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        fc_error("capture: cannot reach %s:%u: %s", inet_ntoa(sa->sin_addr), ntohs(sa->sin_port),
                 strerror(errno));
        close(fd);
        return FC_EIO;
    }
    *out = fd;
    return 0;
}

static int parse_token(const char *hex, uint8_t out[FC_CAP_TOKEN_LEN])
{
    unsigned i, v;

    memset(out, 0, FC_CAP_TOKEN_LEN);
    if (!hex)
        return 0;
    if (strlen(hex) != 2 * FC_CAP_TOKEN_LEN)
        return FC_EINVAL;
    for (i = 0; i < FC_CAP_TOKEN_LEN; i++) {
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return FC_EINVAL;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* HELLO with the disk's size; the server's answer says whether to go on. */
static int hello(struct fc_recv *r, struct upload *u)
{
    struct fc_cap_hello h = {.chunk_size = FC_CHUNK_DEFAULT, .level = (uint8_t)r->o.level};
    struct fc_cap_reply rep;
    uint8_t buf[FC_CAP_HELLO_LEN];
    int fd, blk, rc;

    if (parse_token(r->o.token, h.token))
        return fc_error("bad --token: %d hex digits expected", 2 * FC_CAP_TOKEN_LEN),
               FC_RX_EXIT_USAGE;
    if (fc_disk_open_read(r->o.source, &fd, &h.disk_size, &blk))
        return FC_RX_EXIT_IO;
    close(fd);
    if (connect_server(&r->disc_to, &u->fd))
        return FC_RX_EXIT_LOST;
    rc = fc_cap_hello_encode(buf, sizeof(buf), 0, ++u->seq, &h) == FC_CAP_HELLO_LEN ? 0 : FC_EINVAL;
    if (!rc)
        rc = fc_fd_send_full(u->fd, buf, sizeof(buf));
    if (!rc)
        rc = read_reply(u, &rep);
    if (rc)
        return fc_error("capture: the server did not answer HELLO"), FC_RX_EXIT_LOST;
    if (rep.status != FC_REASON_OK)
        return fc_error("capture refused by the server: %s", fc__reason_text(rep.status)),
               FC_RX_EXIT_ABORTED;
    return 0;
}

int fc__capture(struct fc_recv *r)
{
    struct upload u = {.fd = -1};
    struct fc_capture_sink sink = {&u, up_chunk, up_finish};
    struct fc_capture_opts o = {.source = r->o.source,
                                .level = r->o.level,
                                .quiet = r->o.quiet,
                                .force = r->o.force,
                                .stop = r->stop};
    struct fc_capture_result *res = calloc(1, sizeof(*res));
    int code = res ? hello(r, &u) : FC_RX_EXIT_IO;
    int rc;

    if (!code) {
        fc_info("capture: uploading %s to %s", r->o.source, r->o.server);
        rc = fc_capture_stream(&o, &sink, res);
        code = !rc              ? FC_RX_EXIT_OK
               : rc == FC_EINTR ? FC_RX_EXIT_INTR
               : u.refused      ? FC_RX_EXIT_ABORTED
               : u.lost         ? FC_RX_EXIT_LOST
                                : FC_RX_EXIT_IO;
    }
    if (!code)
        fc_info("capture: done: %u chunks, %llu bytes stored, %llu compressed, %.1f s; the "
                "server verified and signed the image",
                res->chunk_count, (unsigned long long)res->stored_bytes,
                (unsigned long long)res->compressed_bytes, res->seconds);
    if (u.fd >= 0)
        close(u.fd);
    free(res);
    return code;
}
