/* Parallel chunk walk. Workers claim chunk indices in order; on a failure at
 * index i they keep checking indices below i only, so the chunk reported is
 * the first bad one, as an operator reading the message would expect. */
#include "common/restore.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/chunk.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"
#include "common/meter.h"
#include "common/ptwrite.h"

struct apply {
    const struct fc_image *img;
    const struct fc_apply_opts *o;
    /* compare: where the target's GPT was fitted to its bigger size */
    struct fc_byte_range fit[FC_GPT_FIT_RANGES];
    int n_fit;
    atomic_uint next;
    atomic_ullong bytes;
    atomic_int running;
    pthread_mutex_t mu;
    int64_t bad_chunk;
    int rc;
};

static void record_failure(struct apply *a, uint32_t idx, int rc)
{
    pthread_mutex_lock(&a->mu);
    if (a->bad_chunk < 0 || idx < a->bad_chunk) {
        a->bad_chunk = idx;
        a->rc = rc;
    }
    pthread_mutex_unlock(&a->mu);
}

static int should_skip(struct apply *a, uint32_t idx)
{
    int skip;

    pthread_mutex_lock(&a->mu);
    /* I/O errors and restore failures stop everything; a bad hash during
     * verify or compare only stops the chunks after it. */
    skip = a->bad_chunk >= 0 && (idx > a->bad_chunk || a->o->op == FC_OP_RESTORE);
    pthread_mutex_unlock(&a->mu);
    return skip || (a->o->stop && *a->o->stop);
}

/* 1 if chunk idx stores a byte of the fitted GPT ranges. */
static int touches_fit(const struct apply *a, const struct fc_chunk *c)
{
    const struct fc_extent *ext = &a->img->m.extents[c->first_extent];
    uint32_t i;
    int k;

    for (i = 0; i < c->n_extents; i++)
        for (k = 0; k < a->n_fit; k++)
            if (ext[i].off < a->fit[k].off + a->fit[k].len &&
                a->fit[k].off < ext[i].off + ext[i].len)
                return 1;
    return 0;
}

/* The image's own bytes (chunk decoded into img) where the fit changed
 * the target's table, in raw (the target's bytes, extent after extent). */
static void take_fit_bytes(const struct apply *a, const struct fc_chunk *c, uint8_t *raw,
                           const uint8_t *img)
{
    const struct fc_extent *ext = &a->img->m.extents[c->first_extent];
    uint64_t pos = 0, lo, hi;
    uint32_t i;
    int k;

    for (i = 0; i < c->n_extents; pos += ext[i].len, i++)
        for (k = 0; k < a->n_fit; k++) {
            lo = ext[i].off > a->fit[k].off ? ext[i].off : a->fit[k].off;
            hi = ext[i].off + ext[i].len < a->fit[k].off + a->fit[k].len
                     ? ext[i].off + ext[i].len
                     : a->fit[k].off + a->fit[k].len;
            if (lo < hi)
                memcpy(raw + pos + (lo - ext[i].off), img + pos + (lo - ext[i].off), hi - lo);
        }
}

static int fit_overlay(struct apply *a, uint32_t idx, uint8_t *comp, uint8_t *raw, ZSTD_DCtx *d)
{
    const struct fc_chunk *c = &a->img->m.chunks[idx];
    uint8_t *img = malloc(c->raw_size ? c->raw_size : 1);
    int rc = img ? fc_image_read_chunk(a->img, idx, comp) : FC_ENOMEM;

    if (!rc)
        rc = fc_chunk_decode_full(d, c, comp, c->comp_size, img);
    if (!rc)
        take_fit_bytes(a, c, raw, img);
    free(img);
    return rc;
}

/* Hash of what the target holds where chunk idx would be written. */
static int compare_chunk(struct apply *a, uint32_t idx, uint8_t *comp, uint8_t *raw, ZSTD_DCtx *d)
{
    const struct fc_manifest *m = &a->img->m;
    const struct fc_chunk *c = &m->chunks[idx];
    uint8_t h[FC_HASH_LEN];
    uint8_t *p = raw;
    uint32_t i;
    int rc;

    for (i = 0; i < c->n_extents; i++) {
        const struct fc_extent *e = &m->extents[c->first_extent + i];
        if (fc_pread_full(a->o->target->fd, p, e->len, e->off))
            return FC_EIO;
        p += e->len;
    }
    if (touches_fit(a, c) && (rc = fit_overlay(a, idx, comp, raw, d)))
        return rc;
    fc_hash(raw, c->raw_size, h);
    return memcmp(h, c->raw_hash, FC_HASH_LEN) ? FC_EDIFFER : 0;
}

