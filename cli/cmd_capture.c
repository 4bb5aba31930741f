/* `fleetcast capture create|list|cancel`: captures over the network through
 * fleetcastd (POST /api/v1/captures, GET /api/v1/captures, POST
 * /api/v1/captures/cancel; docs/api.md "Captures"). The machine's boot
 * action and the upload are fleetcastd's (server/capture.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"

struct capture_opts {
    struct fc_api_opts api;
    const char *mac, *out;
    int level, overwrite;
};

static int parse(struct fc_args *a, struct capture_opts *o, int create)
{
    memset(o, 0, sizeof(*o));
    o->level = 3;
    while (a->pos < a->argc) {
        const char *v;
        int rc = 0;

        if (fc_api_opt(a, &o->api, &rc)) {
            if (rc)
                return rc;
        } else if (create && fc_opt_value(a, "--out", &v)) {
            if (!(o->out = v) || !*v)
                return fc_usage_error("--out needs the image's path on the server");
        } else if (create && fc_opt_flag(a, "--overwrite")) {
            o->overwrite = 1;
        } else if (create && fc_opt_value(a, "--level", &v)) {
            if (!v || (o->level = atoi(v)) < 1 || o->level > 22)
                return fc_usage_error("--level needs a zstd level from 1 to 22");
        } else if (fc_opt_value(a, "--mac", &v)) {
            if (!(o->mac = v) || !*v)
                return fc_usage_error("--mac needs a MAC address");
        } else if ((rc = fc_take_operand(a, &o->mac, !create && !o->mac))) {
            return rc;
        }
    }
    return 0;
}

static void print_capture(json_t *c)
{
    printf("machine %s: capture %s into %s, level %d, %.0f chunks, %.0f bytes, %.1f MB/s%s%s\n",
           fc_jstr(c, "mac"), fc_jstr(c, "state"), fc_jstr(c, "path"), (int)fc_jnum(c, "level", 0),
           fc_jnum(c, "chunks", 0), fc_jnum(c, "bytes", 0), fc_jnum(c, "rate", 0) / 1e6,
           *fc_jstr(c, "error") ? ": " : "", fc_jstr(c, "error"));
}

static int show(struct capture_opts *o, json_t *out)
{
    json_t *c, *list = json_object_get(out, "captures");
    size_t i;

    if (o->api.json)
        fc_api_print_json(out);
    else if (json_object_get(out, "capture"))
        print_capture(json_object_get(out, "capture"));
    else if (!json_array_size(list))
        printf("no captures\n");
    else
        json_array_foreach(list, i, c) print_capture(c);
    json_decref(out);
    return 0;
}

static int create(struct fc_args *a)
{
    struct capture_opts o;
    json_t *out = NULL;
    int rc = parse(a, &o, 1);

    if (rc)
        return rc;
    if (!o.mac || !o.out)
        return fc_usage_error("capture create needs --mac MAC and --out IMG");
    rc = fc_api_request(&o.api, "POST", "/api/v1/captures",
                        json_pack("{s:s, s:s, s:i, s:b}", "mac", o.mac, "out", o.out, "level",
                                  o.level, "overwrite", o.overwrite),
                        &out);
    return rc ? rc : show(&o, out);
}

static int list(struct fc_args *a)
{
    struct capture_opts o;
    json_t *out = NULL;
    int rc = parse(a, &o, 0);

    if (!rc && o.mac)
        return fc_usage_error("capture list takes no machine");
    if (!rc)
        rc = fc_api_request(&o.api, "GET", "/api/v1/captures", NULL, &out);
    return rc ? rc : show(&o, out);
}

static int cancel(struct fc_args *a)
{
    struct capture_opts o;
    json_t *out = NULL;
    int rc = parse(a, &o, 0);

    if (!rc && !o.mac)
        return fc_usage_error("capture cancel needs the machine's MAC");
    if (!rc)
        rc = fc_api_request(&o.api, "POST", "/api/v1/captures/cancel",
                            json_pack("{s:s}", "mac", o.mac), &out);
    return rc ? rc : show(&o, out);
}

int fc_cmd_capture(struct fc_args *a)
{
    const char *sub = a->pos < a->argc ? a->argv[a->pos] : "";

    a->pos++;
    if (!strcmp(sub, "create"))
        return create(a);
    if (!strcmp(sub, "list"))
        return list(a);
    if (!strcmp(sub, "cancel"))
        return cancel(a);
    return fc_usage_error("usage: fleetcast capture create --mac MAC --out IMG [--level N] | "
                          "capture list | capture cancel MAC");
}
