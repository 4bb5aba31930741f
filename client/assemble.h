/* Chunk reassembly on the receiver: DATA packets of the chunks in flight
 * stored straight into each chunk's compressed buffer (source packets) or a
 * block's parity store, FEC blocks decoded as soon as they hold k distinct
 * packets, and the per-chunk state (missing, assembling, complete, queued,
 * written). Pure: no sockets, no threads, no clock; tests/unit/test-assemble.c.
 *
 * Memory is bounded in bytes: mem_max covers the chunks in reassembly (their
 * buffers and parity) and the complete chunks handed to the writer and not
 * yet written (each counted as its compressed size from the manifest, from
 * fc_asm_take() or fc_asm_claim() to fc_asm_written(), fc_asm_forget() or
 * fc_asm_dropped()); at most max_slots chunks are in reassembly at once. A
 * new chunk evicts the one with the least progress (its packets come again in
 * a later pass), never a complete one; only when nothing is in reassembly is
 * one chunk admitted beyond mem_max, so the total stays under mem_max plus
 * one chunk's buffer (FC_CHUNK_MAX plus padding) whatever the chunk size or
 * the image's length. */
#ifndef FC_CLIENT_ASSEMBLE_H
#define FC_CLIENT_ASSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "client/naksched.h"
#include "common/fec.h"
#include "common/manifest.h"
#include "proto/packet.h"

/* What happened to a packet given to fc_asm_add(). Errors are negative. */
enum fc_asm_result {
    FC_ASM_STORED = 0,  /* a new packet, kept */
    FC_ASM_DUP = 1,     /* already held, or its block or chunk is already complete */
    FC_ASM_REFUSED = 2, /* first packet of a chunk not admitted (allow_new 0 or no room) */
    FC_ASM_BLOCK = 3,   /* completed (and if needed decoded) a block */
    FC_ASM_CHUNK = 4,   /* completed the whole chunk: fc_asm_take() it */
};

enum fc_chunk_state {
    FC_CHUNK_MISSING = 0,
    FC_CHUNK_ASSEMBLING, /* has a slot */
    FC_CHUNK_COMPLETE,   /* every block decoded, buffer still in its slot */
    FC_CHUNK_QUEUED,     /* taken: with the writer */
    FC_CHUNK_WRITTEN,    /* verified and written */
};

struct fc_asm_block {
    uint8_t k;
    uint8_t have;                    /* distinct packets held, source and parity */
    uint8_t done;                    /* all k sources in the chunk buffer */
    uint8_t max_index;               /* highest packet index held (NAK bitmap rule) */
    uint8_t n_par;                   /* parity packets stored */
    uint8_t cap_par;                 /* parity slots allocated */
    uint8_t held[FC_NAK_BITMAP_MAX]; /* bit i: packet index i held */
    uint8_t *par;                    /* cap_par packets of sym_len bytes */
    uint8_t *par_idx;                /* their indices */
    struct fc_nakst nak;             /* owned by the NAK scheduler */
};

struct fc_asm_chunk {
    int in_use;
    uint32_t idx;
    struct fc_blocks cut;
    uint8_t *buf; /* cut.packets * cut.sym_len; the chunk is its first chunk_len bytes */
    size_t mem;   /* bytes this slot holds (buffer and parity) */
    struct fc_asm_block *blk;
    uint32_t blocks_done;
    uint32_t held;     /* distinct packets over all blocks: the eviction measure */
    uint32_t top;      /* highest block with a packet */
    uint32_t last_seq; /* sequence of the latest packet of the chunk */
    int seq_set;
};

struct fc_asm {
    const struct fc_manifest *m;
    uint16_t payload;
    uint8_t k_max;
    uint8_t *state; /* enum fc_chunk_state, per chunk */
    struct fc_asm_chunk *slot;
    unsigned n_slots;
    size_t mem, mem_max; /* mem: in reassembly + queued */
    size_t queued;       /* bytes of chunks taken (queued for the writer), part of mem */
    unsigned hint;       /* slot of the last packet: the next one is usually the same chunk */
    uint32_t n_active;   /* slots in use */
    struct fc_fec *fec;
};

int fc_asm_init(struct fc_asm *a, const struct fc_manifest *m, uint16_t payload, uint8_t k_max,
                unsigned max_slots, size_t mem_max);
void fc_asm_free(struct fc_asm *a);

/* Adds one decoded DATA packet. FC_EPROTO if it fits no chunk of the
 * manifest or disagrees with its chunk's cut (a reject); FC_ENOMEM. *out
 * (may be NULL) gets the packet's chunk slot when it has one. */
int fc_asm_add(struct fc_asm *a, const struct fc_data *d, uint32_t seq, int allow_new,
               struct fc_asm_chunk **out);
/* Packets block b of slot c still lacks (0 once decoded). */
unsigned fc_asm_missing(const struct fc_asm_chunk *c, uint32_t b);
/* Fills a NAK entry for block b of c (with the bitmap when the protocol
 * wants one: highest index held + needed > 254). */
void fc_asm_nak_entry(const struct fc_asm_chunk *c, uint32_t b, struct fc_nak_entry *e);
/* Hands a complete chunk's buffer (chunk_len bytes meaningful) to the
 * caller, who frees it; the slot is released and the chunk is QUEUED. */
uint8_t *fc_asm_take(struct fc_asm *a, struct fc_asm_chunk *c, size_t *len);
void fc_asm_written(struct fc_asm *a, uint32_t idx);
/* A queued chunk's buffer was freed without being written (the writer
 * refused it): it is MISSING again and its bytes no longer count. */
void fc_asm_dropped(struct fc_asm *a, uint32_t idx);
/* The chunk failed its hash: forget every packet of it and start it again
 * empty (*out, or NULL if no slot could be had: it is then simply MISSING). */
int fc_asm_forget(struct fc_asm *a, uint32_t idx, struct fc_asm_chunk **out);
/* The chunk's bytes came another way (over TCP after failing its hash
 * twice): drop its packets and mark it QUEUED, as fc_asm_take() does. */
void fc_asm_claim(struct fc_asm *a, uint32_t idx);
/* Drops every chunk still in reassembly (the cut changed after a server
 * restart); queued and written chunks are kept. */
void fc_asm_drop_active(struct fc_asm *a, uint16_t payload, uint8_t k_max);

#endif
