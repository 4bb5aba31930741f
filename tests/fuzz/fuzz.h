/* What every libFuzzer harness of tests/fuzz shares: quiet logging (a parser
 * that refuses input logs why, and a million such lines would drown the
 * fuzzer's own output), a cursor that takes parameters off the front of the
 * input, and a memfd holding bytes for APIs that read from a file. */
#ifndef FC_TESTS_FUZZ_H
#define FC_TESTS_FUZZ_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test promised and broke: abort, so that
 * libFuzzer saves the input as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inline void fuzz_quiet(void)
{
    static int done;

    if (!done) {
        fc_log_init("fuzz", getenv("FUZZ_VERBOSE") ? FC_LOG_DEBUG : FC_LOG_ERROR + 1);
        done = 1;
    }
}

/* Parameters taken off the front of the input; zeros once it runs out, so
 * any input is a valid parameter set. */
struct fuzz_in {
    const uint8_t *p;
    size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t lo = fuzz_u8(in);

    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t lo = fuzz_u16(in);

    return lo | (uint32_t)fuzz_u16(in) << 16;
}

/* Seed corpus: with FC_FUZZ_SEEDS=DIR, a harness writes its seeds (valid
 * inputs made by the encoders, and edge cases) into DIR and exits instead of
 * fuzzing (scripts/fuzz.sh --seeds). Each harness's seeds sit next to it. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void fuzz_seed(const char *name, const void *buf, size_t len)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", getenv("FC_FUZZ_SEEDS"), name);
    f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        perror(path);
        exit(1);
    }
}

/* Text seeds: pairs of file name and contents. */
static inline void fuzz_seed_texts(const char *const (*seeds)[2], size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fuzz_seed(seeds[i][0], seeds[i][1], strlen(seeds[i][1]));
}

#define FUZZ_SEEDS(write_seeds)                                                                    \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                              \
    {                                                                                              \
        (void)argc, (void)argv;                                                                    \
        fuzz_quiet();                                                                              \
        if (getenv("FC_FUZZ_SEEDS")) {                                                             \
            write_seeds();                                                                         \
            exit(0);                                                                               \
        }                                                                                          \
        return 0;                                                                                  \
    }

/* A memfd holding the bytes, rewound; -1 if it cannot be made. */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    size_t off = 0;

    if (fd < 0)
        return -1;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

#endif
