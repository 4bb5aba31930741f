/* The capture pipeline (see imgwrite.h). Slots form a ring indexed by chunk
 * sequence number: the reader fills slot seq % n in order, any worker
 * compresses any filled slot, and the writer drains them in order into the
 * sink, which keeps the image's chunk order equal to the disk order without
 * a sort. */
#include "common/imgwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/chunk.h"
#include "common/chunker.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/fsprobe.h"
#include "common/image.h"
#include "common/imgfile.h"
#include "common/layout.h"
#include "common/log.h"
#include "common/meter.h"

#define READ_SIZE (4u << 20)

enum slot_state { SLOT_FREE, SLOT_FILLED, SLOT_BUSY, SLOT_DONE };

struct slot {
    enum slot_state state;
    uint64_t seq;
    struct fc_chunk_buf buf;
    uint8_t *comp;
    size_t comp_cap;
    struct fc_chunk meta;
    int rc;
};

struct capture {
    const struct fc_capture_opts *o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct slot *slots;
    unsigned n_slots;
    uint64_t next_fill, next_write;
    int producer_done;
    int failed; /* first error, sticky: every thread stops on it */
    const struct fc_capture_sink *sink;
    uint64_t file_off;
    struct fc_manifest m;
    uint32_t cap_chunks, cap_extents;
};