static int one_chunk(struct apply *a, uint32_t idx, uint8_t *comp, uint8_t *raw, ZSTD_DCtx *d)
{
    const struct fc_image *img = a->img;
    const struct fc_chunk *c = &img->m.chunks[idx];
    int rc;

    if (a->o->op == FC_OP_COMPARE)
        return compare_chunk(a, idx, comp, raw, d);
    rc = fc_image_read_chunk(img, idx, comp);
    if (rc)
        return rc;
    if (a->o->op == FC_OP_VERIFY)
        return fc_chunk_decode_full(d, c, comp, c->comp_size, raw);
    return fc_target_put_chunk(a->o->target, &img->m, idx, comp, c->comp_size, raw, d);
}

static void *worker_main(void *arg)
{
    struct apply *a = arg;
    const struct fc_manifest *m = &a->img->m;
    uint8_t *comp = malloc(FC_CHUNK_MAX + 65536), *raw = malloc(m->chunk_size);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    uint32_t idx;

    while (comp && raw && d) {
        idx = atomic_fetch_add(&a->next, 1);
        if (idx >= m->n_chunks || should_skip(a, idx))
            break;
        if (m->chunks[idx].raw_size > m->chunk_size) {
            record_failure(a, idx, FC_EFORMAT);
            continue;
        }
        int rc = one_chunk(a, idx, comp, raw, d);
        if (rc)
            record_failure(a, idx, rc);
        else
            atomic_fetch_add(&a->bytes, m->chunks[idx].raw_size);
    }
    if (!comp || !raw || !d)
        record_failure(a, 0, FC_ENOMEM);
    free(comp);
    free(raw);
    ZSTD_freeDCtx(d);
    atomic_fetch_sub(&a->running, 1);
    return NULL;
}

int fc_image_apply(const struct fc_image *img, const struct fc_apply_opts *o,
                   struct fc_apply_result *res)
{
    static const char *labels[] = {"verify", "restore", "compare"};
    struct apply a;
    struct fc_meter prog;
    pthread_t th[64];
    int n = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN), i, started = 0;
    struct timespec tick = {0, 100 * 1000 * 1000};

    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    memset(&a, 0, sizeof(a));
    a.img = img;
    a.o = o;
    a.bad_chunk = -1;
    if (o->op == FC_OP_COMPARE && img->m.table == FC_TABLE_GPT &&
        fc_gpt_fit_ranges(o->target->fd, o->target->size, img->m.disk_size,
                          img->m.sector_size ? img->m.sector_size : 512, a.fit, &a.n_fit))
        return FC_EIO;
    if (a.n_fit)
        fc_info("compare: the disk is bigger than the image's: its GPT headers and entries "
                "(fitted to its size) are not compared");
    pthread_mutex_init(&a.mu, NULL);
    atomic_store(&a.running, n);
    fc_meter_start(&prog, labels[o->op], img->m.stored_bytes, o->quiet);
    for (i = 0; i < n; i++, started++)
        if (pthread_create(&th[i], NULL, worker_main, &a))
            break;
    atomic_fetch_sub(&a.running, n - started);
    if (!started)
        record_failure(&a, 0, FC_ENOMEM);
    while (atomic_load(&a.running) > 0) {
        nanosleep(&tick, NULL);
        fc_meter_update(&prog, atomic_load(&a.bytes));
    }
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (a.bad_chunk < 0 && o->stop && *o->stop)
        a.rc = FC_EINTR;
    if (!a.rc)
        fc_meter_end(&prog, atomic_load(&a.bytes));
    else if (!prog.quiet && prog.tty)
        fputc('\n', stderr);
    res->bad_chunk = a.bad_chunk;
    res->bytes = atomic_load(&a.bytes);
    res->seconds = fc_now() - prog.t0;
    pthread_mutex_destroy(&a.mu);
    return a.rc;
}
