/* The server's sender: the token bucket sends at the configured rate
 * whatever the timer's jitter, and bounds a late tick's burst; proactive
 * parity follows the worst receiver's loss with a margin, is smoothed, and
 * is bounded by the cap (a hostile report costs at most the cap) and never
 * below --fec; chunks are read on the thread pool ahead of the cursor; a
 * whole pass over a small image sends every source packet and each block's
 * parity, and tells the repair side which parity went out; a source packet
 * goes out from the cached chunk itself, whose slot is pinned (never
 * evicted nor read into) while a packet of the batch points into it, and
 * released once it is sent. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "server/server.h"
#include "tests/unit/unit.h"

/* ---- sender.c's neighbours, reduced to what it asks of them ---- */

static int pass_done;
static unsigned proactive_calls;
static unsigned proactive_parity[64]; /* by global block: 3 chunks x few blocks */

double fc_server_now(const struct fc_session *s)
{
    (void)s;
    return (double)uv_hrtime() / 1e9;
}

void fc_session_pass_done(struct fc_session *s)
{
    pass_done = 1;
    uv_timer_stop(&s->send_timer);
}

void fc_session_abort(struct fc_session *s, uint8_t reason, const char *why)
{
    (void)reason;
    (void)why;
    uv_timer_stop(&s->send_timer);
    ck_abort_msg("the sender aborted the session");
}

int fc_rx_chunk_needed(const struct fc_session *s, uint32_t c)
{
    (void)s;
    (void)c;
    return 1;
}

double fc_ratectl_worst_loss(const struct fc_session *s)
{
    (void)s;
    return -1;
}

int fc_repair_peek(const struct fc_session *s, uint32_t *chunk)
{
    (void)s;
    (void)chunk;
    return 0;
}

int fc_repair_next(struct fc_session *s, uint32_t *chunk, uint32_t *block, uint8_t *wire_index)
{
    (void)s;
    (void)chunk;
    (void)block;
    (void)wire_index;
    return 0;
}

void fc_repair_sent(struct fc_session *s, uint32_t chunk, uint32_t block, uint32_t seq)
{
    (void)s;
    (void)chunk;
    (void)block;
    (void)seq;
}

void fc_repair_proactive_sent(struct fc_session *s, uint32_t chunk, uint32_t block, unsigned parity)
{
    (void)s;
    proactive_calls++;
    if (chunk * 8 + block < 64)
        proactive_parity[chunk * 8 + block] = parity;
}

/* ---- pacing ---- */

/* One simulated second of 1 ms ticks that come 0.2 to 3 ms apart: the bytes
 * sent are the rate's, within one packet and one burst. */
START_TEST(test_pace_rate_with_jitter)
{
    const double rate = 12.5e6; /* 100 Mbit/s */
    uint64_t now = 0, end = 1000000000ull;
    double tokens = 0, sent = 0;
    unsigned seed = 7;

    while (now < end) {
        uint64_t step = 200000 + (uint64_t)(rand_r(&seed) % 2800000);
        if (now + step > end)
            step = end - now;
        now += step;
        tokens = fc_pace_refill(tokens, rate, step);
        while (tokens > 0) {
            tokens -= 1500;
            sent += 1500;
        }
    }
    ck_assert(fabs(sent - rate) <= 1500 + fc_pace_burst(rate));
    ck_assert(sent >= rate - 1500);
}
END_TEST

/* A tick a whole second late sends 8 ms worth, not a second's burst; a slow
 * rate still gets a few packets' worth. */
START_TEST(test_pace_burst_bounds)
{
    ck_assert(fabs(fc_pace_refill(0, 125e6, 1000000000ull) - 125e6 * 0.008) < 1);
    ck_assert(fc_pace_burst(1000) >= 8 * FC_PKT_MAX);
    ck_assert(fabs(fc_pace_refill(-3000, 1e6, 1000000ull) - (-2000)) < 1e-6);
}
END_TEST

/* ---- proactive parity ---- */

