/* The whole-disk check value a receiver reports when done: BLAKE2b-256 over
 * the 32-byte content hashes of all chunks in order. The server computes the
 * expected value from the manifest alone. A receiver either takes each
 * chunk's hash for the chunks it verified and wrote, fsync having succeeded
 * ("every verified chunk is written and synced", the default), or, with
 * read-back, recomputes each from the bytes it reads back from its target
 * after fsync ("the disk holds the image", at the cost of a second pass). */
#ifndef FC_CHECKVAL_H
#define FC_CHECKVAL_H

#include <stdint.h>

#include "common/manifest.h"

#define FC_CHECKVAL_LEN 32

void fc_checkval_expected(const struct fc_manifest *m, uint8_t out[FC_CHECKVAL_LEN]);
/* The value of the chunks marked in written[n_chunks] (non-zero: verified
 * and written), a missing one counting as a zero hash; *first_missing (may
 * be NULL) gets the first missing chunk, or -1. written NULL: all. */
void fc_checkval_written(const struct fc_manifest *m, const uint8_t *written,
                         uint8_t out[FC_CHECKVAL_LEN], int64_t *first_missing);
/* Reads every stored extent of the target back; FC_EIO on a read error.
 * *first_bad (may be NULL) gets the first chunk whose bytes differ, or -1. */
int fc_checkval_read_back(const struct fc_manifest *m, int fd, uint8_t out[FC_CHECKVAL_LEN],
                          int64_t *first_bad);

#endif
