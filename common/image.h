/* The image file: a fixed header, the chunks' compressed bytes back to back,
 * the manifest, and a signature block (docs/image-format.md). This module
 * opens an image, checks its structure and signature, and reads chunks. */
#ifndef FC_IMAGE_H
#define FC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/key.h"
#include "common/manifest.h"

#define FC_IMAGE_MAGIC "FLEETIMG"
#define FC_IMAGE_VERSION 1
#define FC_HEADER_SIZE 256
#define FC_SIGBLOCK_MAGIC "FCSIG001"
#define FC_SIGBLOCK_SIZE 112
#define FC_SIG_ED25519 1

struct fc_image {
    int fd;
    uint64_t file_size;
    struct fc_manifest m;
    uint8_t *manifest_raw; /* the signed bytes, as stored */
    size_t manifest_len;
    uint8_t signer[FC_PUBKEY_LEN];
    uint8_t sig[FC_SIG_LEN];
};

struct fc_image_header {
    uint8_t image_id[FC_IMAGE_ID_LEN];
    uint64_t manifest_off;
    uint64_t manifest_len;
    uint64_t sig_off;
};

void fc_image_header_encode(const struct fc_image_header *h, uint8_t *out);
int fc_image_header_decode(const uint8_t in[FC_HEADER_SIZE], struct fc_image_header *h);
void fc_sigblock_encode(const uint8_t pk[FC_PUBKEY_LEN], const uint8_t sig[FC_SIG_LEN],
                        uint8_t *out);

/* Checks a signature block received with manifest bytes (the receiver's
 * path: manifest fetched from a server, not read from a file): the block's
 * structure, the signature with the embedded key, and, if trusted_pk is
 * given, that the signer is that key. signer_out (may be NULL) gets the key. */
int fc_manifest_check_signed(const uint8_t *manifest, size_t len, const uint8_t *sigblock,
                             const uint8_t *trusted_pk, uint8_t *signer_out);

/* Opens and checks an image: structure, sizes, the signature with the key
 * recorded in the image, and, if trusted_pk is given, that the signer is
 * that key (FC_EKEY otherwise). Errors are logged with the reason. */
int fc_image_open(const char *path, const uint8_t *trusted_pk, struct fc_image *img);
void fc_image_close(struct fc_image *img);
/* Reads chunk idx's compressed bytes into buf (m.chunks[idx].comp_size). */
int fc_image_read_chunk(const struct fc_image *img, uint32_t idx, uint8_t *buf);

#endif
