/* The manifest: the signed index of an image. It lists every chunk (where it
 * sits in the file, its two BLAKE2b-256 hashes, the disk extents it covers),
 * the partitions found at capture and what was done with each, and the
 * disk's size. It is the one structure a receiver needs before any data:
 * everything a chunk is checked against comes from here.
 * Byte layout: docs/image-format.md. */
#ifndef FC_MANIFEST_H
#define FC_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define FC_HASH_LEN 32
#define FC_IMAGE_ID_LEN 16
#define FC_MANIFEST_MAGIC "FCMANIF1"
/* Version 2 (a region's don't-care bytes; NTFS and FAT regions) is written
 * only by an image that needs it, so images of ext disks stay readable by
 * receivers that know version 1. Readers take both. */
#define FC_MANIFEST_VERSION 1
#define FC_MANIFEST_VERSION_MAX 2
/* A chunk never holds more than this much disk data; receivers size their
 * buffers by it, so a forged manifest cannot make them allocate more. */
#define FC_CHUNK_MAX (16u << 20)
/* 4 MiB, by measurement (bench/image/run.sh --chunk-sizes, issue 9): each
 * chunk is compressed on its own, and on a text-heavy disk 1 MiB chunks lose
 * the long-range matches (image 1.031x partclone+zstd -3, 2 MiB 1.021x,
 * 4 MiB 1.003x, 8 MiB 1.002x). Receivers bound their memory in bytes
 * (client/assemble.h), not in chunks, so the size is a free choice up to
 * FC_CHUNK_MAX (`image create --chunk-size`). */
#define FC_CHUNK_DEFAULT (4u << 20)
#define FC_PARTS_MAX 256
/* The manifest of a 16 TiB disk fits well inside this; a larger size field
 * is a forgery or corruption, not a reason to allocate. */
#define FC_MANIFEST_MAX (1u << 30)
#define FC_TEXT_MAX 255

enum fc_table_type { FC_TABLE_NONE = 0, FC_TABLE_MBR = 1, FC_TABLE_GPT = 2 };

enum fc_fs_kind {
    FC_FS_NONE = 0,
    FC_FS_EXT2,
    FC_FS_EXT3,
    FC_FS_EXT4,
    FC_FS_SWAP,
    FC_FS_NTFS, /* from here on: manifest version 2 */
    FC_FS_FAT12,
    FC_FS_FAT16,
    FC_FS_FAT32,
};

/* How a region's stored blocks were chosen. */
enum fc_method {
    FC_METHOD_NONZERO = 0, /* every block that is not all zero */
    FC_METHOD_FSBITMAP,    /* the filesystem's allocated blocks */
    FC_METHOD_SWAPHDR,     /* the swap header page only */
};

struct fc_extent {
    uint64_t off; /* byte offset on the disk */
    uint32_t len; /* bytes */
};

struct fc_chunk {
    uint64_t file_off;  /* where the compressed bytes start in the image file */
    uint32_t comp_size; /* compressed bytes as stored */
    uint32_t raw_size;  /* disk bytes covered (sum of its extents) */
    uint32_t first_extent;
    uint32_t n_extents;
    uint8_t comp_hash[FC_HASH_LEN]; /* of the compressed bytes */
    uint8_t raw_hash[FC_HASH_LEN];  /* of the uncompressed bytes */
};

/* A region of the disk: a partition (index >= 1) or the space outside every
 * partition (index 0: tables, gaps, or an unpartitioned disk). */
struct fc_part {
    uint32_t index;
    uint64_t start;
    uint64_t size;
    uint8_t fs;     /* enum fc_fs_kind */
    uint8_t method; /* enum fc_method */
    uint64_t stored_bytes;
    /* in-use bytes deliberately not stored: the data of pagefile.sys,
     * hiberfil.sys, swapfile.sys (version 2) */
    uint64_t dontcare_bytes;
    char type[40]; /* "0x83" for MBR, a GUID for GPT, "" for gaps */
    char note[FC_TEXT_MAX + 1];
};

struct fc_manifest {
    uint32_t version; /* as decoded; encoding writes at least what it needs */
    uint8_t image_id[FC_IMAGE_ID_LEN];
    uint64_t disk_size;
    uint32_t sector_size;
    uint8_t table; /* enum fc_table_type */
    uint8_t level; /* zstd level used */
    uint32_t chunk_size;
    uint64_t created; /* unix seconds */
    uint64_t stored_bytes;
    uint64_t compressed_bytes;
    uint64_t data_offset; /* chunks lie back to back from here */
    char source[FC_TEXT_MAX + 1];
    char tool[64];

    uint32_t n_parts;
    struct fc_part *parts;
    uint32_t n_chunks;
    struct fc_chunk *chunks;
    uint32_t n_extents;
    struct fc_extent *extents;
};

/* Encodes into a malloc'd buffer. */
int fc_manifest_encode(const struct fc_manifest *m, uint8_t **out, size_t *out_len);
/* Decodes and checks every invariant a reader relies on (bounds, counts,
 * extents sorted, inside the disk and summing to each chunk's size, chunks
 * contiguous in the file). On failure *m is left empty. */
int fc_manifest_decode(const uint8_t *buf, size_t len, struct fc_manifest *m);
void fc_manifest_free(struct fc_manifest *m);

const char *fc_fs_name(uint8_t fs);
const char *fc_method_name(uint8_t method);
const char *fc_table_name(uint8_t table);

#endif
