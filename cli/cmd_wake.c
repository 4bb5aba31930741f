/* `fleetcast wake --iface IF MAC...`: fleetcastd sends each machine's
 * Wake-on-LAN magic packet from the lab's interface, in rounds over a
 * minute (POST /api/v1/wake, docs/api.md). The packets leave from the
 * server, on the lab's link, not from the admin's machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "common/error.h"
#include "proto/wol.h"

#define WAKE_MACS_MAX 1024 /* fleetcastd's FC_WAKE_MACS_MAX */

struct wake_opts {
    struct fc_api_opts api;
    const char *iface, *addr;
    const char *macs[WAKE_MACS_MAX];
    int n;
};

static int str_value(struct fc_args *a, const char *name, const char **out, int *rc)
{
    if (!fc_opt_value(a, name, out))
        return 0;
    if (!*out || !**out)
        *rc = fc_usage_error("%s needs a value", name);
    return 1;
}

/* Options and MACs (its --help: cli/help.c); 0 or an exit status. */
static int parse(struct fc_args *a, struct wake_opts *o)
{
    uint8_t mac[FC_MAC_LEN];

    memset(o, 0, sizeof(*o));
    while (a->pos < a->argc) {
        const char *arg = a->argv[a->pos];
        int rc = 0;

        if (fc_api_opt(a, &o->api, &rc) || str_value(a, "--iface", &o->iface, &rc) ||
            str_value(a, "--addr", &o->addr, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        if (arg[0] == '-' && arg[1])
            return fc_unknown_option(a, arg);
        if (fc_mac_parse(arg, mac))
            return fc_usage_error("'%s' is not a machine's MAC (52:54:00:ab:cd:ef)", arg);
        if (o->n == WAKE_MACS_MAX)
            return fc_usage_error("more than %d MACs", WAKE_MACS_MAX);
        o->macs[o->n++] = arg;
        a->pos++;
    }
    if (!o->iface)
        return fc_usage_error("wake needs --iface: the server's interface on the lab");
    if (!o->n)
        return fc_usage_error("wake needs the MACs of the machines to wake");
    return 0;
}

static json_t *wake_body(const struct wake_opts *o)
{
    json_t *macs = json_array(), *b;
    int i;

    for (i = 0; macs && i < o->n; i++)
        json_array_append_new(macs, json_string(o->macs[i]));
    b = json_pack("{s:s, s:o}", "iface", o->iface, "macs", macs);
    if (b && o->addr)
        json_object_set_new(b, "addr", json_string(o->addr));
    return b;
}

int fc_cmd_wake(struct fc_args *a)
{
    struct wake_opts o;
    struct fc_api api;
    json_t *body, *out, *w;
    char until[16];
    time_t end;
    int rc = parse(a, &o);

    if (rc)
        return rc;
    body = wake_body(&o);
    if (!body)
        return fc_fail(FC_ENOMEM, "wake");
    rc = fc_api_open(&api, &o.api);
    if (!rc && (rc = fc_api_call(&api, "POST", "/api/v1/wake", body, &out)))
        rc = fc_api_fail(&api, rc);
    json_decref(body);
    if (rc)
        return rc;
    w = json_object_get(out, "wake");
    end = (time_t)fc_jnum(w, "ends_at", 0);
    strftime(until, sizeof(until), "%H:%M:%S", localtime(&end));
    if (o.api.json)
        fc_api_print_json(out);
    else
        printf("wake: %zu machines on %s to %s, %.0f rounds until %s (job %.0f)\n",
               json_array_size(json_object_get(w, "macs")), fc_jstr(w, "iface"), fc_jstr(w, "to"),
               fc_jnum(w, "rounds", 0), until, fc_jnum(w, "id", 0));
    json_decref(out);
    return 0;
}
