/* `fleetcast image create|info|verify|restore|compare`. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/image.h"
#include "common/imgwrite.h"
#include "common/key.h"
#include "common/log.h"
#include "common/meter.h"
#include "common/restore.h"

struct image_opts {
    const char *operand[2];
    int n_operands;
    const char *key;
    const char *pubkey;
    int level;
    int threads;
    uint32_t chunk_size;
    int quiet, json, extents, chunks, force;
    enum fc_free_mode free_mode;
    int grow;           /* restore --grow: a partition fills a bigger disk */
    uint32_t grow_part; /* --grow-part N (implies --grow); 0 = the last */
};

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (!s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_value_opt(struct fc_args *a, struct image_opts *o, int *handled)
{
    const char *v;
    long n;

    *handled = 1;
    if (fc_opt_value(a, "--key", &o->key))
        return o->key ? 0 : fc_usage_error("--key needs a secret key file");
    if (fc_opt_value(a, "--pubkey", &o->pubkey))
        return o->pubkey ? 0 : fc_usage_error("--pubkey needs a public key file");
    if (fc_opt_value(a, "--level", &v)) {
        if (parse_int(v, 1, 19, &n))
            return fc_usage_error("--level takes a zstd level from 1 to 19");
        o->level = (int)n;
        return 0;
    }
    if (fc_opt_value(a, "--threads", &v)) {
        if (parse_int(v, 1, 64, &n))
            return fc_usage_error("--threads takes a number from 1 to 64");
        o->threads = (int)n;
        return 0;
    }
    if (fc_opt_value(a, "--chunk-size", &v)) {
        if (parse_int(v, 4096, FC_CHUNK_MAX, &n) || n % 4096)
            return fc_usage_error("--chunk-size takes a multiple of 4096 up to %u", FC_CHUNK_MAX);
        o->chunk_size = (uint32_t)n;
        return 0;
    }
    if (fc_opt_value(a, "--grow-part", &v)) {
        if (parse_int(v, 1, 128, &n))
            return fc_usage_error("--grow-part takes a partition number from 1 to 128");
        o->grow = 1;
        o->grow_part = (uint32_t)n;
        return 0;
    }
    *handled = 0;
    return 0;
}

/* --force is create's alone: elsewhere it is an unknown option. */
static int parse_opts(struct fc_args *a, struct image_opts *o, int want_operands, int is_create)
{
    memset(o, 0, sizeof(*o));
    o->level = 3;
    while (a->pos < a->argc) {
        const char *arg = a->argv[a->pos];
        int handled, rc = parse_value_opt(a, o, &handled);

        if (rc)
            return rc;
        if (handled)
            continue;
        if (fc_opt_flag(a, "--quiet") || fc_opt_flag(a, "-q"))
            o->quiet = 1;
        else if (fc_opt_flag(a, "--json"))
            o->json = 1;
        else if (fc_opt_flag(a, "--extents"))
            o->extents = 1;
        else if (fc_opt_flag(a, "--chunks"))
            o->chunks = 1;
        else if (is_create && fc_opt_flag(a, "--force"))
            o->force = 1;
        else if (fc_opt_flag(a, "--grow"))
            o->grow = 1;
        else if (fc_opt_flag(a, "--zero-free") || fc_opt_flag(a, "--discard")) {
            enum fc_free_mode m = strcmp(arg, "--discard") ? FC_FREE_ZERO : FC_FREE_DISCARD;
            if (o->free_mode && o->free_mode != m)
                return fc_usage_error("--zero-free and --discard exclude each other");
            o->free_mode = m;
        } else if (arg[0] == '-' && arg[1])
            return fc_unknown_option(a, arg);
        else if (o->n_operands < want_operands) {
            o->operand[o->n_operands++] = arg;
            a->pos++;
        } else
            return fc_usage_error("unexpected argument '%s'", arg);
    }
    if (o->n_operands != want_operands)
        return fc_usage_error("expected %d operand%s", want_operands, want_operands > 1 ? "s" : "");
    return 0;
}

static char *hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
    sodium_bin2hex(out, cap, b, n);
    return out;
}

