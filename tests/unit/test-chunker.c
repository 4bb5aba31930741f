/* Chunk assembly: sizes, extents, merging, zero-block skipping. */
#include "tests/unit/unit.h"
#include <stdlib.h>
#include <string.h>

#include "common/chunker.h"

#define CS 16384

struct sink {
    struct fc_chunk_buf bufs[64];
    int n_emitted;
    int next;
};

static struct fc_chunk_buf *get(void *ctx)
{
    struct sink *s = ctx;
    struct fc_chunk_buf *b = &s->bufs[s->next++];
    b->raw = malloc(CS);
    return b;
}

static int emit(void *ctx, struct fc_chunk_buf *b)
{
    struct sink *s = ctx;
    (void)b;
    s->n_emitted++;
    return 0;
}

static void sink_free(struct sink *s)
{
    int i;
    for (i = 0; i < s->next; i++) {
        free(s->bufs[i].raw);
        free(s->bufs[i].ext);
    }
}

START_TEST(test_split_across_chunks)
{
    struct sink s = {0};
    struct fc_chunker ch = {CS, NULL, get, emit, &s};
    uint8_t *data = malloc(40000);

    memset(data, 7, 40000);
    ck_assert_int_eq(fc_chunker_add(&ch, 1000, data, 40000), 0);
    ck_assert_int_eq(fc_chunker_flush(&ch), 0);
    ck_assert_int_eq(s.n_emitted, 3);
    ck_assert_uint_eq(s.bufs[0].len, CS);
    ck_assert_uint_eq(s.bufs[0].n_ext, 1);
    ck_assert_uint_eq(s.bufs[0].ext[0].off, 1000);
    ck_assert_uint_eq(s.bufs[1].ext[0].off, 1000 + CS);
    ck_assert_uint_eq(s.bufs[2].len, 40000 - 2 * CS);
    free(data);
    sink_free(&s);
}
END_TEST

START_TEST(test_adjacent_runs_merge)
{
    struct sink s = {0};
    struct fc_chunker ch = {CS, NULL, get, emit, &s};
    uint8_t data[1000] = {1};

    ck_assert_int_eq(fc_chunker_add(&ch, 0, data, 1000), 0);
    ck_assert_int_eq(fc_chunker_add(&ch, 1000, data, 1000), 0);
    ck_assert_int_eq(fc_chunker_add(&ch, 5000, data, 1000), 0);
    ck_assert_int_eq(fc_chunker_flush(&ch), 0);
    ck_assert_int_eq(s.n_emitted, 1);
    ck_assert_uint_eq(s.bufs[0].n_ext, 2);
    ck_assert_uint_eq(s.bufs[0].ext[0].len, 2000);
    ck_assert_uint_eq(s.bufs[0].ext[1].off, 5000);
    sink_free(&s);
}
END_TEST

START_TEST(test_zero_blocks_skipped)
{
    struct sink s = {0};
    struct fc_chunker ch = {CS, NULL, get, emit, &s};
    uint8_t *data = calloc(1, 8 * 4096);
    int64_t kept;

    data[1 * 4096 + 5] = 1;    /* block 1 */
    data[2 * 4096] = 1;        /* block 2, adjacent: merges */
    data[6 * 4096 + 4095] = 1; /* block 6 */
    kept = fc_chunker_add_nonzero(&ch, 0, data, 8 * 4096);
    ck_assert_int_eq(kept, 3 * 4096);
    ck_assert_int_eq(fc_chunker_flush(&ch), 0);
    ck_assert_uint_eq(s.bufs[0].n_ext, 2);
    ck_assert_uint_eq(s.bufs[0].ext[0].off, 4096);
    ck_assert_uint_eq(s.bufs[0].ext[0].len, 8192);
    ck_assert_uint_eq(s.bufs[0].ext[1].off, 6 * 4096);
    ck_assert_uint_eq(s.bufs[0].raw[5], 1);
    free(data);
    sink_free(&s);
}
END_TEST

START_TEST(test_unaligned_region_blocks)
{
    struct sink s = {0};
    struct fc_chunker ch = {CS, NULL, get, emit, &s};
    uint8_t *data = calloc(1, 10000);
    int64_t kept;

    /* region starts at 512: the first "block" is the 3584 bytes up to 4096 */
    data[3584] = 9; /* first byte of the aligned block at 4096 */
    kept = fc_chunker_add_nonzero(&ch, 512, data, 10000);
    ck_assert_int_eq(kept, 4096);
    ck_assert_int_eq(fc_chunker_flush(&ch), 0);
    ck_assert_uint_eq(s.bufs[0].ext[0].off, 4096);
    free(data);
    sink_free(&s);
}
END_TEST

START_TEST(test_all_zero_emits_nothing)
{
    struct sink s = {0};
    struct fc_chunker ch = {CS, NULL, get, emit, &s};
    uint8_t *data = calloc(1, 65536);

    ck_assert_int_eq(fc_chunker_add_nonzero(&ch, 0, data, 65536), 0);
    ck_assert_int_eq(fc_chunker_flush(&ch), 0);
    ck_assert_int_eq(s.n_emitted, 0);
    free(data);
    sink_free(&s);
}
END_TEST

FC_TEST_MAIN("chunker", test_split_across_chunks, test_adjacent_runs_merge,
             test_zero_blocks_skipped, test_unaligned_region_blocks, test_all_zero_emits_nothing)
