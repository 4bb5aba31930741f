/* fleetcast-recv: receives one disk image from fleetcastd over multicast and
 * writes it to a target disk or file. This file owns the command line, the
 * flow from discovery to the first DATA (discover, fetch and check the
 * manifest, open the target, join), and the exit codes; netloop.c owns the
 * rest of the session. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/recv.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/key.h"
#include "common/meter.h"

static volatile sig_atomic_t stop_flag; /* the one global: set by SIGINT/SIGTERM */

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

double fc__now(void)
{
    return fc_now();
}

uint64_t fc__rand(struct fc_recv *r)
{
    /* xorshift64*: nonces and back-offs need to differ between receivers,
     * not to be secret (control packets are not authenticated anyway). */
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return r->rng * 0x2545f4914f6cdd1dull;
}

double fc__urand(struct fc_recv *r)
{
    return (double)(fc__rand(r) >> 11) / 9007199254740992.0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fleetcast-recv --target PATH [options]\n"
            "Receives a disk image multicast by fleetcastd and writes it to PATH (a block\n"
            "device or a file, created if missing).\n"
            "\n"
            "  --target PATH          disk or file to write (required)\n"
            "  --server ADDR[:PORT]   ask this server (default: multicast discovery on\n"
            "                         " FC_DISCOVERY_GROUP ":%u)\n"
            "  --pubkey FILE          require the image to be signed by this key (needed\n"
            "                         for a block device target unless --insecure)\n"
            "  --insecure             write a block device without --pubkey: any signer\n"
            "  --image-id HEX         only the image with this id (pinned)\n"
            "  --zero-free            zero what the image does not store (the old disk's\n"
            "                         data); the ends of the disk and of each partition\n"
            "                         are always cleared\n"
            "  --readback             after fsync, read the whole disk back and hash it\n"
            "                         (a second pass; default: the verified chunks as\n"
            "                         written and fsynced are the verdict)\n"
            "  --grow                 after the check, grow the last partition and its\n"
            "                         ext2/3/4 or swap to fill a disk bigger than the\n"
            "                         image's (reported to the server apart from the check)\n"
            "  --grow-part N          partition N instead (implies --grow)\n"
            "  --iface IF             network interface to receive on\n"
            "  --session ID           session id to join (decimal or 0x hex)\n"
            "  --name NAME            name shown on the server (default: host name)\n"
            "  --discover-timeout S   give up finding a server after S seconds (60)\n"
            "  --server-timeout S     give up on a silent server after S seconds (60)\n"
            "  --deadline S           give up S seconds after the start, whatever is\n"
            "                         happening, telling the server (default: none)\n"
            "  --hostname NAME        the clone's host name when the server gives none\n"
            "                         (PXE: fleetcast.hostname=); RFC 1123\n"
            "  --hooks DIR            after the identity, run DIR's executable files in\n"
            "                         name order (FC_DISK, FC_MAC, FC_HOSTNAME, FC_LAB,\n"
            "                         FC_SESSION, FC_IMAGE set); one failing fails us.\n"
            "                         The image's own hooks (the server's IMG.hooks/,\n"
            "                         checked against the hash in JOIN_ACK) run first\n"
            "  --hook-timeout S       each hook's time bound (300)\n"
            "  --rcvbuf BYTES         the data socket's receive buffer (16 MiB); a\n"
            "                         small one is for tests of the kernel's drops\n"
            "  --stats FILE           write counters as JSON at exit\n"
            "  --quiet | --verbose\n"
            "  --help | --version\n"
            "\n"
            "Capture this machine's disk to the server instead (a capture armed there\n"
            "with `fleetcast capture create --mac MAC --out IMG`):\n"
            "  --capture --source DISK --server ADDR[:PORT] [--level N] [--token HEX]\n"
            "            [--force]\n"
            "                         read DISK as `fleetcast image create` does, compress\n"
            "                         here (zstd level N, default 3) and upload; the server\n"
            "                         checks every chunk, signs and keeps the image\n"
            "                         (--force: a hibernated or dirty NTFS as it is)\n"
            "\n"
            "Without --target (for a boot script, e.g. the PXE initramfs):\n"
            "  --probe                find the server, check the manifest, print\n"
            "                         disk_size=BYTES (the disk size the image needs)\n"
            "  --report-failure TEXT  join and abort at once with TEXT, so the server logs\n"
            "                         this machine as failed (e.g. no usable disk)\n"
            "\n"
            "exit status: 0 done and the whole-disk check matched; 2 usage; 3 bad manifest,\n"
            "signature or key, or wrong image; 4 target smaller than the image's disk;\n"
            "5 I/O error on the target; 6 whole-disk check failed; 7 aborted or dropped by\n"
            "the server (disk incomplete); 8 server not found or lost (disk incomplete);\n"
            "9 --deadline passed (disk incomplete);\n"
            "10 several sessions would do (name one with --session); 11 the disk is\n"
            "written and checked, but its identity or a hook failed; 64 unknown option;\n"
            "130 interrupted.\n",
            FC_PORT_DEFAULT);
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*end || !(v > 0) || v > 1e6)
        return FC_EINVAL;
    *out = v;
    return 0;
}