static void print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}

static json_t *parts_json(const struct fc_part *parts, uint32_t n)
{
    json_t *arr = json_array();
    uint32_t i;

    for (i = 0; i < n; i++) {
        const struct fc_part *p = &parts[i];
        json_array_append_new(
            arr, json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:I, s:I, s:s}", "index",
                           (json_int_t)p->index, "start", (json_int_t)p->start, "size",
                           (json_int_t)p->size, "type", p->type, "fs", fc_fs_name(p->fs), "method",
                           fc_method_name(p->method), "stored_bytes", (json_int_t)p->stored_bytes,
                           "dontcare_bytes", (json_int_t)p->dontcare_bytes, "note", p->note));
    }
    return arr;
}

static void print_parts_text(const struct fc_part *parts, uint32_t n)
{
    char a[16], b[16], c[16];
    uint32_t i;

    printf("  %-5s %12s %10s  %-6s %-12s %10s  %s\n", "part", "start", "size", "fs", "method",
           "stored", "note");
    for (i = 0; i < n; i++) {
        const struct fc_part *p = &parts[i];
        char idx[12];
        if (p->index)
            snprintf(idx, sizeof(idx), "%u", p->index);
        else
            snprintf(idx, sizeof(idx), "-");
        printf("  %-5s %12s %10s  %-6s %-12s %10s  %s\n", idx, fc_human_bytes(p->start, a, 16),
               fc_human_bytes(p->size, b, 16), fc_fs_name(p->fs), fc_method_name(p->method),
               fc_human_bytes(p->stored_bytes, c, 16),
               p->index ? p->note : (p->note[0] ? p->note : "(outside partitions)"));
    }
}

static uint64_t dontcare_total(const struct fc_part *parts, uint32_t n)
{
    uint64_t t = 0;
    uint32_t i;

    for (i = 0; i < n; i++)
        t += parts[i].dontcare_bytes;
    return t;
}

/* The bytes a capture chose not to store although in use, said once. */
static void print_dontcare(const struct fc_part *parts, uint32_t n)
{
    uint64_t t = dontcare_total(parts, n);
    char s[16];

    if (t)
        printf("not stored: %s of pagefile.sys/hiberfil.sys/swapfile.sys data (don't care: "
               "Windows recreates them)\n",
               fc_human_bytes(t, s, 16));
}

static int load_signing_key(const struct image_opts *o, struct fc_keypair *kp)
{
    int created;

    if (o->key)
        return fc_key_load_secret(o->key, kp);
    return fc_key_load_or_create_default(kp, &created);
}

static int cmd_create(struct fc_args *a)
{
    struct image_opts o;
    struct fc_keypair kp;
    struct fc_capture_opts co;
    struct fc_capture_result *res = calloc(1, sizeof(*res));
    char id[2 * FC_IMAGE_ID_LEN + 1], s1[16], s2[16], s3[16];
    int rc = parse_opts(a, &o, 2, 1);

    if (rc || !res) {
        free(res);
        return rc ? rc : fc_fail(FC_ENOMEM, "create");
    }
    rc = load_signing_key(&o, &kp);
    if (rc) {
        free(res);
        return fc_fail(rc, "signing key");
    }
    memset(&co, 0, sizeof(co));
    co.source = o.operand[0];
    co.out = o.operand[1];
    co.key = &kp;
    co.level = o.level;
    co.threads = o.threads;
    co.chunk_size = o.chunk_size;
    co.quiet = o.quiet || o.json;
    co.force = o.force;
    co.stop = &fc_cli_stop;
    rc = fc_image_create(&co, res);
    sodium_memzero(&kp, sizeof(kp));
    if (rc) {
        free(res);
        return fc_fail(rc, rc == FC_EINTR ? "capture interrupted, nothing written" : "capture");
    }
    hex(res->image_id, FC_IMAGE_ID_LEN, id, sizeof(id));
    if (o.json) {
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:o, s:f}", "image", co.out, "image_id",
            id, "source", co.source, "disk_size", (json_int_t)res->disk_size, "stored_bytes",
            (json_int_t)res->stored_bytes, "compressed_bytes", (json_int_t)res->compressed_bytes,
            "image_bytes", (json_int_t)res->image_bytes, "chunk_count",
            (json_int_t)res->chunk_count, "table", fc_table_name(res->table), "partitions",
            parts_json(res->parts, res->n_parts), "seconds", res->seconds);
        json_object_set_new(j, "dontcare_bytes",
                            json_integer((json_int_t)dontcare_total(res->parts, res->n_parts)));
        print_json(j);
    } else if (!o.quiet) {
        printf("image %s: id %s, %s table\n", co.out, id, fc_table_name(res->table));
        print_parts_text(res->parts, res->n_parts);
        printf("disk %s, stored %s, image %s (%.1f%% of disk), %u chunks, %.1f s\n",
               fc_human_bytes(res->disk_size, s1, 16), fc_human_bytes(res->stored_bytes, s2, 16),
               fc_human_bytes(res->image_bytes, s3, 16),
               res->disk_size ? 100.0 * (double)res->image_bytes / (double)res->disk_size : 0,
               res->chunk_count, res->seconds);
        print_dontcare(res->parts, res->n_parts);
    }
    free(res);
    return 0;
}

