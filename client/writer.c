/* The writer thread of fleetcast-recv (see writer.h): pops complete chunks,
 * hands each to fc_target_put_chunk() -- the one verified write path shared
 * with `fleetcast image restore` -- and reports back; at the end fsyncs and
 * computes the whole-disk check value (reading the disk back if asked), so
 * the network thread keeps reporting PROGRESS meanwhile. */
#include "client/writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zstd.h>

#include "common/error.h"

struct wjob {
    uint32_t idx;
    uint8_t *buf;
    size_t len;
};

struct fc_writer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_job; /* a job arrived, or finish/stop */
    pthread_cond_t cv_res; /* results were drained */
    struct wjob *q;        /* ring of qcap jobs */
    unsigned qcap, qhead, qlen;
    struct fc_wres *res; /* ring of rcap results */
    unsigned rcap, rhead, rlen;
    int finish, stop;
    int readback;
    int wake_fd; /* eventfd: readable when a result or the end is posted */
    atomic_int stage;
    struct fc_wfinal final;
    struct fc_target *t;
    const struct fc_manifest *m;
    uint8_t *written; /* per chunk: verified and written (writer thread only) */
    uint8_t *scratch;
    ZSTD_DCtx *dctx;
};

/* The network thread sleeps in poll() until its next deadline; this wakes
 * it for what only this thread knows: a result, or the end of the disk. */
static void wake(struct fc_writer *w)
{
    uint64_t one = 1;
    ssize_t n = write(w->wake_fd, &one, sizeof(one));

    (void)n; /* only fails when the counter is already huge: still readable */
}

/* Called with the lock held; waits for room so no result is ever lost. */
static void result_put(struct fc_writer *w, const struct fc_wres *r)
{
    while (w->rlen == w->rcap && !w->stop)
        pthread_cond_wait(&w->cv_res, &w->mu);
    if (w->rlen == w->rcap)
        return;
    w->res[(w->rhead + w->rlen) % w->rcap] = *r;
    w->rlen++;
    wake(w);
}

static void write_one(struct fc_writer *w, struct wjob *j)
{
    struct fc_wres r = {.idx = j->idx};

    pthread_mutex_unlock(&w->mu);
    r.rc = fc_target_put_chunk(w->t, w->m, j->idx, j->buf, j->len, w->scratch, w->dctx);
    if (!r.rc) {
        r.bytes = w->m->chunks[j->idx].raw_size;
        w->written[j->idx] = 1;
    }
    free(j->buf);
    pthread_mutex_lock(&w->mu);
    result_put(w, &r);
}

static void finish_disk(struct fc_writer *w)
{
    struct fc_wfinal f = {.first_bad = -1, .fit = w->final.fit};
    uint8_t expected[FC_CHECKVAL_LEN];

    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->stage, FC_WSTAGE_SYNC);
    /* The free space (zeroed if the session or --zero-free asks), then fsync:
     * the same finish as `fleetcast image restore`. */
    f.rc = fc_target_finish(w->t, w->m);
    f.readback = w->readback;
    if (!f.rc && w->readback) {
        atomic_store(&w->stage, FC_WSTAGE_CHECK);
        f.rc = fc_checkval_read_back(w->m, w->t->fd, f.check, &f.first_bad);
    } else if (!f.rc) {
        /* Every chunk this thread verified and wrote, then a successful
         * fsync: that is the verdict, and the value is what those chunks'
         * recorded hashes give (one missing would make it differ). */
        fc_checkval_written(w->m, w->written, f.check, &f.first_bad);
    }
    /* The check covers the image as written; only a disk that passed it is
     * fitted to its size (backup GPT at its end, --grow). */
    fc_checkval_expected(w->m, expected);
    if (!f.rc && !memcmp(expected, f.check, FC_CHECKVAL_LEN))
        f.rc = fc_target_fit(w->t, w->m, &f.fit);
    pthread_mutex_lock(&w->mu);
    w->final = f;
    atomic_store(&w->stage, FC_WSTAGE_END);
    wake(w);
}

