/* Captures over the network (issue 12; docs/api.md "Captures",
 * docs/protocol.md "Capture upload"). The operator arms a capture for one
 * MAC (POST /api/v1/captures): its boot action becomes `capture`, the
 * machine PXE-boots into fleetcast.mode=capture and uploads its disk over
 * TCP to the control port. manifest_srv.c hands such a connection here once
 * its first header says CAP_HELLO; it is then served by a thread of its own
 * with blocking reads, so that checking (decompress and hash every chunk:
 * the server signs only what it verified) and writing 4 MiB chunks never
 * hold up the loop and the multicast sessions on it. Which capture a
 * connection belongs to comes from the peer's MAC in the kernel's ARP table,
 * never from the connection's own claims; a HELLO's token, when not zero,
 * must match as well. OUT lies in the capture directory (capdir.c: no path
 * out of it, no symbolic link, an existing image kept unless overwrite).
 * The image is written under OUT.partial-PID (imgfile.c),
 * signed with the capture key, fsynced and renamed only once complete; a
 * failed or cut upload removes it, and the machine may start again from the
 * beginning. The loop hears of an upload's end through an async handle and
 * sets the machine's boot action back to local disk. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/chunk.h"
#include "common/error.h"
#include "common/fdio.h"
#include "common/image.h"
#include "common/imgfile.h"
#include "common/log.h"
#include "common/meter.h"
#include "proto/wol.h"
#include "server/server.h"

#define CAPTURES_MAX 64
#define IDLE_S 120 /* a machine silent this long mid-upload has failed */
#define HELLO_S 10 /* ... and a connection that has not said HELLO this long is closed */
/* Connections at once, each a thread (and 33 MB of buffers once it is an
 * armed machine's): a host opening many cannot exhaust the server. */
#define UPLOADS_MAX 8
#define COMP_MAX (FC_CHUNK_MAX + (FC_CHUNK_MAX >> 7) + 4096)

enum cap_state { CAP_ARMED, CAP_UPLOADING, CAP_DONE, CAP_FAILED, CAP_CANCELLED };
static const char *const state_names[] = {"armed", "uploading", "done", "failed", "cancelled"};

struct capture {
    char mac[FC_MAC_TEXT];
    char out[1024]; /* relative to the capture directory */
    int overwrite;  /* may replace an image of that name */
    int level;
    uint8_t token[FC_CAP_TOKEN_LEN];
    enum cap_state state;
    int fd;          /* the upload's socket while one runs, else -1 */
    int ended;       /* the loop has yet to act on an end (boot action, log) */
    uint64_t bytes;  /* compressed bytes taken */
    uint64_t raw;    /* disk bytes they hold */
    uint32_t chunks; /* chunks taken */
    double started;  /* fc_now() when the upload began */
    double seconds;  /* the upload's length, once ended */
    char peer[INET_ADDRSTRLEN];
    char error[200];
};

struct fc_captures {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* an upload thread ended */
    struct capture v[CAPTURES_MAX];
    unsigned n;
    unsigned threads;     /* upload threads running */
    int fds[UPLOADS_MAX]; /* their sockets (-1: a free slot), shut at close */
    int stopping;
    int dir;             /* the capture directory, open */
    char dir_path[1024]; /* and its path, for logs and the API */
    uv_async_t async;
    struct fc_keypair key;
    struct fc_daemon *d;
};

/* One upload, on its own thread. */
struct upload {
    struct fc_captures *cs;
    int fd;
    struct sockaddr_in peer;
    uint8_t first[FC_HDR_LEN];
    unsigned slot; /* in cs->fds */
    struct capture *cap;
    int pdir; /* the directory OUT is in, or -1 */
    struct fc_imgfile f;
    struct fc_cap_hello hello;
    struct fc_chunk *got; /* what every chunk taken was checked to be */
    uint32_t n_got, cap_got;
    uint8_t *comp, *raw;
    ZSTD_DCtx *dctx;
    uint32_t seq;
};

/* ---- the armed captures (loop thread, under mu) ---- */

static struct capture *find(struct fc_captures *cs, const char *mac)
{
    unsigned i;

