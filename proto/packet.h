/* The fleetcast wire protocol, version 3: the common header, the packet types,
 * the structs a decoded packet fills, and one encoder/decoder pair per type.
 * docs/protocol.md describes every byte and why it is there.
 *
 * Pure functions on byte buffers: no sockets, no allocation, no state.
 * - Encoders take the sender's session id and sequence number and the body,
 *   check the body against the same rules the decoder applies (so we never
 *   emit what a peer must reject), and return the packet length, or FC_EINVAL
 *   for a bad body or a buffer too small.
 * - Decoders return 0, or FC_EPROTO for anything short, oversized, of another
 *   magic, version or type, or internally inconsistent; they never read past
 *   len and never trust a length field before checking it against len. */
#ifndef FC_PROTO_PACKET_H
#define FC_PROTO_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/fec.h"
#include "common/manifest.h"

#define FC_PROTO_MAGIC 0x54434c46u /* the bytes "FLCT" on the wire */
#define FC_PROTO_VERSION 3
#define FC_HDR_LEN 14

/* No packet may need IP fragmentation on a 1500-byte Ethernet MTU: one lost
 * fragment would lose the whole datagram, multiplying the loss rate. */
#define FC_MTU 1500
#define FC_IP_UDP_OVERHEAD 28 /* IPv4 header without options (20) + UDP (8) */
#define FC_PKT_MAX (FC_MTU - FC_IP_UDP_OVERHEAD)
#define FC_DATA_HDR_LEN (FC_HDR_LEN + 10)
#define FC_DATA_MAX_PAYLOAD (FC_PKT_MAX - FC_DATA_HDR_LEN) /* 1448 */

#define FC_ID_LEN FC_IMAGE_ID_LEN /* the manifest's image id */
#define FC_CHECK_LEN 32           /* whole-disk check value (BLAKE2b-256) */
#define FC_NAK_MAX_ENTRIES 32
#define FC_NAK_BITMAP_MAX ((FC_FEC_MAX_N + 7) / 8) /* one bit per packet index */
#define FC_PROGRESS_WINDOW 1024                    /* chunks in the completion window */
#define FC_NAME_MAX 64
#define FC_ABORT_TEXT_MAX 120
#define FC_MANIFEST_HEAD_LEN (FC_HDR_LEN + 5)
#define FC_SIGNER_LEN 32 /* Ed25519 public key of the image's signer */
#define FC_BOXPUB_LEN 32 /* the receiver's X25519 public key for this JOIN */
#define FC_SECRET_LEN 16 /* a receiver's session secret, the key of its tags */
#define FC_GRANT_MAC_LEN 6
#define FC_GRANT_TEXT_MAX 63 /* a host name (RFC 1123, Linux's 64 less its NUL) or a lab */
#define FC_HOOKS_HASH_LEN 32 /* BLAKE2b-256 of the image's hooks tar; all zero: none */
/* The largest hooks tar a server serves and a receiver takes. */
#define FC_HOOKS_MAX (16u << 20)
/* What JOIN_ACK seals: secret, MAC, host name length and bytes, lab length
 * and bytes, the hash of the image's hooks tar. */
#define FC_GRANT_LEN                                                                               \
    (FC_SECRET_LEN + FC_GRANT_MAC_LEN + 2 * (1 + FC_GRANT_TEXT_MAX) + FC_HOOKS_HASH_LEN)
#define FC_SEALED_LEN (FC_GRANT_LEN + 48) /* crypto_box_seal of the grant */
#define FC_TAG_LEN 16 /* keyed BLAKE2b-128 at the end of an authenticated packet */

/* Defaults; both are configurable on server and receiver. */
#define FC_PORT_DEFAULT 7650
#define FC_DISCOVERY_GROUP "239.255.70.67"

