/* Manifest encode/decode: round trip, and the decoder refusing every
 * truncation and each broken invariant. */
#include "tests/unit/unit.h"
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/error.h"
#include "common/manifest.h"

static struct fc_part parts[2];
static struct fc_chunk chunks[2];
static struct fc_extent extents[3];

static void sample(struct fc_manifest *m)
{
    memset(m, 0, sizeof(*m));
    memset(m->image_id, 0xab, sizeof(m->image_id));
    m->disk_size = 1 << 30;
    m->sector_size = 512;
    m->table = FC_TABLE_GPT;
    m->level = 3;
    m->chunk_size = 1 << 20;
    m->created = 1700000000;
    m->data_offset = 256;
    strcpy(m->source, "/dev/sdz");
    strcpy(m->tool, "fleetcast test");
    memset(parts, 0, sizeof(parts));
    parts[0] = (struct fc_part){0, 0, 1 << 20, FC_FS_NONE, FC_METHOD_NONZERO, 4096, 0, "", ""};
    parts[1] = (struct fc_part){1,
                                1 << 20,
                                100 << 20,
                                FC_FS_EXT4,
                                FC_METHOD_FSBITMAP,
                                8192,
                                0,
                                "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
                                "a note"};
    extents[0] = (struct fc_extent){0, 4096};
    extents[1] = (struct fc_extent){1 << 20, 4096};
    extents[2] = (struct fc_extent){(1 << 20) + 8192, 4096};
    chunks[0] = (struct fc_chunk){256, 100, 8192, 0, 2, {1}, {2}};
    chunks[1] = (struct fc_chunk){356, 50, 4096, 2, 1, {3}, {4}};
    m->n_parts = 2;
    m->parts = parts;
    m->n_chunks = 2;
    m->chunks = chunks;
    m->n_extents = 3;
    m->extents = extents;
    m->stored_bytes = 8192 + 4096;
    m->compressed_bytes = 150;
}