    for (i = 0; i < cs->n; i++)
        if (!strcmp(cs->v[i].mac, mac))
            return &cs->v[i];
    return NULL;
}

static json_t *capture_json(const struct fc_captures *cs, const struct capture *c)
{
    double secs = c->state == CAP_UPLOADING ? fc_now() - c->started : c->seconds;
    char path[2100];

    snprintf(path, sizeof(path), "%s/%s", cs->dir_path, c->out);
    return json_pack("{s:s, s:s, s:s, s:b, s:i, s:s, s:I, s:I, s:i, s:f, s:s, s:s}", "mac", c->mac,
                     "out", c->out, "path", path, "overwrite", c->overwrite, "level", c->level,
                     "state", state_names[c->state], "bytes", (json_int_t)c->bytes, "raw_bytes",
                     (json_int_t)c->raw, "chunks", (int)c->chunks, "rate",
                     secs > 0 ? (double)c->bytes / secs : 0.0, "peer", c->peer, "error", c->error);
}

json_t *fc_captures_json(struct fc_captures *cs)
{
    json_t *a = json_array();
    unsigned i;

    if (!cs)
        return a;
    pthread_mutex_lock(&cs->mu);
    for (i = 0; i < cs->n; i++)
        json_array_append_new(a, capture_json(cs, &cs->v[i]));
    pthread_mutex_unlock(&cs->mu);
    return a;
}

/* The request's fields; out made relative to the capture directory and
 * checked there (capdir.c). */
struct arm_req {
    const char *mac;
    char out[1024];
    int level, overwrite;
};

static int arm_request(struct fc_captures *cs, const json_t *body, struct arm_req *r, char *why,
                       size_t cap)
{
    json_t *lv = json_object_get(body, "level"), *ow = json_object_get(body, "overwrite");
    const char *out = json_string_value(json_object_get(body, "out"));

    r->mac = json_string_value(json_object_get(body, "mac"));
    r->level = lv ? (int)json_integer_value(lv) : 3;
    r->overwrite = ow && json_is_true(ow);
    if (!r->mac || !out || !*out)
        return snprintf(why, cap,
                        "mac and out (the image's name in the capture directory) are "
                        "needed"),
               FC_EINVAL;
    if ((lv && !json_is_integer(lv)) || r->level < 1 || r->level > 22)
        return snprintf(why, cap, "level must be an integer from 1 to 22"), FC_EINVAL;
    if (ow && !json_is_boolean(ow))
        return snprintf(why, cap, "overwrite must be true or false"), FC_EINVAL;
    if (fc_capdir_name(cs->dir_path, out, r->out, sizeof(r->out), why, cap))
        return FC_EINVAL;
    return fc_capdir_check(cs->dir, r->out, r->overwrite, why, cap);
}

/* Arms (or re-arms, after an end) the capture of one machine. */
int fc_captures_arm(struct fc_daemon *d, const json_t *body, json_t **res, char *why, size_t cap)
{
    struct fc_captures *cs = d->captures;
    struct arm_req r;
    char colons[FC_MAC_TEXT];
    struct capture *c;
    int rc;

    if (!cs)
        return snprintf(why, cap, "captures need fleetcastd --daemon"), FC_ESTATE;
    rc = arm_request(cs, body, &r, why, cap);
    if (rc)
        return rc;
    if (fc_mac_normalize(r.mac, ':', colons))
        return snprintf(why, cap, "bad MAC address '%s' (want 52:54:00:ab:cd:ef)", r.mac),
               FC_EINVAL;
    pthread_mutex_lock(&cs->mu);
    c = find(cs, colons);
    if (c && c->state == CAP_UPLOADING)
        rc = (snprintf(why, cap, "machine %s is uploading a capture now", colons), FC_ESTATE);
    else if (!c && cs->n == CAPTURES_MAX)
        rc = (snprintf(why, cap, "%d captures are armed already", CAPTURES_MAX), FC_ESTATE);
    if (!rc) {
        c = c ? c : &cs->v[cs->n++];
        memset(c, 0, sizeof(*c));
        snprintf(c->mac, sizeof(c->mac), "%s", colons);
        snprintf(c->out, sizeof(c->out), "%s", r.out);
        c->overwrite = r.overwrite;
        c->level = r.level;
        c->fd = -1;
        randombytes_buf(c->token, sizeof(c->token));
        *res = capture_json(cs, c);
    }
    pthread_mutex_unlock(&cs->mu);
    if (rc)
        return rc;
    rc = fc_pxecfg_set(d, colons, FC_BOOT_CAPTURE, NULL, "capture armed", why, cap);
    if (!rc)
        fc_info("machine %s: capture armed into %s/%s (level %d%s)", colons, cs->dir_path, r.out,
                r.level, r.overwrite ? ", may overwrite" : "");
    return rc;
}

