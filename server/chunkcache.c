/* Chunks read from the image for sending: the pass reads each chunk once,
 * and repairs mostly ask for chunks just sent, so a small LRU cache serves
 * them without another read. The buffer is padded with zeros to whole
 * packets, the cut both ends agree on (fc_blocks).
 * The loop thread never reads the disk: a chunk not in the cache is read by
 * a libuv thread-pool worker (uv_queue_work) into its slot, and the sender
 * reads ahead of its cursor (fc_chunkcache_prefetch), so a slow disk makes
 * the pass wait a tick, not the loop. A slot being read belongs to its read
 * until the read's after-callback runs on the loop. The reads share a dup
 * of the image's fd, closed by the last of them, so a session freed while a
 * read runs (its after-callback comes later) leaves nothing dangling.
 * The sender's batch sends payloads from the slots themselves: a slot is
 * pinned while a packet waiting in the batch points into it, and a pinned
 * slot is never evicted. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

struct fc_cache_fd {
    int fd;
    unsigned refs; /* the cache and each read in flight; loop thread only */
};

struct fc_cache_read {
    uv_work_t w;
    struct fc_chunkcache *c; /* NULL once the cache is freed: the read frees itself */
    struct fc_cached_chunk *e;
    struct fc_cache_fd *f;
    uint8_t *buf;
    size_t len, need;
    uint64_t off;
    uint32_t chunk;
    int rc;
};

static void fd_unref(struct fc_cache_fd *f)
{
    if (f && --f->refs == 0) {
        close(f->fd);
        free(f);
    }
}

int fc_chunkcache_init(struct fc_chunkcache *c, int fd, const struct fc_manifest *m,
                       uint16_t payload, uint8_t k_max)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->m = m;
    c->payload = payload;
    c->k_max = k_max;
    return 0;
}

int fc_chunkcache_async(struct fc_chunkcache *c, uv_loop_t *loop)
{
    struct fc_cache_fd *f;

    if (!loop || c->loop)
        return 0;
    f = malloc(sizeof(*f));
    if (!f)
        return FC_ENOMEM;
    f->fd = dup(c->fd);
    if (f->fd < 0) {
        free(f);
        return FC_EIO;
    }
    f->refs = 1;
    c->fd_ref = f;
    c->loop = loop;
    return 0;
}

/* An empty slot, else the least recently used one neither being read nor
 * pinned by a packet waiting in the send batch; NULL when there is none. */
static struct fc_cached_chunk *victim(struct fc_chunkcache *c)
{
    struct fc_cached_chunk *v = NULL;
    int i;

    for (i = 0; i < FC_CACHE_CHUNKS; i++) {
        struct fc_cached_chunk *e = &c->e[i];
        if (e->state == FC_SLOT_EMPTY)
            return e;
        if (e->state != FC_SLOT_LOADING && !e->pins && (!v || e->used < v->used))
            v = e;
    }
    c->pinned_full += !v;
    return v;
}

static struct fc_cached_chunk *find(struct fc_chunkcache *c, uint32_t chunk)
{
    int i;

    for (i = 0; i < FC_CACHE_CHUNKS; i++)
        if (c->e[i].state != FC_SLOT_EMPTY && c->e[i].chunk == chunk)
            return &c->e[i];
    return NULL;
}

/* The slot's geometry and a buffer big enough for chunk, padded. */
static int prepare(struct fc_chunkcache *c, struct fc_cached_chunk *e, uint32_t chunk, size_t *need)
{
    const struct fc_chunk *ch = &c->m->chunks[chunk];
    int rc;

    e->state = FC_SLOT_EMPTY;
    rc = fc_blocks_init(&e->bl, ch->comp_size, c->payload, c->k_max);
    if (rc)
        return rc;
    *need = (size_t)e->bl.packets * e->bl.sym_len;
    if (*need > e->cap) {
        uint8_t *b = realloc(e->buf, *need);
        if (!b)
            return FC_ENOMEM;
        e->buf = b;
        e->cap = *need;
    }
    e->chunk = chunk;
    return 0;
}

/* Both sides of a read: the pread (a worker thread, or the caller's). */
static int read_into(int fd, uint8_t *buf, size_t len, size_t need, uint64_t off)
{
    int rc = fc_pread_full(fd, buf, len, off);

    if (!rc)
        memset(buf + len, 0, need - len);
    return rc;
}

static void read_work(uv_work_t *w)
{
    struct fc_cache_read *rd = w->data;

    rd->rc = read_into(rd->f->fd, rd->buf, rd->len, rd->need, rd->off);
}

