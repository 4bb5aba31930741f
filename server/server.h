/* fleetcastd's top structs and the internal interfaces between its files.
 * Everything mutable hangs off struct fc_daemon (the process: shared
 * control port, TCP, HTTP console, the list of sessions) and struct
 * fc_session (one session: an image served to a group); the files split them
 * by concern:
 *   main.c        start-up, the libuv loop, exit status
 *   daemon.c      the daemon: sessions list, signals, one-shot vs daemon mode
 *   api.c         sessions and machines as JSON for the console; its commands
 *   console.c     the snapshot/event/command bridge to the HTTP threads
 *   http.c        the HTTP server (libmicrohttpd): API, events, dashboard
 *   config.c      flags, the config file, and API create requests
 *   netio.c       sockets: data sender, group listener, control, TCP
 *   session.c     THE session state machine: start/end policy, drops, the 1 s tick
 *   sender.c      paced, batched sending: the pass and the catch-up passes
 *   repair.c      NAK intake, rounds, parity packets
 *   receivers.c   the receiver table: admission, tags and replay, PROGRESS, DONE, ABORT
 *   joins.c       JOINs not yet confirmed: ids, secrets, JOIN_ACK, expiry
 *   control.c     parsing and dispatching every packet that arrives
 *   manifest_srv.c  the TCP control port: the manifest, and chunks (chunk_srv.c)
 *   chunk_srv.c   a chunk over TCP for a receiver whose copy failed its hash twice
 *   chunkcache.c  chunk bytes read from the image, cut into packets
 *   ratectl.c     rate backoff and recovery from reported loss
 *   stats.c       counters and the JSON stats file
 *   pxecfg.c      pxelinux.cfg/01-<mac> (boot the local disk) for machines done
 *   record.c      what the store is told: sessions and outcomes as they change, resume
 *   schedule.c    schedules: a lab imaged at a time, its machines woken first
 *   notify.c      a session's end as a webhook and a mail, off the loop
 *   store.c       the SQLite file: schema, migrations, the writer thread (store.h)
 *   store_read.c  the store's reads and inventory edits, on the caller's connection
 *   wake.c        Wake-on-LAN jobs: magic packets in rounds over a minute (wake.h:
 *                 fc_wake_start(d, iface, addr, macs, n, why, cap), the call schedules make)
 *   pxewatch.c    the passive PXE watcher: libpcap on --watch-iface (pxewatch.h)
 *   pxetable.c    its bounded table of the machines seen */
#ifndef FC_SERVER_H
#define FC_SERVER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/bootcfg.h"
#include "common/bucket.h"
#include "common/checkval.h"
#include "server/console.h"
#include "server/history.h"
#include "server/store.h"
#include "server/http.h"
#include "server/names.h"
#include "server/pxewatch.h"
#include "server/wake.h"
#include "common/fec.h"
#include "common/image.h"
#include "proto/packet.h"

#define FC_SEND_BATCH 64
#define FC_CACHE_CHUNKS 16
#define FC_MAX_RECEIVERS 1024              /* active receivers of one session */
#define FC_RX_SLOTS (2 * FC_MAX_RECEIVERS) /* entries kept; ended ones are reused beyond */
#define FC_PENDING_MAX 256  /* JOINs answered but not yet confirmed by a tagged packet */
#define FC_PENDING_TTL 10.0 /* seconds a JOIN has to be confirmed */

struct fc_session_config {
    const char *image_path;
    struct in_addr group;
    uint16_t data_port;
    uint16_t ctrl_port;
    const char *iface;
    struct in_addr iface_addr;
    int loopback;    /* receivers may be on this host: multicast loop on */
    double rate_bps; /* cap, bits per second */
    uint32_t min_receivers;
    double max_wait; /* seconds, 0 = none */
    double fec_pct;  /* proactive parity, percent of k */
    uint8_t k_max;
    uint16_t payload;
    uint16_t report_ms;
    double drop_silent;     /* seconds without a packet from a receiver */
    double drop_stall;      /* seconds without progress while others progress */
    double drop_loss;       /* loss fraction sustained for 10 s */
    double catchup_holdoff; /* seconds before a chunk is sent again */
    uint32_t max_per_ip;    /* active receivers from one address (loopback exempt) */
    int zero_free;          /* receivers zero what the image does not store (ANNOUNCE flag) */
    int readback;           /* receivers read the disk back after fsync (ANNOUNCE flag) */
    int grow;               /* receivers grow a partition to a bigger disk (ANNOUNCE flag) */
    uint8_t grow_part;      /* which (1-31, implies grow); 0: the one that ends last */
    double max_time;        /* seconds from the start; then the unfinished fail. 0: none */
    int64_t deadline_wall;  /* unix seconds; then the unfinished fail (a schedule's). 0: none */
    const char *lab;        /* the lab imaged (inventory): who never joined is reported */
    const char *names;      /* "MAC,hostname" lines (API "names"): host names for the clones */
    const char *names_file; /* --names FILE: the same lines in a file, read at session creation */
    double repair_budget;   /* repair packets one receiver may ask, x the image's packets */
    uint8_t ttl;
    const char *stats_path;
    int verbose;
};

/* THE states of a session; transitions only in session.c. */
enum fc_sess_state {
    FC_SS_WAITING,  /* taking joins until the start policy is met */
    FC_SS_SENDING,  /* first pass over the image */
    FC_SS_REPAIR,   /* first pass done: repairs and catch-up passes */
    FC_SS_FINISHED, /* every receiver done, failed or dropped */
    FC_SS_ABORTED,  /* stopped by the operator or an error */
};

