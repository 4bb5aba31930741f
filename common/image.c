/* Reading side of the image container: header, signature block, manifest. */
#include "common/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"

void fc_image_header_encode(const struct fc_image_header *h, uint8_t *out)
{
    struct fc_wr w;

    memset(out, 0, FC_HEADER_SIZE);
    fc_wr_init(&w, out, FC_HEADER_SIZE);
    fc_wr_copy(&w, FC_IMAGE_MAGIC, 8);
    fc_wr_u32(&w, FC_IMAGE_VERSION);
    fc_wr_u32(&w, FC_HEADER_SIZE);
    fc_wr_copy(&w, h->image_id, FC_IMAGE_ID_LEN);
    fc_wr_u64(&w, h->manifest_off);
    fc_wr_u64(&w, h->manifest_len);
    fc_wr_u64(&w, h->sig_off);
    fc_wr_u32(&w, FC_SIGBLOCK_SIZE);
}

int fc_image_header_decode(const uint8_t in[FC_HEADER_SIZE], struct fc_image_header *h)
{
    struct fc_rd r;
    uint8_t magic[8];
    uint32_t version, hsize, sigsize;

    fc_rd_init(&r, in, FC_HEADER_SIZE);
    fc_rd_copy(&r, magic, 8);
    version = fc_rd_u32(&r);
    hsize = fc_rd_u32(&r);
    fc_rd_copy(&r, h->image_id, FC_IMAGE_ID_LEN);
    h->manifest_off = fc_rd_u64(&r);
    h->manifest_len = fc_rd_u64(&r);
    h->sig_off = fc_rd_u64(&r);
    sigsize = fc_rd_u32(&r);
    if (memcmp(magic, FC_IMAGE_MAGIC, 8) != 0)
        return FC_EFORMAT;
    if (version != FC_IMAGE_VERSION)
        return FC_EVERSION;
    if (hsize != FC_HEADER_SIZE || sigsize != FC_SIGBLOCK_SIZE ||
        h->manifest_off < FC_HEADER_SIZE || h->manifest_len == 0 ||
        h->manifest_len > FC_MANIFEST_MAX || h->sig_off != h->manifest_off + h->manifest_len)
        return FC_EFORMAT;
    return 0;
}

void fc_sigblock_encode(const uint8_t pk[FC_PUBKEY_LEN], const uint8_t sig[FC_SIG_LEN],
                        uint8_t *out)
{
    memcpy(out, FC_SIGBLOCK_MAGIC, 8);
    fc_put32(out + 8, FC_SIG_ED25519);
    fc_put32(out + 12, 0);
    memcpy(out + 16, pk, FC_PUBKEY_LEN);
    memcpy(out + 16 + FC_PUBKEY_LEN, sig, FC_SIG_LEN);
}

static int sigblock_decode(const uint8_t *in, uint8_t *signer, uint8_t *sig)
{
    struct fc_rd r;
    uint8_t magic[8];

    fc_rd_init(&r, in, FC_SIGBLOCK_SIZE);
    fc_rd_copy(&r, magic, 8);
    if (memcmp(magic, FC_SIGBLOCK_MAGIC, 8) != 0 || fc_rd_u32(&r) != FC_SIG_ED25519)
        return FC_EFORMAT;
    (void)fc_rd_u32(&r);
    fc_rd_copy(&r, signer, FC_PUBKEY_LEN);
    fc_rd_copy(&r, sig, FC_SIG_LEN);
    return 0;
}

int fc_manifest_check_signed(const uint8_t *manifest, size_t len, const uint8_t *sigblock,
                             const uint8_t *trusted_pk, uint8_t *signer_out)
{
    uint8_t signer[FC_PUBKEY_LEN], sig[FC_SIG_LEN];

    if (sigblock_decode(sigblock, signer, sig))
        return FC_EFORMAT;
    if (fc_sig_verify(signer, manifest, len, sig))
        return FC_ESIG;
    if (trusted_pk && memcmp(trusted_pk, signer, FC_PUBKEY_LEN) != 0)
        return FC_EKEY;
    if (signer_out)
        memcpy(signer_out, signer, FC_PUBKEY_LEN);
    return 0;
}