static int open_image(const struct image_opts *o, struct fc_image *img)
{
    uint8_t pk[FC_PUBKEY_LEN];
    int rc;

    if (o->pubkey) {
        rc = fc_key_load_public(o->pubkey, pk);
        if (rc)
            return rc;
    }
    return fc_image_open(o->operand[0], o->pubkey ? pk : NULL, img);
}

static json_t *info_json(const struct fc_image *img, const struct image_opts *o)
{
    const struct fc_manifest *m = &img->m;
    char id[2 * FC_IMAGE_ID_LEN + 1], pk[2 * FC_PUBKEY_LEN + 1], fpr[FC_FPR_LEN + 1];
    json_t *j;
    uint32_t i;

    fc_key_fingerprint(img->signer, fpr);
    j = json_pack(
        "{s:s, s:s, s:i, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:I, s:s, s:s, s:s, "
        "s:s, s:o}",
        "image", o->operand[0], "image_id", hex(m->image_id, FC_IMAGE_ID_LEN, id, sizeof(id)),
        "format_version", FC_IMAGE_VERSION, "disk_size", (json_int_t)m->disk_size, "table",
        fc_table_name(m->table), "stored_bytes", (json_int_t)m->stored_bytes, "compressed_bytes",
        (json_int_t)m->compressed_bytes, "image_bytes", (json_int_t)img->file_size, "chunk_count",
        (json_int_t)m->n_chunks, "chunk_size", (json_int_t)m->chunk_size, "level", m->level,
        "created", (json_int_t)m->created, "source", m->source, "tool_version", m->tool, "signer",
        hex(img->signer, FC_PUBKEY_LEN, pk, sizeof(pk)), "signer_fingerprint", fpr, "partitions",
        parts_json(m->parts, m->n_parts));
    json_object_set_new(j, "dontcare_bytes",
                        json_integer((json_int_t)dontcare_total(m->parts, m->n_parts)));
    json_object_set_new(j, "manifest_version", json_integer((json_int_t)m->version));
    if (o->extents) {
        json_t *arr = json_array();
        for (i = 0; i < m->n_extents; i++)
            json_array_append_new(arr, json_pack("[I, I]", (json_int_t)m->extents[i].off,
                                                 (json_int_t)m->extents[i].len));
        json_object_set_new(j, "extents", arr);
    }
    if (o->chunks) {
        json_t *arr = json_array();
        for (i = 0; i < m->n_chunks; i++) {
            const struct fc_chunk *c = &m->chunks[i];
            json_array_append_new(
                arr, json_pack("{s:I, s:I, s:I, s:I, s:I}", "index", (json_int_t)i, "file_offset",
                               (json_int_t)c->file_off, "comp_size", (json_int_t)c->comp_size,
                               "raw_size", (json_int_t)c->raw_size, "extents",
                               (json_int_t)c->n_extents));
        }
        json_object_set_new(j, "chunks", arr);
    }
    return j;
}