enum fc_pkt_type {
    FC_PKT_DISCOVER = 1,      /* receiver -> discovery group or server: who serves? */
    FC_PKT_ANNOUNCE = 2,      /* server -> receiver: a session and where to fetch it */
    FC_PKT_JOIN = 3,          /* receiver -> server: register */
    FC_PKT_JOIN_ACK = 4,      /* server -> receiver: receiver id, or refusal */
    FC_PKT_DATA = 5,          /* server -> group: one source or parity packet */
    FC_PKT_NAK = 6,           /* receiver -> group: what blocks still need */
    FC_PKT_PROGRESS = 7,      /* receiver -> server: about once a second */
    FC_PKT_DONE = 8,          /* receiver -> server, and the server's acknowledgement */
    FC_PKT_ABORT = 9,         /* either way: a session or one receiver ends in error */
    FC_PKT_MANIFEST_REQ = 10, /* TCP, receiver -> server: send me the manifest */
    FC_PKT_MANIFEST = 11,     /* TCP, server -> receiver: status + length, then the bytes */
    FC_PKT_CHUNK_REQ = 12,    /* TCP, receiver -> server: one chunk, tagged (chunkreq.c) */
    FC_PKT_CHUNK = 13,        /* TCP, server -> receiver: status + length, then the bytes */
    FC_PKT_CAP_HELLO = 14,    /* TCP, capturing machine -> server: start an upload (capture.c) */
    FC_PKT_CAP_CHUNK = 15,    /* TCP, machine -> server: one chunk's head, then its bytes */
    FC_PKT_CAP_FINISH = 16,   /* TCP, machine -> server: manifest length, then the manifest */
    FC_PKT_CAP_REPLY = 17,    /* TCP, server -> machine: after HELLO, FINISH, or a refusal */
    FC_PKT_HOOKS_REQ = 18,    /* TCP, receiver -> server: send me the image's hooks tar */
    FC_PKT_HOOKS = 19,        /* TCP, server -> receiver: status + length, then the tar */
};
#define FC_PKT_TYPE_MAX 19

/* Shared by ABORT.reason, JOIN_ACK.status and DONE.status (0 = success). */
enum fc_reason {
    FC_REASON_OK = 0,
    FC_REASON_OPERATOR = 1,    /* stopped by the operator */
    FC_REASON_TOO_SMALL = 2,   /* target smaller than the image's disk */
    FC_REASON_WRONG_IMAGE = 3, /* image id differs from the session's */
    FC_REASON_SILENT = 4,      /* dropped: stopped reporting */
    FC_REASON_BEHIND = 5,      /* dropped: too far behind the others */
    FC_REASON_WRITE = 6,       /* the receiver could not write its target */
    FC_REASON_VERIFY = 7,      /* the whole-disk check failed */
    FC_REASON_REJOIN = 8,      /* unknown receiver id (server restarted): discover and join again */
    FC_REASON_FULL = 9,        /* the session takes no more receivers */
    FC_REASON_INTERNAL = 10,   /* a bug or resource failure on the sender's side */
    FC_REASON_DEADLINE = 11,   /* the session's deadline passed before this machine finished */
    FC_REASON_IDENTITY = 12,   /* the clone's identity or a site hook failed (docs/identity.md) */
    FC_REASON_NOT_ARMED = 13,  /* CAP_REPLY: no capture is armed for this machine */
};
#define FC_REASON_MAX 13

/* The session as ANNOUNCE shows it. */
enum fc_session_state {
    FC_SESSION_WAITING = 1, /* taking joins, not sending yet */
    FC_SESSION_SENDING = 2, /* first pass over the image */
    FC_SESSION_REPAIR = 3,  /* first pass done; repairs and late joiners */
};
#define FC_SESSION_STATE_MAX 3

/* A receiver as PROGRESS shows it. */
enum fc_rx_state {
    FC_RX_WAITING = 1,   /* joined, session not started */
    FC_RX_RECEIVING = 2, /* chunks arriving */
    FC_RX_FLUSHING = 3,  /* every chunk received; writes and fsync pending */
    FC_RX_CHECKING = 4,  /* computing the whole-disk check value */
    FC_RX_DONE = 5,
    FC_RX_FAILED = 6,
};
#define FC_RX_STATE_MAX 6

#define FC_DONE_ACK 0x01 /* DONE.flags: the server's acknowledgement */
/* DONE.flags: the check value was recomputed from the disk read back after
 * fsync; without it, it is the value of the verified chunks as written. */
#define FC_DONE_READBACK 0x02
/* DONE.flags: the clone's identity (its host name) was set in a Linux root
 * or a Windows system volume (DONE's identity text says which); or,
 * FC_DONE_ID_SKIPPED, a name was given and no such system was found.
 * Neither: no name was given. Never both. */
#define FC_DONE_IDENTITY 0x04
#define FC_DONE_ID_SKIPPED 0x08
/* DONE.flags: the session asked for --grow; the grow step's result (enum
 * fc_grow_result of common/grow.h, 0 = done) in bits 5-7. Reported apart
 * from status: the check value covers the image as written, before growing. */