enum fc_rx_status { FC_RXS_ACTIVE, FC_RXS_DONE, FC_RXS_FAILED, FC_RXS_DROPPED };
/* The clone's identity step (docs/identity.md), from DONE's flags or an
 * ABORT with FC_REASON_IDENTITY. */
enum fc_rx_identity { FC_RXI_NONE, FC_RXI_DONE, FC_RXI_SKIPPED, FC_RXI_FAILED };

struct fc_rx {
    uint32_t id; /* random: not guessable from the others' */
    struct sockaddr_in addr;
    uint8_t secret[FC_SECRET_LEN];   /* sent sealed in JOIN_ACK */
    uint8_t key_up[FC_SECRET_LEN];   /* derived: tags of its packets to us */
    uint8_t key_down[FC_SECRET_LEN]; /* derived: tags of ours to it */
    struct fc_replay replay;         /* its tagged packets' sequence numbers */
    uint64_t join_nonce;
    uint8_t box_pub[FC_BOXPUB_LEN];
    char name[FC_NAME_MAX + 1];
    char mac[18];                         /* from the ARP table, "" until known */
    char hostname[FC_GRANT_TEXT_MAX + 1]; /* given in its JOIN_ACK (names.h); "" none */
    char lab[FC_GRANT_TEXT_MAX + 1];
    uint8_t identity; /* enum fc_rx_identity: what its DONE said of the clone's identity */
    char identity_detail[FC_ABORT_TEXT_MAX + 1]; /* its DONE's text: what was set where */
    enum fc_rx_status status;
    uint8_t reason; /* enum fc_reason, for FAILED and DROPPED */
    uint64_t target_size;
    uint32_t join_chunks_done;
    double joined_at, last_seen, done_at;
    int have_progress;
    uint32_t last_seq; /* of the last PROGRESS used */
    struct fc_progress p;
    /* rate control and drop bookkeeping */
    uint64_t prev_recv, prev_lost, prev_overflow;
    uint32_t sent_mark; /* our DATA sequence at its previous report */
    /* Since its previous report, its loss in two shares: what its own
     * socket dropped (it could not keep up), and the rest, its link's. The
     * floor is the link's usual loss. */
    double overflow_recent, loss_link, loss_floor;
    int loss_samples, lossy_secs;
    int loss_fresh; /* the shares are from a report rate control has not used yet */
    uint32_t best_done;
    double last_advance;
    uint64_t repairs_requested;
    uint64_t repair_granted; /* repair packets asked and queued, against the budget */
    uint32_t tcp_chunks;     /* chunks sent to it over TCP (chunk_srv.c), against its allowance */
    int tcp_busy;            /* one of them is being sent */
    int readback;            /* its DONE's check value was read back from its disk */
    int grow_reported;       /* its DONE reported a grow step (the session asked for one) */
    int grow_result;         /* that step's enum fc_grow_result */
    char error[FC_ABORT_TEXT_MAX + 1];
};

struct fc_stats {
    uint64_t data_pkts;    /* source packets of the first pass */
    uint64_t fec_pkts;     /* proactive parity */
    uint64_t repair_pkts;  /* parity answering NAKs */
    uint64_t catchup_pkts; /* source packets of catch-up passes */
    uint64_t udp_bytes;    /* UDP payload bytes sent on the group */
    uint64_t wire_bytes;   /* the same plus IPv4 and UDP headers */
    uint64_t naks, nak_entries, naks_stale, naks_bad;
    uint64_t naks_unauth;     /* NAKs without a valid tag from an active receiver */
    uint64_t naks_overbudget; /* entries of receivers past their repair budget */
    uint64_t auth_fail;       /* control packets with a bad tag, unknown id or replayed */
    uint64_t joins_refused;
    uint64_t joins_throttled; /* JOINs over the answer rate (a flood): not answered */
    uint64_t rejects;         /* malformed or foreign packets received */
    uint64_t rounds;
    uint64_t send_errors;
    uint64_t rx_rejects;  /* sum of the receivers' reported rejects */
    uint64_t tcp_chunks;  /* chunks sent over TCP to receivers whose copy failed twice */
    uint64_t tcp_refused; /* such requests refused: allowance spent, busy, bad chunk */
};

/* A chunk's slot in the cache (chunkcache.c). Its bytes are read by a
 * libuv thread-pool worker; while that read runs the slot belongs to the
 * read and only READY slots are handed out. */
enum fc_slot_state { FC_SLOT_EMPTY, FC_SLOT_LOADING, FC_SLOT_READY, FC_SLOT_FAILED };

struct fc_cache_read;
struct fc_cache_fd;

struct fc_cached_chunk {
    uint32_t chunk;
    enum fc_slot_state state;
    int error; /* FC_SLOT_FAILED: the read's code */
    uint64_t used;
    struct fc_blocks bl;
    uint8_t *buf; /* packets * sym_len bytes, the tail zero-padded */
    size_t cap;
    struct fc_cache_read *rd; /* the read in flight (FC_SLOT_LOADING) */
    unsigned pins;            /* packets of the send batch pointing into buf: not evicted */
};

