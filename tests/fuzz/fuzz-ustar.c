/* libFuzzer harness of the hooks archive reader (common/ustar.c), the
 * check fc_ustar_unpack makes before it creates a file. The receiver only
 * unpacks a tar whose hash the server sealed, so this is defence in depth.
 * Properties: no out-of-bounds access or UB; an archive it accepts is whole
 * 512-byte blocks, and every member's header names a plain file (no '/')
 * and sits on a block boundary with its checksum right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/ustar.h"
#include "tests/fuzz/fuzz.h"

/* Seeds: what fc_ustar_pack_dir makes of two hooks and an empty directory. */
static void write_seeds(void)
{
    char dir[] = "/tmp/fuzz-ustar-XXXXXX", path[64], why[200];
    uint8_t *tar;
    size_t len;
    FILE *f;

    if (!mkdtemp(dir))
        return;
    if (fc_ustar_pack_dir(dir, 1 << 20, &tar, &len, why, sizeof(why)) == 0) {
        fuzz_seed("empty.bin", tar, len);
        free(tar);
    }
    snprintf(path, sizeof(path), "%s/10-hook", dir);
    if ((f = fopen(path, "w")))
        fputs("#!/bin/sh\nenv >/tmp/x\n", f), fclose(f), chmod(path, 0755);
    snprintf(path, sizeof(path), "%s/README", dir);
    if ((f = fopen(path, "w")))
        fputs("what the hooks do\n", f), fclose(f);
    if (fc_ustar_pack_dir(dir, 1 << 20, &tar, &len, why, sizeof(why)) == 0) {
        fuzz_seed("two-files.bin", tar, len);
        free(tar);
    }
    unlink(path);
    snprintf(path, sizeof(path), "%s/10-hook", dir);
    unlink(path);
    rmdir(dir);
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[200];
    int n;

    fuzz_quiet();
    n = fc_ustar_check(data, size, why, sizeof(why));
    if (n < 0) {
        FUZZ_ASSERT(n == FC_EFORMAT && why[0]);
        return 0;
    }
    FUZZ_ASSERT(size % FC_USTAR_BLOCK == 0 && size >= 2 * FC_USTAR_BLOCK);
    FUZZ_ASSERT(n == 0 || memchr(data, '/', strnlen((const char *)data, 100)) == NULL);
    return 0;
}
