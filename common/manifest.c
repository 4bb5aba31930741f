/* Encoding and strict decoding of the manifest (docs/image-format.md). The
 * decoder is the trust boundary for everything read from an image file or
 * received from a server: it must reject anything inconsistent. */
#include "common/manifest.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/error.h"

#define PART_FIXED 36 /* index..stored_bytes + two u16 lengths */
#define CHUNK_ENC 88  /* u64 + 4 x u32 + two hashes */
#define EXTENT_ENC 12

const char *fc_fs_name(uint8_t fs)
{
    static const char *names[] = {"none", "ext2",  "ext3",  "ext4", "swap",
                                  "ntfs", "fat12", "fat16", "fat32"};
    return fs < sizeof(names) / sizeof(names[0]) ? names[fs] : "?";
}

const char *fc_method_name(uint8_t method)
{
    static const char *names[] = {"nonzero", "fs-bitmap", "swap-header"};
    return method < sizeof(names) / sizeof(names[0]) ? names[method] : "?";
}

const char *fc_table_name(uint8_t table)
{
    static const char *names[] = {"none", "mbr", "gpt"};
    return table < sizeof(names) / sizeof(names[0]) ? names[table] : "?";
}

/* Version 1 unless a region needs version 2 (or the manifest was one). */
static uint32_t version_needed(const struct fc_manifest *m)
{
    uint32_t i;

    for (i = 0; i < m->n_parts; i++)
        if (m->parts[i].fs > FC_FS_SWAP || m->parts[i].dontcare_bytes)
            return 2;
    return m->version >= 2 ? 2 : FC_MANIFEST_VERSION;
}

static size_t encoded_size(const struct fc_manifest *m, uint32_t version)
{
    size_t n = 8 + 4 + 4 + FC_IMAGE_ID_LEN + 8 + 4 + 1 + 1 + 2 + 4 + 8 * 5;
    uint32_t i;

    n += 2 + strlen(m->source) + 2 + strlen(m->tool) + 4;
    for (i = 0; i < m->n_parts; i++)
        n += PART_FIXED + (version >= 2 ? 8 : 0) + strlen(m->parts[i].type) +
             strlen(m->parts[i].note);
    n += 8 + (size_t)m->n_chunks * CHUNK_ENC + (size_t)m->n_extents * EXTENT_ENC;
    return n;
}

static void put_text(struct fc_wr *w, const char *s)
{
    size_t n = strlen(s);
    fc_wr_u16(w, (uint16_t)n);
    fc_wr_copy(w, s, n);
}

static void encode_part(struct fc_wr *w, const struct fc_part *p, uint32_t version)
{
    fc_wr_u32(w, p->index);
    fc_wr_u64(w, p->start);
    fc_wr_u64(w, p->size);
    fc_wr_u8(w, p->fs);
    fc_wr_u8(w, p->method);
    fc_wr_u16(w, 0);
    fc_wr_u64(w, p->stored_bytes);
    if (version >= 2)
        fc_wr_u64(w, p->dontcare_bytes);
    put_text(w, p->type);
    put_text(w, p->note);
}

static void encode_chunk(struct fc_wr *w, const struct fc_chunk *c)
{
    fc_wr_u64(w, c->file_off);
    fc_wr_u32(w, c->comp_size);
    fc_wr_u32(w, c->raw_size);
    fc_wr_u32(w, c->first_extent);
    fc_wr_u32(w, c->n_extents);
    fc_wr_copy(w, c->comp_hash, FC_HASH_LEN);
    fc_wr_copy(w, c->raw_hash, FC_HASH_LEN);
}