struct fc_chunkcache {
    int fd;
    const struct fc_manifest *m;
    uint16_t payload;
    uint8_t k_max;
    uint64_t tick;
    uv_loop_t *loop;            /* NULL: reads on the caller's thread (unit tests) */
    struct fc_cache_fd *fd_ref; /* the image fd the reads share (a dup) */
    uint64_t loads, misses;     /* chunks read; asks that found the chunk not read yet */
    uint64_t pinned_full;       /* a slot was wanted and every one was pinned or being read */
    struct fc_cached_chunk e[FC_CACHE_CHUNKS];
};

/* Per FEC block repair state, indexed by global block number (repair.c). */
struct fc_blockstate {
    uint8_t next_parity; /* next fresh parity index (0-based) */
    uint8_t next_resend; /* once parity is spent: next wire index of the resend cycle */
    uint8_t pending;     /* max needed this round, 0 if none */
    uint8_t queued;      /* an answer is waiting to be sent */
    uint32_t round_slot; /* its item in rep.round while pending */
    uint32_t last_repair_seq;
    uint32_t last_repair_ms; /* when it went out (ms of fc_server_now) */
};

struct fc_repair_item {
    uint32_t gblock;
    uint8_t count;
    uint8_t bitmap_len; /* the neediest NAK's bitmap (packets it holds); 0: none */
    uint16_t cursor;    /* next wire index to consider against the bitmap */
    uint8_t bitmap[FC_NAK_BITMAP_MAX];
};

/* Proactive parity of the pass (sender.c): the worst active receiver's
 * recent loss, smoothed, turned into parity per block with a margin. */
struct fc_parity_ctl {
    double level; /* smoothed loss fraction, 0..cap */
    double floor; /* --fec P / 100: never less */
    double cap;   /* never more parity than this fraction of k */
    int primed;   /* a first sample has been taken */
};

/* One packet of the send batch: its header here, its payload where it is, in
 * the chunk cache's slot (pinned until the packet is sent) for a source
 * packet, or in parity, where a parity packet is encoded (sender.c). */
struct fc_batch_pkt {
    uint8_t hdr[FC_DATA_HDR_LEN];
    struct iovec iov[2]; /* header, payload */
    const struct fc_cached_chunk *pin;
    uint8_t parity[FC_DATA_MAX_PAYLOAD];
};

/* Sender fields are sender.c's: others ask through fc_sender_*(). */
struct fc_sender {
    int fd;
    struct sockaddr_in dst;
    double rate;     /* current, bytes per second on the wire */
    double rate_max; /* the cap */
    double tokens;
    uint64_t last_ns;
    uint32_t seq;
    struct fc_parity_ctl parity;
    /* the pass cursor */
    uint32_t chunk, block, index;
    unsigned block_parity; /* proactive parity of the block under the cursor */
    uint64_t disk_waits;   /* the pass's chunk was not read yet (logged) */
    int pass_active;
    int catchup;         /* 1 while the cursor walks a catch-up chunk */
    unsigned repair_run; /* repairs sent since the last pass packet */
    uint32_t catchup_scan;
    double *chunk_last_sent;
    /* the batch: msgs[i] is packet order[i]; a full socket's rest rotates
     * both arrays, never the bytes */
    struct mmsghdr msgs[FC_SEND_BATCH];
    struct fc_batch_pkt pkts[FC_SEND_BATCH];
    uint8_t order[FC_SEND_BATCH];
    unsigned n_batch;
};

/* Repair fields are repair.c's: others ask through fc_repair_*(). */
struct fc_repair {
    uint32_t *block_base; /* first global block of each chunk, n_chunks + 1 */
    struct fc_blockstate *blocks;
    struct fc_repair_item *round; /* blocks NAKed this round */
    uint32_t n_round, cap_round;
    struct fc_repair_item *queue; /* answers waiting for the sender */
    uint32_t q_head, q_len, q_cap;
    uint64_t src_pkts; /* source packets of one pass over the image */
};

/* A config file's value, kept as long as the settings pointing to it. */
struct fc_config_str {
    struct fc_config_str *next;
    char s[];
};

struct fc_daemon_config {
    int daemon;                    /* keep running when sessions end (API mode) */
    int check_only;                /* --check-config: parse, say so, exit */
    const char *http;              /* ADDR:PORT of the console, or NULL for none */
    struct fc_http_opts http_opts; /* console: reads open, Host names, limits (http.h) */
    /* write pxelinux.cfg/01-<mac> there for machines done (pxecfg.c), or NULL */
    const char *tftp_root;
    uint16_t ctrl_port;
    unsigned keep_history_days; /* ended sessions older than this are pruned (0: never) */
    const char *trusted_key;    /* serve only images signed by this public key file */
    const char *capture_key;    /* signs uploaded captures; NULL: STATE_DIR/capture.key */
    const char *notify_url;     /* POST each ended session's JSON there (notify.c) */
    const char *notify_mail;    /* and mail its report to this address */
    const char *sendmail;       /* through this sendmail (default /usr/sbin/sendmail) */
    /* where the daemon keeps its state: the API tokens, the store (fleetcast.db).
     * --state-dir, else $STATE_DIRECTORY (systemd's StateDirectory=), else
     * $FLEETCAST_HOME, else ~/.fleetcast (fc_config_parse fills it). */
    char state_dir[1024];
    /* --capture-dir: captures are written only under it (capture.c), else
     * STATE_DIR/images (fc_config_parse fills it) */
    char capture_dir[1024];
    /* --watch-iface: where the passive PXE watcher listens (pxewatch.h); none: off */
    char watch_ifaces[FC_WATCH_IFACES_MAX][FC_PXE_IFNAME_MAX];
    unsigned n_watch_ifaces;
    /* what fc_config_parse read: the command line again on a reload (SIGHUP),
     * the last --config file (for logs), the file's strings (fc_config_free) */
    int argc;
    char **argv;
    const char *config_path;
    struct fc_config_str *owned;
};

