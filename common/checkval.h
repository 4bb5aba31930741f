/* The whole-disk check value a receiver reports when done: BLAKE2b-256 over
 * the 32-byte content hashes of all chunks in order. The server computes the
 * expected value from the manifest alone; a receiver recomputes each chunk
 * hash from the bytes it reads back from its target after fsync, so "done"
 * means "the disk holds the image", not "the writes were issued". */
#ifndef FC_CHECKVAL_H
#define FC_CHECKVAL_H

#include <stdint.h>

#include "common/manifest.h"

#define FC_CHECKVAL_LEN 32

void fc_checkval_expected(const struct fc_manifest *m, uint8_t out[FC_CHECKVAL_LEN]);
/* Reads every stored extent of the target back; FC_EIO on a read error.
 * *first_bad (may be NULL) gets the first chunk whose bytes differ, or -1. */
int fc_checkval_read_back(const struct fc_manifest *m, int fd, uint8_t out[FC_CHECKVAL_LEN],
                          int64_t *first_bad);

#endif