START_TEST(test_parity_count)
{
    /* 5 %, k 200: mean 10.5 of 210.5 sent, +2 sd (3.16) -> 17 */
    ck_assert_uint_eq(fc_parity_count(0.05, 200, 0, 0.25), 17);
    ck_assert_uint_eq(fc_parity_count(0, 200, 0, 0.25), 0);
    ck_assert_uint_eq(fc_parity_count(0.001, 200, 0, 0.25), 0); /* a NAK is cheaper */
    ck_assert_uint_eq(fc_parity_count(0.01, 200, 0, 0.25), 5);  /* 2.02 + 2 x 1.41 */
    /* the margin grows slower than k: a small block gets relatively more */
    ck_assert_uint_ge(fc_parity_count(0.05, 10, 0, 0.25), 2);
    ck_assert_uint_le(fc_parity_count(0.05, 10, 0, 0.25), 3);
    /* --fec 10 is a floor */
    ck_assert_uint_eq(fc_parity_count(0, 200, 0.10, 0.25), 20);
    ck_assert_uint_eq(fc_parity_count(0.05, 200, 0.10, 0.25), 20);
    /* the cap: loss reported as 90 % costs 25 % of k, rounded down, so a
     * tiny block never gets more than 25 % either */
    ck_assert_uint_eq(fc_parity_count(0.9, 200, 0, 0.25), 50);
    ck_assert_uint_eq(fc_parity_count(0.9, 7, 0, 0.25), 1);
    ck_assert_uint_eq(fc_parity_count(0.9, 3, 0, 0.25), 0);
    /* but an operator's floor is still met on a tiny block */
    ck_assert_uint_eq(fc_parity_count(0, 3, 0.05, 0.25), 1);
    /* every packet reported lost with --fec 100: finite, and within the code */
    ck_assert_uint_le(fc_parity_count(1.0, 200, 1.0, 1.0), fc_fec_max_parity(200));
    ck_assert_uint_ge(fc_parity_count(1.0, 200, 1.0, 1.0), 1);
    /* an explicit --fec above the cap wins over the cap */
    ck_assert_uint_eq(fc_parity_count(0.9, 100, 0.40, 0.25), 40);
    /* never more than the code has */
    ck_assert_uint_le(fc_parity_count(0.9, 200, 1.0, 1.0), fc_fec_max_parity(200));
}
END_TEST

START_TEST(test_parity_smoothing)
{
    struct fc_parity_ctl pc = {.level = 0, .floor = 0, .cap = 0.25, .primed = 0};
    int i;

    fc_parity_observe(&pc, -1); /* nobody has a figure yet */
    ck_assert(!pc.primed);
    fc_parity_observe(&pc, 0.05); /* the first figure is taken whole */
    ck_assert(fabs(pc.level - 0.05) < 1e-9);
    fc_parity_observe(&pc, 0.60); /* one bad second: clamped, then a third of it */
    ck_assert(pc.level < 0.12);
    ck_assert(pc.level > 0.05);
    for (i = 0; i < 20; i++)
        fc_parity_observe(&pc, 0.05);
    ck_assert(fabs(pc.level - 0.05) < 0.001);
    fc_parity_observe(&pc, -1); /* no figure: kept */
    ck_assert(fabs(pc.level - 0.05) < 0.001);
}
END_TEST

/* A receiver that reports 100 % loss for ever costs at most the cap. */
START_TEST(test_parity_hostile_bounded)
{
    struct fc_parity_ctl pc = {.level = 0, .floor = 0, .cap = 0.25, .primed = 0};
    int i;

    for (i = 0; i < 100; i++)
        fc_parity_observe(&pc, 1.0 + i);
    ck_assert(pc.level <= 0.25);
    ck_assert_uint_eq(fc_parity_count(pc.level, 200, pc.floor, pc.cap), 50);
    ck_assert_uint_le(fc_parity_count(pc.level, 64, pc.floor, pc.cap), 16);
}
END_TEST

/* ---- an image on disk, its manifest, a session around it ---- */

#define N_CHUNKS 3
static char img_path[] = "/tmp/fc-test-sender.XXXXXX";
static int img_fd = -1;
static struct fc_chunk chunks[N_CHUNKS];
static uint8_t *img_bytes;
static size_t img_len;

static void make_image(void)
{
    size_t sizes[N_CHUNKS] = {40000, 1448 * 30, 777};
    size_t off = 0, i;

    img_fd = mkstemp(img_path);
    ck_assert_int_ge(img_fd, 0);
    unlink(img_path);
    for (i = 0; i < N_CHUNKS; i++)
        img_len += sizes[i];
    img_bytes = malloc(img_len);
    ck_assert_ptr_nonnull(img_bytes);
    for (i = 0; i < img_len; i++)
        img_bytes[i] = (uint8_t)(i * 131 + 7);
    ck_assert_int_eq(pwrite(img_fd, img_bytes, img_len, 0), (ssize_t)img_len);
    for (i = 0; i < N_CHUNKS; i++) {
        chunks[i].file_off = off;
        chunks[i].comp_size = (uint32_t)sizes[i];
        off += sizes[i];
    }
}