/* A JOIN answered, waiting for its first tagged packet (joins.c). Kept out
 * of the receiver table so that JOINs from forged addresses, which never
 * learn their secret, cannot fill it, start a session or show up as
 * machines. */
struct fc_pending {
    uint32_t id;
    uint8_t secret[FC_SECRET_LEN];
    struct sockaddr_in addr;
    uint64_t nonce;
    uint8_t box_pub[FC_BOXPUB_LEN];
    double at;
    uint64_t target_size;
    uint32_t chunks_done;
    char name[FC_NAME_MAX + 1];
    char mac[18]; /* from the ARP table at its JOIN, "" unknown */
    char hostname[FC_GRANT_TEXT_MAX + 1], lab[FC_GRANT_TEXT_MAX + 1]; /* sealed in its grant */
};

struct fc_session;

#define FC_KEEP_HISTORY_DEFAULT 400 /* days: a year of rollouts, compared with last year's */

/* A scheduled rollout (schedule.c). */
struct fc_schedule {
    int64_t id;
    int64_t at; /* the next run, unix seconds */
    int64_t created_at;
    char lab[65];
    char every[64];   /* "": once; "day"; or weekdays "sun,wed" */
    char deadline[6]; /* "HH:MM": the run's unfinished fail then; "" none */
    int wake;         /* Wake-on-LAN for the lab's machines at each run */
    char state[12];   /* scheduled | done | cancelled */
    char last_run[FC_RUN_LEN + 1];
    char last_error[200];
    json_t *session; /* each run's create body (image, group, iface, rate, max_wait...) */
};

struct fc_daemon {
    struct fc_daemon_config cfg;
    uv_loop_t *loop;
    uv_udp_t ctrl; /* control port + discovery group, shared by every session */
    uv_tcp_t tcp;  /* manifest */
    uv_signal_t sigint, sigterm, sighup;
    /* what an API-created session starts from: the config's session settings
     * (fc_config_session_defaults), replaced on a reload */
    struct fc_session_config session_defaults;
    uv_timer_t snap_timer;
    struct fc_session **sessions; /* the live ones; an ended session leaves at once */
    uint32_t n_sessions;
    struct fc_history *history;    /* summaries of the ended ones (history.h), without a store */
    struct fc_store *store;        /* --daemon: sessions, outcomes, inventory (store.h) */
    struct fc_schedule *schedules; /* the ones still to run (schedule.c) */
    uint32_t n_schedules;
    int64_t schedule_last_id;
    uv_timer_t schedule_timer;
    int schedule_on;
    struct fc_pxewatch *pxe;        /* the PXE watcher, NULL without --watch-iface */
    struct in_addr disc_ifaces[16]; /* where the discovery group is joined */
    uint32_t n_disc_ifaces;
    struct fc_console console;
    struct fc_http http;
    int console_on;
    int signals_on; /* sigint/sigterm initialised (fc_daemon_free closes them) */
    int stopping;
    int exit_code;
    uint32_t ctrl_seq;
    struct fc_captures *captures; /* capture.c's: armed and running captures (--daemon) */
    struct fc_wake *wakes;        /* wake.c's: the Wake-on-LAN jobs running */
    unsigned n_wakes;
    int wake_seq; /* the last job's id */
    unsigned snap_ticks;
    uint64_t version_refused; /* DISCOVERs and JOINs of another wire version answered */
    uint64_t version_log_ms;  /* when the last of them was logged (uv_now): one a second */
    uint8_t rxbuf[2048];
};

/* One session. */
struct fc_session {
    struct fc_session_config cfg;
    struct fc_daemon *d;
    uv_loop_t *loop;
    char id_text[9];
    char run[FC_RUN_LEN + 1]; /* this run of the session in the store: unique, kept on resume */
    int force_start;          /* the operator said start now */
    int closed;               /* handles closing: freed by the last close callback */
    int handles_closed;       /* close callbacks run so far (session.c) */
    int64_t created_wall, started_wall, ended_wall; /* unix seconds */
    struct fc_image img;
    struct fc_manifest_blob
        *manifest_blob;                  /* what MANIFEST_REQ gets; shared with writes in flight */
    struct fc_manifest_blob *hooks_blob; /* IMG.hooks/ packed (hooks.c); NULL: none */
    uint8_t hooks_hash[FC_HOOKS_HASH_LEN]; /* its BLAKE2b-256, sealed in JOIN_ACKs; zero: none */
    uint8_t expected_check[FC_CHECKVAL_LEN];
    uint32_t session_id;
    enum fc_sess_state state;
    double started_at, sending_at, finished_at;
    /* session.c: when the first receiver joined (--max-wait counts from
     * there); first_join_wall 0 until one has */
    double first_join_at;
    int64_t first_join_wall;
    int exit_code;
    uint32_t ctrl_seq;

    uv_udp_t group; /* NAKs on the data group */
    uv_timer_t send_timer, round_timer, tick_timer;

    struct fc_sender snd;
    struct fc_repair rep;
    struct fc_chunkcache cache;
    struct fc_fec *fec;

