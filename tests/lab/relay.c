/* fc-lab-relay: the lab's impairment relay (tests only, never shipped).
 *
 * Owns one thing: carrying Ethernet frames between two tap devices, each a port of one bridge of
 * the lab's switch namespace, and delaying / reordering the UDP ones on the way. The kernel here
 * has no sch_netem, so this stands in for `netem delay ... reorder ...`.
 *
 * Why layer 2 and taps: the relay is then a transparent piece of wire. ARP, IGMP, TCP and UDP,
 * multicast and unicast, all cross it without the relay knowing addresses or groups; a machine
 * moved from bridge 0 to bridge 1 keeps its address and sees the same group. Only IPv4 UDP frames
 * are eligible for impairment; every other frame (ARP, IGMP, TCP, ...) is passed at once, so a TCP
 * manifest fetch and neighbour resolution are never disturbed.
 *
 * Impairment model, per UDP frame: with probability --hold PCT the frame is held for
 * --delay MS plus a uniform random 0..--jitter MS, then released; frames sent meanwhile overtake
 * it, which is the reordering. --base MS adds a constant latency to every UDP frame (keeps order).
 * Nothing is ever dropped on purpose (loss is the nftables rules' job); if more than --max-held
 * frames are waiting, new frames pass unheld.
 *
 * Bounded: exits after --max-seconds (default 3600), or on SIGTERM/SIGINT, printing counters to
 * stderr. One thread, poll() with a deadline from a min-heap of held frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 65536 /* a tap without offloads never hands us more than MTU + 14 */
#define READ_BATCH 64   /* frames read per fd per wake-up, so one side cannot starve the other */

struct held {
    uint64_t due_ns; /* monotonic release time */
    uint64_t order;  /* arrival number: equal due times leave in arrival order */
    int out_fd;
    size_t len;
    unsigned char *data;
};

struct dir_stats {
    uint64_t frames, udp, held, passed_full, write_errors;
};

static struct {
    double hold_pct;
    uint64_t delay_ns, jitter_ns, base_ns;
    unsigned max_held, max_seconds;
    int impair_dir; /* -1 both, 0 only tap0->tap1, 1 only tap1->tap0 */
    uint64_t rng;
} cfg = {0.0, 5000000, 0, 0, 100000, 3600, -1, 0x9e3779b97f4a7c15ULL};

static struct held *heap;
static size_t heap_len;
static uint64_t arrivals;
static struct dir_stats stats[2];
static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(void) /* xorshift64*: reproducible with --seed, good enough for tests */
{
    cfg.rng ^= cfg.rng >> 12;
    cfg.rng ^= cfg.rng << 25;
    cfg.rng ^= cfg.rng >> 27;
    return cfg.rng * 2685821657736338717ULL;
}

static int held_before(const struct held *a, const struct held *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->order < b->order);
}

static void heap_swap(size_t i, size_t j)
{
    struct held t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
}