static int parse_session(const char *s, uint32_t *out)
{
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
    if (errno || *end || end == s || v == 0 || v > UINT32_MAX)
        return FC_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* A partition number, as Linux numbers them (GPT: up to 128). */
static int parse_grow_part(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 128)
        return FC_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* One line saying what is wrong, then where to look; returns CODE. */
__attribute__((format(printf, 2, 3))) static int usage_error(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("fleetcast-recv: usage error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see fleetcast-recv --help)\n", stderr);
    return code;
}

/* 0, or the exit status of a usage error (said). */
static int parse_args(struct fc_recv *r, int argc, char **argv)
{
    static const struct option lo[] = {
        {"target", 1, 0, 't'},
        {"server", 1, 0, 's'},
        {"pubkey", 1, 0, 'k'},
        {"iface", 1, 0, 'i'},
        {"session", 1, 0, 'S'},
        {"name", 1, 0, 'n'},
        {"discover-timeout", 1, 0, 'D'},
        {"server-timeout", 1, 0, 'T'},
        {"deadline", 1, 0, 'E'},
        {"quiet", 0, 0, 'q'},
        {"stats", 1, 0, 'x'},
        {"verbose", 0, 0, 'v'},
        {"probe", 0, 0, 'P'},
        {"report-failure", 1, 0, 'F'},
        {"insecure", 0, 0, 'I'},
        {"image-id", 1, 0, 'g'},
        {"zero-free", 0, 0, 'z'},
        {"readback", 0, 0, 'R'},
        {"hostname", 1, 0, 'H'},
        {"hooks", 1, 0, 'K'},
        {"hook-timeout", 1, 0, 'O'},
        {"rcvbuf", 1, 0, 'b'},
        {"grow", 0, 0, 'G'},
        {"grow-part", 1, 0, 'U'},
        {"capture", 0, 0, 'C'},
        {"source", 1, 0, 'o'},
        {"token", 1, 0, 'W'},
        {"level", 1, 0, 'L'},
        {"force", 0, 0, 'f'},
        {"help", 0, 0, 'h'},
        {"version", 0, 0, 'V'},
        {0, 0, 0, 0},
    };
    int c, li = 0, bad = 0;

    r->o.discover_timeout = r->o.server_timeout = 60;
    r->o.hook_timeout = 300;
    r->o.level = 3;
    opterr = 0; /* our own line: the option by name, and where to look */
    while (!bad && (c = getopt_long(argc, argv, ":", lo, &li)) != -1) {
        switch (c) {
        case 't':
            r->o.target = optarg;
            break;
        case 's':
            r->o.server = optarg;
            break;
        case 'k':
            r->o.pubkey = optarg;
            break;
        case 'i':
            r->o.iface = optarg;
            break;
        case 'n':
            r->o.name = optarg;
            break;
        case 'x':
            r->o.stats = optarg;
            break;
        case 'q':
            r->o.quiet = 1;
            break;
        case 'v':
            r->o.verbose = 1;
            break;
        case 'P':
            r->o.probe = 1;
            break;
        case 'F':
            r->o.report_failure = optarg;
            break;
        case 'I':
            r->o.insecure = 1;
            break;
        case 'g':
            r->o.image_id = optarg;
            break;
        case 'z':
            r->o.zero_free = 1;
            break;
        case 'R':
            r->o.readback = 1;
            break;
        case 'H':
            /* Checked where it is used: a bad one fails the machine with
             * a reason the server shows, not as a usage error of the
             * initramfs that passed it. */
            r->o.hostname = optarg;
            break;
        case 'K':
            r->o.hooks = optarg;
            break;
        case 'O':
            bad |= parse_seconds(optarg, &r->o.hook_timeout) < 0;
            break;
        case 'b':
            r->o.rcvbuf = atoi(optarg);
            bad |= r->o.rcvbuf < 1024;
            break;
        case 'G':
            r->o.grow = 1;
            break;
        case 'U':
            r->o.grow = 1;
            bad |= parse_grow_part(optarg, &r->o.grow_part) < 0;
            break;
        case 'C':
            r->o.capture = 1;
            break;
        case 'o':
            r->o.source = optarg;
            break;
        case 'W':
            r->o.token = optarg;
            break;
        case 'f':
            r->o.force = 1;
            break;
        case 'L':
            r->o.level = atoi(optarg);
            bad |= r->o.level < 1 || r->o.level > 22;
            break;
        case 'S':
            r->o.have_session = 1;
            bad |= parse_session(optarg, &r->o.session) < 0;
            break;
        case 'D':
            bad |= parse_seconds(optarg, &r->o.discover_timeout) < 0;
            break;
        case 'T':
            bad |= parse_seconds(optarg, &r->o.server_timeout) < 0;
            break;
        case 'E':
            bad |= parse_seconds(optarg, &r->o.deadline) < 0;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("fleetcast-recv %s\n", FC_VERSION);
            exit(0);
        case '?':
            return usage_error(FC_RX_EXIT_UNKNOWN_OPTION, "unknown option %.*s",
                               (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
        case ':':
            return usage_error(FC_RX_EXIT_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            bad = 1;
        }
    }
    if (bad)
        return usage_error(FC_RX_EXIT_USAGE, "bad --%s '%s'", lo[li].name, optarg);
    if (optind != argc)
        return usage_error(FC_RX_EXIT_USAGE, "unexpected argument %s", argv[optind]);
    /* Exactly one of: a target, --probe, --report-failure, --capture. */
    if (!!r->o.target + r->o.probe + !!r->o.report_failure + r->o.capture != 1)
        return usage_error(FC_RX_EXIT_USAGE, "give one of --target PATH, --probe, "
                                             "--report-failure TEXT, --capture");
    if (!r->o.capture && (r->o.source || r->o.token || r->o.force || r->o.level != 3))
        return usage_error(FC_RX_EXIT_USAGE, "--source, --token, --level and --force go with "
                                             "--capture");
    if (r->o.capture && (!r->o.source || !r->o.server))
        return usage_error(FC_RX_EXIT_USAGE, "--capture needs --source DISK and --server ADDR");
    return 0;
}

/* Secure by default: a disk is only written from an image signed by a key
 * the machine trusts, else any host answering discovery first could image it
 * with its own system. A file target is allowed for tests and the demo. */
static int check_trust(const struct fc_recv *r)
{
    struct stat st;
    int blk;

    if (!r->o.target || r->o.pubkey)
        return 0;
    blk = stat(r->o.target, &st) == 0 && S_ISBLK(st.st_mode);
    if (blk && !r->o.insecure) {
        fc_error("refusing to write the block device %s without --pubkey: any host on the "
                 "network could send its own image; give the trusted key with --pubkey FILE, "
                 "or --insecure to accept any signer",
                 r->o.target);
        return FC_EINVAL;
    }
    fc_warn("no --pubkey: %s will take an image from any signer (%s)", r->o.target,
            blk ? "--insecure" : "allowed for a file target");
    return 0;
}

/* The host name, or --name, made printable and short enough for JOIN. */
static void set_name(struct fc_recv *r)
{
    char host[256] = "";
    const char *src = r->o.name;
    size_t i;

    if (!src) {
        if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
            snprintf(host, sizeof(host), "receiver");
        src = host;
    }
    snprintf(r->name, sizeof(r->name), "%s", src);
    for (i = 0; r->name[i]; i++)
        if ((unsigned char)r->name[i] < 0x20 || r->name[i] == 0x7f)
            r->name[i] = '?';
}

/* The real size of a target too small for the image, for the JOIN that
 * lets the server's operator see the refusal. */
static uint64_t real_size(const char *path)
{
    uint64_t size = 0;
    int bdev, fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (fc_disk_size(fd, &size, &bdev))
            size = 0;
        close(fd);
    }
    return size;
}

/* Joins even though the target is too small, so the refusal shows on the
 * server's console where the operator is; the target stays untouched. */
static int refuse_small_target(struct fc_recv *r)
{
    struct fc_join_ack ack;

    r->target_size = real_size(r->o.target);
    if (fc__open_ctrl(r) == 0 && fc__join(r, fc__now() + 5.0, 0, &ack) == 0 && ack.status == 0) {
        r->rid = ack.receiver_id;
        fc__send_abort(r, FC_REASON_TOO_SMALL, "target smaller than the image's disk");
    }
    RLOG(r, FC_LOG_ERROR,
         "target too small (%llu bytes, the image needs %llu); the server "
         "was told; target untouched",
         (unsigned long long)r->target_size, (unsigned long long)r->m.disk_size);
    return FC_RX_EXIT_TOO_SMALL;
}

static int join_session(struct fc_recv *r)
{
    struct fc_join_ack ack;
    int rc;

    /* The group first, then JOIN: nothing sent right after the server
     * accepts us is missed. */
    if (fc__open_data(r) || fc__open_ctrl(r))
        return FC_RX_EXIT_LOST;
    rc = fc__join(r, fc__now() + r->o.server_timeout, 0, &ack);
    if (rc == FC_EINTR)
        return FC_RX_EXIT_INTR;
    if (rc == FC_EVERSION) {
        fc__version_log(r);
        return FC_RX_EXIT_ABORTED;
    }
    if (rc) {
        RLOG(r, FC_LOG_ERROR, "server did not answer JOIN within %.0f s", r->o.server_timeout);
        return FC_RX_EXIT_LOST;
    }
    if (ack.status != FC_REASON_OK) {
        RLOG(r, FC_LOG_ERROR, "server refused us: %s", fc__reason_text(ack.status));
        return fc__reason_exit(ack.status);
    }
    r->rid = ack.receiver_id;
    r->report_ms = ack.report_ms ? ack.report_ms : 1000;
    RLOG(r, FC_LOG_INFO, "joined as receiver %u", r->rid);
    return 0;
}

/* --report-failure: a JOIN, accepted because it claims the image's disk size (nothing is
 * written), then an ABORT whose text the server logs as this machine's failure. */
static int report_failure(struct fc_recv *r)
{
    struct fc_join_ack ack;

    r->target_size = r->m.disk_size;
    if (fc__open_ctrl(r) || fc__join(r, fc__now() + r->o.server_timeout, 0, &ack) ||
        ack.status != FC_REASON_OK) {
        RLOG(r, FC_LOG_ERROR, "could not report the failure: the server did not take our JOIN");
        return FC_RX_EXIT_LOST;
    }
    r->rid = ack.receiver_id;
    fc__send_abort(r, FC_REASON_WRITE, r->o.report_failure);
    RLOG(r, FC_LOG_INFO, "reported to the server: %s", r->o.report_failure);
    return 0;
}

static int run(struct fc_recv *r)
{
    int rc;

    if (r->o.iface) {
        if (fc__iface_addr(r->o.iface, &r->ifaddr)) {
            fc_error("interface %s has no IPv4 address", r->o.iface);
            return FC_RX_EXIT_USAGE;
        }
        r->have_if = 1;
    }
    if (fc__disc_target(r)) {
        fc_error("bad --server %s: expected ADDR[:PORT]", r->o.server);
        return FC_RX_EXIT_USAGE;
    }
    if (r->o.capture)
        return fc__capture(r);
    rc = fc__locate(r);
    if (rc)
        return rc;
    if (r->o.probe) {
        printf("disk_size=%llu\n", (unsigned long long)r->m.disk_size);
        return 0;
    }
    if (r->o.report_failure)
        return report_failure(r);
    rc = fc_target_open(r->o.target, r->m.disk_size, &r->t);
    if (rc == FC_ETOOSMALL)
        return refuse_small_target(r);
    /* Before any chunk: the chunks then overwrite whatever they store. */
    if (rc || fc_target_clear_stale(&r->t, &r->m))
        return FC_RX_EXIT_IO;
    r->target_size = r->t.size;
    rc = join_session(r);
    if (rc)
        return rc;
    /* The session may ask for them too (fleetcastd --zero-free, --readback). */
    if (r->s.ann.flags & FC_ANN_ZERO_FREE)
        r->o.zero_free = 1;
    if (r->s.ann.flags & FC_ANN_READBACK)
        r->o.readback = 1;
    /* The session's partition unless this machine was given its own. */
    if ((r->s.ann.flags & FC_ANN_GROW) && !r->o.grow) {
        r->o.grow = 1;
        r->o.grow_part = r->s.ann.flags >> FC_ANN_GROW_PART_SHIFT;
    }
    r->t.free_mode = r->o.zero_free ? FC_FREE_ZERO : FC_FREE_KEEP;
    return fc__netloop(r);
}

/* Every chunk's reassembly buffer (4 MiB) would otherwise be a fresh mmap
 * that glibc returns at free: the kernel zeroes and faults in each page again
 * for every chunk, which cost more receiver CPU than the hash (a profile at
 * N=1, docs/benchmarks.md). Kept in the heap, freed buffers are reused warm;
 * the memory stays bounded by the reassembly cap (client/assemble.h). */
static void keep_heap(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest on 64-bit */
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

int main(int argc, char **argv)
{
    struct fc_recv r;
    struct sigaction sa;
    int code;

    memset(&r, 0, sizeof(r));
    r.data_fd = r.ctrl_fd = r.t.fd = -1;
    r.stop = &stop_flag;
    keep_heap();
    code = parse_args(&r, argc, argv);
    if (code)
        return code;
    if (r.o.deadline > 0) /* counted from the start: the whole run is bounded */
        r.deadline_at = fc__now() + r.o.deadline;
    fc_log_init("fleetcast-recv", r.o.verbose ? FC_LOG_DEBUG
                                  : r.o.quiet ? FC_LOG_WARN
                                              : FC_LOG_INFO);
    fc_log_show_elapsed(); /* a slow step before JOIN shows in the log (docs/testing.md) */
    if (check_trust(&r))
        return FC_RX_EXIT_USAGE;
    if (getrandom(&r.rng, sizeof(r.rng), 0) != sizeof(r.rng))
        r.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    r.rng |= 1;
    set_name(&r);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns and the loop sees the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    code = run(&r);
    if (r.o.stats)
        fc__stats_write(&r, r.o.stats, code);
    fc__close_sockets(&r);
    fc_target_close(&r.t);
    if (r.have_m)
        fc_manifest_free(&r.m);
    return code;
}