    struct fc_rx *rx;
    uint32_t n_rx;
    struct fc_pending *pending; /* FC_PENDING_MAX slots, n_pending used */
    uint32_t n_pending;
    struct fc_bucket rejoin_bucket; /* unauthenticated "join again" answers (receivers.c) */
    struct fc_bucket join_bucket;   /* JOINs answered (joins.c) */
    struct fc_names names;          /* host names by MAC, read at creation (names.h) */
    int deadline_passed;

    struct fc_stats st;
};

/* config.c */
void fc_session_config_defaults(struct fc_session_config *c);
/* Flags: the daemon's own, and those of a first session (has_session 0
 * when no --image was given). */
int fc_config_parse(struct fc_daemon_config *dc, struct fc_session_config *c, int *has_session,
                    int argc, char **argv);
/* An API create request over defaults (NULL: the built-in ones); on
 * failure *why says what is wrong. */
int fc_config_from_json(struct fc_session_config *c, const struct fc_session_config *defaults,
                        const json_t *body, char *why, size_t cap);
/* The settings of c that new sessions take by default (not its image,
 * group, interface or stats file). */
void fc_config_session_defaults(struct fc_session_config *out, const struct fc_session_config *c);
/* SIGHUP: parses the command line (and its --config file) again. On success
 * applies what a reload can change (trusted-key, tftp-root, notify-url,
 * notify-mail, sendmail, the defaults of new sessions) to cur and
 * *defaults, logs one line saying what changed and what needs a restart,
 * and returns 0; on any error keeps everything. */
int fc_config_reload(struct fc_daemon_config *cur, struct fc_session_config *defaults);
/* Frees the config file's strings (at exit). */
void fc_config_free(struct fc_daemon_config *dc);
/* The strings an API body gave a session config (image, iface, lab, names),
 * once the session has made its own copies. */
void fc_config_free_strings(struct fc_session_config *c);
int fc_session_config_check(const struct fc_session_config *c, char *why, size_t cap);
/* The API create body that makes c again (what the store keeps to resume). */
json_t *fc_config_to_json(const struct fc_session_config *c);

/* daemon.c */
/* cfg is taken over (its strings are freed by fc_daemon_free); new sessions
 * start from session_defaults' settings (fc_config_session_defaults). */
int fc_daemon_init(struct fc_daemon *d, const struct fc_daemon_config *cfg,
                   const struct fc_session_config *session_defaults);
/* Creates, opens and starts taking joins for a session; on failure *why. */
int fc_daemon_add_session(struct fc_daemon *d, const struct fc_session_config *cfg,
                          struct fc_session **out, char *why, size_t cap);
/* The same, for a session resumed from the store: its run and creation time
 * are kept. */
int fc_daemon_resume_session(struct fc_daemon *d, const struct fc_session_config *cfg,
                             const char *run, int64_t created_wall, struct fc_session **out,
                             char *why, size_t cap);
struct fc_session *fc_daemon_find(struct fc_daemon *d, uint32_t session_id);
/* A session ended (finished or aborted): its summary goes to the history
 * and it leaves the list; session.c then closes its handles. */
void fc_daemon_session_ended(struct fc_daemon *d, struct fc_session *s);
/* Frees what open_session made; called by the session's last close callback. */
void fc_daemon_free_session(struct fc_session *s);
/* The server's monotonic clock, seconds. */
double fc_server_now(const struct fc_session *s);
void fc_daemon_run(struct fc_daemon *d);
void fc_daemon_free(struct fc_daemon *d);

/* record.c: the store follows the sessions (no-ops without a store). */
void fc_record_session(struct fc_session *s);
void fc_record_machine(struct fc_session *s, const struct fc_rx *r);
/* Every machine's outcome and the session's final row; returns the lab's
 * machines that never joined (Machine objects, state "absent"), or NULL. */
json_t *fc_record_ended(struct fc_session *s);

/* notify.c: the webhook and the mail of a session's end (--notify-url,
 * --notify-mail), sent from libuv's thread pool. */
void fc_notify_ended(struct fc_session *s, const json_t *session, const json_t *machines);
/* Sessions a stopped daemon left unfinished, created again under their
 * runs; the receivers re-join them. Returns how many. */
int fc_record_resume(struct fc_daemon *d);

/* schedule.c (with a store only) */
void fc_schedule_start(struct fc_daemon *d);
void fc_schedule_stop(struct fc_daemon *d);
/* An API body {lab, at, every, wake, deadline, session}; *out the schedule. */
int fc_schedule_create(struct fc_daemon *d, const json_t *body, json_t **out, char *why,
                       size_t cap);
/* FC_EINVAL: no such schedule waiting. */
int fc_schedule_cancel(struct fc_daemon *d, int64_t id, json_t **out);
json_t *fc_schedule_json(const struct fc_schedule *sc);
json_t *fc_schedules_json(const struct fc_daemon *d);

/* api.c */
void fc_api_start(struct fc_daemon *d);
void fc_api_execute(void *ctx, struct fc_cmd *cmd);
json_t *fc_api_session_json(const struct fc_session *s);
json_t *fc_api_machine_json(const struct fc_session *s, const struct fc_rx *r);
/* Every machine of s, as an array of fc_api_machine_json objects. */
json_t *fc_api_machines_json(const struct fc_session *s);
void fc_api_session_changed(struct fc_session *s);
void fc_api_machine_changed(struct fc_session *s, const struct fc_rx *r);