int fc_manifest_encode(const struct fc_manifest *m, uint8_t **out, size_t *out_len)
{
    uint32_t version = version_needed(m);
    size_t cap = encoded_size(m, version);
    uint8_t *buf = malloc(cap);
    struct fc_wr w;
    uint32_t i;

    if (!buf)
        return FC_ENOMEM;
    fc_wr_init(&w, buf, cap);
    fc_wr_copy(&w, FC_MANIFEST_MAGIC, 8);
    fc_wr_u32(&w, version);
    fc_wr_u32(&w, 0); /* flags: none defined yet */
    fc_wr_copy(&w, m->image_id, FC_IMAGE_ID_LEN);
    fc_wr_u64(&w, m->disk_size);
    fc_wr_u32(&w, m->sector_size);
    fc_wr_u8(&w, m->table);
    fc_wr_u8(&w, m->level);
    fc_wr_u16(&w, 0);
    fc_wr_u32(&w, m->chunk_size);
    fc_wr_u64(&w, m->created);
    fc_wr_u64(&w, m->stored_bytes);
    fc_wr_u64(&w, m->compressed_bytes);
    fc_wr_u64(&w, m->data_offset);
    fc_wr_u64(&w, 0); /* reserved */
    put_text(&w, m->source);
    put_text(&w, m->tool);
    fc_wr_u32(&w, m->n_parts);
    for (i = 0; i < m->n_parts; i++)
        encode_part(&w, &m->parts[i], version);
    fc_wr_u32(&w, m->n_chunks);
    fc_wr_u32(&w, m->n_extents);
    for (i = 0; i < m->n_chunks; i++)
        encode_chunk(&w, &m->chunks[i]);
    for (i = 0; i < m->n_extents; i++) {
        fc_wr_u64(&w, m->extents[i].off);
        fc_wr_u32(&w, m->extents[i].len);
    }
    if (w.bad || w.off != cap) {
        free(buf);
        return FC_EINVAL;
    }
    *out = buf;
    *out_len = cap;
    return 0;
}

static int get_text(struct fc_rd *r, char *dst, size_t cap)
{
    size_t n = fc_rd_u16(r);

    if (n >= cap) {
        r->bad = 1;
        dst[0] = 0;
        return FC_EFORMAT;
    }
    fc_rd_copy(r, dst, n);
    dst[n] = 0;
    if (memchr(dst, 0, n))
        r->bad = 1; /* embedded NULs would hide text from a reader */
    return r->bad ? FC_EFORMAT : 0;
}

static int decode_part(struct fc_rd *r, struct fc_part *p, uint64_t disk_size, uint32_t version)
{
    p->index = fc_rd_u32(r);
    p->start = fc_rd_u64(r);
    p->size = fc_rd_u64(r);
    p->fs = fc_rd_u8(r);
    p->method = fc_rd_u8(r);
    (void)fc_rd_u16(r);
    p->stored_bytes = fc_rd_u64(r);
    p->dontcare_bytes = version >= 2 ? fc_rd_u64(r) : 0;
    if (get_text(r, p->type, sizeof(p->type)) || get_text(r, p->note, sizeof(p->note)))
        return FC_EFORMAT;
    if (p->fs > (version >= 2 ? FC_FS_FAT32 : FC_FS_SWAP) || p->method > FC_METHOD_SWAPHDR)
        return FC_EFORMAT;
    if (p->start > disk_size || p->size > disk_size - p->start || p->stored_bytes > p->size ||
        p->dontcare_bytes > p->size - p->stored_bytes)
        return FC_EFORMAT;
    return 0;
}

static int decode_header(struct fc_rd *r, struct fc_manifest *m)
{
    uint8_t magic[8];

    fc_rd_copy(r, magic, 8);
    if (r->bad || memcmp(magic, FC_MANIFEST_MAGIC, 8) != 0)
        return FC_EFORMAT;
    m->version = fc_rd_u32(r);
    if (m->version < FC_MANIFEST_VERSION || m->version > FC_MANIFEST_VERSION_MAX)
        return r->bad ? FC_ETRUNC : FC_EVERSION;
    (void)fc_rd_u32(r); /* flags */
    fc_rd_copy(r, m->image_id, FC_IMAGE_ID_LEN);
    m->disk_size = fc_rd_u64(r);
    m->sector_size = fc_rd_u32(r);
    m->table = fc_rd_u8(r);
    m->level = fc_rd_u8(r);
    (void)fc_rd_u16(r);
    m->chunk_size = fc_rd_u32(r);
    m->created = fc_rd_u64(r);
    m->stored_bytes = fc_rd_u64(r);
    m->compressed_bytes = fc_rd_u64(r);
    m->data_offset = fc_rd_u64(r);
    (void)fc_rd_u64(r);
    if (get_text(r, m->source, sizeof(m->source)) || get_text(r, m->tool, sizeof(m->tool)))
        return FC_EFORMAT;
    if (m->table > FC_TABLE_GPT || m->chunk_size == 0 || m->chunk_size > FC_CHUNK_MAX)
        return FC_EFORMAT;
    return 0;
}

/* Extents must be sorted, non-overlapping, non-empty and inside the disk;
 * that is what lets a writer trust them without checking the disk again. */
