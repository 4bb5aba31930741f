/* Chunk assembly: appends byte runs to the current chunk, merging runs that
 * are adjacent on disk into one extent, and emits it when full. */
#include "common/chunker.h"

#include <stdlib.h>
#include <string.h>

#include "common/disk.h"
#include "common/error.h"

static int push_extent(struct fc_chunk_buf *b, uint64_t off, uint32_t len)
{
    if (b->n_ext > 0) {
        struct fc_extent *last = &b->ext[b->n_ext - 1];
        if (last->off + last->len == off) {
            last->len += len;
            return 0;
        }
    }
    if (b->n_ext == b->cap_ext) {
        uint32_t cap = b->cap_ext ? b->cap_ext * 2 : 16;
        struct fc_extent *e = realloc(b->ext, cap * sizeof(*e));
        if (!e)
            return FC_ENOMEM;
        b->ext = e;
        b->cap_ext = cap;
    }
    b->ext[b->n_ext].off = off;
    b->ext[b->n_ext].len = len;
    b->n_ext++;
    return 0;
}

int fc_chunker_add(struct fc_chunker *ch, uint64_t off, const uint8_t *data, size_t len)
{
    while (len > 0) {
        uint32_t room, n;
        int rc;

        if (!ch->cur) {
            ch->cur = ch->get(ch->ctx);
            if (!ch->cur)
                return FC_EINTR;
            ch->cur->len = 0;
            ch->cur->n_ext = 0;
        }
        room = ch->chunk_size - ch->cur->len;
        n = len < room ? (uint32_t)len : room;
        memcpy(ch->cur->raw + ch->cur->len, data, n);
        rc = push_extent(ch->cur, off, n);
        if (rc)
            return rc;
        ch->cur->len += n;
        off += n;
        data += n;
        len -= n;
        if (ch->cur->len == ch->chunk_size) {
            rc = fc_chunker_flush(ch);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int64_t fc_chunker_add_nonzero(struct fc_chunker *ch, uint64_t off, const uint8_t *data, size_t len)
{
    int64_t kept = 0;
    size_t pos = 0, run_start = 0;
    int in_run = 0, rc;

    while (pos < len) {
        size_t blk = FC_ZERO_BLOCK - (size_t)((off + pos) % FC_ZERO_BLOCK);
        int zero;

        if (blk > len - pos)
            blk = len - pos;
        zero = fc_is_zero(data + pos, blk);
        if (!zero && !in_run) {
            run_start = pos;
            in_run = 1;
        } else if (zero && in_run) {
            rc = fc_chunker_add(ch, off + run_start, data + run_start, pos - run_start);
            if (rc)
                return rc;
            kept += (int64_t)(pos - run_start);
            in_run = 0;
        }
        pos += blk;
    }
    if (in_run) {
        rc = fc_chunker_add(ch, off + run_start, data + run_start, len - run_start);
        if (rc)
            return rc;
        kept += (int64_t)(len - run_start);
    }
    return kept;
}

int fc_chunker_flush(struct fc_chunker *ch)
{
    struct fc_chunk_buf *b = ch->cur;

    if (!b || b->len == 0)
        return 0;
    ch->cur = NULL;
    return ch->emit(ch->ctx, b);
}