static void *writer_main(void *arg)
{
    struct fc_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (w->qlen) {
            struct wjob j = w->q[w->qhead];

            w->qhead = (w->qhead + 1) % w->qcap;
            w->qlen--;
            write_one(w, &j);
        } else if (w->finish) {
            w->finish = 0;
            finish_disk(w);
        } else {
            pthread_cond_wait(&w->cv_job, &w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static size_t scratch_size(const struct fc_manifest *m)
{
    size_t n = m->chunk_size;
    uint32_t i;

    for (i = 0; i < m->n_chunks; i++)
        if (m->chunks[i].raw_size > n)
            n = m->chunks[i].raw_size;
    return n ? n : 1;
}

/* Frees what fc_writer_start made (the thread, if any, has ended). */
static void release(struct fc_writer *w)
{
    free(w->q);
    free(w->res);
    free(w->written);
    free(w->scratch);
    ZSTD_freeDCtx(w->dctx);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv_job);
    pthread_cond_destroy(&w->cv_res);
    free(w);
}

int fc_writer_start(struct fc_writer **out, struct fc_target *t, const struct fc_manifest *m,
                    unsigned qcap, const struct fc_wopts *o)
{
    struct fc_writer *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (!w)
        return FC_ENOMEM;
    w->qcap = qcap ? qcap : 1;
    w->rcap = 2 * w->qcap + 2;
    w->q = calloc(w->qcap, sizeof(*w->q));
    w->res = calloc(w->rcap, sizeof(*w->res));
    w->written = calloc(m->n_chunks ? m->n_chunks : 1, 1);
    w->scratch = malloc(scratch_size(m));
    w->dctx = ZSTD_createDCtx();
    w->t = t;
    w->m = m;
    w->readback = o->readback;
    w->final.fit.grow = o->grow;
    w->final.fit.part = o->grow_part;
    w->final.first_bad = -1;
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    atomic_init(&w->stage, FC_WSTAGE_WRITING);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv_job, NULL);
    pthread_cond_init(&w->cv_res, NULL);
    if (!w->q || !w->res || !w->written || !w->scratch || !w->dctx || w->wake_fd < 0 ||
        pthread_create(&w->th, NULL, writer_main, w) != 0) {
        release(w);
        return FC_ENOMEM;
    }
    *out = w;
    return 0;
}

int fc_writer_push(struct fc_writer *w, uint32_t idx, uint8_t *buf, size_t len)
{
    int rc = FC_ESTATE;

    pthread_mutex_lock(&w->mu);
    if (w->qlen < w->qcap) {
        w->q[(w->qhead + w->qlen) % w->qcap] = (struct wjob){idx, buf, len};
        w->qlen++;
        pthread_cond_signal(&w->cv_job);
        rc = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int fc_writer_full(struct fc_writer *w)
{
    int full;

    pthread_mutex_lock(&w->mu);
    full = w->qlen == w->qcap;
    pthread_mutex_unlock(&w->mu);
    return full;
}

int fc_writer_fd(struct fc_writer *w)
{
    return w->wake_fd;
}

unsigned fc_writer_results(struct fc_writer *w, struct fc_wres *out, unsigned max)
{
    unsigned n = 0;
    uint64_t count;

    /* Cleared before the results are taken: one posted after this read
     * makes the fd readable again, so no wake-up is lost. */
    if (read(w->wake_fd, &count, sizeof(count)) < 0)
        count = 0; /* EAGAIN: nothing posted since the last call */
    pthread_mutex_lock(&w->mu);
    while (n < max && w->rlen) {
        out[n++] = w->res[w->rhead];
        w->rhead = (w->rhead + 1) % w->rcap;
        w->rlen--;
    }
    if (n)
        pthread_cond_signal(&w->cv_res);
    pthread_mutex_unlock(&w->mu);
    return n;
}

void fc_writer_finish(struct fc_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->finish = 1;
    pthread_cond_signal(&w->cv_job);
    pthread_mutex_unlock(&w->mu);
}

int fc_writer_stage(struct fc_writer *w)
{
    return atomic_load(&w->stage);
}

void fc_writer_final(struct fc_writer *w, struct fc_wfinal *f)
{
    pthread_mutex_lock(&w->mu);
    *f = w->final;
    pthread_mutex_unlock(&w->mu);
}

void fc_writer_stop(struct fc_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv_job);
    pthread_cond_broadcast(&w->cv_res);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    while (w->qlen) {
        free(w->q[w->qhead].buf);
        w->qhead = (w->qhead + 1) % w->qcap;
        w->qlen--;
    }
    release(w);
}