static int check_extents(const struct fc_manifest *m)
{
    uint64_t end = 0;
    uint32_t i;

    for (i = 0; i < m->n_extents; i++) {
        const struct fc_extent *e = &m->extents[i];
        if (e->len == 0 || e->off < end || e->off > m->disk_size || e->len > m->disk_size - e->off)
            return FC_EFORMAT;
        end = e->off + e->len;
    }
    return 0;
}

static int check_chunks(const struct fc_manifest *m)
{
    uint64_t file_off = m->data_offset, stored = 0, comp = 0;
    uint32_t next_extent = 0, i, j;

    for (i = 0; i < m->n_chunks; i++) {
        const struct fc_chunk *c = &m->chunks[i];
        uint64_t sum = 0;

        if (c->file_off != file_off || c->first_extent != next_extent || c->n_extents == 0 ||
            c->n_extents > m->n_extents - next_extent || c->raw_size == 0 ||
            c->raw_size > FC_CHUNK_MAX || c->comp_size == 0 || c->comp_size > FC_CHUNK_MAX + 65536)
            return FC_EFORMAT;
        for (j = 0; j < c->n_extents; j++)
            sum += m->extents[c->first_extent + j].len;
        if (sum != c->raw_size)
            return FC_EFORMAT;
        next_extent += c->n_extents;
        file_off += c->comp_size;
        stored += c->raw_size;
        comp += c->comp_size;
    }
    if (next_extent != m->n_extents || stored != m->stored_bytes || comp != m->compressed_bytes)
        return FC_EFORMAT;
    return 0;
}

static int decode_tables(struct fc_rd *r, struct fc_manifest *m)
{
    uint32_t i;

    m->n_chunks = fc_rd_u32(r);
    m->n_extents = fc_rd_u32(r);
    /* Counts are checked against the bytes actually present before any
     * allocation, so a forged count cannot make us allocate gigabytes. */
    if (r->bad ||
        (uint64_t)m->n_chunks * CHUNK_ENC + (uint64_t)m->n_extents * EXTENT_ENC != r->len - r->off)
        return r->bad ? FC_ETRUNC : FC_EFORMAT;
    m->chunks = calloc(m->n_chunks ? m->n_chunks : 1, sizeof(*m->chunks));
    m->extents = calloc(m->n_extents ? m->n_extents : 1, sizeof(*m->extents));
    if (!m->chunks || !m->extents)
        return FC_ENOMEM;
    for (i = 0; i < m->n_chunks; i++) {
        struct fc_chunk *c = &m->chunks[i];
        c->file_off = fc_rd_u64(r);
        c->comp_size = fc_rd_u32(r);
        c->raw_size = fc_rd_u32(r);
        c->first_extent = fc_rd_u32(r);
        c->n_extents = fc_rd_u32(r);
        fc_rd_copy(r, c->comp_hash, FC_HASH_LEN);
        fc_rd_copy(r, c->raw_hash, FC_HASH_LEN);
    }
    for (i = 0; i < m->n_extents; i++) {
        m->extents[i].off = fc_rd_u64(r);
        m->extents[i].len = fc_rd_u32(r);
    }
    return r->bad ? FC_ETRUNC : 0;
}

int fc_manifest_decode(const uint8_t *buf, size_t len, struct fc_manifest *m)
{
    struct fc_rd r;
    uint32_t i;
    int rc;

    memset(m, 0, sizeof(*m));
    fc_rd_init(&r, buf, len);
    rc = decode_header(&r, m);
    if (rc)
        goto fail;
    m->n_parts = fc_rd_u32(&r);
    if (r.bad || m->n_parts > FC_PARTS_MAX) {
        rc = r.bad ? FC_ETRUNC : FC_EFORMAT;
        goto fail;
    }
    m->parts = calloc(m->n_parts ? m->n_parts : 1, sizeof(*m->parts));
    if (!m->parts) {
        rc = FC_ENOMEM;
        goto fail;
    }
    for (i = 0; i < m->n_parts; i++) {
        rc = decode_part(&r, &m->parts[i], m->disk_size, m->version);
        if (rc)
            goto fail;
    }
    rc = decode_tables(&r, m);
    if (rc)
        goto fail;
    rc = check_extents(m);
    if (rc)
        goto fail;
    rc = check_chunks(m);
    if (rc)
        goto fail;
    return 0;
fail:
    fc_manifest_free(m);
    return rc;
}

void fc_manifest_free(struct fc_manifest *m)
{
    free(m->parts);
    free(m->chunks);
    free(m->extents);
    m->parts = NULL;
    m->chunks = NULL;
    m->extents = NULL;
    m->n_parts = m->n_chunks = m->n_extents = 0;
}
