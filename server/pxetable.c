/* The PXE watcher's table of machines seen (pxewatch.h): at most cap
 * entries in one array allocated up front, a hash on the MAC (SipHash with a
 * random key, so made-up MACs cannot be chosen to collide) and a recency
 * list through the entries. Recording, finding and evicting are O(1); a new
 * MAC in a full table replaces the least recently seen one. Pure: no
 * libuv, no capture, no clock of its own (the caller passes the time). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/wol.h"
#include "server/pxewatch.h"

#define NIL UINT32_MAX

struct node {
    struct fc_pxe_seen e;  /* first: an entry pointer is its node's */
    uint32_t newer, older; /* the recency list */
    uint32_t hnext;        /* the hash bucket's chain */
};

struct fc_pxe_table {
    struct node *n;
    size_t cap, count;
    uint32_t *bucket;
    size_t n_buckets; /* a power of two, at least cap */
    uint32_t newest, oldest;
    uint64_t evicted;
    uint8_t key[crypto_shorthash_KEYBYTES];
};

struct fc_pxe_table *fc_pxe_table_new(size_t cap)
{
    struct fc_pxe_table *t;
    size_t i;

    if (cap == 0 || cap >= NIL || sodium_init() < 0)
        return NULL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cap = cap;
    for (t->n_buckets = 1; t->n_buckets < cap; t->n_buckets *= 2)
        ;
    t->n = calloc(cap, sizeof(*t->n));
    t->bucket = malloc(t->n_buckets * sizeof(*t->bucket));
    if (!t->n || !t->bucket) {
        fc_pxe_table_free(t);
        return NULL;
    }
    for (i = 0; i < t->n_buckets; i++)
        t->bucket[i] = NIL;
    t->newest = t->oldest = NIL;
    randombytes_buf(t->key, sizeof(t->key));
    return t;
}

void fc_pxe_table_free(struct fc_pxe_table *t)
{
    if (!t)
        return;
    free(t->n);
    free(t->bucket);
    free(t);
}

static size_t bucket_of(const struct fc_pxe_table *t, const uint8_t mac[6])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v = 0;
    size_t i;

    crypto_shorthash(h, mac, 6, t->key);
    for (i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (size_t)(v & (t->n_buckets - 1));
}

static uint32_t find(const struct fc_pxe_table *t, const uint8_t mac[6])
{
    uint32_t i;

    for (i = t->bucket[bucket_of(t, mac)]; i != NIL; i = t->n[i].hnext)
        if (!memcmp(t->n[i].e.mac, mac, 6))
            return i;
    return NIL;
}

static void hash_remove(struct fc_pxe_table *t, uint32_t idx)
{
    uint32_t *p = &t->bucket[bucket_of(t, t->n[idx].e.mac)];

    while (*p != NIL && *p != idx)
        p = &t->n[*p].hnext;
    if (*p == idx)
        *p = t->n[idx].hnext;
}

static void list_unlink(struct fc_pxe_table *t, uint32_t idx)
{
    struct node *x = &t->n[idx];

    if (x->newer != NIL)
        t->n[x->newer].older = x->older;
    else
        t->newest = x->older;
    if (x->older != NIL)
        t->n[x->older].newer = x->newer;
    else
        t->oldest = x->newer;
}

static void list_push_newest(struct fc_pxe_table *t, uint32_t idx)
{
    struct node *x = &t->n[idx];

    x->newer = NIL;
    x->older = t->newest;
    if (t->newest != NIL)
        t->n[t->newest].newer = idx;
    t->newest = idx;
    if (t->oldest == NIL)
        t->oldest = idx;
}

/* A free slot, or the least recently seen entry taken out of the table. */
static uint32_t take_slot(struct fc_pxe_table *t)
{
    uint32_t idx;

    if (t->count < t->cap)
        return (uint32_t)t->count++;
    idx = t->oldest;
    list_unlink(t, idx);
    hash_remove(t, idx);
    t->evicted++;
    return idx;
}

static void new_entry(struct fc_pxe_table *t, uint32_t idx, const uint8_t mac[6], int64_t wall)
{
    struct fc_pxe_seen *e = &t->n[idx].e;
    size_t b = bucket_of(t, mac);

    memset(e, 0, sizeof(*e));
    memcpy(e->mac, mac, 6);
    fc_mac_format(mac, ':', e->mac_text);
    e->first_seen = wall;
    t->n[idx].hnext = t->bucket[b];
    t->bucket[b] = idx;
}

static void cut_copy(char *dst, const char *src, size_t len)
{
    if (len > FC_PXE_TEXT_MAX)
        len = FC_PXE_TEXT_MAX;
    memcpy(dst, src, len);
    dst[len] = 0;
}

static void update(struct fc_pxe_seen *e, const struct fc_dhcp *m, const char *iface, int64_t wall,
                   double mono)
{
    e->last_seen = wall;
    e->last_mono = mono;
    e->count++;
    e->msg_type = m->msg_type;
    e->xid = m->xid;
    e->has_arch = m->n_arch > 0;
    e->arch = m->n_arch ? m->arch[0] : 0;
    e->has_uuid = m->has_uuid;
    memcpy(e->uuid, m->uuid, sizeof(e->uuid));
    cut_copy(e->vendor, m->vendor, m->vendor_len);
    cut_copy(e->hostname, m->hostname, m->hostname_len);
    snprintf(e->iface, sizeof(e->iface), "%s", iface ? iface : "");
}

const struct fc_pxe_seen *fc_pxe_table_record(struct fc_pxe_table *t, const struct fc_dhcp *m,
                                              const char *iface, int64_t wall, double mono,
                                              int *fresh)
{
    uint32_t idx = find(t, m->mac);

    if (idx == NIL) {
        idx = take_slot(t);
        new_entry(t, idx, m->mac, wall);
        *fresh = 1;
    } else {
        list_unlink(t, idx);
        *fresh = mono - t->n[idx].e.last_mono >= FC_PXE_BOOTING_SECONDS;
    }
    update(&t->n[idx].e, m, iface, wall, mono);
    list_push_newest(t, idx);
    return &t->n[idx].e;
}

const struct fc_pxe_seen *fc_pxe_table_lookup(const struct fc_pxe_table *t, const uint8_t mac[6])
{
    uint32_t idx = find(t, mac);

    return idx == NIL ? NULL : &t->n[idx].e;
}

const struct fc_pxe_seen *fc_pxe_table_next(const struct fc_pxe_table *t,
                                            const struct fc_pxe_seen *e)
{
    uint32_t idx = e ? ((const struct node *)e)->older : t->newest;

    return idx == NIL ? NULL : &t->n[idx].e;
}

size_t fc_pxe_table_count(const struct fc_pxe_table *t)
{
    return t->count;
}

size_t fc_pxe_table_cap(const struct fc_pxe_table *t)
{
    return t->cap;
}

uint64_t fc_pxe_table_evicted(const struct fc_pxe_table *t)
{
    return t->evicted;
}

size_t fc_pxe_table_bytes(const struct fc_pxe_table *t)
{
    return sizeof(*t) + t->cap * sizeof(*t->n) + t->n_buckets * sizeof(*t->bucket);
}
