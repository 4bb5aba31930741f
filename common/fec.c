/* The erasure code behind repair: ISA-L Reed-Solomon with a Cauchy generator
 * matrix, the per-k cache of encode tables, and decode by inverting only the
 * small system of the missing source packets.
 *
 * Why not invert the k x k matrix of the received rows, as ISA-L's examples
 * do: at k = 200 gf_invert_matrix() takes about 50 ms, and at 1% loss nearly
 * every block needs a decode. The received source packets are known, so only
 * the e x e submatrix of (received parity rows) x (missing columns) needs
 * inverting, e being the number of missing source packets (usually 1 or 2). */
#include "common/fec.h"

#include <isa-l/erasure_code.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define GF_TBL_BYTES 32 /* ec_init_tables() output per coefficient, at most */
/* At most min(k, 255 - k) source packets can be missing (there are only
 * 255 - k parity rows); the largest such e and e * k over k <= 200: */
#define DEC_E_MAX 127u
#define DEC_COEF_MAX (127u * 128u)

/* Everything that depends on k alone. The row tables are built one row at a
 * time, each by its own ec_init_tables() call, and the batch tables by one
 * call for a whole run of rows: the table format differs between ISA-L
 * builds, so no code here slices one call's output into rows. */
struct fec_k {
    uint8_t *matrix; /* FC_FEC_MAX_N x k; rows below k are the identity */
    uint8_t *rows;   /* parity row j at j * GF_TBL_BYTES * k */
    uint8_t *batch;  /* rows batch_first .. + batch_count, from one call */
    unsigned batch_first;
    unsigned batch_count;
    uint8_t built[FC_FEC_MAX_N];
};

struct fc_fec {
    struct fec_k *by_k[FC_FEC_MAX_K + 1];
    uint8_t sub[DEC_E_MAX * DEC_E_MAX];
    uint8_t inv[DEC_E_MAX * DEC_E_MAX];
    uint8_t dec[DEC_COEF_MAX];
    uint8_t dec_tbl[GF_TBL_BYTES * DEC_COEF_MAX];
};

int fc_fec_new(struct fc_fec **out)
{
    struct fc_fec *f = calloc(1, sizeof(*f));

    if (!f)
        return FC_ENOMEM;
    *out = f;
    return 0;
}

void fc_fec_free(struct fc_fec *f)
{
    unsigned k;

    if (!f)
        return;
    for (k = 0; k <= FC_FEC_MAX_K; k++) {
        if (f->by_k[k])
            free(f->by_k[k]->matrix);
        free(f->by_k[k]);
    }
    free(f);
}

unsigned fc_fec_max_parity(unsigned k)
{
    return k >= 1 && k <= FC_FEC_MAX_K ? FC_FEC_MAX_N - k : 0;
}

/* One allocation for the matrix and both table areas. It is large for
 * k near 128 (about 1 MiB), but only the pages of rows actually used are
 * ever touched. */
static struct fec_k *fec_k_get(struct fc_fec *f, unsigned k)
{
    size_t mat = (size_t)FC_FEC_MAX_N * k;
    size_t tbl = (size_t)GF_TBL_BYTES * k * (FC_FEC_MAX_N - k);
    struct fec_k *c = f->by_k[k];

    if (c)
        return c;
    c = calloc(1, sizeof(*c));
    if (!c)
        goto fail;
    c->matrix = malloc(mat + 2 * tbl);
    if (!c->matrix)
        goto fail;
    c->rows = c->matrix + mat;
    c->batch = c->rows + tbl;
    gf_gen_cauchy1_matrix(c->matrix, FC_FEC_MAX_N, (int)k);
    f->by_k[k] = c;
    return c;
fail:
    free(c);
    return NULL;
}

static const uint8_t *fec_row_tables(struct fec_k *c, unsigned k, unsigned j)
{
    uint8_t *t = c->rows + (size_t)GF_TBL_BYTES * k * j;

    if (!c->built[j]) {
        ec_init_tables((int)k, 1, c->matrix + (size_t)(k + j) * k, t);
        c->built[j] = 1;
    }
    return t;
}

/* A repeated burst shape (say 10 proactive parity packets per block of k)
 * finds its tables ready. */
static const uint8_t *fec_batch_tables(struct fec_k *c, unsigned k, unsigned first, unsigned count)
{
    if (c->batch_count != count || c->batch_first != first) {
        ec_init_tables((int)k, (int)count, c->matrix + (size_t)(k + first) * k, c->batch);
        c->batch_first = first;
        c->batch_count = count;
    }
    return c->batch;
}