static void read_done(uv_work_t *w, int status)
{
    struct fc_cache_read *rd = w->data;
    struct fc_chunkcache *c = rd->c;

    if (status)
        rd->rc = FC_EIO; /* cancelled: only when the cache is being freed */
    if (c) {
        rd->e->state = rd->rc ? FC_SLOT_FAILED : FC_SLOT_READY;
        rd->e->used = ++c->tick; /* just read: not the next victim */
        rd->e->error = rd->rc;
        rd->e->rd = NULL;
        c->loads++;
        if (rd->rc)
            fc_error("reading chunk %u from the image: %s", rd->chunk, fc_strerror(rd->rc));
    } else {
        free(rd->buf); /* the slot is gone; the buffer was the read's */
    }
    fd_unref(rd->f);
    free(rd);
}

/* Starts reading chunk into slot e: on the thread pool, or here without a
 * loop (unit tests). */
static int start_read(struct fc_chunkcache *c, struct fc_cached_chunk *e, uint32_t chunk)
{
    const struct fc_chunk *ch = &c->m->chunks[chunk];
    struct fc_cache_read *rd;
    size_t need;
    int rc = prepare(c, e, chunk, &need);

    if (rc)
        return rc;
    e->used = ++c->tick;
    if (!c->loop) {
        rc = read_into(c->fd, e->buf, ch->comp_size, need, ch->file_off);
        e->state = rc ? FC_SLOT_FAILED : FC_SLOT_READY;
        e->error = rc;
        c->loads++;
        return 0;
    }
    rd = calloc(1, sizeof(*rd));
    if (!rd)
        return FC_ENOMEM;
    *rd = (struct fc_cache_read){.c = c,
                                 .e = e,
                                 .f = c->fd_ref,
                                 .buf = e->buf,
                                 .len = ch->comp_size,
                                 .need = need,
                                 .off = ch->file_off,
                                 .chunk = chunk};
    rd->w.data = rd;
    rc = uv_queue_work(c->loop, &rd->w, read_work, read_done);
    if (rc) {
        free(rd);
        return FC_EIO;
    }
    c->fd_ref->refs++;
    e->rd = rd;
    e->state = FC_SLOT_LOADING;
    return 0;
}

const struct fc_cached_chunk *fc_chunkcache_get(struct fc_chunkcache *c, uint32_t chunk, int *rc)
{
    struct fc_cached_chunk *e = find(c, chunk);

    *rc = 0;
    if (!e) {
        e = victim(c);
        if (e)
            *rc = start_read(c, e, chunk);
        if (!e || *rc) {
            c->misses += !*rc; /* every slot being read: come back next tick */
            return NULL;
        }
    }
    if (e->state == FC_SLOT_FAILED) {
        *rc = e->error;
        return NULL;
    }
    if (e->state != FC_SLOT_READY) {
        c->misses++;
        return NULL;
    }
    e->used = ++c->tick;
    return e;
}

void fc_chunkcache_prefetch(struct fc_chunkcache *c, uint32_t chunk)
{
    struct fc_cached_chunk *e;

    if (chunk >= c->m->n_chunks || find(c, chunk))
        return;
    e = victim(c);
    if (e)
        start_read(c, e, chunk); /* a failure shows when the chunk is asked for */
}

/* The slot behind a pointer the cache handed out: its own, to change. */
static struct fc_cached_chunk *slot_of(struct fc_chunkcache *c, const struct fc_cached_chunk *e)
{
    return &c->e[e - c->e];
}

void fc_chunkcache_pin(struct fc_chunkcache *c, const struct fc_cached_chunk *e)
{
    slot_of(c, e)->pins++;
}

void fc_chunkcache_unpin(struct fc_chunkcache *c, const struct fc_cached_chunk *e)
{
    struct fc_cached_chunk *s = slot_of(c, e);

    if (s->pins)
        s->pins--;
}

void fc_chunkcache_free(struct fc_chunkcache *c)
{
    int i;

    for (i = 0; i < FC_CACHE_CHUNKS; i++) {
        struct fc_cached_chunk *e = &c->e[i];
        if (e->state == FC_SLOT_LOADING) {
            e->rd->c = NULL; /* its buffer goes with the read */
            uv_cancel((uv_req_t *)&e->rd->w);
        } else {
            free(e->buf);
        }
    }
    if (c->loads)
        fc_debug("chunk cache: %llu chunks read; %llu times the sender found one not read yet, "
                 "%llu every slot pinned or being read",
                 (unsigned long long)c->loads, (unsigned long long)c->misses,
                 (unsigned long long)c->pinned_full);
    fd_unref(c->fd_ref);
    memset(c, 0, sizeof(*c));
}