START_TEST(test_roundtrip)
{
    struct fc_manifest m, d;
    uint8_t *buf;
    size_t len;

    sample(&m);
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    ck_assert_int_eq(fc_manifest_decode(buf, len, &d), 0);
    ck_assert_mem_eq(d.image_id, m.image_id, FC_IMAGE_ID_LEN);
    ck_assert_uint_eq(d.disk_size, m.disk_size);
    ck_assert_uint_eq(d.n_chunks, 2);
    ck_assert_uint_eq(d.chunks[1].file_off, 356);
    ck_assert_mem_eq(d.chunks[0].comp_hash, chunks[0].comp_hash, FC_HASH_LEN);
    ck_assert_uint_eq(d.n_extents, 3);
    ck_assert_uint_eq(d.extents[2].off, (1 << 20) + 8192);
    ck_assert_str_eq(d.parts[1].note, "a note");
    ck_assert_str_eq(d.parts[1].type, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    ck_assert_str_eq(d.source, "/dev/sdz");
    fc_manifest_free(&d);
    free(buf);
}
END_TEST

START_TEST(test_every_truncation_rejected)
{
    struct fc_manifest m, d;
    uint8_t *buf;
    size_t len, cut;

    sample(&m);
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    for (cut = 0; cut < len; cut++)
        ck_assert_int_lt(fc_manifest_decode(buf, cut, &d), 0);
    free(buf);
}
END_TEST

static int decode_modified(void (*mod)(struct fc_manifest *))
{
    struct fc_manifest m, d;
    uint8_t *buf;
    size_t len;
    int rc;

    sample(&m);
    mod(&m);
    if (fc_manifest_encode(&m, &buf, &len))
        return -100;
    rc = fc_manifest_decode(buf, len, &d);
    if (!rc)
        fc_manifest_free(&d);
    free(buf);
    return rc;
}

static void overlap(struct fc_manifest *m)
{
    m->extents[1].off = 0;
}
static void outside(struct fc_manifest *m)
{
    m->extents[2].off = m->disk_size - 100;
}
static void sum_wrong(struct fc_manifest *m)
{
    m->chunks[0].raw_size = 9000;
}
static void gap_in_file(struct fc_manifest *m)
{
    m->chunks[1].file_off = 400;
}
static void totals(struct fc_manifest *m)
{
    m->stored_bytes++;
}
static void huge_chunk(struct fc_manifest *m)
{
    m->chunk_size = FC_CHUNK_MAX + 1;
}
static void part_outside(struct fc_manifest *m)
{
    m->parts[1].size = m->disk_size;
}
static void bad_fs(struct fc_manifest *m)
{
    m->parts[0].fs = 99;
}

START_TEST(test_invariants)
{
    ck_assert_int_eq(decode_modified(overlap), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(outside), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(sum_wrong), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(gap_in_file), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(totals), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(huge_chunk), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(part_outside), FC_EFORMAT);
    ck_assert_int_eq(decode_modified(bad_fs), FC_EFORMAT);
}
END_TEST

START_TEST(test_forged_counts)
{
    struct fc_manifest m, d;
    uint8_t *buf;
    size_t len;

    sample(&m);
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    /* n_chunks sits right before n_extents, 8 + 2*88 + 3*12 bytes from the end */
    fc_put32(buf + len - (8 + 2 * 88 + 3 * 12), 0x7fffffff);
    ck_assert_int_lt(fc_manifest_decode(buf, len, &d), 0);
    memcpy(buf, "XXMANIF1", 8);
    ck_assert_int_eq(fc_manifest_decode(buf, len, &d), FC_EFORMAT);
    free(buf);
}
END_TEST

/* Version 2 only when a region needs it; a version 2 manifest round-trips
 * with its don't-care bytes; version 1 keeps refusing the new filesystems. */
START_TEST(test_version2)
{
    struct fc_manifest m, d;
    uint8_t *buf;
    size_t len;

    sample(&m);
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    ck_assert_uint_eq(fc_get32(buf + 8), 1); /* ext only: version 1, as before */
    free(buf);
    parts[1].fs = FC_FS_NTFS;
    parts[1].dontcare_bytes = 50 << 20;
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    ck_assert_uint_eq(fc_get32(buf + 8), 2);
    ck_assert_int_eq(fc_manifest_decode(buf, len, &d), 0);
    ck_assert_uint_eq(d.version, 2);
    ck_assert_uint_eq(d.parts[1].fs, FC_FS_NTFS);
    ck_assert_uint_eq(d.parts[1].dontcare_bytes, 50 << 20);
    ck_assert_uint_eq(d.parts[0].dontcare_bytes, 0);
    ck_assert_str_eq(d.parts[1].note, "a note");
    ck_assert_str_eq(fc_fs_name(d.parts[1].fs), "ntfs");
    fc_manifest_free(&d);
    fc_put32(buf + 8, 1); /* the same bytes as version 1: misread, refused */
    ck_assert_int_lt(fc_manifest_decode(buf, len, &d), 0);
    fc_put32(buf + 8, 3);
    ck_assert_int_eq(fc_manifest_decode(buf, len, &d), FC_EVERSION);
    free(buf);
    parts[1].dontcare_bytes = 0;
    parts[1].fs = FC_FS_FAT32; /* a FAT region alone needs version 2 too */
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    ck_assert_uint_eq(fc_get32(buf + 8), 2);
    ck_assert_int_eq(fc_manifest_decode(buf, len, &d), 0);
    ck_assert_str_eq(fc_fs_name(d.parts[1].fs), "fat32");
    fc_manifest_free(&d);
    free(buf);
    parts[1].dontcare_bytes = parts[1].size; /* more than size - stored */
    ck_assert_int_eq(fc_manifest_encode(&m, &buf, &len), 0);
    ck_assert_int_eq(fc_manifest_decode(buf, len, &d), FC_EFORMAT);
    free(buf);
    parts[1].fs = FC_FS_EXT4;
    parts[1].dontcare_bytes = 0;
}
END_TEST

FC_TEST_MAIN("manifest", test_roundtrip, test_every_truncation_rejected, test_invariants,
             test_forged_counts, test_version2)
