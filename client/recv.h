/* fleetcast-recv's top-level state: the options, what discovery and the
 * manifest told us, the sockets, the counters, and the internal functions the
 * client/ files share (fc__ names). One struct fc_recv per run, passed
 * everywhere: no global mutable state but the signal flag in main.c. */
#ifndef FC_CLIENT_RECV_H
#define FC_CLIENT_RECV_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>

#include "client/console.h"
#include "common/diskwrite.h"
#include "common/manifest.h"
#include "proto/packet.h"

/* Exit codes (also in the usage text). */
enum fc_recv_exit {
    FC_RX_EXIT_OK = 0,
    FC_RX_EXIT_USAGE = 2,
    FC_RX_EXIT_IMAGE = 3,           /* bad manifest, signature or key, or wrong image */
    FC_RX_EXIT_TOO_SMALL = 4,       /* target smaller than the image's disk */
    FC_RX_EXIT_IO = 5,              /* I/O error on the target */
    FC_RX_EXIT_CHECK = 6,           /* the whole-disk check failed */
    FC_RX_EXIT_ABORTED = 7,         /* aborted or dropped by the server */
    FC_RX_EXIT_LOST = 8,            /* server not found or lost */
    FC_RX_EXIT_DEADLINE = 9,        /* --deadline passed before the disk was done */
    FC_RX_EXIT_AMBIG = 10,          /* several sessions would do: --session names one */
    FC_RX_EXIT_IDENTITY = 11,       /* the disk is written; its identity or a hook failed */
    FC_RX_EXIT_INTR = 130,          /* SIGINT/SIGTERM */
    FC_RX_EXIT_UNKNOWN_OPTION = 64, /* an option it does not know (named) */
};

struct fc_recv_opts {
    const char *target;
    const char *server; /* ADDR[:PORT], or NULL: multicast discovery */
    const char *pubkey;
    const char *iface;
    const char *name;
    const char *stats;
    int have_session;
    uint32_t session;
    double discover_timeout;
    double server_timeout;
    double deadline; /* --deadline S: give up S seconds after start; 0: none */
    int quiet, verbose;
    int probe;                  /* print the image's disk size and exit */
    const char *report_failure; /* join, then ABORT with this text */
    const char *image_id;       /* --image-id HEX: only this image (pinned) */
    int insecure;               /* --insecure: a block device without --pubkey */
    /* --zero-free, or a session that asks for it: zero what the image does not
     * store. main.c turns it into r->t.free_mode just before the netloop, so
     * it may be set until the JOIN is answered. */
    int zero_free;
    /* --readback, or a session that asks for it: after fsync, read every
     * stored region back and hash it for the check value (writer.c). */
    int readback;
    const char *hostname; /* --hostname: when the server gives none (fleetcast.hostname=) */
    const char *hooks;    /* --hooks DIR: site scripts run after the identity */
    double hook_timeout;  /* --hook-timeout S: each hook's bound (300) */
    /* --grow / --grow-part N, or a session that asks for it: after the check,
     * grow a partition and its filesystem to fill a bigger disk. */
    int grow;
    uint32_t grow_part;
    /* --capture: upload --source to --server (capture.c) instead of writing */
    int capture;
    const char *source;
    const char *token; /* --token HEX: the capture's, from fleetcast.capture= */
    int level;         /* --level N: zstd level (3) */
    int force;         /* --force: capture a hibernated or dirty NTFS as it is */
    int rcvbuf;        /* --rcvbuf BYTES: the data socket's buffer; 0: 16 MiB */
};

/* The session as an ANNOUNCE described it. */
struct fc_sess {
    struct fc_announce ann;
    uint32_t session;
    struct sockaddr_in srv; /* the server's address, port = control port */
};