static void info_text(const struct fc_image *img, const char *path)
{
    const struct fc_manifest *m = &img->m;
    char id[2 * FC_IMAGE_ID_LEN + 1], fpr[FC_FPR_LEN + 1], when[64], s1[16], s2[16], s3[16];
    time_t t = (time_t)m->created;

    fc_key_fingerprint(img->signer, fpr);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("image:      %s\nimage id:   %s\nformat:     version %d (manifest %u), %s\n"
           "created:    %s from %s\n"
           "signer:     %s (Ed25519; check with: fleetcast image verify --pubkey KEY.pub)\n"
           "disk:       %s, %s partition table\n",
           path, hex(m->image_id, FC_IMAGE_ID_LEN, id, sizeof(id)), FC_IMAGE_VERSION, m->version,
           m->tool, when, m->source, fpr, fc_human_bytes(m->disk_size, s1, 16),
           fc_table_name(m->table));
    print_parts_text(m->parts, m->n_parts);
    printf("stored:     %s of %s (%.1f%%), compressed to %s (ratio %.2f)\n",
           fc_human_bytes(m->stored_bytes, s1, 16), fc_human_bytes(m->disk_size, s2, 16),
           m->disk_size ? 100.0 * (double)m->stored_bytes / (double)m->disk_size : 0,
           fc_human_bytes(m->compressed_bytes, s3, 16),
           m->compressed_bytes ? (double)m->stored_bytes / (double)m->compressed_bytes : 0);
    print_dontcare(m->parts, m->n_parts);
    printf("chunks:     %u of up to %s, %u extents, zstd level %u\n", m->n_chunks,
           fc_human_bytes(m->chunk_size, s1, 16), m->n_extents, m->level);
}

static int cmd_info(struct fc_args *a)
{
    struct image_opts o;
    struct fc_image img;
    int rc = parse_opts(a, &o, 1, 0);

    if (rc)
        return rc;
    rc = open_image(&o, &img);
    if (rc)
        return fc_fail(rc, o.operand[0]);
    if (o.json)
        print_json(info_json(&img, &o));
    else
        info_text(&img, o.operand[0]);
    fc_image_close(&img);
    return 0;
}

static int report_apply(int rc, const struct fc_apply_result *r, const char *what)
{
    char buf[160];

    if (r->bad_chunk >= 0) {
        snprintf(buf, sizeof(buf), "%s: chunk %lld", what, (long long)r->bad_chunk);
        return fc_fail(rc, buf);
    }
    return fc_fail(rc, what);
}

static int cmd_verify(struct fc_args *a)
{
    struct image_opts o;
    struct fc_image img;
    struct fc_apply_opts ao = {FC_OP_VERIFY, NULL, 0, 0, &fc_cli_stop};
    struct fc_apply_result r;
    char fpr[FC_FPR_LEN + 1];
    int rc = parse_opts(a, &o, 1, 0);

    if (rc)
        return rc;
    rc = open_image(&o, &img);
    if (rc)
        return fc_fail(rc, o.operand[0]);
    ao.threads = o.threads;
    ao.quiet = o.quiet || o.json;
    rc = fc_image_apply(&img, &ao, &r);
    fc_key_fingerprint(img.signer, fpr);
    if (rc) {
        fc_image_close(&img);
        return report_apply(rc, &r, o.operand[0]);
    }
    if (o.json)
        print_json(json_pack("{s:s, s:b, s:I, s:s, s:b}", "image", o.operand[0], "ok", 1, "chunks",
                             (json_int_t)img.m.n_chunks, "signer_fingerprint", fpr,
                             "trusted_key_checked", o.pubkey != NULL));
    else if (!o.quiet)
        printf("%s: OK: signature by %s%s, %u chunks verified\n", o.operand[0], fpr,
               o.pubkey ? " (the trusted key)"
                        : " (not checked against a trusted key: use --pubkey)",
               img.m.n_chunks);
    fc_image_close(&img);
    return 0;
}