/* Cancels an armed or running capture; a running upload's socket is shut
 * so its thread ends at once, removing its partial file. */
int fc_captures_cancel(struct fc_daemon *d, const json_t *body, json_t **res, char *why, size_t cap)
{
    struct fc_captures *cs = d->captures;
    const char *mac = json_string_value(json_object_get(body, "mac"));
    char colons[FC_MAC_TEXT];
    struct capture *c;
    int rc = 0;

    if (!cs)
        return snprintf(why, cap, "captures need fleetcastd --daemon"), FC_ESTATE;
    if (!mac || fc_mac_normalize(mac, ':', colons))
        return snprintf(why, cap, "mac: a MAC address is needed"), FC_EINVAL;
    pthread_mutex_lock(&cs->mu);
    c = find(cs, colons);
    if (!c || (c->state != CAP_ARMED && c->state != CAP_UPLOADING))
        rc = (snprintf(why, cap, "no capture armed or running for %s", colons), FC_EREFUSED);
    else {
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR);
        c->state = CAP_CANCELLED;
        snprintf(c->error, sizeof(c->error), "cancelled by the operator");
        *res = capture_json(cs, c);
    }
    pthread_mutex_unlock(&cs->mu);
    if (rc)
        return rc;
    fc_info("machine %s: capture cancelled by the operator", colons);
    return fc_pxecfg_set(d, colons, FC_BOOT_LOCAL, NULL, "capture cancelled", why, cap);
}

/* The loop's side of an upload's end: the boot action back to local disk. */
static void on_ended(uv_async_t *a)
{
    struct fc_captures *cs = a->data;
    char macs[CAPTURES_MAX][FC_MAC_TEXT], err[256];
    unsigned i, n = 0;

    pthread_mutex_lock(&cs->mu);
    for (i = 0; i < cs->n; i++)
        if (cs->v[i].ended) {
            cs->v[i].ended = 0;
            if (cs->v[i].state == CAP_DONE)
                memcpy(macs[n++], cs->v[i].mac, FC_MAC_TEXT);
        }
    pthread_mutex_unlock(&cs->mu);
    for (i = 0; i < n; i++)
        if (fc_pxecfg_set(cs->d, macs[i], FC_BOOT_LOCAL, NULL, "capture complete", err,
                          sizeof(err)))
            fc_warn("machine %s: %s", macs[i], err);
}

/* ---- one upload (its own thread) ---- */