#define FC_DONE_GROW 0x10
#define FC_DONE_GROW_SHIFT 5
#define FC_DONE_GROW_MASK 0xe0

struct fc_hdr {
    uint8_t type; /* enum fc_pkt_type */
    uint32_t session;
    uint32_t seq;
};

struct fc_discover {
    uint64_t nonce;
};

struct fc_announce {
    uint64_t nonce; /* the DISCOVER's, echoed */
    uint8_t image_id[FC_ID_LEN];
    uint8_t group[4]; /* IPv4 multicast group, network byte order */
    uint16_t data_port;
    uint16_t ctrl_port; /* UDP for JOIN/PROGRESS/DONE, TCP for the manifest */
    uint16_t payload_size;
    uint8_t k_max;
    uint8_t state; /* enum fc_session_state */
    uint8_t flags; /* FC_ANN_* */
    uint8_t signer[FC_SIGNER_LEN];
};

#define FC_ANN_ZERO_FREE 0x01 /* receivers zero what the image does not store */
#define FC_ANN_READBACK 0x02  /* receivers read the whole disk back after fsync */
/* Receivers grow a partition to fill a bigger disk: the last one, or the one
 * numbered in bits 3-7 (1-31) -- in the flags byte, so ANNOUNCE keeps its
 * length and older receivers' and the lab tools' parsers stay valid. */
#define FC_ANN_GROW 0x04
#define FC_ANN_GROW_PART_SHIFT 3
#define FC_ANN_GROW_PART_MAX 31

struct fc_join {
    uint64_t nonce;
    uint8_t image_id[FC_ID_LEN];
    uint64_t target_size;
    uint32_t chunks_done; /* > 0 when re-joining with chunks already written */
    uint8_t box_pub[FC_BOXPUB_LEN];
    uint32_t prev_id; /* re-joining as this receiver: the packet then ends in a tag */
    uint8_t name_len;
    char name[FC_NAME_MAX + 1]; /* NUL-terminated after decode */
};

struct fc_join_ack {
    uint64_t nonce;
    uint32_t receiver_id;          /* nonzero if and only if status is FC_REASON_OK */
    uint8_t status;                /* enum fc_reason */
    uint16_t report_ms;            /* PROGRESS interval the server wants */
    uint8_t sealed[FC_SEALED_LEN]; /* the secret sealed to box_pub; zero on refusal */
};

struct fc_data {
    uint32_t chunk;
    uint16_t block; /* FEC block within the chunk */
    uint8_t index;  /* < k: source packet; >= k: parity packet index - k */
    uint8_t k;      /* source packets in this block */
    uint16_t len;
    const uint8_t *payload; /* decode: points into the packet buffer */
};

struct fc_nak_entry {
    uint32_t chunk;
    uint16_t block;
    uint8_t k;
    uint8_t needed;                    /* packets still missing before the block decodes */
    uint8_t bitmap_len;                /* 0: no bitmap */
    uint8_t bitmap[FC_NAK_BITMAP_MAX]; /* bit i set: packet index i held */
};

struct fc_nak {
    uint32_t receiver_id;
    uint32_t seq_seen; /* highest DATA sequence seen when the NAK was made */
    uint8_t count;
    struct fc_nak_entry e[FC_NAK_MAX_ENTRIES];
};

struct fc_progress {
    uint32_t receiver_id;
    uint8_t state; /* enum fc_rx_state */
    uint32_t chunks_total;
    uint32_t chunks_done;
    uint32_t win_base; /* lowest chunk not yet written, or chunks_total */
    uint32_t seq_seen;
    uint32_t rejects; /* packets dropped as malformed or foreign */
    uint64_t bytes_written;
    uint64_t rate; /* bytes written per second, recent */
    uint64_t pkts_received;
    uint64_t pkts_lost;
    /* Of pkts_lost, the datagrams the receiver's own kernel dropped because
     * its socket buffer was full: the receiver cannot keep up at this rate,
     * which is congestion whatever its link's usual loss (ratectl.c). */
    uint64_t pkts_overflow;
    /* bit i: chunk win_base + i written. On the wire its length (u8) and
     * the window without its trailing zero bytes: 96 to 224 bytes. */
    uint8_t window[FC_PROGRESS_WINDOW / 8];
};