static json_t *target_json(const struct image_opts *o, const struct fc_apply_result *r,
                           const struct fc_manifest *m, const struct fc_fit *fit)
{
    json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:f}", "image", o->operand[0], "target",
                          o->operand[1], "ok", 1, "bytes", (json_int_t)r->bytes, "disk_size",
                          (json_int_t)m->disk_size, "seconds", r->seconds);

    if (j && fit)
        json_object_set_new(j, "gpt_moved", json_boolean(fit->gpt_moved));
    if (j && fit && fit->grow)
        json_object_set_new(j, "grow",
                            json_pack("{s:b, s:s, s:s, s:I}", "done", fit->result == FC_GROW_DONE,
                                      "result", fc_grow_result_text(fit->result), "detail",
                                      fit->detail, "partition", (json_int_t)fit->grown_part));
    return j;
}

static int run_on_target(struct image_opts *o, enum fc_apply_op op)
{
    struct fc_image img;
    struct fc_target t;
    struct fc_apply_opts ao = {op, &t, o->threads, o->quiet || o->json, &fc_cli_stop};
    struct fc_apply_result r = {-1, 0, 0};
    struct fc_fit fit = {.grow = o->grow, .part = o->grow_part};
    char s1[16];
    int rc;

    rc = open_image(o, &img);
    if (rc)
        return fc_fail(rc, o->operand[0]);
    rc = fc_target_open(o->operand[1], img.m.disk_size, &t);
    if (rc) {
        fc_image_close(&img);
        return fc_fail(rc, o->operand[1]);
    }
    t.free_mode = o->free_mode;
    /* Stale labels go first: the chunks then overwrite whatever they store. */
    if (op == FC_OP_RESTORE)
        rc = fc_target_clear_stale(&t, &img.m);
    if (!rc)
        rc = fc_image_apply(&img, &ao, &r);
    if (!rc && op == FC_OP_RESTORE)
        rc = fc_target_finish(&t, &img.m);
    /* After the image is written and synced: the check above covered it as
     * the image has it; moving the backup GPT and growing come after. */
    if (!rc && op == FC_OP_RESTORE)
        rc = fc_target_fit(&t, &img.m, &fit);
    fc_target_close(&t);
    if (rc) {
        fc_image_close(&img);
        if (op == FC_OP_RESTORE)
            fprintf(stderr, "fleetcast: the target %s is INCOMPLETE and must not be used\n",
                    o->operand[1]);
        return report_apply(rc, &r, op == FC_OP_RESTORE ? "restore" : o->operand[1]);
    }
    if (o->json)
        print_json(target_json(o, &r, &img.m, op == FC_OP_RESTORE ? &fit : NULL));
    else if (!o->quiet)
        printf("%s: %s %s of %u chunks, %s\n", o->operand[1],
               op == FC_OP_RESTORE ? "restored" : "matches the image in",
               fc_human_bytes(r.bytes, s1, 16), img.m.n_chunks,
               op == FC_OP_RESTORE ? "verified and synced" : "every stored region");
    if (!o->json && op == FC_OP_RESTORE && o->grow)
        printf("%s: grow %s\n", o->operand[1], fit.detail);
    fc_image_close(&img);
    return 0;
}

static int cmd_target(struct fc_args *a, enum fc_apply_op op)
{
    struct image_opts o;
    int rc = parse_opts(a, &o, 2, 0);

    if (rc)
        return rc;
    return run_on_target(&o, op);
}

int fc_cmd_image(struct fc_args *a)
{
    const char *sub = a->pos < a->argc ? a->argv[a->pos++] : "";

    if (!strcmp(sub, "create"))
        return cmd_create(a);
    if (!strcmp(sub, "info"))
        return cmd_info(a);
    if (!strcmp(sub, "verify"))
        return cmd_verify(a);
    if (!strcmp(sub, "restore"))
        return cmd_target(a, FC_OP_RESTORE);
    if (!strcmp(sub, "compare"))
        return cmd_target(a, FC_OP_COMPARE);
    return fc_usage_error("usage: fleetcast image create|info|verify|restore|compare ...");
}