static void set_failed(struct capture *c, int rc)
{
    pthread_mutex_lock(&c->mu);
    if (!c->failed)
        c->failed = rc;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* chunker callback: the next slot in ring order, once the writer freed it */
static struct fc_chunk_buf *get_slot(void *ctx)
{
    struct capture *c = ctx;
    struct slot *s = &c->slots[c->next_fill % c->n_slots];

    pthread_mutex_lock(&c->mu);
    while (s->state != SLOT_FREE && !c->failed)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    return c->failed ? NULL : &s->buf;
}

static int emit_slot(void *ctx, struct fc_chunk_buf *buf)
{
    struct capture *c = ctx;
    struct slot *s = &c->slots[c->next_fill % c->n_slots];

    if (buf != &s->buf)
        return FC_EINVAL;
    pthread_mutex_lock(&c->mu);
    s->seq = c->next_fill++;
    s->state = SLOT_FILLED;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static struct slot *take_filled(struct capture *c)
{
    unsigned i;

    for (;;) {
        for (i = 0; i < c->n_slots; i++)
            if (c->slots[i].state == SLOT_FILLED) {
                c->slots[i].state = SLOT_BUSY;
                return &c->slots[i];
            }
        if (c->failed || c->producer_done)
            return NULL;
        pthread_cond_wait(&c->cv, &c->mu);
    }
}

static void *worker_main(void *arg)
{
    struct capture *c = arg;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    struct slot *s;

    if (!cctx) {
        set_failed(c, FC_ENOMEM);
        return NULL;
    }
    pthread_mutex_lock(&c->mu);
    while ((s = take_filled(c)) != NULL) {
        pthread_mutex_unlock(&c->mu);
        s->rc = fc_chunk_encode(cctx, c->o->level, s->buf.raw, s->buf.len, s->comp, s->comp_cap,
                                &s->meta);
        pthread_mutex_lock(&c->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    ZSTD_freeCCtx(cctx);
    return NULL;
}

static int grow_manifest(struct capture *c, uint32_t add_ext)
{
    struct fc_manifest *m = &c->m;

    if (m->n_chunks == c->cap_chunks) {
        uint32_t cap = c->cap_chunks ? c->cap_chunks * 2 : 1024;
        struct fc_chunk *p = realloc(m->chunks, cap * sizeof(*p));
        if (!p)
            return FC_ENOMEM;
        m->chunks = p;
        c->cap_chunks = cap;
    }
    while (m->n_extents + add_ext > c->cap_extents) {
        uint32_t cap = c->cap_extents ? c->cap_extents * 2 : 4096;
        struct fc_extent *p = realloc(m->extents, cap * sizeof(*p));
        if (!p)
            return FC_ENOMEM;
        m->extents = p;
        c->cap_extents = cap;
    }
    return 0;
}

/* Hands one compressed chunk to the sink and adds its entry to the manifest. */
static int write_chunk(struct capture *c, struct slot *s)
{
    struct fc_manifest *m = &c->m;
    struct fc_chunk *ch;
    int rc;

    if (s->rc)
        return s->rc;
    rc = grow_manifest(c, s->buf.n_ext);
    if (rc)
        return rc;
    s->meta.file_off = c->file_off;
    s->meta.first_extent = m->n_extents;
    s->meta.n_extents = s->buf.n_ext;
    rc = c->sink->chunk(c->sink->ctx, m->n_chunks, &s->meta, s->comp, s->buf.ext);
    if (rc)
        return rc;
    ch = &m->chunks[m->n_chunks++];
    *ch = s->meta;
    ch->first_extent = m->n_extents;
    ch->n_extents = s->buf.n_ext;
    memcpy(&m->extents[m->n_extents], s->buf.ext, s->buf.n_ext * sizeof(struct fc_extent));
    m->n_extents += s->buf.n_ext;
    m->stored_bytes += s->meta.raw_size;
    m->compressed_bytes += s->meta.comp_size;
    c->file_off += s->meta.comp_size;
    return 0;
}

static void *writer_main(void *arg)
{
    struct capture *c = arg;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        struct slot *s = &c->slots[c->next_write % c->n_slots];
        int rc;

        while (!c->failed && !(s->state == SLOT_DONE && s->seq == c->next_write) &&
               !(c->producer_done && c->next_write == c->next_fill))
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->failed || c->next_write == c->next_fill)
            break;
        pthread_mutex_unlock(&c->mu);
        rc = write_chunk(c, s);
        pthread_mutex_lock(&c->mu);
        if (rc && !c->failed)
            c->failed = rc;
        s->state = SLOT_FREE;
        c->next_write++;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static int alloc_slots(struct capture *c, unsigned n, uint32_t chunk_size)
{
    unsigned i;

    c->slots = calloc(n, sizeof(*c->slots));
    if (!c->slots)
        return FC_ENOMEM;
    c->n_slots = n;
    for (i = 0; i < n; i++) {
        struct slot *s = &c->slots[i];
        s->comp_cap = ZSTD_compressBound(chunk_size);
        s->buf.raw = malloc(chunk_size);
        s->comp = malloc(s->comp_cap);
        if (!s->buf.raw || !s->comp)
            return FC_ENOMEM;
    }
    return 0;
}

static void free_slots(struct capture *c)
{
    unsigned i;

    for (i = 0; c->slots && i < c->n_slots; i++) {
        free(c->slots[i].buf.raw);
        free(c->slots[i].buf.ext);
        free(c->slots[i].comp);
    }
    free(c->slots);
}

/* Reads every planned range and feeds the chunker; the calling thread. */
static int read_disk(struct capture *c, int fd, struct fc_layout *lo, struct fc_chunker *ch)
{
    struct fc_meter prog;
    uint8_t *buf = aligned_alloc(4096, READ_SIZE);
    uint64_t done = 0;
    size_t i;
    int rc = 0;

    if (!buf)
        return FC_ENOMEM;
    fc_meter_start(&prog, "capture", lo->scan_bytes, c->o->quiet);
    for (i = 0; i < lo->n_scan && !rc; i++) {
        const struct fc_scan *sc = &lo->scan[i];
        uint64_t pos = 0;

        while (pos < sc->len && !rc) {
            size_t n = sc->len - pos < READ_SIZE ? (size_t)(sc->len - pos) : READ_SIZE;
            int64_t kept = (int64_t)n;

            if (c->o->stop && *c->o->stop) {
                rc = FC_EINTR;
                break;
            }
            rc = fc_pread_full(fd, buf, n, sc->off + pos);
            if (rc) {
                fc_error("reading %s at offset %llu: %s", c->o->source,
                         (unsigned long long)(sc->off + pos),
                         rc == FC_ETRUNC ? "unexpected end of disk" : strerror(errno));
                break;
            }
            if (sc->skip_zero)
                kept = fc_chunker_add_nonzero(ch, sc->off + pos, buf, n);
            else
                rc = fc_chunker_add(ch, sc->off + pos, buf, n);
            if (kept < 0)
                rc = (int)kept;
            else
                lo->parts[sc->region].stored_bytes += (uint64_t)kept;
            pos += n;
            done += n;
            fc_meter_update(&prog, done);
        }
    }
    if (!rc)
        rc = fc_chunker_flush(ch);
    if (!rc)
        fc_meter_end(&prog, done);
    else if (!prog.quiet && prog.tty)
        fputc('\n', stderr);
    free(buf);
    return rc;
}

static int run_pipeline(struct capture *c, int fd, struct fc_layout *lo, int threads)
{
    struct fc_chunker ch = {c->m.chunk_size, NULL, get_slot, emit_slot, c};
    pthread_t workers[64], writer;
    int i, started = 0, rc;

    rc = alloc_slots(c, (unsigned)threads * 2 + 2, c->m.chunk_size);
    if (rc)
        return rc;
    if (pthread_create(&writer, NULL, writer_main, c))
        return FC_ENOMEM;
    for (i = 0; i < threads; i++, started++)
        if (pthread_create(&workers[i], NULL, worker_main, c))
            break;
    rc = started ? read_disk(c, fd, lo, &ch) : FC_ENOMEM;
    if (rc)
        set_failed(c, rc);
    pthread_mutex_lock(&c->mu);
    c->producer_done = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    for (i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    pthread_join(writer, NULL);
    return c->failed;
}

static void fill_manifest_head(struct capture *c, const struct fc_layout *lo, uint64_t disk_size)
{
    struct fc_manifest *m = &c->m;

    randombytes_buf(m->image_id, FC_IMAGE_ID_LEN);
    m->disk_size = disk_size;
    m->sector_size = lo->sector ? lo->sector : 512;
    m->table = lo->table;
    m->level = (uint8_t)c->o->level;
    m->chunk_size = c->o->chunk_size ? c->o->chunk_size : FC_CHUNK_DEFAULT;
    m->created = (uint64_t)time(NULL);
    m->data_offset = FC_HEADER_SIZE;
    snprintf(m->source, sizeof(m->source), "%s", c->o->source);
    snprintf(m->tool, sizeof(m->tool), "fleetcast %s", FC_VERSION);
    m->n_parts = lo->n_parts;
    m->parts = (struct fc_part *)lo->parts;
}

static void fill_result(const struct capture *c, const struct fc_layout *lo,
                        struct fc_capture_result *res, double t0)
{
    memcpy(res->image_id, c->m.image_id, FC_IMAGE_ID_LEN);
    res->disk_size = c->m.disk_size;
    res->stored_bytes = c->m.stored_bytes;
    res->compressed_bytes = c->m.compressed_bytes;
    res->image_bytes = 0; /* the sink's to know */
    res->chunk_count = c->m.n_chunks;
    res->n_parts = lo->n_parts;
    memcpy(res->parts, lo->parts, sizeof(lo->parts[0]) * lo->n_parts);
    res->table = lo->table;
    res->seconds = fc_now() - t0;
}

int fc_capture_stream(const struct fc_capture_opts *o, const struct fc_capture_sink *sink,
                      struct fc_capture_result *res)
{
    struct capture c;
    struct fc_layout *lo = calloc(1, sizeof(*lo));
    uint64_t disk_size = 0;
    int fd = -1, is_blk, threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    double t0 = fc_now();
    int rc;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.sink = sink;
    c.file_off = FC_HEADER_SIZE;
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (!lo || sodium_init() < 0) {
        rc = FC_ENOMEM;
        goto out;
    }
    rc = fc_disk_open_read(o->source, &fd, &disk_size, &is_blk);
    if (rc)
        goto out;
    rc = fc_layout_build(o->source, fd, disk_size, 0, o->force ? FC_PROBE_FORCE : 0, lo);
    if (rc)
        goto out;
    fill_manifest_head(&c, lo, disk_size);
    rc = run_pipeline(&c, fd, lo, threads);
    if (!rc)
        rc = sink->finish(sink->ctx, &c.m);
    if (!rc)
        fill_result(&c, lo, res, t0);
out:
    if (fd >= 0)
        close(fd);
    free_slots(&c);
    free(c.m.chunks);
    free(c.m.extents);
    if (lo)
        fc_layout_free(lo);
    free(lo);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    return rc;
}

/* The file sink: chunks into OUT.partial-PID, then signed and renamed. */
struct file_sink {
    struct fc_imgfile f;
    const struct fc_keypair *key;
    uint64_t size;
};

static int file_chunk(void *ctx, uint32_t idx, const struct fc_chunk *meta, const uint8_t *comp,
                      const struct fc_extent *ext)
{
    struct file_sink *fs = ctx;

    (void)idx;
    (void)ext;
    return fc_imgfile_put(&fs->f, meta, comp);
}

static int file_finish(void *ctx, const struct fc_manifest *m)
{
    struct file_sink *fs = ctx;

    return fc_imgfile_commit(&fs->f, m, fs->key, &fs->size);
}

int fc_image_create(const struct fc_capture_opts *o, struct fc_capture_result *res)
{
    struct file_sink fs = {.key = o->key};
    struct fc_capture_sink sink = {&fs, file_chunk, file_finish};
    int rc = fc_imgfile_open(&fs.f, o->out);

    if (!rc)
        rc = fc_capture_stream(o, &sink, res);
    if (rc) {
        fc_imgfile_abort(&fs.f);
        return rc;
    }
    res->image_bytes = fs.size;
    return 0;
}