/* netio.c */
int fc_netio_iface_addr(const char *iface, struct in_addr *addr, int *is_loopback);
/* The IPv4 broadcast address of iface (Wake-on-LAN, wake.c); FC_EINVAL if none. */
int fc_netio_iface_broadcast(const char *iface, struct in_addr *bcast);
int fc_netio_open_daemon(struct fc_daemon *d);
int fc_netio_join_discovery(struct fc_daemon *d, struct in_addr iface);
void fc_netio_close_daemon(struct fc_daemon *d);
int fc_netio_open(struct fc_session *s);
void fc_netio_close(struct fc_session *s);
/* MAC of a neighbour on the same link, from the kernel's ARP table. */
int fc_netio_mac_of(struct in_addr ip, char out[18]);
/* A packet from the shared control port; 0 or a negative code. */
int fc_netio_send_daemon(struct fc_daemon *d, const struct sockaddr_in *to, const uint8_t *buf,
                         size_t len);
void fc_netio_send_ctrl(struct fc_session *s, const struct sockaddr_in *to, const uint8_t *buf,
                        size_t len);

/* session.c */
/* The session's four handles (group socket, three timers) on loop; from
 * then on fc_session_release() is always valid, and the session is freed
 * (fc_daemon_free_session) by the last of their close callbacks. */
void fc_session_init_handles(struct fc_session *s, uv_loop_t *loop);
/* created_wall: when it was first created (a resumed session), 0: now. */
void fc_session_start_tick(struct fc_session *s, int64_t created_wall);
/* A resumed session's first join (unix seconds, from its row): --max-wait keeps counting
 * from it, not from the first re-join after the restart. */
void fc_session_resume_first_join(struct fc_session *s, int64_t wall);
/* The 1 s tick: start policy, joins' expiry, drop rules, deadline, rate. */
void fc_session_tick(struct fc_session *s);
void fc_session_maybe_start(struct fc_session *s);
void fc_session_pass_done(struct fc_session *s);
void fc_session_check_end(struct fc_session *s);
void fc_session_abort(struct fc_session *s, uint8_t reason, const char *why);
void fc_session_force_start(struct fc_session *s);
/* Unix time at which --max-wait starts the session whoever has joined:
 * max_wait after the first join; 0 while nobody has joined or without one. */
int64_t fc_session_start_deadline(const struct fc_session *s);
/* Closes the session's handles (once); the last close callback frees it.
 * Until then it stays valid: callers up the stack may still read it. */
void fc_session_release(struct fc_session *s);
void fc_session_handle_closed(uv_handle_t *h);
const char *fc_session_state_name(enum fc_sess_state st);

/* sender.c */
/* Before anything can fail: makes fc_sender_free and the socket close safe. */
void fc_sender_preinit(struct fc_session *s);
int fc_sender_init(struct fc_session *s);
void fc_sender_free(struct fc_session *s);
/* The data socket (netio.c opens it; the sender owns it until taken back). */
void fc_sender_attach(struct fc_session *s, int fd, const struct sockaddr_in *dst);
int fc_sender_take_fd(struct fc_session *s);
void fc_sender_begin_pass(struct fc_session *s);
void fc_sender_set_rate(struct fc_session *s, double bytes_per_s);
double fc_sender_rate(const struct fc_session *s);
double fc_sender_rate_max(const struct fc_session *s);
/* The sequence number of the next DATA packet: how many we have sent. */
uint32_t fc_sender_seq(const struct fc_session *s);
/* 1 if the pass has not finished sending this block yet. */
int fc_sender_in_flight(const struct fc_session *s, uint32_t chunk, uint32_t block);
/* The worst loss fraction active receivers reported lately (ratectl.c, each
 * second), or a negative value when none has a figure: feeds the parity. */
void fc_sender_observe_loss(struct fc_session *s, double worst);
/* The proactive parity per block now, in percent of k (for logs and stats). */
double fc_sender_parity_level(const struct fc_session *s);
/* Pure parts, unit-tested without a socket or a loop:
 * the token bucket after elapsed_ns at rate (bytes/s), bounded by its burst; */
double fc_pace_refill(double tokens, double rate, uint64_t elapsed_ns);
double fc_pace_burst(double rate);
/* parity packets for a block of k at loss fraction `loss` (margin included),
 * at least floor * k and at most cap * k and what the code has; */
unsigned fc_parity_count(double loss, unsigned k, double floor, double cap);
/* one loss sample (negative: none) into the smoothed level. */
void fc_parity_observe(struct fc_parity_ctl *pc, double sample);

/* repair.c */
int fc_repair_init(struct fc_session *s);
void fc_repair_free(struct fc_session *s);
void fc_repair_on_nak(struct fc_session *s, struct fc_rx *rx, const struct fc_nak *n);
void fc_repair_end_round(struct fc_session *s);
/* The chunk of the next repair, without taking it: 1, or 0 if none. */
int fc_repair_peek(const struct fc_session *s, uint32_t *chunk);
/* The next repair to send: 1 and fills chunk/block/parity index, or 0. */
int fc_repair_next(struct fc_session *s, uint32_t *chunk, uint32_t *block, uint8_t *wire_index);
void fc_repair_sent(struct fc_session *s, uint32_t chunk, uint32_t block, uint32_t seq);
/* The pass sent parity 0..parity-1 of this block: fresh repairs start after. */
void fc_repair_proactive_sent(struct fc_session *s, uint32_t chunk, uint32_t block,
                              unsigned parity);
uint32_t fc_repair_gblock(const struct fc_session *s, uint32_t chunk, uint32_t block);
uint64_t fc_repair_src_pkts(const struct fc_session *s);

