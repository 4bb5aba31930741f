/* Reed-Solomon erasure code over GF(2^8), by Intel ISA-L: the parity that
 * repairs multicast loss. A block is k source packets of equal length; parity
 * packet j (0 <= j < FC_FEC_MAX_N - k) is row k + j of a Cauchy generator
 * matrix, so any k distinct packets of a block (source or parity, named by
 * index: source i is index i, parity j is index k + j) give back the source.
 *
 * One struct fc_fec per thread: it caches encode tables per k and holds the
 * decode scratch, so neither encode nor decode allocates after the first use
 * of a given k. The code checks nothing about content: a forged packet fed to
 * the decoder yields wrong source bytes without error. The caller's chunk
 * hash (checked before anything is decompressed) is what catches that. */
#ifndef FC_FEC_H
#define FC_FEC_H

#include <stddef.h>
#include <stdint.h>

#define FC_FEC_MAX_K 200
#define FC_FEC_MAX_N 255 /* packet indices 0..254: k + parity count <= 255 */
#define FC_FEC_MAX_LEN 65535

struct fc_fec;

/* FC_ENOMEM, or 0 and *out set. */
int fc_fec_new(struct fc_fec **out);
void fc_fec_free(struct fc_fec *f);

/* How many distinct parity packets a block of k source packets has. */
unsigned fc_fec_max_parity(unsigned k);

/* Computes parity packets first .. first + count - 1 of the block src[0..k)
 * (each len bytes) into parity[0..count). The sender calls it with count 1
 * to make one fresh repair packet on demand, or with a larger count for a
 * burst of proactive parity (one pass over the source then serves up to six
 * rows at a time). FC_EINVAL for k, len or indices out of range; FC_ENOMEM if
 * the first use of k cannot get its tables. */
int fc_fec_encode(struct fc_fec *f, unsigned k, size_t len, const uint8_t *const *src,
                  unsigned first, unsigned count, uint8_t *const *parity);

/* Rebuilds the k source packets of a block from any k packets of it:
 * in[r] (len bytes) is the packet with index idx[r], r = 0..k-1, indices
 * distinct and < FC_FEC_MAX_N. Source packet i lands in out[i]. out[i] may be
 * the same pointer as the in[r] holding source i (nothing is copied then);
 * the out[] of a missing source must not overlap any in[]. FC_EINVAL for bad
 * arguments or repeated indices. */
int fc_fec_decode(struct fc_fec *f, unsigned k, size_t len, const uint8_t *const *in,
                  const uint8_t *idx, uint8_t *const *out);

#endif