struct fc_done {
    uint32_t receiver_id;
    uint8_t flags;  /* FC_DONE_ACK, FC_DONE_READBACK, FC_DONE_GROW + result */
    uint8_t status; /* enum fc_reason */
    uint64_t bytes_written;
    uint8_t check[FC_CHECK_LEN];
    /* What the identity step did, one line for the operator ("windows:
     * unattend ComputerName=LAB-07"): printable, only with FC_DONE_IDENTITY,
     * never in the server's acknowledgement. */
    uint8_t identity_len;
    char identity[FC_ABORT_TEXT_MAX + 1]; /* NUL-terminated after decode */
};

struct fc_abort {
    uint32_t receiver_id; /* the receiver concerned, never 0 */
    uint8_t reason;       /* enum fc_reason, never FC_REASON_OK */
    uint8_t text_len;
    char text[FC_ABORT_TEXT_MAX + 1]; /* NUL-terminated after decode */
};

struct fc_manifest_req {
    uint8_t image_id[FC_ID_LEN]; /* all zero: whatever the session serves */
};

/* The head of the server's TCP answer; `length` manifest bytes follow. */
struct fc_manifest_head {
    uint8_t status; /* enum fc_reason */
    uint32_t length;
};

struct fc_chunk_req {
    uint32_t receiver_id;
    uint32_t chunk; /* index in the manifest's chunk list */
};

#define FC_CHUNK_REQ_LEN (FC_HDR_LEN + 8 + FC_TAG_LEN)
#define FC_CHUNK_HEAD_LEN (FC_HDR_LEN + 9)

/* The head of the server's answer to CHUNK_REQ; `length` compressed bytes
 * of the chunk follow (checked against the manifest by the receiver). */
struct fc_chunk_head {
    uint8_t status; /* enum fc_reason */
    uint32_t chunk; /* the request's */
    uint32_t length;
};

/* Capture upload (capture.c, docs/protocol.md "Capture upload"): over one
 * TCP connection to the control port, HELLO, then every chunk in order
 * (CAP_CHUNK head + comp_size bytes), then FINISH (+ the unsigned manifest).
 * The server answers HELLO and FINISH with CAP_REPLY, and a refusal at any
 * point with CAP_REPLY before it closes. Which machine it is comes from the
 * peer's MAC (ARP), never from these packets. */
#define FC_CAP_TOKEN_LEN 16
#define FC_CAP_HELLO_LEN (FC_HDR_LEN + FC_CAP_TOKEN_LEN + 13)
#define FC_CAP_CHUNK_LEN (FC_HDR_LEN + 12 + 2 * FC_HASH_LEN)
#define FC_CAP_FINISH_LEN (FC_HDR_LEN + 4)
#define FC_CAP_REPLY_LEN (FC_HDR_LEN + 5)
/* An upload's manifest: far above a 16 TiB disk's, far below what a peer
 * could make the server allocate for nothing. */
#define FC_CAP_MANIFEST_MAX (256u << 20)

struct fc_cap_hello {
    uint8_t token[FC_CAP_TOKEN_LEN]; /* fleetcast.capture= or all zero: the armed one */
    uint64_t disk_size;
    uint32_t chunk_size;
    uint8_t level;
};

struct fc_cap_chunk {
    uint32_t index; /* 0, 1, 2... in order */
    uint32_t raw_size;
    uint32_t comp_size; /* bytes that follow */
    uint8_t comp_hash[FC_HASH_LEN];
    uint8_t raw_hash[FC_HASH_LEN];
};

struct fc_cap_finish {
    uint32_t length; /* manifest bytes that follow */
};

struct fc_cap_reply {
    uint8_t status;  /* enum fc_reason */
    uint32_t chunks; /* chunks the server has taken */
};

/* Authenticated packets (PROGRESS, NAK, DONE, ABORT, and a re-JOIN) end in
 * FC_TAG_LEN bytes: encoders leave them zero, fc_auth_seal() fills them
 * with the keyed BLAKE2b of everything before, fc_auth_verify() checks them
 * (constant time). Decoders only check that they are there. */
int fc_auth_seal(uint8_t *pkt, size_t len, const uint8_t key[FC_SECRET_LEN]);
/* The key of one direction, derived from the receiver's secret: packets to
 * the server and to the receiver are tagged with different keys, so a
 * receiver's own packet reflected back at it (from the group, where its
 * NAKs are) never verifies as the server's. */