/* joins.c */
int fc_joins_init(struct fc_session *s);
void fc_joins_free(struct fc_session *s);
void fc_joins_on_join(struct fc_session *s, const struct sockaddr_in *from, const uint8_t *pkt,
                      size_t len, uint32_t seq, const struct fc_join *j);
/* The pending JOIN with this id, if pkt's tag is made with its secret:
 * admitted into the receiver table (fc_rx_admit) and returned. */
struct fc_rx *fc_joins_confirm(struct fc_session *s, uint32_t id, const uint8_t *pkt, size_t len,
                               uint32_t seq);
int fc_joins_known(const struct fc_session *s, uint32_t id);
void fc_joins_expire(struct fc_session *s, double now);
/* g NULL for a refusal; else the grant sealed to box_pub (fc_joins_grant). */
void fc_joins_send_ack(struct fc_session *s, const struct sockaddr_in *to, uint64_t nonce,
                       uint32_t id, uint8_t status, const struct fc_grant *g,
                       const uint8_t *box_pub);
/* What a JOIN_ACK grants: the secret and the machine's MAC (text, "" not
 * known), host name and lab. Wipe it after use (it holds the secret). */
void fc_joins_grant(struct fc_grant *g, const uint8_t *secret, const char *mac,
                    const char *hostname, const char *lab);

/* receivers.c */
struct fc_rx *fc_rx_find(struct fc_session *s, uint32_t id);
/* The receiver a control packet (already decoded) comes from, if its tag is
 * right and its sequence number new; NULL otherwise (counted). An unknown
 * id on the control port (rejoin_hint) is told, rate-limited, to join again. */
struct fc_rx *fc_rx_authenticate(struct fc_session *s, const struct sockaddr_in *from,
                                 const uint8_t *pkt, size_t len, uint32_t seq, uint32_t id,
                                 int rejoin_hint);
/* A confirmed JOIN becomes a receiver; NULL if the table refuses it. */
struct fc_rx *fc_rx_admit(struct fc_session *s, const struct fc_pending *p, uint32_t seq);
/* A JOIN tagged with a receiver's secret: the same machine, from a new port. */
void fc_rx_rejoined(struct fc_session *s, struct fc_rx *r, const struct sockaddr_in *from,
                    const struct fc_join *j);
/* Whether a new JOIN from this address may be taken (table and per-address limits). */
int fc_rx_room_for(const struct fc_session *s, struct in_addr ip);
void fc_rx_on_progress(struct fc_session *s, struct fc_rx *r, uint32_t seq,
                       const struct fc_progress *p);
void fc_rx_on_done(struct fc_session *s, struct fc_rx *r, const struct fc_done *d);
void fc_rx_on_abort(struct fc_session *s, struct fc_rx *r, const struct fc_abort *a);
/* For the log line of a machine done (enum fc_rx_identity). */
const char *fc_rx_identity_text(uint8_t identity);
void fc_rx_drop(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *why);
void fc_rx_fail(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *why);
void fc_rx_send_abort(struct fc_session *s, struct fc_rx *r, uint8_t reason, const char *text);
/* Charges rx for pkts repair packets its NAK adds: 0, or FC_EREFUSED past
 * its budget (--repair-budget x the image's packets, + a floor). */
int fc_rx_charge_repair(struct fc_session *s, struct fc_rx *rx, unsigned pkts);
/* r's recent loss fraction for the proactive parity, or -1: not active, no
 * figure yet, or past its repair budget (a receiver that asked that much is
 * not trusted to size everyone's parity). */
double fc_rx_recent_loss(const struct fc_session *s, const struct fc_rx *r);
/* Rate control has looked at every fresh loss figure: the next tick acts
 * only on figures from reports made since (one report, one decision, however
 * long the report interval). */
void fc_rx_loss_used(struct fc_session *s);
/* The PROGRESS interval JOIN_ACK asks for: --report-ms, longer with many
 * receivers, so that a lab's reports stay a small, fixed share of the
 * traffic (docs/protocol.md, JOIN_ACK). */
uint16_t fc_rx_report_ms(const struct fc_session *s);
/* 1 if r's last report says it still lacks chunk c. */
int fc_rx_lacks(const struct fc_rx *r, uint32_t c);
uint32_t fc_rx_count(const struct fc_session *s, enum fc_rx_status st);
/* 1 if some active receiver still needs chunk c (as far as its reports say). */
int fc_rx_chunk_needed(const struct fc_session *s, uint32_t c);
const char *fc_rx_status_name(enum fc_rx_status st);

