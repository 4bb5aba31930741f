/* Little-endian encoding of fixed-width integers, and bounded cursors over
 * byte buffers. Every on-disk and on-wire structure is encoded through these
 * helpers, never by casting a struct onto a buffer. A cursor that runs past
 * its end sets ->bad and returns zeros, so a decoder checks once at the end. */
#ifndef FC_BYTES_H
#define FC_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 1982 serial arithmetic on 32-bit sequence numbers: a is after b.
 * The one comparison every sequence number in fleetcast goes through. */
static inline int fc_seq_after(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static inline void fc_put16(uint8_t *p, uint16_t v)
{
    const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    /* memcpy, not two stores: GCC 12 misreads the stores through inlined
     * cursors as overflows (-Wstringop-overflow false positive). */
    memcpy(p, b, 2);
}

static inline void fc_put32(uint8_t *p, uint32_t v)
{
    fc_put16(p, (uint16_t)v);
    fc_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void fc_put64(uint8_t *p, uint64_t v)
{
    fc_put32(p, (uint32_t)v);
    fc_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t fc_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t fc_get32(const uint8_t *p)
{
    return (uint32_t)fc_get16(p) | ((uint32_t)fc_get16(p + 2) << 16);
}

static inline uint64_t fc_get64(const uint8_t *p)
{
    return (uint64_t)fc_get32(p) | ((uint64_t)fc_get32(p + 4) << 32);
}

/* Reading cursor. */
struct fc_rd {
    const uint8_t *p;
    size_t len;
    size_t off;
    int bad;
};

static inline void fc_rd_init(struct fc_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = 0;
}

static inline const uint8_t *fc_rd_take(struct fc_rd *r, size_t n)
{
    const uint8_t *q;

    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    q = r->p + r->off;
    r->off += n;
    return q;
}

static inline uint8_t fc_rd_u8(struct fc_rd *r)
{
    const uint8_t *q = fc_rd_take(r, 1);
    return q ? q[0] : 0;
}

static inline uint16_t fc_rd_u16(struct fc_rd *r)
{
    const uint8_t *q = fc_rd_take(r, 2);
    return q ? fc_get16(q) : 0;
}

static inline uint32_t fc_rd_u32(struct fc_rd *r)
{
    const uint8_t *q = fc_rd_take(r, 4);
    return q ? fc_get32(q) : 0;
}

static inline uint64_t fc_rd_u64(struct fc_rd *r)
{
    const uint8_t *q = fc_rd_take(r, 8);
    return q ? fc_get64(q) : 0;
}

static inline void fc_rd_copy(struct fc_rd *r, void *dst, size_t n)
{
    const uint8_t *q = fc_rd_take(r, n);
    if (q)
        memcpy(dst, q, n);
    else
        memset(dst, 0, n);
}

/* Writing cursor; the same overflow rule. */
struct fc_wr {
    uint8_t *p;
    size_t cap;
    size_t off;
    int bad;
};

static inline void fc_wr_init(struct fc_wr *w, void *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->off = 0;
    w->bad = 0;
}

static inline uint8_t *fc_wr_take(struct fc_wr *w, size_t n)
{
    uint8_t *q;

    if (w->bad || n > w->cap - w->off) {
        w->bad = 1;
        return NULL;
    }
    q = w->p + w->off;
    w->off += n;
    return q;
}

static inline void fc_wr_u8(struct fc_wr *w, uint8_t v)
{
    uint8_t *q = fc_wr_take(w, 1);
    if (q)
        q[0] = v;
}

static inline void fc_wr_u16(struct fc_wr *w, uint16_t v)
{
    uint8_t *q = fc_wr_take(w, 2);
    if (q)
        fc_put16(q, v);
}

static inline void fc_wr_u32(struct fc_wr *w, uint32_t v)
{
    uint8_t *q = fc_wr_take(w, 4);
    if (q)
        fc_put32(q, v);
}

static inline void fc_wr_u64(struct fc_wr *w, uint64_t v)
{
    uint8_t *q = fc_wr_take(w, 8);
    if (q)
        fc_put64(q, v);
}

static inline void fc_wr_copy(struct fc_wr *w, const void *src, size_t n)
{
    uint8_t *q = fc_wr_take(w, n);
    if (q && n)
        memcpy(q, src, n);
}

#endif