static void heap_push(struct held h)
{
    size_t i = heap_len++;
    heap[i] = h;
    while (i > 0 && held_before(&heap[i], &heap[(i - 1) / 2])) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct held heap_pop(void)
{
    struct held top = heap[0];
    size_t i = 0;
    heap[0] = heap[--heap_len];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_len && held_before(&heap[l], &heap[m]))
            m = l;
        if (r < heap_len && held_before(&heap[r], &heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(i, m);
        i = m;
    }
    return top;
}

static int tap_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror("fc-lab-relay: /dev/net/tun");
        return -1;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI; /* raw Ethernet frames, no packet-info header */
    if (strlen(name) >= IFNAMSIZ) {
        fprintf(stderr, "fc-lab-relay: interface name too long: %s\n", name);
        close(fd);
        return -1;
    }
    memcpy(ifr.ifr_name, name, strlen(name) + 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "fc-lab-relay: attach to tap %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* IPv4 (optionally behind one 802.1Q tag) carrying UDP. */
static int is_udp(const unsigned char *f, size_t len)
{
    size_t off = 12;
    if (len >= 18 && f[12] == 0x81 && f[13] == 0x00)
        off = 16;
    if (len < off + 2 + 20 || f[off] != 0x08 || f[off + 1] != 0x00)
        return 0;
    return f[off + 2 + 9] == 17;
}

static void emit(struct dir_stats *st, int fd, const unsigned char *data, size_t len)
{
    /* A tap write hands the frame to the bridge synchronously; it does not block. */
    if (write(fd, data, len) != (ssize_t)len)
        st->write_errors++;
}

static void handle_frame(int dir, int out_fd, const unsigned char *f, size_t len)
{
    struct dir_stats *st = &stats[dir];
    uint64_t delay = 0;
    int held = 0;

    st->frames++;
    if ((cfg.impair_dir < 0 || cfg.impair_dir == dir) && is_udp(f, len)) {
        st->udp++;
        delay = cfg.base_ns;
        if (cfg.hold_pct > 0 && (double)(rng_next() % 1000000) < cfg.hold_pct * 10000.0) {
            delay += cfg.delay_ns;
            if (cfg.jitter_ns)
                delay += rng_next() % (cfg.jitter_ns + 1);
            held = 1;
        }
    }
    if (delay == 0) {
        emit(st, out_fd, f, len);
        return;
    }
    if (heap_len >= cfg.max_held) {
        st->passed_full++;
        emit(st, out_fd, f, len);
        return;
    }
    struct held h = {now_ns() + delay, arrivals++, out_fd, len, malloc(len)};
    if (!h.data) {
        emit(st, out_fd, f, len);
        return;
    }
    memcpy(h.data, f, len);
    heap_push(h);
    if (held)
        st->held++;
}

static void release_due(int fd0)
{
    uint64_t now = now_ns();
    while (heap_len > 0 && heap[0].due_ns <= now) {
        struct held h = heap_pop();
        emit(&stats[h.out_fd == fd0 ? 1 : 0], h.out_fd, h.data, h.len);
        free(h.data);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: fc-lab-relay --tap0 IF --tap1 IF [--hold PCT] [--delay MS] [--jitter MS]\n"
            "       [--base MS] [--dir both|0|1] [--seed N] [--max-held N] [--max-seconds S]\n");
}

static uint64_t ms_to_ns(const char *s)
{
    return (uint64_t)(strtod(s, NULL) * 1e6);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tap0", required_argument, 0, 'a'},     {"tap1", required_argument, 0, 'b'},
        {"hold", required_argument, 0, 'h'},     {"delay", required_argument, 0, 'd'},
        {"jitter", required_argument, 0, 'j'},   {"base", required_argument, 0, 'B'},
        {"dir", required_argument, 0, 'D'},      {"seed", required_argument, 0, 's'},
        {"max-held", required_argument, 0, 'm'}, {"max-seconds", required_argument, 0, 't'},
        {"help", no_argument, 0, 'H'},           {0, 0, 0, 0}};
    const char *tap[2] = {NULL, NULL};
    static unsigned char buf[FRAME_MAX];
    int c, fd[2], rc = 1;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            tap[0] = optarg;
            break;
        case 'b':
            tap[1] = optarg;
            break;
        case 'h':
            cfg.hold_pct = strtod(optarg, NULL);
            break;
        case 'd':
            cfg.delay_ns = ms_to_ns(optarg);
            break;
        case 'j':
            cfg.jitter_ns = ms_to_ns(optarg);
            break;
        case 'B':
            cfg.base_ns = ms_to_ns(optarg);
            break;
        case 'D':
            cfg.impair_dir = strcmp(optarg, "both") == 0 ? -1 : atoi(optarg);
            break;
        case 's':
            cfg.rng = strtoull(optarg, NULL, 0) | 1;
            break;
        case 'm':
            cfg.max_held = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 't':
            cfg.max_seconds = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'H':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!tap[0] || !tap[1] || cfg.hold_pct < 0 || cfg.hold_pct > 100 || cfg.max_held == 0 ||
        cfg.impair_dir < -1 || cfg.impair_dir > 1) {
        usage(stderr);
        return 2;
    }
    heap = calloc(cfg.max_held, sizeof *heap);
    if (!heap) {
        perror("fc-lab-relay: calloc");
        return 1;
    }
    fd[0] = tap_open(tap[0]);
    fd[1] = fd[0] < 0 ? -1 : tap_open(tap[1]);
    if (fd[0] < 0 || fd[1] < 0)
        goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR and the loop ends */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    fprintf(stderr, "fc-lab-relay: %s <-> %s hold=%.2f%% delay=%.3fms jitter=%.3fms base=%.3fms\n",
            tap[0], tap[1], cfg.hold_pct, cfg.delay_ns / 1e6, cfg.jitter_ns / 1e6,
            cfg.base_ns / 1e6);
    uint64_t end = now_ns() + (uint64_t)cfg.max_seconds * 1000000000ULL;
    while (!stop) {
        uint64_t now = now_ns();
        if (now >= end)
            break;
        uint64_t wait = end - now;
        if (heap_len > 0)
            wait = heap[0].due_ns > now ? heap[0].due_ns - now : 0;
        struct timespec ts = {(time_t)(wait / 1000000000ULL), (long)(wait % 1000000000ULL)};
        struct pollfd p[2] = {{fd[0], POLLIN, 0}, {fd[1], POLLIN, 0}};
        int n = ppoll(p, 2, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            perror("fc-lab-relay: ppoll");
            goto out;
        }
        for (int i = 0; n > 0 && i < 2; i++) {
            if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                fprintf(stderr, "fc-lab-relay: tap %s went away\n", tap[i]);
                goto out;
            }
            for (int k = 0; k < READ_BATCH && (p[i].revents & POLLIN); k++) {
                ssize_t len = read(fd[i], buf, sizeof buf);
                if (len <= 0)
                    break; /* EAGAIN: drained */
                handle_frame(i, fd[1 - i], buf, (size_t)len);
            }
        }
        release_due(fd[0]);
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        fprintf(stderr,
                "fc-lab-relay: dir %d->%d frames=%llu udp=%llu held=%llu passed_full=%llu "
                "write_errors=%llu\n",
                i, 1 - i, (unsigned long long)stats[i].frames, (unsigned long long)stats[i].udp,
                (unsigned long long)stats[i].held, (unsigned long long)stats[i].passed_full,
                (unsigned long long)stats[i].write_errors);
    while (heap_len > 0)
        free(heap_pop().data);
    free(heap);
    return rc;
}