enum fc_auth_dir { FC_AUTH_TO_SERVER = 1, FC_AUTH_TO_RECEIVER = 2 };
void fc_auth_dir_key(const uint8_t secret[FC_SECRET_LEN], enum fc_auth_dir dir,
                     uint8_t out[FC_SECRET_LEN]);
int fc_auth_verify(const uint8_t *pkt, size_t len, const uint8_t key[FC_SECRET_LEN]);
/* What the server grants a receiver in JOIN_ACK: its secret, and the
 * machine's identity as the server knows it (the MAC from its ARP table,
 * the host name and lab from the inventory or the session's names), sealed
 * together to the JOIN's one-time X25519 key: a host that only sees the
 * traffic learns none of it, and the name comes with the secret every
 * later tagged packet of the server proves. */
struct fc_grant {
    uint8_t secret[FC_SECRET_LEN];
    uint8_t mac[FC_GRANT_MAC_LEN];         /* all zero: not known */
    char hostname[FC_GRANT_TEXT_MAX + 1];  /* "": none given */
    char lab[FC_GRANT_TEXT_MAX + 1];       /* "": none */
    uint8_t hooks_hash[FC_HOOKS_HASH_LEN]; /* all zero: the image has no hooks */
};
void fc_auth_box_keypair(uint8_t pub[FC_BOXPUB_LEN], uint8_t sec[32]);
/* FC_EINVAL for a text longer than FC_GRANT_TEXT_MAX. */
int fc_auth_seal_grant(uint8_t sealed[FC_SEALED_LEN], const struct fc_grant *g,
                       const uint8_t pub[FC_BOXPUB_LEN]);
/* FC_EPROTO if the box does not open, or its texts are too long, not
 * padded with zero bytes, or hold a control character. */
int fc_auth_open_grant(struct fc_grant *g, const uint8_t sealed[FC_SEALED_LEN],
                       const uint8_t pub[FC_BOXPUB_LEN], const uint8_t sec[32]);

/* A replay window over one peer's sequence numbers: the newest seen and the
 * 64 before it. fc_replay_accept() returns 1 and records seq if it is new,
 * 0 for a repeat or anything older than the window. Updated only after the
 * packet's tag verified, so forgeries cannot move it. */
struct fc_replay {
    int set;
    uint32_t top;
    uint64_t bits; /* bit i: top - i seen */
};
int fc_replay_accept(struct fc_replay *w, uint32_t seq);

/* Common header: decodes and checks magic, version, type range and packet
 * size; returns FC_HDR_LEN. Lets a receive loop dispatch on h->type. */
int fc_hdr_decode(const uint8_t *buf, size_t len, struct fc_hdr *h);
int fc_hdr_encode(uint8_t *buf, size_t cap, const struct fc_hdr *h);
/* Bytes 0-5 (magic, version, type) mean the same in every version, so a
 * peer of another version can be told, not just ignored. The version byte
 * of a packet with our magic, whatever its version (0..255), and its type
 * byte in *type; FC_EPROTO if it is not a fleetcast packet at all. */
int fc_hdr_peek_version(const uint8_t *buf, size_t len, uint8_t *type);
/* The version refusal: our header alone (session and sequence 0), of type
 * ANNOUNCE in answer to a DISCOVER and JOIN_ACK to a JOIN of another
 * version. A peer of our version never accepts it (too short for either
 * type); one of another version reads our version in byte 4. */
int fc_version_refusal_encode(uint8_t *buf, size_t cap, uint8_t type);

int fc_discover_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_discover *d);
int fc_discover_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_discover *d);
int fc_announce_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_announce *a);
int fc_announce_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_announce *a);

int fc_join_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_join *j);
int fc_join_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_join *j);
int fc_join_ack_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_join_ack *a);
int fc_join_ack_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_join_ack *a);

/* The 24 header bytes alone: the packet's length (header and d->len) or
 * FC_EINVAL; the payload goes out from where it is (a second iovec). */
int fc_data_encode_head(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_data *d);
/* d->payload may already sit at buf + FC_DATA_HDR_LEN (parity computed in
 * place); it is then not copied. */
int fc_data_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_data *d);
int fc_data_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_data *d);

int fc_nak_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq, const struct fc_nak *n);
int fc_nak_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_nak *n);

