/* The network thread of fleetcast-recv, from JOIN_ACK to exit: drains the
 * data socket with recvmmsg into the reassembly (assemble.c), hands complete
 * chunks to the writer thread (writer.c), runs the NAK timers (naksched.c)
 * and sends NAKs, reports PROGRESS, watches for a lost or restarted server
 * (re-discovery and re-JOIN, keeping every chunk written), and ends with the
 * fsync, the whole-disk check and DONE. It never blocks on the disk. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "client/assemble.h"
#include "client/recv.h"
#include "client/seqloss.h"
#include "client/writer.h"
#include "common/checkval.h"
#include "common/error.h"

#define BATCH 64            /* datagrams per recvmmsg */
#define BATCHES_PER_TURN 16 /* then timers get a look-in */
#define MAX_SLOTS 64        /* chunks in reassembly at once */
#define MEM_MAX ((size_t)256 << 20)
#define WRITER_QUEUE 16    /* complete chunks waiting for the disk */
#define SILENCE_REJOIN 3.0 /* nothing from the server this long: find it again */
#define PROBE_WAIT 1.0     /* a liveness DISCOVER while waiting for the start */
#define STALL_CHUNKS 3     /* DATA without a chunk written for this many chunks' time: probe */
#define IDLE_NAK 0.2       /* nothing at all arrived: NAK every incomplete block */
#define IDLE_NAK_MID 1.0   /* ... when the stream stopped inside a chunk (see idle_after) */
#define DONE_REPEAT 0.5
#define DONE_GIVE_UP 10.0
#define REJOIN_HINT_GAP 5.0 /* untagged "join again" heeded at most this often */
#define TCP_AFTER_FAILS 2   /* a chunk that failed its hash this often is fetched over TCP */
#define TCP_TIMEOUT 3.0     /* seconds one such fetch may block the network thread */
#define TCP_WANT_MAX 64     /* chunks waiting for their fetch */
#define TCP_ERRORS_MAX 3    /* fetches that failed outright before we stop trying */
/* The longest sleep in poll() with nothing due: a safety net for what has
 * no deadline of its own (the progress bar on a terminal). */
#define WAIT_MAX 0.25
/* After a turn that emptied the data socket, DATA is left to gather there
 * for about this many packets at the recent packet rate, at most
 * COALESCE_MAX, before the next turn (control packets and the writer still
 * wake it at once). Woken per datagram, N receivers sharing two cores spent
 * their time switching (issue 9: fleetcast-recv's CPU per byte grew 3.3x
 * from N=1 to 50). The wait is bounded by the buffer too (DGRAM_TRUESIZE). */
#define COALESCE_PKTS 32
#define COALESCE_MAX 0.010
/* What the kernel charges a DATA datagram against the socket's buffer
 * (its truesize): the wait never lets more than half the buffer fill. */
#define DGRAM_TRUESIZE 2304

/* A chunk's TCP fallback (nt->tcp[idx]). */
enum { TCP_NONE = 0, TCP_FAILED, TCP_QUEUED, TCP_DONE };

enum phase { PH_RECEIVING, PH_FINISHING, PH_IDENTITY, PH_DONE, PH_EXIT };

struct net {
    struct fc_recv *r;
    struct fc_asm as;
    struct fc_writer *w;
    struct fc_naks_cfg nc;
    struct fc_console *con;
    enum phase phase;
    int exit_code;
    int got_data; /* DATA since the last JOIN */
    int ever_data;
    struct fc_seqloss sl; /* the DATA sequence and the loss counted from it */
    double t_hint;        /* the last untagged "join again" heeded */
    int src_set;          /* the latest source packet (new data, not a repair): */
    uint32_t src_chunk, src_seq;
    int src_mid; /* ... was not of its chunk's last block */
    uint32_t win_base;
    uint8_t *fails;                  /* per chunk: hash failures, saturating */
    uint8_t *tcp;                    /* per chunk: TCP_* */
    uint32_t tcp_want[TCP_WANT_MAX]; /* chunks to fetch over TCP */
    unsigned n_tcp_want, tcp_errors;
    int tcp_off;      /* the server refused for good, or fetches keep failing */
    double t_written; /* the last chunk written: real progress (0: none yet) */
    double t_probe;   /* the last liveness DISCOVER while DATA arrives without progress */
    /* t_server: the server is alive. Only what a forger cannot fake moves
     * it: a tagged packet from the server, a chunk written (it passed the
     * signed hashes), a completed (re-)join. Not DATA: see on_data. */
    double now, t_data, t_server, t_report, t_sweep, t_rate, t_done0, t_done;
    double t_nak_next;     /* the earliest NAK timer of the last scan (fc_naks_next) */
    double t_coalesce;     /* DATA is left in the socket until then (see COALESCE_PKTS) */
    double t_crate, crate; /* ... at this packet rate (see coalesce_after) */
    uint64_t crate_pkts;
    uint64_t rate_bytes, rate_pkts;
    double rate, pkt_rate; /* bytes written, DATA packets received, per second */
    double chunk_pkts;     /* DATA packets of an average chunk */
    struct fc_nak nak;     /* entries being batched */
    struct fc_wfinal fin;
    uint8_t done_status;
    uint8_t done_flags;                        /* DONE's: read-back, identity set or skipped */
    char done_identity[FC_ABORT_TEXT_MAX + 1]; /* DONE's: what the identity step did */
    struct fc_identity_job *id_job;            /* the post-write step while PH_IDENTITY */
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    uint8_t cbuf[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
    uint8_t buf[BATCH][2048];
};

static void quit(struct net *nt, int code)
{
    nt->phase = PH_EXIT;
    nt->exit_code = code;
}

/* ---- DATA ---- */

static void forget_timers(struct net *nt);

/* The DATA sequence: the loss the server's rate control and drop rules
 * act on (client/seqloss.c says what counts), and the clock of our NAK
 * timers. */
static void count_seq(struct net *nt, uint32_t seq)
{
    struct fc_recv_counters *n = &nt->r->n;

    if (fc_seqloss_data(&nt->sl, seq))
        forget_timers(nt); /* they ran on numbers we no longer believe */
    n->pkts_lost = nt->sl.lost;
    n->pkts_late = nt->sl.late;
    n->seq_jumps = nt->sl.jumps;
}

static void on_data(struct net *nt, const uint8_t *buf, size_t len)
{
    struct fc_recv *r = nt->r;
    struct fc_asm_chunk *c;
    struct fc_hdr h;
    struct fc_data d;
    int rc;

    if (fc_data_decode(buf, len, &h, &d) < 0 || h.session != r->s.session) {
        r->n.rejects++;
        return;
    }
    rc = fc_asm_add(&nt->as, &d, h.seq, !fc_writer_full(nt->w), &c);
    if (rc < 0 && rc != FC_ENOMEM) {
        r->n.rejects++; /* does not fit the manifest's cut: counts nothing */
        return;
    }
    r->n.pkts_received++;
    count_seq(nt, h.seq);
    /* DATA shows the stream flows, not that the server is alive: any host
     * can send it from the server's address, and one that spoils every
     * block would otherwise keep us waiting forever (issue 8). */
    nt->t_data = nt->now;
    nt->got_data = nt->ever_data = 1;
    if (rc == FC_ENOMEM) {
        RLOG(r, FC_LOG_WARN, "out of memory for chunk %u; it will come again", d.chunk);
        return;
    }
    if (rc == FC_ASM_DUP)
        r->n.pkts_duplicate++;
    else if (rc == FC_ASM_REFUSED)
        r->n.pkts_dropped_new++;
    if (c && rc != FC_ASM_DUP && rc != FC_ASM_REFUSED)
        fc_naks_data(&c->blk[d.block].nak, h.seq);
    /* A source packet we already hold is a repair for another receiver
     * (repairs go out between the pass's packets): taken as the stream
     * moving on, it made the chunk in flight look passed, and every receiver
     * NAKed the blocks not sent yet; their answers did the same again (half
     * the wire in repairs at N=10 with no loss at all). */
    if (d.index < d.k && rc != FC_ASM_DUP && rc != FC_ASM_REFUSED &&
        (!nt->src_set || fc_seq_after(h.seq, nt->src_seq))) {
        nt->src_set = 1;
        nt->src_chunk = d.chunk;
        nt->src_seq = h.seq;
        nt->src_mid = c && d.block + 1u < c->cut.blocks;
    }
}

/* Another receiver's NAK: suppress our own for the same blocks. */
static void on_nak(struct net *nt, const uint8_t *buf, size_t len)
{
    struct fc_recv *r = nt->r;
    struct fc_hdr h;
    struct fc_nak n;
    unsigned i, s;

    if (fc_nak_decode(buf, len, &h, &n) < 0 || h.session != r->s.session || n.receiver_id == r->rid)
        return;
    for (i = 0; i < n.count; i++) {
        const struct fc_nak_entry *e = &n.e[i];

        for (s = 0; s < nt->as.n_slots; s++) {
            struct fc_asm_chunk *c = &nt->as.slot[s];

            if (!c->in_use || c->idx != e->chunk || e->block >= c->cut.blocks ||
                c->blk[e->block].k != e->k)
                continue;
            if (fc_naks_heard(&c->blk[e->block].nak, nt->now, nt->sl.max_seq, e->needed,
                              fc_asm_missing(c, e->block)))
                r->n.naks_suppressed++;
        }
    }
}

/* Where a datagram on the data socket went (IP_PKTINFO): the group, or
 * (unicast to our port, which the group's socket also receives) not; and
 * the kernel's drop count of the socket (SO_RXQ_OVFL), which comes with
 * every datagram once it is not zero. */
static int to_group(struct net *nt, struct msghdr *mh)
{
    struct cmsghdr *cm;
    int group = 0;

    for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
            group = !memcmp(&pi.ipi_addr, nt->r->s.ann.group, 4);
        } else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
            uint32_t drops;
            memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
            fc_seqloss_ovfl(&nt->sl, drops);
            nt->r->n.kernel_drops = nt->sl.kernel_drops;
        }
    return group;
}

