/* libFuzzer harness of the manifest decoder (common/manifest.c). Properties:
 * no out-of-bounds read, no undefined behaviour, no leak on any refusal; and
 * a manifest that decodes re-encodes to bytes that decode to the same
 * manifest and re-encode identically (the flags and reserved fields a
 * decoder ignores are the only bytes that may differ from the input). */
#include <string.h>

#include "common/manifest.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/sample.h"

static void same_manifest(const struct fc_manifest *a, const struct fc_manifest *b)
{
    FUZZ_ASSERT(a->n_parts == b->n_parts && a->n_chunks == b->n_chunks &&
                a->n_extents == b->n_extents);
    FUZZ_ASSERT(a->disk_size == b->disk_size && a->stored_bytes == b->stored_bytes &&
                a->compressed_bytes == b->compressed_bytes);
    FUZZ_ASSERT(!strcmp(a->source, b->source) && !strcmp(a->tool, b->tool));
    FUZZ_ASSERT(!memcmp(a->chunks, b->chunks, a->n_chunks * sizeof(*a->chunks)));
    FUZZ_ASSERT(!memcmp(a->extents, b->extents, a->n_extents * sizeof(*a->extents)));
}

static void write_seeds(void)
{
    static struct sample s;
    uint8_t *enc;
    size_t len;

    sample_make(&s);
    if (fc_manifest_encode(&s.m, &enc, &len))
        abort();
    fuzz_seed("two-chunks.bin", enc, len);
    free(enc);
    s.parts[1].fs = FC_FS_NTFS; /* manifest version 2: don't-care bytes */
    s.parts[1].dontcare_bytes = 65536;
    if (fc_manifest_encode(&s.m, &enc, &len))
        abort();
    fuzz_seed("two-chunks-v2.bin", enc, len);
    free(enc);
    s.m.n_chunks = s.m.n_extents = 0; /* an image of an empty disk */
    s.m.stored_bytes = s.m.compressed_bytes = 0;
    s.m.n_parts = 0;
    if (fc_manifest_encode(&s.m, &enc, &len))
        abort();
    fuzz_seed("empty.bin", enc, len);
    free(enc);
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fc_manifest m, m2;
    uint8_t *enc = NULL, *enc2 = NULL, *buf;
    size_t enc_len, enc2_len;

    fuzz_quiet();
    buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (fc_manifest_decode(buf, size, &m) == 0) {
        FUZZ_ASSERT(fc_manifest_encode(&m, &enc, &enc_len) == 0);
        FUZZ_ASSERT(enc_len == size);
        FUZZ_ASSERT(fc_manifest_decode(enc, enc_len, &m2) == 0);
        same_manifest(&m, &m2);
        FUZZ_ASSERT(fc_manifest_encode(&m2, &enc2, &enc2_len) == 0);
        FUZZ_ASSERT(enc2_len == enc_len && !memcmp(enc, enc2, enc_len));
        fc_manifest_free(&m2);
        fc_manifest_free(&m);
        free(enc);
        free(enc2);
    }
    free(buf);
    return 0;
}