int fc_progress_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                       const struct fc_progress *p);
int fc_progress_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_progress *p);

int fc_done_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                   const struct fc_done *d);
int fc_done_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_done *d);

int fc_abort_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                    const struct fc_abort *a);
int fc_abort_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_abort *a);

/* MANIFEST_REQ and MANIFEST's head (fc_manifest_*), and the image's hooks
 * tar (docs/protocol.md "Hooks fetch"): HOOKS_REQ has MANIFEST_REQ's body,
 * HOOKS the MANIFEST head's (the tar, at most FC_HOOKS_MAX bytes, follows);
 * its hash is sealed in JOIN_ACK (fc_hooks_*). */
#define FC_FETCH_MESSAGES(name)                                                                    \
    int fc_##name##_req_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,           \
                               const struct fc_manifest_req *r);                                   \
    int fc_##name##_req_decode(const uint8_t *buf, size_t len, struct fc_hdr *h,                   \
                               struct fc_manifest_req *r);                                         \
    int fc_##name##_head_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,          \
                                const struct fc_manifest_head *m);                                 \
    int fc_##name##_head_decode(const uint8_t *buf, size_t len, struct fc_hdr *h,                  \
                                struct fc_manifest_head *m)
FC_FETCH_MESSAGES(manifest);
FC_FETCH_MESSAGES(hooks);

/* A chunk over TCP (chunkreq.c), for a receiver whose chunk failed its
 * hash twice: the request ends in a tag (fc_auth_seal) like every
 * receiver -> server packet. */
int fc_chunk_req_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_chunk_req *q);
int fc_chunk_req_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_chunk_req *q);
int fc_chunk_head_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                         const struct fc_chunk_head *c);
int fc_chunk_head_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_chunk_head *c);

int fc_cap_hello_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_cap_hello *c);
int fc_cap_hello_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_hello *c);
int fc_cap_chunk_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_cap_chunk *c);
int fc_cap_chunk_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_chunk *c);
int fc_cap_finish_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                         const struct fc_cap_finish *c);
int fc_cap_finish_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_finish *c);
int fc_cap_reply_encode(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq,
                        const struct fc_cap_reply *c);
int fc_cap_reply_decode(const uint8_t *buf, size_t len, struct fc_hdr *h, struct fc_cap_reply *c);
/* The length of the message a stream's FC_HDR_LEN header starts (the
 * capture types only), or 0. */
size_t fc_cap_msg_len(const uint8_t *hdr);

/* How a chunk of compressed bytes is cut into packets and FEC blocks. Sender
 * and receiver must agree byte for byte, so the rule lives here, next to
 * the DATA packet: every packet of a chunk carries sym_len bytes (the last
 * source packet zero-padded), and the packets are spread over as few blocks
 * of at most k_max as possible, the block sizes differing by at most one. */
struct fc_blocks {
    uint32_t chunk_len;
    uint16_t sym_len; /* payload bytes of every packet of the chunk */
    uint32_t packets; /* source packets */
    uint32_t blocks;
    uint8_t base_k; /* blocks below `extra` hold base_k + 1 packets */
    uint32_t extra;
};

int fc_blocks_init(struct fc_blocks *b, uint32_t chunk_len, uint16_t payload_size, uint8_t k_max);
uint8_t fc_blocks_k(const struct fc_blocks *b, uint32_t block);
/* Number, within the chunk, of the block's first source packet; its bytes
 * start at that times sym_len. */
uint32_t fc_blocks_first(const struct fc_blocks *b, uint32_t block);
/* FC_EPROTO unless a decoded DATA packet fits this chunk's cut. */
int fc_blocks_check(const struct fc_blocks *b, const struct fc_data *d);

/* Internal to proto/: the frame every encoder and decoder shares. */
int fc__pkt_begin(struct fc_wr *w, uint8_t *buf, size_t cap, uint8_t type, uint32_t session,
                  uint32_t seq);
int fc__pkt_end(const struct fc_wr *w);
int fc__pkt_open(struct fc_rd *r, const uint8_t *buf, size_t len, uint8_t type, struct fc_hdr *h);
int fc__pkt_close(const struct fc_rd *r);
int fc__pkt_end_tagged(struct fc_wr *w);
int fc__pkt_close_tagged(struct fc_rd *r);
int fc__text_ok(const char *s, size_t len);
unsigned fc__popcount(const uint8_t *bits, size_t len);

#endif