struct fc_recv_counters {
    uint64_t pkts_received, pkts_lost, pkts_duplicate, pkts_dropped_new;
    uint64_t rejects, hash_failures;
    uint64_t naks_sent, nak_entries_sent, naks_suppressed;
    /* Why a receiver NAKs what it was sent (issue 9: NAKs at 0 % loss in a
     * lab of 50): DATA that came behind a later packet (reordered: counted
     * lost, then not), and the idle sweeps (no DATA for 0.2 s) and the
     * blocks they made due. */
    uint64_t pkts_late, idle_sweeps, blocks_swept;
    /* Loss the sequence alone did not show (issue 9, session 6): datagrams
     * the kernel dropped on the data socket, its buffer full (SO_RXQ_OVFL),
     * far jumps of the sequence confirmed and counted as loss, and the loss
     * PROGRESS last reported (client/seqloss.h). */
    uint64_t kernel_drops, seq_jumps, pkts_lost_reported;
    uint64_t rejoins;
    /* The network thread's wake-ups from poll() while DATA flows, and those
     * that found DATA: packets per wake-up is what a receiver pays per packet
     * in context switches when N receivers share the cores. */
    uint64_t wakeups, data_wakeups;
    uint64_t tcp_chunks;       /* chunks fetched over TCP (after two hash failures) and written */
    uint64_t tcp_fetch_failed; /* fetches refused or failed */
    uint64_t bytes_written;
    uint32_t chunks_written;
};

struct fc_recv {
    struct fc_recv_opts o;
    char name[FC_NAME_MAX + 1];
    int have_if;
    struct in_addr ifaddr;      /* --iface's IPv4 address */
    struct sockaddr_in disc_to; /* where DISCOVER goes */
    struct fc_sess s;
    struct fc_manifest m;
    int have_m;
    struct fc_target t;
    uint64_t target_size;
    uint32_t rid;                    /* receiver id from JOIN_ACK */
    uint8_t secret[FC_SECRET_LEN];   /* from JOIN_ACK */
    uint8_t key_up[FC_SECRET_LEN];   /* derived: tags of our packets to the server */
    uint8_t key_down[FC_SECRET_LEN]; /* derived: tags of the server's packets to us */
    int have_secret;
    struct fc_grant granted; /* the rest of JOIN_ACK's grant: MAC, host name, lab (secret zeroed) */
    uint32_t auth_seq;       /* one sequence for every tagged packet we send */
    struct fc_replay srv_replay; /* the server's tagged packets to us */
    uint16_t report_ms;
    int data_fd, ctrl_fd;
    int data_rcvbuf; /* the data socket's buffer as the kernel granted it (SO_RCVBUF), bytes */
    uint32_t tx_seq[FC_PKT_TYPE_MAX + 1]; /* per packet type, as the protocol says */
    uint64_t rng;
    struct fc_recv_counters n;
    int check_ok;
    double deadline_at; /* fc__now() when --deadline passes; 0: none */
    int peer_version;   /* a server's version refusal: its wire version; 0: none */
    struct sockaddr_in peer_version_from;
    volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
};

#define RLOG(r, lvl, ...) fc__rlog((r)->s.session, (r)->name, (lvl), __VA_ARGS__)

/* main.c */
double fc__now(void); /* monotonic seconds */
uint64_t fc__rand(struct fc_recv *r);
double fc__urand(struct fc_recv *r); /* uniform in [0, 1) */

/* discover.c: DISCOVER until an ANNOUNCE for us (our nonce; --session; on a
 * re-discovery the same image id) or the deadline: 0, FC_ETIMEDOUT, FC_EINTR. */
int fc__iface_addr(const char *iface, struct in_addr *out);
int fc__disc_target(struct fc_recv *r);
int fc__discover(struct fc_recv *r, double deadline, int same_image, struct fc_sess *out);
/* The first discovery: every session that answers goes into ch, until
 * `window` s after the first one not seen before, or the deadline. Returns
 * how many new ones (0 at the deadline), FC_EINTR or FC_EIO. */
struct fc_choice;
int fc__discover_collect(struct fc_recv *r, double deadline, double window, struct fc_choice *ch);

