/* How a chunk's compressed bytes are cut into packets and FEC blocks: the
 * one rule sender and receiver share to map (chunk, block, index) to bytes. */
#include "proto/packet.h"

#include "common/error.h"

/* DATA numbers blocks with 16 bits. */
#define BLOCKS_MAX 65536u

int fc_blocks_init(struct fc_blocks *b, uint32_t chunk_len, uint16_t payload_size, uint8_t k_max)
{
    if (chunk_len == 0 || payload_size < 1 || payload_size > FC_DATA_MAX_PAYLOAD || k_max < 1 ||
        k_max > FC_FEC_MAX_K)
        return FC_EINVAL;
    b->chunk_len = chunk_len;
    /* A chunk smaller than a packet travels in one packet of its own size,
     * not padded to a full one. */
    b->sym_len = chunk_len < payload_size ? (uint16_t)chunk_len : payload_size;
    b->packets = (uint32_t)(((uint64_t)chunk_len + b->sym_len - 1) / b->sym_len);
    b->blocks = (b->packets + k_max - 1) / k_max;
    if (b->blocks > BLOCKS_MAX)
        return FC_EINVAL;
    /* Even blocks: with k_max 200, 201 packets make blocks of 101 and 100,
     * not 200 and 1, so no block is left with weak protection. */
    b->base_k = (uint8_t)(b->packets / b->blocks);
    b->extra = b->packets % b->blocks;
    return 0;
}

uint8_t fc_blocks_k(const struct fc_blocks *b, uint32_t block)
{
    if (block >= b->blocks)
        return 0;
    return (uint8_t)(b->base_k + (block < b->extra));
}

uint32_t fc_blocks_first(const struct fc_blocks *b, uint32_t block)
{
    return block * b->base_k + (block < b->extra ? block : b->extra);
}

int fc_blocks_check(const struct fc_blocks *b, const struct fc_data *d)
{
    if (d->block >= b->blocks || d->k != fc_blocks_k(b, d->block) || d->len != b->sym_len)
        return FC_EPROTO;
    return 0;
}