static int read_header(const char *path, struct fc_image *img, struct fc_image_header *h)
{
    uint8_t buf[FC_HEADER_SIZE];
    int rc;

    if (img->file_size < FC_HEADER_SIZE) {
        fc_error("%s: truncated: %llu bytes, shorter than an image header", path,
                 (unsigned long long)img->file_size);
        return FC_ETRUNC;
    }
    rc = fc_pread_full(img->fd, buf, sizeof(buf), 0);
    if (rc)
        return rc;
    rc = fc_image_header_decode(buf, h);
    if (rc) {
        fc_error("%s: %s", path,
                 rc == FC_EVERSION ? "image format version not supported by this fleetcast"
                                   : "not a fleetcast image (bad header); an interrupted "
                                     "capture leaves such a file");
        return rc;
    }
    if (h->sig_off + FC_SIGBLOCK_SIZE != img->file_size) {
        fc_error("%s: %s: file is %llu bytes, header says %llu", path,
                 img->file_size < h->sig_off + FC_SIGBLOCK_SIZE ? "truncated" : "trailing data",
                 (unsigned long long)img->file_size,
                 (unsigned long long)(h->sig_off + FC_SIGBLOCK_SIZE));
        return img->file_size < h->sig_off + FC_SIGBLOCK_SIZE ? FC_ETRUNC : FC_EFORMAT;
    }
    return 0;
}

static int read_signed_manifest(const char *path, struct fc_image *img,
                                const struct fc_image_header *h)
{
    uint8_t sb[FC_SIGBLOCK_SIZE];
    int rc;

    img->manifest_len = (size_t)h->manifest_len;
    img->manifest_raw = malloc(img->manifest_len);
    if (!img->manifest_raw)
        return FC_ENOMEM;
    rc = fc_pread_full(img->fd, img->manifest_raw, img->manifest_len, h->manifest_off);
    if (!rc)
        rc = fc_pread_full(img->fd, sb, sizeof(sb), h->sig_off);
    if (rc)
        return rc;
    if (sigblock_decode(sb, img->signer, img->sig)) {
        fc_error("%s: signature block is damaged", path);
        return FC_EFORMAT;
    }
    if (fc_sig_verify(img->signer, img->manifest_raw, img->manifest_len, img->sig)) {
        fc_error("%s: manifest signature does not verify: the manifest or signature was altered",
                 path);
        return FC_ESIG;
    }
    return 0;
}

static int check_manifest(const char *path, struct fc_image *img, const struct fc_image_header *h)
{
    int rc = fc_manifest_decode(img->manifest_raw, img->manifest_len, &img->m);

    if (rc) {
        /* It was signed, so the signer's tool wrote it: say so plainly. */
        fc_error("%s: signed manifest is malformed (%s)", path, fc_strerror(rc));
        return rc;
    }
    if (memcmp(img->m.image_id, h->image_id, FC_IMAGE_ID_LEN) != 0 ||
        img->m.data_offset != FC_HEADER_SIZE ||
        img->m.data_offset + img->m.compressed_bytes != h->manifest_off) {
        fc_error("%s: header does not match the signed manifest", path);
        return FC_EFORMAT;
    }
    return 0;
}

int fc_image_open(const char *path, const uint8_t *trusted_pk, struct fc_image *img)
{
    struct fc_image_header h;
    int is_blk, rc;

    memset(img, 0, sizeof(*img));
    img->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (img->fd < 0) {
        fc_error("cannot open image %s: %s", path, strerror(errno));
        return FC_EIO;
    }
    rc = fc_disk_size(img->fd, &img->file_size, &is_blk);
    if (!rc)
        rc = read_header(path, img, &h);
    if (!rc)
        rc = read_signed_manifest(path, img, &h);
    if (!rc)
        rc = check_manifest(path, img, &h);
    if (!rc && trusted_pk && memcmp(trusted_pk, img->signer, FC_PUBKEY_LEN) != 0) {
        char want[FC_FPR_LEN + 1], got[FC_FPR_LEN + 1];
        fc_key_fingerprint(trusted_pk, want);
        fc_key_fingerprint(img->signer, got);
        fc_error("%s: signed by key %s, not by the trusted key %s", path, got, want);
        rc = FC_EKEY;
    }
    if (rc)
        fc_image_close(img);
    return rc;
}

void fc_image_close(struct fc_image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    img->fd = -1;
    free(img->manifest_raw);
    img->manifest_raw = NULL;
    fc_manifest_free(&img->m);
}

int fc_image_read_chunk(const struct fc_image *img, uint32_t idx, uint8_t *buf)
{
    const struct fc_chunk *c = &img->m.chunks[idx];

    return fc_pread_full(img->fd, buf, c->comp_size, c->file_off);
}