int fc_fec_encode(struct fc_fec *f, unsigned k, size_t len, const uint8_t *const *src,
                  unsigned first, unsigned count, uint8_t *const *parity)
{
    const uint8_t *tbl;
    struct fec_k *c;

    if (k < 1 || k > FC_FEC_MAX_K || len < 1 || len > FC_FEC_MAX_LEN || count < 1 ||
        first >= FC_FEC_MAX_N - k || count > FC_FEC_MAX_N - k - first)
        return FC_EINVAL;
    c = fec_k_get(f, k);
    if (!c)
        return FC_ENOMEM;
    if (count == 1)
        tbl = fec_row_tables(c, k, first);
    else
        tbl = fec_batch_tables(c, k, first, count);
    /* ISA-L's prototypes lack const; it only reads the tables and sources. */
    ec_encode_data((int)len, (int)k, (int)count, (uint8_t *)tbl, (uint8_t **)src,
                   (uint8_t **)parity);
    return 0;
}

/* Sorts the received packets into present source indices and parity rows,
 * and lists the missing source indices. */
static int fec_classify(unsigned k, const uint8_t *idx, uint8_t *have, uint8_t *missing,
                        unsigned *n_missing, uint8_t *par_pos)
{
    unsigned r, i, e = 0, p = 0;

    memset(have, 0, FC_FEC_MAX_N);
    for (r = 0; r < k; r++) {
        if (idx[r] >= FC_FEC_MAX_N || have[idx[r]])
            return FC_EINVAL;
        have[idx[r]] = 1;
        if (idx[r] >= k)
            par_pos[p++] = (uint8_t)r;
    }
    for (i = 0; i < k; i++)
        if (!have[i])
            missing[e++] = (uint8_t)i;
    *n_missing = e;
    return 0;
}

/* Row m of the decode matrix, over the inputs in their given order: missing
 * source M[m] = sum over parity p of inv[m][p] * (parity_p - sum over present
 * sources j of a[p][j] * src_j); in GF(2^8) minus is plus. */
static void fec_decode_row(const uint8_t *matrix, unsigned k, const uint8_t *idx,
                           const uint8_t *par_pos, unsigned e, const uint8_t *inv_row, uint8_t *out)
{
    unsigned r, p;

    for (r = 0; r < k; r++) {
        uint8_t v = 0;

        if (idx[r] >= k) {
            for (p = 0; p < e && par_pos[p] != r; p++)
                ;
            v = inv_row[p];
        } else {
            for (p = 0; p < e; p++)
                v ^= gf_mul(inv_row[p], matrix[(size_t)idx[par_pos[p]] * k + idx[r]]);
        }
        out[r] = v;
    }
}

static int fec_rebuild(struct fc_fec *f, const uint8_t *matrix, unsigned k, size_t len,
                       const uint8_t *const *in, const uint8_t *idx, const uint8_t *missing,
                       const uint8_t *par_pos, unsigned e, uint8_t *const *out)
{
    uint8_t *dst[DEC_E_MAX];
    unsigned m, p;

    for (p = 0; p < e; p++)
        for (m = 0; m < e; m++)
            f->sub[p * e + m] = matrix[(size_t)idx[par_pos[p]] * k + missing[m]];
    if (gf_invert_matrix(f->sub, f->inv, (int)e) != 0)
        return FC_EINVAL; /* cannot happen with a Cauchy matrix: any square submatrix inverts */
    for (m = 0; m < e; m++) {
        fec_decode_row(matrix, k, idx, par_pos, e, f->inv + m * e, f->dec + (size_t)m * k);
        dst[m] = out[missing[m]];
    }
    ec_init_tables((int)k, (int)e, f->dec, f->dec_tbl);
    ec_encode_data((int)len, (int)k, (int)e, f->dec_tbl, (uint8_t **)in, dst);
    return 0;
}

int fc_fec_decode(struct fc_fec *f, unsigned k, size_t len, const uint8_t *const *in,
                  const uint8_t *idx, uint8_t *const *out)
{
    uint8_t have[FC_FEC_MAX_N], missing[FC_FEC_MAX_K], par_pos[FC_FEC_MAX_K];
    unsigned r, e;
    struct fec_k *c;
    int rc;

    if (k < 1 || k > FC_FEC_MAX_K || len < 1 || len > FC_FEC_MAX_LEN)
        return FC_EINVAL;
    rc = fec_classify(k, idx, have, missing, &e, par_pos);
    if (rc < 0)
        return rc;
    if (e > 0) {
        c = fec_k_get(f, k);
        if (!c)
            return FC_ENOMEM;
        rc = fec_rebuild(f, c->matrix, k, len, in, idx, missing, par_pos, e, out);
        if (rc < 0)
            return rc;
    }
    for (r = 0; r < k; r++)
        if (idx[r] < k && out[idx[r]] != in[r])
            memcpy(out[idx[r]], in[r], len);
    return 0;
}