static void on_datagram(struct net *nt, int i)
{
    const uint8_t *p = nt->buf[i];
    size_t len = nt->mm[i].msg_len;
    int from_server = nt->from[i].sin_addr.s_addr == nt->r->s.srv.sin_addr.s_addr;
    int group = to_group(nt, &nt->mm[i].msg_hdr);

    if (len <= FC_HDR_LEN || !group)
        nt->r->n.rejects++;
    else if (p[5] == FC_PKT_DATA && from_server)
        on_data(nt, p, len);
    else if (p[5] == FC_PKT_NAK)
        on_nak(nt, p, len);
    else
        nt->r->n.rejects++;
}

/* Returns the datagrams taken; *emptied: the last read found the socket
 * empty (else a backlog is left for the next turn). */
static unsigned drain_data(struct net *nt, int *emptied)
{
    unsigned b, got = 0;
    int i, n;

    *emptied = 1;

    for (b = 0; b < BATCHES_PER_TURN; b++) {
        for (i = 0; i < BATCH; i++) {
            struct msghdr *mh = &nt->mm[i].msg_hdr;

            nt->iov[i].iov_base = nt->buf[i];
            nt->iov[i].iov_len = sizeof(nt->buf[i]);
            memset(mh, 0, sizeof(*mh));
            mh->msg_iov = &nt->iov[i];
            mh->msg_iovlen = 1;
            mh->msg_name = &nt->from[i];
            mh->msg_namelen = sizeof(nt->from[i]);
            mh->msg_control = nt->cbuf[i];
            mh->msg_controllen = sizeof(nt->cbuf[i]);
        }
        n = recvmmsg(nt->r->data_fd, nt->mm, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return got;
        for (i = 0; i < n; i++)
            on_datagram(nt, i);
        got += (unsigned)n;
        if (n < BATCH)
            return got;
    }
    *emptied = 0;
    return got;
}

/* After a turn that took `got` datagrams and emptied the socket: when to
 * look at it again. The rate is measured over windows of 0.1-0.2 s, and
 * falls by at most a tenth a window: one that spanned a silence (a stopped
 * sender, a starved receiver) is not counted, so a rate that resumes never
 * meets a wait made for a rate too low, which could overflow the buffer. */
static void coalesce_after(struct net *nt, unsigned got, int emptied)
{
    uint64_t pkts = nt->r->n.pkts_received;
    double d, dmax, dt = nt->now - nt->t_crate;

    if (dt >= 0.1) {
        if (nt->t_crate > 0 && dt <= 0.2) {
            double inst = (double)(pkts - nt->crate_pkts) / dt;

            nt->crate = inst > 0.9 * nt->crate ? inst : 0.9 * nt->crate;
        }
        nt->t_crate = nt->now;
        nt->crate_pkts = pkts;
    }
    nt->t_coalesce = 0;
    if (nt->phase != PH_RECEIVING || !got || !emptied || nt->crate <= 0)
        return;
    d = COALESCE_PKTS / nt->crate;
    /* Half of what the data socket's buffer holds (without CAP_NET_ADMIN
     * rmem_max caps it), in datagrams, at this rate. */
    dmax = (double)(nt->r->data_rcvbuf / 2 / DGRAM_TRUESIZE) / nt->crate;
    if (dmax > COALESCE_MAX)
        dmax = COALESCE_MAX;
    nt->t_coalesce = nt->now + (d < dmax ? d : dmax);
}

/* ---- the writer ---- */

/* A chunk's compressed bytes to the writer thread, which owns them from
 * here; the callers checked the queue is not full (one producer), so the
 * failure branch only keeps the chunk's state honest. */
static int to_writer(struct net *nt, uint32_t idx, uint8_t *buf, size_t len)
{
    int rc = fc_writer_push(nt->w, idx, buf, len);

    if (rc < 0) {
        free(buf);
        fc_asm_dropped(&nt->as, idx);
    }
    return rc;
}

static void push_complete(struct net *nt)
{
    unsigned s;

    for (s = 0; s < nt->as.n_slots && !fc_writer_full(nt->w); s++) {
        struct fc_asm_chunk *c = &nt->as.slot[s];
        uint32_t idx = c->idx;
        uint8_t *buf;
        size_t len;

        if (!c->in_use || nt->as.state[idx] != FC_CHUNK_COMPLETE)
            continue;
        buf = fc_asm_take(&nt->as, c, &len);
        to_writer(nt, idx, buf, len);
    }
}

/* A chunk failed its hash: a forged or damaged packet got in. Forget every
 * packet of it and ask for all its blocks again. */
static void chunk_failed(struct net *nt, uint32_t idx)
{
    struct fc_recv *r = nt->r;
    struct fc_asm_chunk *c;
    uint32_t b;

    r->n.hash_failures++;
    r->n.rejects++;
    if (nt->fails[idx] < UINT8_MAX)
        nt->fails[idx]++;
    RLOG(r, FC_LOG_WARN, "chunk %u failed its hash (forged or damaged packet); receiving it again",
         idx);
    if (nt->tcp[idx] == TCP_QUEUED) {
        RLOG(r, FC_LOG_ERROR, "chunk %u fetched over TCP failed its hash too", idx);
        nt->tcp[idx] = TCP_DONE;
    }
    if (nt->fails[idx] == TCP_AFTER_FAILS && nt->tcp[idx] == TCP_NONE &&
        nt->n_tcp_want < TCP_WANT_MAX)
        nt->tcp_want[nt->n_tcp_want++] = idx;
    if (fc_asm_forget(&nt->as, idx, &c) < 0 || !c)
        return; /* no room: PROGRESS shows it missing, the catch-up pass brings it */
    for (b = 0; b < c->cut.blocks; b++)
        fc_naks_force(&c->blk[b].nak, &nt->nc, nt->now, fc__urand(r));
}

static void drain_results(struct net *nt)
{
    struct fc_recv *r = nt->r;
    struct fc_wres res[32];
    unsigned i, n;

    while ((n = fc_writer_results(nt->w, res, 32)) > 0) {
        for (i = 0; i < n; i++) {
            if (res[i].rc == 0) {
                fc_asm_written(&nt->as, res[i].idx);
                r->n.chunks_written++;
                r->n.bytes_written += res[i].bytes;
                nt->t_server = nt->t_written = nt->now; /* real progress */
                if (nt->tcp[res[i].idx] == TCP_QUEUED) {
                    nt->tcp[res[i].idx] = TCP_DONE;
                    r->n.tcp_chunks++;
                    RLOG(r, FC_LOG_INFO, "chunk %u fetched over TCP: verified and written",
                         res[i].idx);
                }
            } else if (res[i].rc == FC_EHASH) {
                chunk_failed(nt, res[i].idx);
            } else if (nt->phase != PH_EXIT) {
                RLOG(r, FC_LOG_ERROR, "chunk %u cannot be written: %s; the disk is incomplete",
                     res[i].idx, fc_strerror(res[i].rc));
                fc__send_abort(r, res[i].rc == FC_EIO ? FC_REASON_WRITE : FC_REASON_INTERNAL,
                               res[i].rc == FC_EIO ? "target write error" : "chunk unusable");
                quit(nt, res[i].rc == FC_EIO ? FC_RX_EXIT_IO : FC_RX_EXIT_IMAGE);
            }
        }
    }
}

/* ---- the TCP fallback ---- */

/* Why the fetch is done here, blocking, and not on a helper thread: it is
 * rare (a chunk that failed its hash twice, at most a few percent of the
 * image by the server's allowance), takes milliseconds on a LAN, and is
 * bounded by TCP_TIMEOUT; while it runs, the kernel keeps DATA in the
 * socket buffer and whatever overflows is repaired like any loss. A thread
 * would have to share r->auth_seq (the tag sequence the server's replay
 * window checks) and feed the writer from a second producer; this keeps
 * one thread doing both. */
static void tcp_fetch(struct net *nt, uint32_t idx)
{
    struct fc_recv *r = nt->r;
    double t0 = fc__now();
    uint8_t *buf;
    size_t len;
    int status, rc;

    rc = fc__fetch_chunk(r, idx, TCP_TIMEOUT, &buf, &len, &status);
    nt->now = fc__now();
    if (rc) {
        nt->tcp[idx] = TCP_FAILED;
        r->n.tcp_fetch_failed++;
        /* FULL here means our allowance is spent (or one is in flight). */
        RLOG(r, FC_LOG_WARN, "chunk %u over TCP: %s%s%s; it keeps coming by multicast", idx,
             fc_strerror(rc), rc == FC_EREFUSED ? ": " : "",
             rc != FC_EREFUSED          ? ""
             : status == FC_REASON_FULL ? "our allowance of chunks over TCP is spent"
                                        : fc__reason_text((uint8_t)status));
        if ((rc == FC_EREFUSED && status == FC_REASON_FULL) || ++nt->tcp_errors >= TCP_ERRORS_MAX) {
            nt->tcp_off = 1;
            RLOG(r, FC_LOG_WARN, "no more chunks over TCP this session");
        }
        return;
    }
    fc_asm_claim(&nt->as, idx);
    if (to_writer(nt, idx, buf, len) < 0) {
        nt->tcp[idx] = TCP_FAILED;
        return;
    }
    nt->tcp[idx] = TCP_QUEUED;
    RLOG(r, FC_LOG_INFO,
         "chunk %u failed its hash %u times on multicast; fetched over TCP (%zu bytes, %.0f ms)",
         idx, nt->fails[idx], len, (nt->now - t0) * 1000);
}

/* One fetch per turn, for a chunk still not in hand. */
static void tcp_fallback(struct net *nt)
{
    while (nt->n_tcp_want && !nt->tcp_off && !fc_writer_full(nt->w)) {
        uint32_t idx = nt->tcp_want[--nt->n_tcp_want];
        uint8_t st = nt->as.state[idx];

        if (st == FC_CHUNK_WRITTEN || st == FC_CHUNK_QUEUED || st == FC_CHUNK_COMPLETE)
            continue; /* multicast brought it meanwhile */
        tcp_fetch(nt, idx);
        return;
    }
}

/* ---- NAKs ---- */

static void nak_flush(struct net *nt)
{
    struct fc_recv *r = nt->r;
    uint8_t buf[FC_PKT_MAX];
    int n;

    if (!nt->nak.count)
        return;
    nt->nak.receiver_id = r->rid;
    nt->nak.seq_seen = nt->sl.max_seq;
    n = fc_nak_encode(buf, sizeof(buf), r->s.session, ++r->auth_seq, &nt->nak);
    if (n > 0)
        n = fc__seal(r, buf, (size_t)n);
    if (n > 0 && fc__group_send(r, buf, (size_t)n) == 0) {
        r->n.naks_sent++;
        r->n.nak_entries_sent += nt->nak.count;
    }
    nt->nak.count = 0;
}

static void nak_add(struct net *nt, const struct fc_asm_chunk *c, uint32_t b)
{
    struct fc_nak_entry *e = &nt->nak.e[nt->nak.count++];

    fc_asm_nak_entry(c, b, e);
    /* A block's first NAK is answered with fresh parity, which fills any
     * hole: the bitmap (up to 32 bytes of an entry's 41) only helps once
     * the block was asked for before and the server may have spent its
     * fresh parity on it. */
    if (!c->blk[b].nak.asked)
        e->bitmap_len = 0;
    /* 32 entries with full bitmaps would not fit a datagram: flush early. */
    if (nt->nak.count == FC_NAK_MAX_ENTRIES ||
        (nt->nak.e[nt->nak.count - 1].bitmap_len && nt->nak.count >= 28))
        nak_flush(nt);
}

/* Has the server sent all of block b once? Yes if we hold its last source
 * packet or a parity packet, or saw a later block of the chunk, or source
 * packets (new data, not repairs) of another chunk after this chunk's last. */
static int block_passed(const struct fc_asm_chunk *c, uint32_t b, int chunk_passed)
{
    const struct fc_asm_block *bk = &c->blk[b];

    return chunk_passed || b < c->top || (bk->have && bk->max_index + 1 >= bk->k);
}

static void nak_scan_chunk(struct net *nt, struct fc_asm_chunk *c)
{
    int chunk_passed = nt->src_set && nt->src_chunk != c->idx && c->seq_set &&
                       fc_seq_after(nt->src_seq, c->last_seq);
    double nak_next;
    uint32_t b;

    for (b = 0; b < c->cut.blocks; b++) {
        struct fc_nakst *st = &c->blk[b].nak;
        unsigned missing = fc_asm_missing(c, b);

        if (!missing)
            continue;
        if (!st->passed && c->seq_set && block_passed(c, b, chunk_passed))
            fc_naks_passed(st, c->last_seq);
        if (fc_naks_tick(st, &nt->nc, nt->now, nt->sl.max_seq, missing, fc__urand(nt->r))) {
            nak_add(nt, c, b);
            fc_naks_sent(st, nt->now, nt->sl.max_seq);
        }
        nak_next = fc_naks_next(st, &nt->nc, nt->sl.max_seq);
        if (nak_next < nt->t_nak_next)
            nt->t_nak_next = nak_next;
    }
}

/* How long a silence must last before the idle sweep. A pass ends after a
 * chunk's last block; a stream that stopped inside a chunk is a sender
 * waiting (its disk read, its loop on a loaded host), and the blocks not
 * sent yet are not lost: sweeping them at 0.2 s had every receiver NAK the
 * rest of the chunk in flight, and the answers cost more than the stall. */
static double idle_after(const struct net *nt)
{
    return nt->src_set && nt->src_mid ? IDLE_NAK_MID : IDLE_NAK;
}

/* Nothing at all for a while (the end of a pass, a cut link): the last
 * blocks were never "passed", so ask for every incomplete one. */
static void idle_sweep(struct net *nt)
{
    double idle = idle_after(nt);
    unsigned s;
    uint32_t b;

    if (!nt->ever_data || nt->now - nt->t_data < idle || nt->now - nt->t_sweep < idle)
        return;
    nt->t_sweep = nt->now;
    nt->r->n.idle_sweeps++;
    for (s = 0; s < nt->as.n_slots; s++) {
        struct fc_asm_chunk *c = &nt->as.slot[s];

        if (!c->in_use || nt->as.state[c->idx] != FC_CHUNK_ASSEMBLING)
            continue;
        for (b = 0; b < c->cut.blocks; b++)
            if (fc_asm_missing(c, b) && fc_naks_stalled(&c->blk[b].nak)) {
                fc_naks_force(&c->blk[b].nak, &nt->nc, nt->now, fc__urand(nt->r));
                nt->r->n.blocks_swept++;
            }
    }
}

static void nak_scan(struct net *nt)
{
    unsigned s;

    idle_sweep(nt);
    nt->t_nak_next = FC_NAKS_NEVER;
    for (s = 0; s < nt->as.n_slots; s++) {
        struct fc_asm_chunk *c = &nt->as.slot[s];

        if (c->in_use && nt->as.state[c->idx] == FC_CHUNK_ASSEMBLING)
            nak_scan_chunk(nt, c);
    }
    nak_flush(nt);
}

/* ---- PROGRESS ---- */

static uint8_t rx_state(struct net *nt)
{
    switch (nt->phase) {
    case PH_RECEIVING:
        return nt->ever_data ? FC_RX_RECEIVING : FC_RX_WAITING;
    case PH_FINISHING:
        return fc_writer_stage(nt->w) >= FC_WSTAGE_CHECK ? FC_RX_CHECKING : FC_RX_FLUSHING;
    case PH_IDENTITY: /* still working on its disk, past the check */
        return FC_RX_CHECKING;
    default:
        return nt->done_status == FC_REASON_OK ? FC_RX_DONE : FC_RX_FAILED;
    }
}

static void progress_fill(struct net *nt, struct fc_progress *p)
{
    const struct fc_recv *r = nt->r;
    uint32_t total = r->m.n_chunks, i;

    while (nt->win_base < total && nt->as.state[nt->win_base] == FC_CHUNK_WRITTEN)
        nt->win_base++;
    memset(p, 0, sizeof(*p));
    p->receiver_id = r->rid;
    p->state = rx_state(nt);
    p->chunks_total = total;
    p->chunks_done = r->n.chunks_written;
    p->win_base = nt->win_base;
    p->seq_seen = nt->sl.max_seq;
    p->rejects = r->n.rejects > UINT32_MAX ? UINT32_MAX : (uint32_t)r->n.rejects;
    p->bytes_written = r->n.bytes_written;
    p->rate = (uint64_t)nt->rate;
    p->pkts_received = r->n.pkts_received;
    p->pkts_lost = fc_seqloss_report(&nt->sl);
    p->pkts_overflow = nt->sl.kernel_drops < p->pkts_lost ? nt->sl.kernel_drops : p->pkts_lost;
    nt->r->n.pkts_lost_reported = p->pkts_lost;
    for (i = 1; i < FC_PROGRESS_WINDOW && nt->win_base + i < total; i++)
        if (nt->as.state[nt->win_base + i] == FC_CHUNK_WRITTEN)
            p->window[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void report(struct net *nt, int now_anyway)
{
    struct fc_progress p;
    double dt = nt->now - nt->t_rate;

    if (!now_anyway && nt->now - nt->t_report < nt->r->report_ms / 1000.0)
        return;
    if (dt > 0.2) {
        double inst = (double)(nt->r->n.bytes_written - nt->rate_bytes) / dt;

        /* About the last few seconds: half the weight on the last report. */
        nt->rate = nt->rate > 0 ? 0.5 * nt->rate + 0.5 * inst : inst;
        inst = (double)(nt->r->n.pkts_received - nt->rate_pkts) / dt;
        nt->pkt_rate = nt->pkt_rate > 0 ? 0.5 * nt->pkt_rate + 0.5 * inst : inst;
        nt->rate_bytes = nt->r->n.bytes_written;
        nt->rate_pkts = nt->r->n.pkts_received;
        nt->t_rate = nt->now;
    }
    nt->t_report = nt->now;
    progress_fill(nt, &p);
    if (fc__send_progress(nt->r, &p) < 0)
        fc_debug("PROGRESS not sent: %s", strerror(errno));
}

/* ---- the server: control packets, silence, restart ---- */

static int rejoin(struct net *nt, const char *why);
static int deadline_passed(const struct net *nt);
static void give_up_deadline(struct net *nt);

static void on_abort(struct net *nt, const struct fc_abort *a, int tagged)
{
    struct fc_recv *r = nt->r;

    if (a->receiver_id != r->rid)
        return;
    /* "Join again" comes untagged from a server that lost our secret (it
     * restarted): a hint anyone could forge, so heeded only now and then;
     * a re-JOIN costs a round trip, never a written chunk. */
    if (a->reason == FC_REASON_REJOIN && nt->phase != PH_EXIT) {
        if (!tagged && nt->now - nt->t_hint < REJOIN_HINT_GAP)
            return;
        nt->t_hint = nt->now;
        rejoin(nt, "does not know us (it restarted)");
        return;
    }
    if (!tagged) {
        r->n.rejects++; /* a forged ABORT: the server's are tagged */
        return;
    }
    if (nt->phase == PH_DONE) {
        RLOG(r, FC_LOG_WARN, "server ended the session after we finished: %s (reason %u: %s)",
             a->text, a->reason, fc__reason_text(a->reason));
        quit(nt, nt->done_status == FC_REASON_OK ? FC_RX_EXIT_OK : FC_RX_EXIT_CHECK);
        return;
    }
    RLOG(r, FC_LOG_ERROR, "%s by the server: %s (reason %u: %s); the disk is incomplete",
         a->receiver_id ? "dropped" : "session aborted", a->text, a->reason,
         fc__reason_text(a->reason));
    quit(nt, FC_RX_EXIT_ABORTED);
}

static void on_ctrl(struct net *nt, const uint8_t *buf, size_t len)
{
    struct fc_recv *r = nt->r;
    struct fc_hdr h;
    int tagged;
    union {
        struct fc_abort a;
        struct fc_done d;
    } u;

    if (fc_hdr_decode(buf, len, &h) < 0 || h.session != r->s.session)
        return;
    /* The connected socket only takes the server's address and port, which
     * anyone on the LAN can forge: what counts is the tag. */
    tagged = r->have_secret && fc_auth_verify(buf, len, r->key_down) == 0 &&
             fc_replay_accept(&r->srv_replay, h.seq);
    if (tagged)
        nt->t_server = nt->now;
    if (h.type == FC_PKT_ABORT && fc_abort_decode(buf, len, &h, &u.a) == 0)
        on_abort(nt, &u.a, tagged);
    else if (h.type == FC_PKT_DONE && tagged && fc_done_decode(buf, len, &h, &u.d) == 0 &&
             u.d.receiver_id == r->rid && (u.d.flags & FC_DONE_ACK) && nt->phase == PH_DONE) {
        RLOG(r, FC_LOG_INFO, "server acknowledged DONE");
        quit(nt, nt->done_status == FC_REASON_OK ? FC_RX_EXIT_OK : FC_RX_EXIT_CHECK);
    }
}

static void drain_ctrl(struct net *nt)
{
    uint8_t buf[2048];
    ssize_t n;
    int i;

    for (i = 0; i < 64 && nt->phase != PH_EXIT; i++) {
        n = recv(nt->r->ctrl_fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && errno == ECONNREFUSED)
            continue; /* ICMP from a server that is gone: silence tells */
        if (n <= 0)
            return;
        on_ctrl(nt, buf, (size_t)n);
    }
}

/* The session's shape may have changed with a restarted server. */
static int adopt(struct net *nt, const struct fc_sess *s)
{
    struct fc_recv *r = nt->r;
    int new_group =
        memcmp(s->ann.group, r->s.ann.group, 4) || s->ann.data_port != r->s.ann.data_port;
    int new_cut = s->ann.payload_size != r->s.ann.payload_size || s->ann.k_max != r->s.ann.k_max;
    int rc;

    r->s = *s;
    if (new_cut)
        fc_asm_drop_active(&nt->as, s->ann.payload_size, s->ann.k_max);
    if (new_group) {
        rc = fc__open_data(r);
        if (rc)
            return rc;
    }
    if (new_group || new_cut)
        fc_seqloss_restart(&nt->sl, new_group);
    return fc__open_ctrl(r);
}

/* A restarted server numbers its DATA afresh and will send our chunks in
 * progress again in its own pass: forget the old sequence numbers and NAK
 * timers (not the packets), so nothing is NAKed before the new stream has
 * passed it; NAKing at once would have those blocks sent twice. */
static void forget_timers(struct net *nt)
{
    unsigned s;
    uint32_t b;

    for (s = 0; s < nt->as.n_slots; s++) {
        struct fc_asm_chunk *c = &nt->as.slot[s];

        if (!c->in_use)
            continue;
        c->seq_set = 0;
        for (b = 0; b < c->cut.blocks; b++)
            fc_naks_init(&c->blk[b].nak);
    }
    nt->src_set = 0;
    fc_seqloss_restart(&nt->sl, 0);
}

static int rejoin(struct net *nt, const char *why)
{
    struct fc_recv *r = nt->r;
    double deadline = nt->t_server + r->o.server_timeout;
    struct fc_join_ack ack;

    if (r->deadline_at > 0 && r->deadline_at < deadline)
        deadline = r->deadline_at;
    struct fc_sess s;
    int rc;

    r->n.rejoins++;
    RLOG(r, FC_LOG_WARN, "server %s; finding it again (%u of %u chunks written are kept)", why,
         r->n.chunks_written, r->m.n_chunks);
    for (;;) {
        drain_results(nt); /* keep the writer's results flowing while we wait */
        rc = fc__discover(r, deadline, 1, &s);
        if (!rc)
            rc = adopt(nt, &s);
        if (!rc)
            rc = fc__join(r, fc__now() + 5.0 < deadline ? fc__now() + 5.0 : deadline,
                          r->n.chunks_written, &ack);
        if (rc == FC_EINTR)
            return rc;
        if (rc == FC_EVERSION) { /* the server was replaced by another build's */
            fc__version_log(r);
            quit(nt, FC_RX_EXIT_ABORTED);
            return FC_EREFUSED;
        }
        if (!rc)
            break;
        if (deadline_passed(nt)) {
            nt->now = fc__now();
            give_up_deadline(nt);
            return FC_ETIMEDOUT;
        }
        if (fc__now() >= deadline) {
            RLOG(r, FC_LOG_ERROR,
                 "server gone for %.0f s; giving up: the disk is incomplete (%u of %u chunks)",
                 r->o.server_timeout, r->n.chunks_written, r->m.n_chunks);
            quit(nt, FC_RX_EXIT_LOST);
            return FC_ETIMEDOUT;
        }
    }
    if (ack.status != FC_REASON_OK) {
        RLOG(r, FC_LOG_ERROR, "server refused us on re-joining: %s", fc__reason_text(ack.status));
        quit(nt, fc__reason_exit(ack.status));
        return FC_EREFUSED;
    }
    r->rid = ack.receiver_id;
    if (ack.report_ms)
        r->report_ms = ack.report_ms;
    nt->now = nt->t_server = fc__now();
    nt->got_data = 0;
    forget_timers(nt);
    RLOG(r, FC_LOG_INFO, "re-joined as receiver %u with %u chunks written", r->rid,
         r->n.chunks_written);
    report(nt, 1);
    return 0;
}

static int probe(struct net *nt)
{
    struct fc_sess s;

    nt->t_probe = fc__now();
    return fc__discover(nt->r, nt->t_probe + PROBE_WAIT, 1, &s) == 0 &&
           s.session == nt->r->s.session;
}

/* How long DATA may flow without a chunk written before we ask whether the
 * server is still there: 3 s, or the time STALL_CHUNKS chunks take at the
 * rate DATA arrives (a lab of many machines on one link, or on shared CPUs,
 * takes seconds per chunk; asking every 3 s there cost a DISCOVER and an
 * ANNOUNCE each time, and a failed answer a re-JOIN). Bounded by a third of
 * --server-timeout, after which we give up whatever the answers. */
static double stall_after(const struct net *nt)
{
    double t = nt->pkt_rate > 0 ? STALL_CHUNKS * nt->chunk_pkts / nt->pkt_rate : 0;
    double cap = nt->r->o.server_timeout / 3;

    if (t > cap)
        t = cap;
    return t > SILENCE_REJOIN ? t : SILENCE_REJOIN;
}

/* DATA keeps coming but nothing we can check (no chunk written, no tagged
 * packet) for a while: loss, or a host spoiling every block. If the server
 * still answers a DISCOVER, keep going (the TCP fallback and --deadline are
 * for this) but without moving t_server: after --server-timeout with no
 * progress at all, give up rather than wait forever on forged DATA. If it
 * does not answer, it restarted or is gone: find it again. */
static void check_stalled(struct net *nt)
{
    struct fc_recv *r = nt->r;

    if (nt->now - nt->t_server > r->o.server_timeout) {
        RLOG(r, FC_LOG_ERROR,
             "no chunk written for %.0f s although DATA arrives (%llu hash failures, %llu "
             "packets rejected: forged or damaged); giving up: the disk is incomplete (%u of %u "
             "chunks)",
             nt->now - nt->t_server, (unsigned long long)r->n.hash_failures,
             (unsigned long long)r->n.rejects, r->n.chunks_written, r->m.n_chunks);
        fc__send_abort(r, FC_REASON_INTERNAL, "no progress: DATA arrives but no chunk checks");
        quit(nt, FC_RX_EXIT_LOST);
        return;
    }
    if (nt->now - nt->t_probe < SILENCE_REJOIN || nt->now - nt->t_server < stall_after(nt))
        return;
    if (!probe(nt))
        rejoin(nt, "does not answer while DATA arrives without progress");
}

/* Before the first DATA a quiet server may just be waiting for receivers:
 * ask it (DISCOVER) instead of joining again. */
static void check_server(struct net *nt)
{
    struct fc_recv *r = nt->r;

    if (nt->phase != PH_RECEIVING || nt->now - nt->t_server < SILENCE_REJOIN)
        return;
    if (nt->got_data && nt->now - nt->t_data >= SILENCE_REJOIN) {
        rejoin(nt, "silent for 3 s");
        return;
    }
    if (nt->got_data) {
        check_stalled(nt);
        return;
    }
    if (probe(nt)) {
        nt->t_server = fc__now();
        return;
    }
    if (fc__now() - nt->t_server > r->o.server_timeout) {
        RLOG(r, FC_LOG_ERROR, "server gone for %.0f s before the session started; giving up",
             r->o.server_timeout);
        quit(nt, FC_RX_EXIT_LOST);
    }
}

/* ---- --deadline ---- */

static void give_up_deadline(struct net *nt)
{
    struct fc_recv *r = nt->r;
    char written[48], data[64], text[FC_ABORT_TEXT_MAX + 1];

    if (nt->t_written > 0)
        snprintf(written, sizeof(written), "%.1f s ago", nt->now - nt->t_written);
    else
        snprintf(written, sizeof(written), "never");
    if (!nt->ever_data)
        snprintf(data, sizeof(data), "no DATA ever arrived");
    else
        snprintf(data, sizeof(data), "DATA %s (last %.1f s ago)",
                 nt->now - nt->t_data < SILENCE_REJOIN ? "arriving" : "not arriving",
                 nt->now - nt->t_data);
    RLOG(r, FC_LOG_ERROR,
         "deadline of %.0f s passed: %u of %u chunks written, last chunk written %s, %llu hash "
         "failures, %llu packets rejected, %llu chunks over TCP, %llu packets received, %s; "
         "the disk is incomplete",
         r->o.deadline, r->n.chunks_written, r->m.n_chunks, written,
         (unsigned long long)r->n.hash_failures, (unsigned long long)r->n.rejects,
         (unsigned long long)r->n.tcp_chunks, (unsigned long long)r->n.pkts_received, data);
    snprintf(text, sizeof(text),
             "receiver deadline passed: %u of %u chunks written, %llu hash failures",
             r->n.chunks_written, r->m.n_chunks, (unsigned long long)r->n.hash_failures);
    fc__send_abort(r, FC_REASON_DEADLINE, text);
    quit(nt, FC_RX_EXIT_DEADLINE);
}

static int deadline_passed(const struct net *nt)
{
    return nt->r->deadline_at > 0 && fc__now() >= nt->r->deadline_at;
}

static void check_deadline(struct net *nt)
{
    /* Once DONE is sent the disk is finished; its repeat is bounded anyway. */
    if ((nt->phase == PH_RECEIVING || nt->phase == PH_FINISHING) && deadline_passed(nt))
        give_up_deadline(nt);
}

/* ---- the end ---- */

static void to_done(struct net *nt)
{
    nt->phase = PH_DONE;
    nt->t_done0 = nt->now;
    nt->t_done = 0;
    report(nt, 1);
}

/* The disk is written and checked, its identity or a hook failed: the
 * machine fails, with the reason on the server ("hook 20-foo exited 3"). */
static void fail_identity(struct net *nt, const char *why)
{
    RLOG(nt->r, FC_LOG_ERROR, "%s; the disk is written and checked, the machine FAILED", why);
    fc__send_abort(nt->r, FC_REASON_IDENTITY, why);
    quit(nt, FC_RX_EXIT_IDENTITY);
}

/* DONE's flags: the verdict's kind, and the grow step's result if asked. */
static uint8_t done_flags(const struct net *nt)
{
    uint8_t f = nt->fin.readback ? FC_DONE_READBACK : 0;

    if (nt->fin.fit.grow && nt->r->check_ok)
        f |= FC_DONE_GROW | (uint8_t)(nt->fin.fit.result << FC_DONE_GROW_SHIFT);
    return f;
}

static void finishing(struct net *nt)
{
    struct fc_recv *r = nt->r;
    uint8_t expected[FC_CHECKVAL_LEN];

    if (nt->phase == PH_RECEIVING && r->n.chunks_written == r->m.n_chunks) {
        nt->phase = PH_FINISHING;
        fc__console_end(nt->con, r->n.bytes_written);
        RLOG(r, FC_LOG_INFO, "all %u chunks verified and written; syncing%s", r->m.n_chunks,
             r->o.readback ? " and reading the disk back" : " (no read-back)");
        fc_writer_finish(nt->w);
        report(nt, 1);
    }
    if (nt->phase != PH_FINISHING || fc_writer_stage(nt->w) != FC_WSTAGE_END)
        return;
    fc_writer_final(nt->w, &nt->fin);
    if (nt->fin.rc) {
        RLOG(r, FC_LOG_ERROR, "target failed at the end (%s); the disk may be incomplete",
             fc_strerror(nt->fin.rc));
        fc__send_abort(r, FC_REASON_WRITE,
                       nt->fin.readback ? "target fsync or read-back failed"
                                        : "target fsync failed");
        quit(nt, FC_RX_EXIT_IO);
        return;
    }
    fc_checkval_expected(&r->m, expected);
    r->check_ok = !memcmp(expected, nt->fin.check, FC_CHECKVAL_LEN);
    nt->done_status = r->check_ok ? FC_REASON_OK : FC_REASON_VERIFY;
    if (r->check_ok && nt->fin.readback)
        RLOG(r, FC_LOG_INFO, "whole-disk check value matches the image (disk read back)");
    else if (r->check_ok)
        RLOG(r, FC_LOG_INFO,
             "whole-disk check value matches the image (every chunk verified, written and synced; "
             "no read-back)");
    else
        RLOG(r, FC_LOG_ERROR, "whole-disk check FAILED%s: first bad chunk %lld",
             nt->fin.readback ? " on read-back" : "", (long long)nt->fin.first_bad);
    if (r->check_ok && nt->fin.fit.grow)
        RLOG(r, nt->fin.fit.result == FC_GROW_DONE ? FC_LOG_INFO : FC_LOG_WARN, "grow: %s",
             nt->fin.fit.detail);
    nt->done_flags = done_flags(nt);
    /* Only a disk that checks gets an identity: the step writes into the
     * system the image put there. */
    if (r->check_ok && fc__identity_needed(r)) {
        if (fc__identity_start(r, &nt->id_job) == 0) {
            nt->phase = PH_IDENTITY;
            return;
        }
        fail_identity(nt, "identity: cannot start its thread");
        return;
    }
    to_done(nt);
}

static void identity_wait(struct net *nt)
{
    char why[FC_ABORT_TEXT_MAX + 1];
    uint8_t flags = 0;
    int rc;

    if (nt->phase != PH_IDENTITY)
        return;
    rc = fc__identity_done(nt->id_job, &flags, why, sizeof(why));
    if (rc == 1)
        return;
    nt->id_job = NULL;
    if (rc) {
        fail_identity(nt, why);
        return;
    }
    nt->done_flags |= flags;
    snprintf(nt->done_identity, sizeof(nt->done_identity), "%s", why);
    to_done(nt);
}

static void done_repeat(struct net *nt)
{
    struct fc_recv *r = nt->r;

    if (nt->phase != PH_DONE || nt->now - nt->t_done < DONE_REPEAT)
        return;
    if (nt->now - nt->t_done0 > DONE_GIVE_UP) {
        RLOG(r, FC_LOG_WARN, "server did not acknowledge DONE within %.0f s", DONE_GIVE_UP);
        quit(nt, r->check_ok ? FC_RX_EXIT_OK : FC_RX_EXIT_CHECK);
        return;
    }
    nt->t_done = nt->now;
    fc__send_done(r, nt->done_status, nt->fin.check, nt->done_flags, nt->done_identity);
}

/* ---- the loop ---- */

static void wake_at(double *t, double when)
{
    if (when < *t)
        *t = when;
}

/* When the server check of check_server() next has something to do. */
static double server_check_at(const struct net *nt)
{
    const struct fc_recv *r = nt->r;
    double t = nt->t_server + SILENCE_REJOIN, probe_at;

    if (t > nt->now || !nt->got_data)
        return t; /* without DATA, the probe itself waits PROBE_WAIT */
    probe_at = nt->t_server + stall_after(nt);
    if (probe_at < nt->t_probe + SILENCE_REJOIN)
        probe_at = nt->t_probe + SILENCE_REJOIN;
    t = nt->t_data + SILENCE_REJOIN;
    wake_at(&t, probe_at);
    wake_at(&t, nt->t_server + r->o.server_timeout);
    return t;
}

/* The earliest deadline of this thread: the next NAK timer, idle sweep,
 * report, server check, DONE repeat or --deadline. DATA, control packets
 * and the writer's results wake poll() by themselves, so nothing else is
 * due before; an idle receiver sleeps instead of turning every 2 ms. */
static double next_wake(const struct net *nt)
{
    const struct fc_recv *r = nt->r;
    double t = nt->now + WAIT_MAX;

    if (nt->phase == PH_RECEIVING) {
        wake_at(&t, nt->t_nak_next);
        if (nt->ever_data)
            wake_at(&t, (nt->t_data > nt->t_sweep ? nt->t_data : nt->t_sweep) + idle_after(nt));
        wake_at(&t, server_check_at(nt));
    }
    if (nt->phase == PH_IDENTITY) /* its thread does not wake poll() */
        wake_at(&t, nt->now + 0.1);
    if (nt->phase == PH_RECEIVING || nt->phase == PH_FINISHING || nt->phase == PH_IDENTITY) {
        wake_at(&t, nt->t_report + r->report_ms / 1000.0);
        if (r->deadline_at > 0)
            wake_at(&t, r->deadline_at);
    }
    if (nt->phase == PH_DONE)
        wake_at(&t, nt->t_done + DONE_REPEAT);
    return t;
}

/* Sleeps until t or a packet; while DATA is left to gather (t_coalesce),
 * only control packets and the writer wake it. Returns poll's result. */
static int sleep_until(struct net *nt, double t)
{
    struct pollfd p[3] = {{.fd = nt->r->ctrl_fd, .events = POLLIN},
                          {.fd = fc_writer_fd(nt->w), .events = POLLIN},
                          {.fd = nt->r->data_fd, .events = POLLIN}};
    double now = fc__now(), left;
    int rc;

    if (nt->t_coalesce > now && t > now) {
        double until = nt->t_coalesce < t ? nt->t_coalesce : t;

        left = until - now; /* in (0, COALESCE_MAX] */
        /* ppoll: poll()'s whole milliseconds would be most of the wait. */
        rc = ppoll(p, 2, &(struct timespec){0, (long)(left * 1e9)}, NULL);
        if (rc != 0 || until >= t)
            return rc;
        now = fc__now();
    }
    left = t - now;
    /* Rounded up: waking a little early would only turn for nothing. */
    return poll(p, 3, left > 0 ? (int)(left * 1000) + 1 : 0);
}

static void turn(struct net *nt)
{
    int woke = sleep_until(nt, next_wake(nt)), emptied;
    unsigned got;

    nt->now = fc__now();
    got = drain_data(nt, &emptied);
    if (nt->phase == PH_RECEIVING) {
        nt->r->n.wakeups += woke > 0;
        nt->r->n.data_wakeups += got > 0;
    }
    coalesce_after(nt, got, emptied);
    drain_ctrl(nt);
    if (nt->phase == PH_EXIT)
        return;
    drain_results(nt);
    push_complete(nt);
    if (nt->phase == PH_RECEIVING) {
        tcp_fallback(nt);
        nak_scan(nt);
    }
    finishing(nt);
    identity_wait(nt);
    done_repeat(nt);
    if (nt->phase == PH_RECEIVING || nt->phase == PH_FINISHING || nt->phase == PH_IDENTITY)
        report(nt, 0);
    check_server(nt);
    check_deadline(nt);
    fc__console_update(nt->con, nt->r->n.bytes_written);
}

static int net_init(struct net *nt, struct fc_recv *r)
{
    const struct fc_naks_cfg nc = FC_NAKS_CFG_DEFAULT;
    struct fc_wopts wo;
    uint64_t total = 0, comp = 0;
    uint32_t i;
    int rc;

    nt->r = r;
    nt->nc = nc;
    nt->exit_code = FC_RX_EXIT_OK;
    nt->now = nt->t_server = nt->t_rate = fc__now();
    nt->t_nak_next = FC_NAKS_NEVER;
    nt->fails = calloc(r->m.n_chunks ? r->m.n_chunks : 1, 1);
    nt->tcp = calloc(r->m.n_chunks ? r->m.n_chunks : 1, 1);
    if (!nt->fails || !nt->tcp)
        return FC_ENOMEM;
    rc = fc_asm_init(&nt->as, &r->m, r->s.ann.payload_size, r->s.ann.k_max, MAX_SLOTS, MEM_MAX);
    if (rc)
        return rc;
    wo.readback = r->o.readback;
    wo.grow = r->o.grow;
    wo.grow_part = r->o.grow_part;
    rc = fc_writer_start(&nt->w, &r->t, &r->m, WRITER_QUEUE, &wo);
    if (rc)
        return rc;
    for (i = 0; i < r->m.n_chunks; i++) {
        total += r->m.chunks[i].raw_size;
        comp += r->m.chunks[i].comp_size;
    }
    nt->chunk_pkts = r->m.n_chunks ? (double)comp / r->m.n_chunks / r->s.ann.payload_size : 0;
    nt->con = fc__console_new(total, r->o.quiet);
    return 0;
}

int fc__netloop(struct fc_recv *r)
{
    struct net *nt = calloc(1, sizeof(*nt));
    int code;

    if (!nt)
        return FC_RX_EXIT_IO;
    if (net_init(nt, r)) {
        RLOG(r, FC_LOG_ERROR, "out of memory");
        code = FC_RX_EXIT_IO;
        goto out;
    }
    report(nt, 1);
    while (nt->phase != PH_EXIT) {
        if (*r->stop) {
            RLOG(r, FC_LOG_ERROR, "interrupted; the disk is incomplete");
            fc__send_abort(r, FC_REASON_OPERATOR, "receiver stopped by its operator");
            quit(nt, FC_RX_EXIT_INTR);
            break;
        }
        turn(nt);
    }
    code = nt->exit_code;
out:
    /* Ended mid-step (interrupted, aborted): its thread uses r, and a
     * running hook sees the stop flag and is killed. */
    while (nt->id_job && fc__identity_done(nt->id_job, &(uint8_t){0}, (char[8]){0}, 8) == 1)
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    fc_writer_stop(nt->w);
    /* Results of chunks written while stopping still count. */
    fc_asm_free(&nt->as);
    fc__console_free(nt->con);
    free(nt->fails);
    free(nt->tcp);
    free(nt);
    return code;
}
