/* `fleetcast machines boot ACTION MAC...|--lab LAB` and `fleetcast pxe reset MAC|--all`: how
 * machines boot from the network next time, set in fleetcastd's inventory (POST /api/v1/boot,
 * docs/api.md). fleetcastd writes their boot files (server/pxecfg.c, common/bootaction.c);
 * this command never writes one, so that one place decides. */
#include <stdio.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "common/bootcfg.h"
#include "proto/wol.h"

#define BOOT_OPERANDS_MAX 4096

struct boot_opts {
    struct fc_api_opts api;
    const char *lab, *image;
    const char *operand[BOOT_OPERANDS_MAX];
    int n, all;
};

static int parse(struct fc_args *a, struct boot_opts *o, int reset)
{
    memset(o, 0, sizeof(*o));
    while (a->pos < a->argc) {
        const char *arg = a->argv[a->pos], *v;
        int rc = 0;

        if (fc_api_opt(a, &o->api, &rc)) {
            if (rc)
                return rc;
        } else if (!reset && fc_opt_value(a, "--lab", &v)) {
            if (!(o->lab = v) || !*v)
                return fc_usage_error("--lab needs a value");
        } else if (!reset && fc_opt_value(a, "--image", &v)) {
            if (!(o->image = v) || !*v || strpbrk(v, " \t"))
                return fc_usage_error("--image needs an image id");
        } else if (reset && fc_opt_flag(a, "--all")) {
            o->all = 1;
        } else if (reset && !strcmp(arg, "--tftp-root")) {
            return fc_usage_error("pxe reset no longer takes --tftp-root: fleetcastd writes the "
                                  "files under its own --tftp-root");
        } else if (arg[0] == '-' && arg[1]) {
            return fc_unknown_option(a, arg);
        } else if (o->n == BOOT_OPERANDS_MAX) {
            return fc_usage_error("at most %d machines at once", BOOT_OPERANDS_MAX);
        } else {
            o->operand[o->n++] = arg;
            a->pos++;
        }
    }
    return 0;
}

/* The inventory's MACs of LAB (NULL: all), only those whose action is ONLY if given. */
static int inventory_macs(struct boot_opts *o, const char *lab, const char *only, json_t *macs)
{
    char path[160];
    json_t *out, *m;
    size_t i;
    int rc;

    snprintf(path, sizeof(path), "/api/v1/inventory/machines%s%s", lab ? "?lab=" : "",
             lab ? lab : "");
    if ((rc = fc_api_request(&o->api, "GET", path, NULL, &out)))
        return rc;
    json_array_foreach(json_object_get(out, "machines"), i, m)
    {
        if (!only || !strcmp(fc_jstr(m, "boot_action"), only))
            json_array_append(macs, json_object_get(m, "mac"));
    }
    json_decref(out);
    return 0;
}

static void print_result(json_t *out)
{
    json_t *m;
    size_t i;

    json_array_foreach(json_object_get(out, "machines"), i, m)
    {
        printf("machine %s: boot action %s%s%s\n", fc_jstr(m, "mac"), fc_jstr(m, "boot_action"),
               fc_jnull(m, "boot_image") ? "" : ", image ",
               fc_jnull(m, "boot_image") ? "" : fc_jstr(m, "boot_image"));
    }
    if (fc_jnull(out, "files"))
        printf("fleetcastd has no --tftp-root: no boot files were written\n");
    else
        printf("boot files written under %s\n", fc_jstr(out, "files"));
}

/* Every MAC operand a MAC, before anything is asked: a typo is a usage error (exit 2). */
static int check_macs(const struct boot_opts *o, int from)
{
    char mac[FC_MAC_TEXT];
    int i;

    for (i = from; i < o->n; i++)
        if (fc_mac_normalize(o->operand[i], ':', mac))
            return fc_usage_error("'%s' is not a MAC address like 52:54:00:12:34:56",
                                  o->operand[i]);
    return 0;
}

static int post(struct boot_opts *o, const char *action, json_t *macs)
{
    json_t *out = NULL;
    int rc;

    if (!json_array_size(macs)) {
        json_decref(macs);
        printf("no machines to set\n");
        return 0;
    }
    rc = fc_api_request(
        &o->api, "POST", "/api/v1/boot",
        json_pack("{s:s, s:o, s:s?}", "action", action, "macs", macs, "image", o->image), &out);
    if (rc)
        return rc;
    if (o->api.json)
        fc_api_print_json(out);
    else
        print_result(out);
    json_decref(out);
    return 0;
}

int fc_cmd_machines_boot(struct fc_args *a)
{
    struct boot_opts o;
    enum fc_boot_action act;
    json_t *macs;
    int i, rc = parse(a, &o, 0);

    if (rc)
        return rc;
    if (!o.n || fc_boot_action_parse(o.operand[0], &act))
        return fc_usage_error("machines boot needs an action: " FC_BOOT_ACTIONS);
    if (!o.lab == (o.n == 1))
        return fc_usage_error("machines boot %s needs MAC addresses or --lab LAB (not both)",
                              o.operand[0]);
    if ((rc = check_macs(&o, 1)))
        return rc;
    macs = json_array();
    for (i = 1; i < o.n; i++)
        json_array_append_new(macs, json_string(o.operand[i]));
    if (o.lab && (rc = inventory_macs(&o, o.lab, NULL, macs)))
        return json_decref(macs), rc;
    return post(&o, o.operand[0], macs);
}

int fc_cmd_pxe_reset(struct fc_args *a)
{
    struct boot_opts o;
    json_t *macs;
    int rc = parse(a, &o, 1);

    if (rc)
        return rc;
    if (o.all == (o.n == 1) || o.n > 1)
        return fc_usage_error("pxe reset takes a MAC address or --all");
    if ((rc = check_macs(&o, 0)))
        return rc;
    macs = json_array();
    if (o.n)
        json_array_append_new(macs, json_string(o.operand[0]));
    else if ((rc = inventory_macs(&o, NULL, "local", macs)))
        return json_decref(macs), rc;
    return post(&o, "deploy", macs);
}
