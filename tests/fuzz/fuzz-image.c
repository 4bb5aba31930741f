/* libFuzzer harness of the image container (common/image.c): the header,
 * the signature block and the checks of the header against the signed
 * manifest, through fc_image_open() itself on a memfd holding the input (so
 * no second, in-memory reader is needed), and fc_manifest_check_signed(),
 * the receiver's check of a fetched manifest.
 *
 * Input: one mode byte, then the file. With mode bit 0 set, the harness
 * signs whatever the header calls the manifest with a fixed test key before
 * opening, so the fuzzer gets past the signature to the header/manifest
 * agreement checks and the chunk reads; bit 1 passes a trusted key that is
 * not the signer. Properties: no out-of-bounds access or UB; an image that
 * opens has every chunk inside the file, and reads them all. */
#include <sodium.h>
#include <string.h>

#include "common/error.h"
#include "common/image.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/sample.h"

static struct fc_keypair test_key;

static void init_key(void)
{
    static const uint8_t seed[crypto_sign_SEEDBYTES] = {0x46, 0x55, 0x5a, 0x5a};

    if (sodium_init() < 0)
        abort();
    crypto_sign_seed_keypair(test_key.pk, test_key.sk, seed);
}

/* Signs the manifest the header points at, if the header and the file's
 * size agree enough for it to be there. */
static void resign(uint8_t *file, size_t size)
{
    struct fc_image_header h;
    uint8_t sig[FC_SIG_LEN];

    if (size < FC_HEADER_SIZE || fc_image_header_decode(file, &h) ||
        h.sig_off + FC_SIGBLOCK_SIZE != size)
        return;
    fc_sign(&test_key, file + h.manifest_off, h.manifest_len, sig);
    fc_sigblock_encode(test_key.pk, sig, file + h.sig_off);
}

static void read_chunks(const struct fc_image *img)
{
    uint32_t i;

    for (i = 0; i < img->m.n_chunks; i++) {
        const struct fc_chunk *c = &img->m.chunks[i];
        uint8_t *buf;

        FUZZ_ASSERT(c->file_off >= FC_HEADER_SIZE && c->file_off + c->comp_size <= img->file_size);
        buf = malloc(c->comp_size);
        FUZZ_ASSERT(fc_image_read_chunk(img, i, buf) == 0);
        free(buf);
    }
}

/* The receiver's path: manifest bytes and a signature block from the wire. */
static void check_signed(const uint8_t *file, size_t size)
{
    uint8_t *copy;

    if (size < FC_SIGBLOCK_SIZE)
        return;
    copy = malloc(size);
    memcpy(copy, file, size);
    (void)fc_manifest_check_signed(copy, size - FC_SIGBLOCK_SIZE, copy + size - FC_SIGBLOCK_SIZE,
                                   test_key.pk, NULL);
    free(copy);
}

/* Seeds: the sample image as capture writes it (signed by the test key),
 * with each mode, and cut short. */
static void write_seeds(void)
{
    static struct sample s;
    static uint8_t file[1 + 65536];
    struct fc_image_header h;
    uint8_t *man, sig[FC_SIG_LEN];
    size_t man_len, off = 1 + FC_HEADER_SIZE;
    uint32_t i;

    init_key();
    sample_make(&s);
    if (fc_manifest_encode(&s.m, &man, &man_len))
        abort();
    for (i = 0; i < SAMPLE_CHUNKS; i++) {
        memcpy(file + off, s.comp[i], s.chunks[i].comp_size);
        off += s.chunks[i].comp_size;
    }
    memcpy(h.image_id, s.m.image_id, FC_IMAGE_ID_LEN);
    h.manifest_off = off - 1;
    h.manifest_len = man_len;
    h.sig_off = h.manifest_off + man_len;
    fc_image_header_encode(&h, file + 1);
    memcpy(file + off, man, man_len);
    off += man_len;
    fc_sign(&test_key, man, man_len, sig);
    fc_sigblock_encode(test_key.pk, sig, file + off);
    off += FC_SIGBLOCK_SIZE;
    free(man);
    for (i = 0; i < 4; i++) {
        char name[32];

        file[0] = (uint8_t)i;
        snprintf(name, sizeof(name), "image-mode%u.bin", i);
        fuzz_seed(name, file, off);
    }
    fuzz_seed("truncated.bin", file, off - 1);
    fuzz_seed("header-only.bin", file, 1 + FC_HEADER_SIZE);
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t other_pk[FC_PUBKEY_LEN] = {1};
    struct fc_image img;
    uint8_t mode, *file;
    char path[64];
    int fd;

    fuzz_quiet();
    if (!test_key.pk[0] && !test_key.pk[1])
        init_key();
    if (size < 1)
        return 0;
    mode = data[0];
    size--;
    file = malloc(size ? size : 1);
    memcpy(file, data + 1, size);
    if (mode & 1)
        resign(file, size);
    check_signed(file, size);
    fd = fuzz_memfd(file, size);
    FUZZ_ASSERT(fd >= 0);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (fc_image_open(path, (mode & 2) ? other_pk : NULL, &img) == 0) {
        FUZZ_ASSERT(!(mode & 2));
        read_chunks(&img);
        fc_image_close(&img);
    }
    close(fd);
    free(file);
    return 0;
}
