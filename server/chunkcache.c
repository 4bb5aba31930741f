/* Chunks read from the image for sending: the pass reads each chunk once,
 * and repairs mostly ask for chunks just sent, so a small LRU cache serves
 * them without another read. The buffer is padded with zeros to whole
 * packets, the cut both ends agree on (fc_blocks). */
#include <stdlib.h>
#include <string.h>

#include "common/disk.h"
#include "common/error.h"
#include "common/log.h"
#include "server/server.h"

int fc_chunkcache_init(struct fc_chunkcache *c, int fd, const struct fc_manifest *m,
                       uint16_t payload, uint8_t k_max)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->m = m;
    c->payload = payload;
    c->k_max = k_max;
    return 0;
}

static struct fc_cached_chunk *victim(struct fc_chunkcache *c)
{
    struct fc_cached_chunk *v = &c->e[0];
    int i;

    for (i = 0; i < FC_CACHE_CHUNKS; i++) {
        if (!c->e[i].valid)
            return &c->e[i];
        if (c->e[i].used < v->used)
            v = &c->e[i];
    }
    return v;
}

static int load(struct fc_chunkcache *c, struct fc_cached_chunk *e, uint32_t chunk)
{
    const struct fc_chunk *ch = &c->m->chunks[chunk];
    size_t need;
    int rc;

    e->valid = 0;
    rc = fc_blocks_init(&e->bl, ch->comp_size, c->payload, c->k_max);
    if (rc)
        return rc;
    need = (size_t)e->bl.packets * e->bl.sym_len;
    if (need > e->cap) {
        uint8_t *b = realloc(e->buf, need);
        if (!b)
            return FC_ENOMEM;
        e->buf = b;
        e->cap = need;
    }
    rc = fc_pread_full(c->fd, e->buf, ch->comp_size, ch->file_off);
    if (rc) {
        fc_error("reading chunk %u from the image: %s", chunk, fc_strerror(rc));
        return rc;
    }
    memset(e->buf + ch->comp_size, 0, need - ch->comp_size);
    e->chunk = chunk;
    e->valid = 1;
    return 0;
}

const struct fc_cached_chunk *fc_chunkcache_get(struct fc_chunkcache *c, uint32_t chunk)
{
    struct fc_cached_chunk *e;
    int i;

    c->tick++;
    for (i = 0; i < FC_CACHE_CHUNKS; i++)
        if (c->e[i].valid && c->e[i].chunk == chunk) {
            c->e[i].used = c->tick;
            return &c->e[i];
        }
    e = victim(c);
    if (load(c, e, chunk))
        return NULL;
    e->used = c->tick;
    return e;
}

void fc_chunkcache_free(struct fc_chunkcache *c)
{
    int i;

    for (i = 0; i < FC_CACHE_CHUNKS; i++)
        free(c->e[i].buf);
    memset(c, 0, sizeof(*c));
}