/* locate.c: discovery, the choice among the sessions (choose.c), and the
 * chosen one's manifest, fetched and verified, in r->s and r->m: 0 or an
 * exit code (logged). */
int fc__locate(struct fc_recv *r);

/* fetch.c: the signed manifest over TCP. *status gets the server's refusal
 * code when it refused (FC_EREFUSED). */
int fc__fetch_manifest(struct fc_recv *r, uint8_t **man, size_t *len, uint8_t *sigblock,
                       int *status);
/* The image's hooks tar over TCP (HOOKS_REQ), unchecked: the caller
 * compares its hash with the one sealed in JOIN_ACK. */
int fc__fetch_hooks(struct fc_recv *r, uint8_t **tar, size_t *len, int *status);
/* One chunk over TCP (CHUNK_REQ, tagged), within `timeout` seconds: its
 * compressed bytes (malloc'd, unchecked: they go through the writer's
 * verified path like any chunk), or FC_EREFUSED with *status. */
int fc__fetch_chunk(struct fc_recv *r, uint32_t idx, double timeout, uint8_t **out, size_t *len,
                    int *status);

/* sockets.c */
int fc__open_data(struct fc_recv *r);
int fc__open_ctrl(struct fc_recv *r);
void fc__close_sockets(struct fc_recv *r);
int fc__ctrl_send(struct fc_recv *r, const uint8_t *buf, size_t len);
int fc__group_send(struct fc_recv *r, const uint8_t *buf, size_t len);
/* One datagram from fd before `until` (fc__now() seconds), polling in short
 * steps so the stop flag is seen: its length, or 0 at the deadline or on a
 * stop. from (may be NULL) gets the sender. */
ssize_t fc__recv_until(struct fc_recv *r, int fd, uint8_t *buf, size_t cap, double until,
                       struct sockaddr_in *from);

/* join.c: JOIN every 0.5 s until the JOIN_ACK with our nonce. */
int fc__join(struct fc_recv *r, double deadline, uint32_t chunks_done, struct fc_join_ack *ack);
const char *fc__reason_text(uint8_t reason);
/* A packet of another wire version (a server's version refusal): 1, noted in
 * r->peer_version; fc__version_log says so once, naming both versions. */
int fc__version_refused(struct fc_recv *r, const uint8_t *buf, size_t len,
                        const struct sockaddr_in *from);
void fc__version_log(const struct fc_recv *r);
/* capture.c: --capture; returns the exit status */
int fc__capture(struct fc_recv *r);
int fc__reason_exit(uint8_t reason);

/* report.c: tagged packets to the server */
int fc__seal(struct fc_recv *r, uint8_t *buf, size_t len);
int fc__send_progress(struct fc_recv *r, const struct fc_progress *p);
/* flags: FC_DONE_READBACK, FC_DONE_IDENTITY, FC_DONE_ID_SKIPPED, FC_DONE_GROW with the
 * grow step's result; identity: what the identity step did ("" none). */
int fc__send_done(struct fc_recv *r, uint8_t status, const uint8_t *check, uint8_t flags,
                  const char *identity);

/* identity.c: the post-write step, on a thread of its own (docs/identity.md).
 * fc__identity_done: 1 while it runs; then 0 with *flags and what was done
 * ("windows: unattend ComputerName=LAB-07 (partition 3)") in text for DONE,
 * or a negative code with the text for the ABORT (the job is freed). */
struct fc_identity_job;
int fc__identity_needed(const struct fc_recv *r);
int fc__identity_start(struct fc_recv *r, struct fc_identity_job **out);
int fc__identity_done(struct fc_identity_job *j, uint8_t *flags, char *text, size_t cap);
int fc__send_abort(struct fc_recv *r, uint8_t reason, const char *text);

/* netloop.c: from joined to done; returns the exit code. */
int fc__netloop(struct fc_recv *r);

/* stats.c */
int fc__stats_write(const struct fc_recv *r, const char *path, int exit_code);

#endif