/* control.c */
void fc_control_on_ctrl(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags);
void fc_control_on_group(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                         unsigned flags);
void fc_control_alloc_daemon(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
void fc_control_alloc_session(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

/* hooks.c: the image's hooks (IMG.hooks/ next to the image file), packed
 * once at session creation into s->hooks_blob and hashed into
 * s->hooks_hash; none is not an error. why says what is wrong with them. */
int fc_hooks_load(struct fc_session *s, char *why, size_t cap);

/* manifest_srv.c */
void fc_manifest_srv_on_connect(uv_stream_t *server, int status);
/* The signed manifest and its signature block, made once per session and
 * shared by reference (loop thread only): a write in flight keeps it alive
 * after its session is freed, and a hundred receivers fetching it at once
 * cost one copy, not a hundred. */
struct fc_manifest_blob *fc_manifest_blob_new(const struct fc_image *img);
/* The same, of bytes taken over (free()d with the blob). */
struct fc_manifest_blob *fc_manifest_blob_of(uint8_t *bytes, size_t len);
void fc_manifest_blob_unref(struct fc_manifest_blob *b);

/* chunk_srv.c: the answer to a CHUNK_REQ (its head, and the chunk's bytes
 * unless refused), made at once; fc_chunk_srv_sent() when it is written or
 * the connection is gone. */
struct fc_chunk_reply {
    uint8_t head[FC_CHUNK_HEAD_LEN];
    uint8_t *bytes; /* malloc'd; NULL for a refusal */
    size_t len;
    uint32_t session, rid; /* whose one-at-a-time slot to release */
};
/* 0 with *out to send, or a negative code: close without a word (a bad
 * tag, an unknown or ended receiver: nothing to tell a forger). */
int fc_chunk_srv_answer(struct fc_daemon *d, const uint8_t *req, size_t len,
                        const struct sockaddr_in *peer, struct fc_chunk_reply *out);
void fc_chunk_srv_sent(struct fc_daemon *d, struct fc_chunk_reply *rep, int ok);

/* chunkcache.c */
int fc_chunkcache_init(struct fc_chunkcache *c, int fd, const struct fc_manifest *m,
                       uint16_t payload, uint8_t k_max);
/* From here on chunks are read on loop's thread pool, never on the loop. */
int fc_chunkcache_async(struct fc_chunkcache *c, uv_loop_t *loop);
/* The chunk if it is read; else NULL, its read started, and *rc 0 (come
 * back later) or a negative code (the image cannot be read). */
const struct fc_cached_chunk *fc_chunkcache_get(struct fc_chunkcache *c, uint32_t chunk, int *rc);
/* Starts reading chunk ahead of its use, into the least recently used slot
 * not being read (nothing if it is cached or being read already). */
void fc_chunkcache_prefetch(struct fc_chunkcache *c, uint32_t chunk);
/* A packet of the send batch points into e's bytes until it is sent: a
 * pinned slot is never evicted (nor read into); unpin when it is sent. */
void fc_chunkcache_pin(struct fc_chunkcache *c, const struct fc_cached_chunk *e);
void fc_chunkcache_unpin(struct fc_chunkcache *c, const struct fc_cached_chunk *e);
void fc_chunkcache_free(struct fc_chunkcache *c);

/* ratectl.c */
void fc_ratectl_tick(struct fc_session *s);
/* The worst recent loss fraction of the active receivers, or -1 if none has one. */
double fc_ratectl_worst_loss(const struct fc_session *s);

/* stats.c */
int fc_stats_write(const struct fc_session *s, const char *path);
void fc_stats_log_summary(const struct fc_session *s);

/* capture.c: captures over the network (--daemon). arm/cancel take the API's
 * body ({mac, out, level} / {mac}); adopt takes a connection whose first
 * header (already read) is a CAP_HELLO, and closes fd in any case. */
struct fc_captures;
int fc_captures_open(struct fc_daemon *d);
void fc_captures_close(struct fc_daemon *d);
int fc_captures_arm(struct fc_daemon *d, const json_t *body, json_t **res, char *why, size_t cap);
int fc_captures_cancel(struct fc_daemon *d, const json_t *body, json_t **res, char *why,
                       size_t cap);
json_t *fc_captures_json(struct fc_captures *cs);

/* capdir.c: a capture's out confined to --capture-dir. open: the directory
 * (made if missing), or -1 (logged). name: out as a path relative to dir
 * (a name, a relative path, or an absolute one inside dir; no "..", "."
 * or empty parts) into rel. parent: out's directory opened beneath dir
 * with no symbolic link on the way (O_PATH fd, or -1), *name its last part.
 * check: parent resolves and out is not there already (unless overwrite,
 * and then only a file). Errors are FC_EINVAL with why said. */
int fc_capdir_open(const char *path);
int fc_capdir_name(const char *dir, const char *out, char *rel, size_t cap, char *why, size_t wcap);
int fc_capdir_parent(int dir, const char *rel, const char **name, char *why, size_t wcap);
int fc_capdir_check(int dir, const char *rel, int overwrite, char *why, size_t wcap);
int fc_captures_adopt(struct fc_daemon *d, int fd, const struct sockaddr_in *peer,
                      const uint8_t first[FC_HDR_LEN]);

/* pxecfg.c: boot actions. set: the inventory's action for MAC and, with --tftp-root, its boot
 * files (common/bootaction.c); *err says why not. sync: every inventory machine's files, at
 * start. machine_done: a machine done and verified boots its local disk next time. */
int fc_pxecfg_check_root(const char *root);
int fc_pxecfg_set(struct fc_daemon *d, const char *mac, enum fc_boot_action action,
                  const char *image, const char *why, char *err, size_t cap);
void fc_pxecfg_sync(struct fc_daemon *d);
/* A schedule's run: the lab's machines (inventory rows) deploy, each remembering its action.
 * absent: a machine of the session's lab that never joined gets that action back. */
int fc_pxecfg_lab_deploy(struct fc_daemon *d, const json_t *machines, const char *why);
void fc_pxecfg_absent(struct fc_session *s, const json_t *m);
/* POST /api/v1/boot (docs/api.md): *out lists the machines set, also when one failed (then
 * FC_ESTATE and *why; FC_EINVAL: a bad request, nothing changed). */
int fc_pxecfg_request(struct fc_daemon *d, const json_t *body, json_t **out, char *why, size_t cap);
int fc_pxecfg_machine_done(struct fc_session *s, struct fc_rx *r);

#endif