static void set_timeout(int fd, long seconds)
{
    struct timeval tv = {seconds, 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void reply(struct upload *u, uint8_t status)
{
    struct fc_cap_reply r = {.status = status, .chunks = u->n_got};
    uint8_t buf[FC_CAP_REPLY_LEN];

    if (fc_cap_reply_encode(buf, sizeof(buf), 0, ++u->seq, &r) == FC_CAP_REPLY_LEN)
        (void)fc_fd_send_full(u->fd, buf, sizeof(buf));
}

/* Reads the rest of a message whose header is in buf; its type must be want. */
static int read_msg(struct upload *u, uint8_t *buf, uint8_t want)
{
    size_t len = fc_cap_msg_len(buf);

    if (!len || buf[5] != want)
        return FC_EPROTO;
    return fc_fd_recv_full(u->fd, buf + FC_HDR_LEN, len - FC_HDR_LEN);
}

/* The partial file is removed before the line saying so is logged. A
 * capture the operator cancelled keeps that state and says it stopped. */
static void fail(struct upload *u, const char *fmt, const char *detail)
{
    struct fc_captures *cs = u->cs;
    int partial = u->f.tmp[0] != 0, cancelled = 0;
    char error[sizeof(u->cap->error)] = "";

    fc_imgfile_abort(&u->f);
    pthread_mutex_lock(&cs->mu);
    if (u->cap && u->cap->state == CAP_UPLOADING) {
        u->cap->state = CAP_FAILED;
        snprintf(u->cap->error, sizeof(u->cap->error), fmt, detail);
    }
    if (u->cap) {
        cancelled = u->cap->state == CAP_CANCELLED;
        memcpy(error, u->cap->error, sizeof(error));
    }
    pthread_mutex_unlock(&cs->mu);
    fc_warn("machine %s (%s): capture %s: %s%s", u->cap ? u->cap->mac : "?",
            inet_ntoa(u->peer.sin_addr), cancelled ? "upload stopped" : "failed", error,
            partial ? "; its partial image is removed" : "");
}

/* The capture armed for the peer's MAC, marked uploading; NULL (logged)
 * for a peer that is not an armed machine. */
static struct capture *claim(struct upload *u, char *mac)
{
    static const uint8_t zero[FC_CAP_TOKEN_LEN];
    struct fc_captures *cs = u->cs;
    struct capture *c = NULL;

    if (!fc_netio_mac_of(u->peer.sin_addr, mac) && !fc_mac_normalize(mac, ':', mac)) {
        pthread_mutex_lock(&cs->mu);
        c = find(cs, mac);
        if (c && (c->state == CAP_DONE || c->state == CAP_CANCELLED || c->state == CAP_UPLOADING ||
                  (memcmp(u->hello.token, zero, sizeof(zero)) &&
                   sodium_memcmp(u->hello.token, c->token, sizeof(zero)))))
            c = NULL;
        if (c) {
            c->state = CAP_UPLOADING;
            c->fd = u->fd;
            c->bytes = c->raw = c->chunks = 0;
            c->started = fc_now();
            c->error[0] = '\0';
            snprintf(c->peer, sizeof(c->peer), "%s", inet_ntoa(u->peer.sin_addr));
        }
        pthread_mutex_unlock(&cs->mu);
    }
    if (!c)
        fc_warn("capture upload from %s (MAC %s) refused: no capture armed for that machine",
                inet_ntoa(u->peer.sin_addr), mac[0] ? mac : "unknown");
    return c;
}

static int keep(struct upload *u, const struct fc_chunk *ch)
{
    if (u->n_got == u->cap_got) {
        uint32_t n = u->cap_got ? u->cap_got * 2 : 1024;
        struct fc_chunk *p = realloc(u->got, n * sizeof(*p));
        if (!p)
            return FC_ENOMEM;
        u->got = p;
        u->cap_got = n;
    }
    u->got[u->n_got++] = *ch;
    return 0;
}

/* One CAP_CHUNK: its bytes hashed, decompressed and the raw bytes hashed
 * before a byte is written. */
static int take_chunk(struct upload *u, const uint8_t *msg)
{
    struct fc_cap_chunk cc;
    struct fc_chunk ch;
    struct fc_hdr h;
    int rc;

    if (fc_cap_chunk_decode(msg, FC_CAP_CHUNK_LEN, &h, &cc) || cc.index != u->n_got ||
        cc.raw_size > u->hello.chunk_size)
        return FC_EPROTO;
    rc = fc_fd_recv_full(u->fd, u->comp, cc.comp_size);
    if (rc)
        return rc;
    memset(&ch, 0, sizeof(ch));
    ch.file_off = u->f.end;
    ch.comp_size = cc.comp_size;
    ch.raw_size = cc.raw_size;
    memcpy(ch.comp_hash, cc.comp_hash, FC_HASH_LEN);
    memcpy(ch.raw_hash, cc.raw_hash, FC_HASH_LEN);
    rc = fc_chunk_decode_full(u->dctx, &ch, u->comp, cc.comp_size, u->raw);
    if (rc)
        return rc;
    rc = fc_imgfile_put(&u->f, &ch, u->comp);
    if (!rc)
        rc = keep(u, &ch);
    pthread_mutex_lock(&u->cs->mu);
    u->cap->bytes += cc.comp_size;
    u->cap->raw += cc.raw_size;
    u->cap->chunks = u->n_got;
    pthread_mutex_unlock(&u->cs->mu);
    return rc;
}

/* The manifest must describe exactly the chunks taken and checked. */
static int manifest_matches(const struct upload *u, const struct fc_manifest *m)
{
    uint32_t i;

    if (m->n_chunks != u->n_got || m->disk_size != u->hello.disk_size ||
        m->chunk_size != u->hello.chunk_size || m->data_offset != FC_HEADER_SIZE)
        return 0;
    for (i = 0; i < m->n_chunks; i++) {
        const struct fc_chunk *a = &m->chunks[i], *b = &u->got[i];
        if (a->file_off != b->file_off || a->comp_size != b->comp_size ||
            a->raw_size != b->raw_size || memcmp(a->comp_hash, b->comp_hash, FC_HASH_LEN) ||
            memcmp(a->raw_hash, b->raw_hash, FC_HASH_LEN))
            return 0;
    }
    return 1;
}

static int still_uploading(struct upload *u)
{
    int yes;

    pthread_mutex_lock(&u->cs->mu);
    yes = u->cap->state == CAP_UPLOADING;
    pthread_mutex_unlock(&u->cs->mu);
    return yes;
}

static int take_finish(struct upload *u, const uint8_t *msg, uint64_t *size)
{
    struct fc_cap_finish fin;
    struct fc_manifest m;
    struct fc_hdr h;
    uint8_t *buf;
    int rc;

    if (fc_cap_finish_decode(msg, FC_CAP_FINISH_LEN, &h, &fin))
        return FC_EPROTO;
    buf = malloc(fin.length);
    if (!buf)
        return FC_ENOMEM;
    rc = fc_fd_recv_full(u->fd, buf, fin.length);
    if (!rc)
        rc = fc_manifest_decode(buf, fin.length, &m);
    free(buf);
    if (rc)
        return rc;
    rc = manifest_matches(u, &m) ? 0 : FC_EPROTO;
    if (!rc && !still_uploading(u))
        rc = FC_ESTATE; /* cancelled while the manifest came: no image */
    if (!rc)
        rc = fc_imgfile_commit(&u->f, &m, &u->cs->key, size);
    fc_manifest_free(&m);
    return rc;
}

/* The partial image in the capture's directory, resolved again now (the
 * tree may have changed since it was armed): no symbolic link, nothing out
 * of the capture directory; an image there since is kept unless overwrite. */
static int open_out(struct upload *u)
{
    char why[256];
    const char *name;

    u->pdir = fc_capdir_parent(u->cs->dir, u->cap->out, &name, why, sizeof(why));
    if (u->pdir < 0) {
        fc_error("machine %s: %s", u->cap->mac, why);
        return FC_EIO;
    }
    return fc_imgfile_openat(&u->f, u->pdir, name, !u->cap->overwrite);
}

/* HELLO's rest, then chunks until FINISH. */
static int serve(struct upload *u, char *mac, uint64_t *size)
{
    uint8_t msg[FC_CAP_CHUNK_LEN];
    struct fc_hdr h;
    int rc;

    memcpy(msg, u->first, FC_HDR_LEN);
    rc = read_msg(u, msg, FC_PKT_CAP_HELLO);
    if (rc || fc_cap_hello_decode(msg, FC_CAP_HELLO_LEN, &h, &u->hello))
        return FC_EPROTO;
    u->cap = claim(u, mac);
    if (!u->cap)
        return reply(u, FC_REASON_NOT_ARMED), FC_EREFUSED;
    set_timeout(u->fd, IDLE_S);
    u->comp = malloc(COMP_MAX);
    u->raw = malloc(FC_CHUNK_MAX);
    u->dctx = ZSTD_createDCtx();
    if (!u->comp || !u->raw || !u->dctx)
        return reply(u, FC_REASON_INTERNAL), FC_ENOMEM;
    rc = open_out(u);
    if (rc)
        return reply(u, FC_REASON_INTERNAL), rc;
    fc_info("machine %s (%s): capture upload started into %s/%s (written as %s until complete)",
            mac, u->cap->peer, u->cs->dir_path, u->cap->out, u->f.tmp);
    reply(u, FC_REASON_OK);
    for (;;) {
        rc = fc_fd_recv_full(u->fd, msg, FC_HDR_LEN);
        if (!rc && msg[5] == FC_PKT_CAP_CHUNK && !(rc = read_msg(u, msg, FC_PKT_CAP_CHUNK)))
            rc = take_chunk(u, msg);
        else if (!rc && msg[5] == FC_PKT_CAP_FINISH && !(rc = read_msg(u, msg, FC_PKT_CAP_FINISH)))
            return take_finish(u, msg, size);
        else if (!rc)
            rc = FC_EPROTO;
        if (rc)
            return rc;
    }
}

static void upload_free(struct upload *u)
{
    fc_imgfile_abort(&u->f); /* nothing once committed */
    if (u->pdir >= 0)
        close(u->pdir);
    close(u->fd);
    free(u->got);
    free(u->comp);
    free(u->raw);
    ZSTD_freeDCtx(u->dctx);
    free(u);
}

static void finish(struct upload *u, int rc, uint64_t size)
{
    struct fc_captures *cs = u->cs;

    if (u->cap && !rc) {
        pthread_mutex_lock(&cs->mu);
        u->cap->state = CAP_DONE;
        u->cap->seconds = fc_now() - u->cap->started;
        pthread_mutex_unlock(&cs->mu);
        reply(u, FC_REASON_OK);
        fc_info("machine %s (%s): capture complete: %s/%s, %u chunks, %llu bytes, signed, %.1f s",
                u->cap->mac, u->cap->peer, cs->dir_path, u->cap->out, u->n_got,
                (unsigned long long)size, u->cap->seconds);
    } else if (u->cap) {
        if (rc != FC_EIO && rc != FC_ETRUNC)
            reply(u, rc == FC_EPROTO || rc == FC_EHASH ? FC_REASON_VERIFY : FC_REASON_INTERNAL);
        fail(u, "%s", fc_strerror(rc));
    } else if (rc != FC_EREFUSED) {
        fc_warn("capture upload from %s: bad HELLO, closed", inet_ntoa(u->peer.sin_addr));
    }
    pthread_mutex_lock(&cs->mu);
    cs->fds[u->slot] = -1; /* before the socket is closed: its number may be reused */
    if (u->cap) {
        u->cap->fd = -1;
        u->cap->seconds = fc_now() - u->cap->started;
        u->cap->ended = 1;
    }
    pthread_mutex_unlock(&cs->mu);
}

static void *upload_main(void *arg)
{
    struct upload *u = arg;
    struct fc_captures *cs = u->cs;
    char mac[FC_MAC_TEXT] = "";
    uint64_t size = 0;
    int rc = serve(u, mac, &size);

    finish(u, rc, size);
    upload_free(u);
    pthread_mutex_lock(&cs->mu);
    cs->threads--;
    pthread_cond_broadcast(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    uv_async_send(&cs->async);
    return NULL;
}

/* A free slot for fd, or UPLOADS_MAX; under mu. */
static unsigned take_slot(struct fc_captures *cs, int fd)
{
    unsigned i;

    for (i = 0; i < UPLOADS_MAX; i++)
        if (cs->fds[i] < 0) {
            cs->fds[i] = fd;
            break;
        }
    return i;
}

/* A socket libuv accepted and read FC_HDR_LEN bytes from: ours from here. */
int fc_captures_adopt(struct fc_daemon *d, int fd, const struct sockaddr_in *peer,
                      const uint8_t first[FC_HDR_LEN])
{
    struct fc_captures *cs = d->captures;
    struct upload *u;
    pthread_attr_t at;
    pthread_t t;
    int rc = 0;

    if (!cs || cs->stopping || !(u = calloc(1, sizeof(*u)))) {
        close(fd);
        return FC_ESTATE;
    }
    u->cs = cs;
    u->fd = fd;
    u->f.fd = -1;
    u->pdir = -1;
    u->peer = *peer;
    memcpy(u->first, first, FC_HDR_LEN);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    set_timeout(fd, HELLO_S);
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&cs->mu);
    u->slot = take_slot(cs, fd);
    if (u->slot == UPLOADS_MAX)
        rc = FC_EREFUSED;
    else if (pthread_create(&t, &at, upload_main, u))
        rc = (cs->fds[u->slot] = -1, FC_ENOMEM);
    else
        cs->threads++;
    pthread_mutex_unlock(&cs->mu);
    pthread_attr_destroy(&at);
    if (rc) {
        fc_warn("capture upload from %s closed: %s", inet_ntoa(peer->sin_addr),
                rc == FC_EREFUSED ? "too many uploads at once" : "no thread for it");
        close(fd);
        free(u);
    }
    return rc;
}

/* ---- life ---- */

/* --capture-key, else the state directory's capture.key and capture.pub
 * (made on first use, like an ssh host key). */
static int load_key(struct fc_captures *cs, const struct fc_daemon_config *cfg)
{
    char prefix[1100], path[1110];
    int rc;

    if (cfg->capture_key)
        return fc_key_load_secret(cfg->capture_key, &cs->key);
    snprintf(prefix, sizeof(prefix), "%s/capture", cfg->state_dir);
    snprintf(path, sizeof(path), "%s.key", prefix);
    if (access(path, F_OK) == 0)
        return fc_key_load_secret(path, &cs->key);
    rc = fc_key_generate(prefix, 0, &cs->key);
    if (!rc)
        fc_info("made the capture signing key %s (public half %s.pub)", path, prefix);
    return rc;
}

int fc_captures_open(struct fc_daemon *d)
{
    struct fc_captures *cs = calloc(1, sizeof(*cs));
    int rc;

    if (!cs)
        return FC_ENOMEM;
    rc = load_key(cs, &d->cfg);
    if (rc) {
        fc_error("cannot load the capture signing key: %s", fc_strerror(rc));
        free(cs);
        return rc;
    }
    snprintf(cs->dir_path, sizeof(cs->dir_path), "%s", d->cfg.capture_dir);
    cs->dir = fc_capdir_open(d->cfg.capture_dir);
    if (cs->dir < 0) {
        sodium_memzero(&cs->key, sizeof(cs->key));
        free(cs);
        return FC_EIO;
    }
    pthread_mutex_init(&cs->mu, NULL);
    pthread_cond_init(&cs->cv, NULL);
    memset(cs->fds, -1, sizeof(cs->fds));
    cs->d = d;
    uv_async_init(d->loop, &cs->async, on_ended);
    cs->async.data = cs;
    uv_unref((uv_handle_t *)&cs->async); /* it alone does not keep fleetcastd running */
    d->captures = cs;
    return 0;
}

static void on_async_closed(uv_handle_t *h)
{
    struct fc_captures *cs = h->data;

    pthread_mutex_destroy(&cs->mu);
    pthread_cond_destroy(&cs->cv);
    close(cs->dir);
    sodium_memzero(&cs->key, sizeof(cs->key));
    free(cs);
}

/* Running uploads are cut (their partial files removed) and waited for. */
void fc_captures_close(struct fc_daemon *d)
{
    struct fc_captures *cs = d->captures;
    unsigned i;

    if (!cs)
        return;
    pthread_mutex_lock(&cs->mu);
    cs->stopping = 1;
    for (i = 0; i < UPLOADS_MAX; i++)
        if (cs->fds[i] >= 0)
            shutdown(cs->fds[i], SHUT_RDWR);
    while (cs->threads)
        pthread_cond_wait(&cs->cv, &cs->mu);
    pthread_mutex_unlock(&cs->mu);
    d->captures = NULL;
    uv_close((uv_handle_t *)&cs->async, on_async_closed);
}