static void drop_image(void)
{
    close(img_fd);
    img_fd = -1;
    free(img_bytes);
    img_bytes = NULL;
    img_len = 0;
}

static void run_until_idle(uv_loop_t *loop)
{
    int i;

    for (i = 0; i < 1000 && uv_run(loop, UV_RUN_NOWAIT); i++)
        usleep(1000);
}

/* A prefetch reads on the thread pool: the loop thread only sees the chunk
 * once the read is done, and the bytes are the file's, zero-padded. */
START_TEST(test_readahead_off_loop)
{
    struct fc_manifest m = {0};
    struct fc_chunkcache c;
    const struct fc_cached_chunk *e;
    uv_loop_t loop;
    int rc, i;

    make_image();
    m.chunks = chunks;
    m.n_chunks = N_CHUNKS;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    fc_chunkcache_init(&c, img_fd, &m, 1448, 200);
    ck_assert_int_eq(fc_chunkcache_async(&c, &loop), 0);
    fc_chunkcache_prefetch(&c, 1);
    ck_assert_int_eq(c.e[0].state, FC_SLOT_LOADING); /* queued, not read here */
    for (i = 0; i < 2000 && !(e = fc_chunkcache_get(&c, 1, &rc)); i++) {
        ck_assert_int_eq(rc, 0);
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->chunk, 1);
    ck_assert(!memcmp(e->buf, img_bytes + chunks[1].file_off, chunks[1].comp_size));
    ck_assert_uint_eq(c.loads, 1);
    /* a chunk past the end of the file fails and says so */
    chunks[2].file_off = img_len + 4096;
    for (i = 0; i < 2000 && !fc_chunkcache_get(&c, 2, &rc) && rc == 0; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    ck_assert_int_lt(rc, 0);
    /* freed with a read in flight: the read cleans up after itself */
    chunks[2].file_off = chunks[1].file_off + chunks[1].comp_size;
    fc_chunkcache_prefetch(&c, 0);
    fc_chunkcache_free(&c);
    run_until_idle(&loop);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    drop_image();
}
END_TEST

static uv_loop_t loop;
static struct fc_session *srv;
static int sink = -1;

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

/* A session of the image sending to a unicast socket on loopback. */
static void session_up(double loss)
{
    struct sockaddr_in to = {0};
    socklen_t tl = sizeof(to);
    int big = 4 << 20, fd;

    make_image();
    pass_done = 0;
    proactive_calls = 0;
    memset(proactive_parity, 0, sizeof(proactive_parity));
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    srv = calloc(1, sizeof(*srv));
    ck_assert_ptr_nonnull(srv);
    srv->loop = &loop;
    srv->img.m.chunks = chunks;
    srv->img.m.n_chunks = N_CHUNKS;
    srv->cfg.payload = 1448;
    srv->cfg.k_max = 200;
    srv->cfg.rate_bps = 200e6;
    srv->cfg.repair_budget = 1.0;
    srv->state = FC_SS_SENDING;
    ck_assert_int_eq(fc_fec_new(&srv->fec), 0);
    fc_chunkcache_init(&srv->cache, img_fd, &srv->img.m, 1448, 200);
    ck_assert_int_eq(fc_sender_init(srv), 0);
    fc_sender_observe_loss(srv, loss);

    sink = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(sink, 0);
    if (setsockopt(sink, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
        setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(sink, (struct sockaddr *)&to, sizeof(to)), 0);
    ck_assert_int_eq(getsockname(sink, (struct sockaddr *)&to, &tl), 0);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(fd, 0);
    fc_sender_attach(srv, fd, &to);
    uv_timer_init(&loop, &srv->send_timer);
    srv->send_timer.data = srv;
}

static void session_down(void)
{
    close(fc_sender_take_fd(srv));
    close(sink);
    uv_close((uv_handle_t *)&srv->send_timer, on_closed);
    fc_chunkcache_free(&srv->cache);
    run_until_idle(&loop);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    fc_sender_free(srv);
    fc_fec_free(srv->fec);
    free(srv);
    drop_image();
}

/* Every DATA packet the sink got: source and parity counts per block. */
static void count_received(unsigned *src, unsigned *par)
{
    uint8_t buf[FC_PKT_MAX];
    ssize_t n;

    while ((n = recv(sink, buf, sizeof(buf), 0)) > 0) {
        struct fc_hdr h;
        struct fc_data d;
        ck_assert_int_eq(fc_data_decode(buf, (size_t)n, &h, &d), 0);
        ck_assert_uint_lt(d.chunk, N_CHUNKS);
        if (d.index < d.k) {
            struct fc_blocks bl;
            size_t off, len;
            ck_assert_int_eq(fc_blocks_init(&bl, chunks[d.chunk].comp_size, 1448, 200), 0);
            off = (size_t)(fc_blocks_first(&bl, d.block) + d.index) * bl.sym_len;
            len = chunks[d.chunk].comp_size - off < bl.sym_len ? chunks[d.chunk].comp_size - off
                                                               : bl.sym_len;
            ck_assert(!memcmp(d.payload, img_bytes + chunks[d.chunk].file_off + off, len));
            (*src)++;
        } else {
            (*par)++;
        }
    }
}

/* Pins held by the cache's slots, and by the packets waiting in the batch. */
static unsigned slot_pins(void)
{
    unsigned i, n = 0;

    for (i = 0; i < FC_CACHE_CHUNKS; i++)
        n += srv->cache.e[i].pins;
    return n;
}

static unsigned batch_pins(void)
{
    unsigned i, n = 0;

    for (i = 0; i < srv->snd.n_batch; i++) {
        const struct fc_batch_pkt *p = &srv->snd.pkts[srv->snd.order[i]];
        if (p->pin) {
            ck_assert_int_eq(p->pin->state, FC_SLOT_READY);
            ck_assert(p->iov[1].iov_base >= (void *)p->pin->buf &&
                      p->iov[1].iov_base < (void *)(p->pin->buf + p->pin->cap));
            n++;
        }
    }
    return n;
}

/* A session with this loss reported sends its first pass (bounded: the
 * 1 ms timer wakes each iteration). */
static void run_pass(double loss)
{
    int guard;

    session_up(loss);
    fc_sender_begin_pass(srv);
    for (guard = 0; guard < 5000 && !pass_done; guard++)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert(pass_done);
}

/* One pass at 5 % reported loss: every source packet, each block's parity
 * as fc_parity_count says, the repair side told of each; the chunks were
 * read on the thread pool (the loop never blocked on them). */
START_TEST(test_pass_with_adaptive_parity)
{
    unsigned i, src = 0, par = 0, want_par = 0, want_src = 0, with_parity = 0;

    run_pass(0.05);
    for (i = 0; i < N_CHUNKS; i++) {
        struct fc_blocks bl;
        uint32_t b;
        ck_assert_int_eq(fc_blocks_init(&bl, chunks[i].comp_size, 1448, 200), 0);
        want_src += bl.packets;
        for (b = 0; b < bl.blocks; b++) {
            unsigned p = fc_parity_count(0.05, fc_blocks_k(&bl, b), 0, 0.25);
            ck_assert_uint_eq(proactive_parity[i * 8 + b], p);
            want_par += p;
            with_parity += p > 0; /* the repair side hears of blocks with parity */
        }
    }
    ck_assert_uint_eq(srv->st.data_pkts, want_src);
    ck_assert_uint_eq(srv->st.fec_pkts, want_par);
    ck_assert_uint_eq(proactive_calls, with_parity);
    ck_assert_uint_eq(srv->cache.loads, N_CHUNKS);
    ck_assert_uint_eq(fc_sender_seq(srv), want_src + want_par);
    count_received(&src, &par);
    ck_assert_uint_eq(src, want_src);
    ck_assert_uint_eq(par, want_par);
    ck_assert_uint_eq(srv->snd.n_batch, 0); /* all sent: every pin released */
    ck_assert_uint_eq(slot_pins(), 0);
    session_down();
}
END_TEST

/* A pinned slot is neither evicted nor read into: with one pinned, a walk
 * through more chunks than the cache holds keeps it; with all pinned, a new
 * chunk waits (NULL, rc 0: come back next tick) and a prefetch takes
 * nothing; an unpinned slot is reused. */
START_TEST(test_pinned_slot_kept)
{
    enum { N = FC_CACHE_CHUNKS + 2 };
    struct fc_chunk many[N];
    struct fc_manifest m = {0};
    struct fc_chunkcache c;
    const struct fc_cached_chunk *e0, *e, *slots[FC_CACHE_CHUNKS];
    uint64_t loads;
    int rc;
    unsigned i;

    make_image();
    for (i = 0; i < N; i++)
        many[i] = chunks[i % N_CHUNKS];
    m.chunks = many;
    m.n_chunks = N;
    fc_chunkcache_init(&c, img_fd, &m, 1448, 200); /* no loop: reads here */
    e0 = fc_chunkcache_get(&c, 0, &rc);
    ck_assert_ptr_nonnull(e0);
    fc_chunkcache_pin(&c, e0);
    for (i = 1; i <= FC_CACHE_CHUNKS; i++) { /* 16 more chunks through 15 free slots */
        e = fc_chunkcache_get(&c, i, &rc);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_ne(e, e0);
    }
    loads = c.loads;
    ck_assert_ptr_eq(fc_chunkcache_get(&c, 0, &rc), e0); /* still there, not read again */
    ck_assert_uint_eq(c.loads, loads);
    ck_assert_uint_eq(e0->chunk, 0);
    ck_assert(!memcmp(e0->buf, img_bytes + chunks[0].file_off, chunks[0].comp_size));

    for (i = 0; i < FC_CACHE_CHUNKS; i++) { /* every slot pinned */
        slots[i] = &c.e[i];
        if (slots[i] != e0)
            fc_chunkcache_pin(&c, slots[i]);
    }
    ck_assert_ptr_null(fc_chunkcache_get(&c, N - 1, &rc));
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_gt(c.pinned_full, 0);
    fc_chunkcache_prefetch(&c, N - 1);
    ck_assert_uint_eq(c.loads, loads);
    for (i = 0; i < FC_CACHE_CHUNKS; i++)
        ck_assert_int_eq(c.e[i].state, FC_SLOT_READY);

    fc_chunkcache_unpin(&c, e0); /* sent: its slot may go */
    e = fc_chunkcache_get(&c, N - 1, &rc);
    ck_assert_ptr_eq(e, e0);
    ck_assert_uint_eq(e->chunk, N - 1);
    for (i = 0; i < FC_CACHE_CHUNKS; i++)
        if (slots[i] != e0)
            fc_chunkcache_unpin(&c, slots[i]);
    fc_chunkcache_free(&c);
    drop_image();
}
END_TEST

/* A socket that takes only part of the batch (a TCP peer that does not
 * read: sendmmsg ignores the address there): the packets left wait in the
 * batch with their slots pinned, one pin per waiting source packet, their
 * payloads inside the pinned chunks; once the peer reads, they go and the
 * pins with them; freeing the sender releases what still waits. */
START_TEST(test_batch_pins_until_sent)
{
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);
    int lst, cl, peer, small = 4096, i, waited = 0;
    uint8_t junk[65536];

    session_up(0);
    close(fc_sender_take_fd(srv));
    lst = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lst, 0);
    setsockopt(lst, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lst, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(lst, (struct sockaddr *)&a, &al), 0);
    ck_assert_int_eq(listen(lst, 1), 0);
    cl = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(cl, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    ck_assert_int_eq(connect(cl, (struct sockaddr *)&a, sizeof(a)), 0);
    peer = accept(lst, NULL, NULL);
    ck_assert_int_ge(peer, 0);
    fcntl(cl, F_SETFL, O_NONBLOCK);
    fcntl(peer, F_SETFL, O_NONBLOCK);
    fc_sender_attach(srv, cl, &a);

    fc_sender_begin_pass(srv);
    for (i = 0; i < 5000 && !pass_done; i++) {
        uv_run(&loop, UV_RUN_ONCE);
        ck_assert_uint_eq(slot_pins(), batch_pins());
        if (srv->snd.n_batch && batch_pins()) {
            waited++;
            if (waited > 3) /* kept over ticks, then the peer reads */
                while (recv(peer, junk, sizeof(junk), 0) > 0)
                    ;
        }
    }
    ck_assert(pass_done);
    ck_assert_int_gt(waited, 0); /* the socket did refuse some, pinned meanwhile */
    ck_assert_uint_eq(slot_pins(), batch_pins());
    fc_sender_free(srv); /* what still waits is released */
    ck_assert_uint_eq(slot_pins(), 0);
    ck_assert_uint_eq(srv->snd.n_batch, 0);
    srv->snd.chunk_last_sent = calloc(1, sizeof(double)); /* session_down frees it again */
    close(peer);
    close(lst);
    session_down();
}
END_TEST

/* No loss reported and no --fec: the pass is the sources alone. */
START_TEST(test_pass_without_loss)
{
    run_pass(0);
    ck_assert_uint_eq(srv->st.fec_pkts, 0);
    ck_assert_uint_eq(proactive_calls, 0);
    ck_assert(fabs(fc_sender_parity_level(srv)) < 1e-9);
    session_down();
}
END_TEST

FC_TEST_MAIN("sender", test_pace_rate_with_jitter, test_pace_burst_bounds, test_parity_count,
             test_parity_smoothing, test_parity_hostile_bounded, test_readahead_off_loop,
             test_pass_with_adaptive_parity, test_pass_without_loss, test_pinned_slot_kept,
             test_batch_pins_until_sent)
