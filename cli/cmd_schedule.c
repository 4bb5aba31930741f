/* `fleetcast schedule create|list|cancel`: a lab imaged at a time, once or
 * every given weekday, its machines woken first (docs/api.md, "Schedules").
 * Times are read here, in the operator's time zone, and sent as unix
 * seconds; the deadline is a time of day the daemon applies to each run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "common/error.h"

struct sched_opts {
    struct fc_api_opts api;
    const char *operand;
    const char *lab, *image, *at, *every, *deadline, *group, *iface, *rate, *max_wait;
    int wake, readback, grow;
    const char *grow_part;
};

static int opt(struct fc_args *a, struct sched_opts *o, int *rc)
{
    static const char *const names[] = {"--lab",   "--image", "--at",   "--every",    "--deadline",
                                        "--group", "--iface", "--rate", "--max-wait", NULL};
    const char **slots[] = {&o->lab,   &o->image, &o->at,   &o->every,   &o->deadline,
                            &o->group, &o->iface, &o->rate, &o->max_wait};
    const char *v;
    int i;

    for (i = 0; names[i]; i++)
        if (fc_opt_value(a, names[i], &v)) {
            if (!v || !*v)
                *rc = fc_usage_error("%s needs a value", names[i]);
            *slots[i] = v;
            return 1;
        }
    if (fc_opt_flag(a, "--wake"))
        return o->wake = 1, 1;
    if (fc_opt_flag(a, "--readback"))
        return o->readback = 1, 1;
    if (fc_opt_flag(a, "--grow"))
        return o->grow = 1, 1;
    if (fc_opt_value(a, "--grow-part", &o->grow_part)) {
        long n = o->grow_part ? strtol(o->grow_part, NULL, 10) : 0;
        /* 1-31: what the ANNOUNCE flags carry */
        if (n < 1 || n > 31 || strspn(o->grow_part, "0123456789") != strlen(o->grow_part))
            *rc = fc_usage_error("--grow-part takes a partition number from 1 to 31");
        return 1;
    }
    return 0;
}

static int parse(struct fc_args *a, struct sched_opts *o, int create, int want)
{
    memset(o, 0, sizeof(*o));
    while (a->pos < a->argc) {
        int rc = 0;

        if (fc_api_opt(a, &o->api, &rc) || (create && opt(a, o, &rc))) {
            if (rc)
                return rc;
            continue;
        }
        if ((rc = fc_take_operand(a, &o->operand, want)))
            return rc;
    }
    if (want && !o->operand)
        return fc_usage_error("which schedule? (an id from 'fleetcast schedule list')");
    return 0;
}

static int call(struct sched_opts *o, const char *method, const char *path, json_t *body,
                json_t **out)
{
    struct fc_api api;
    int rc = fc_api_open(&api, &o->api);

    if (!rc)
        rc = fc_api_call(&api, method, path, body, out);
    json_decref(body);
    return rc < 0 ? fc_api_fail(&api, rc) : rc;
}

static const char *when(json_int_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;

    strftime(buf, cap, "%Y-%m-%d %H:%M", localtime(&tt));
    return buf;
}

static void print_one(json_t *s)
{
    char at[32];

    printf("%-4.0f  %-10s  %-16s  %-10s  %-5s  %-8s  %s\n", fc_jnum(s, "id", 0), fc_jstr(s, "lab"),
           when((json_int_t)fc_jnum(s, "at", 0), at, sizeof(at)),
           fc_jnull(s, "every") ? "once" : fc_jstr(s, "every"),
           json_is_true(json_object_get(s, "wake")) ? "yes" : "no",
           fc_jnull(s, "deadline") ? "-" : fc_jstr(s, "deadline"),
           fc_jstr(json_object_get(s, "session"), "image"));
}

static json_t *session_body(const struct sched_opts *o)
{
    json_t *b =
        json_pack("{s:s, s:s, s:s}", "image", o->image, "group", o->group, "iface", o->iface);

    if (b && o->rate)
        json_object_set_new(b, "rate", json_string(o->rate));
    if (b && o->max_wait)
        json_object_set_new(b, "max_wait", json_integer(strtol(o->max_wait, NULL, 10)));
    if (b && o->readback)
        json_object_set_new(b, "readback", json_true());
    if (b && (o->grow || o->grow_part))
        json_object_set_new(b, "grow", json_true());
    if (b && o->grow_part)
        json_object_set_new(b, "grow_part", json_integer(strtol(o->grow_part, NULL, 10)));
    return b;
}

static int cmd_create(struct fc_args *a)
{
    struct sched_opts o;
    long long at;
    json_t *body, *out;
    int rc = parse(a, &o, 1, 0);

    if (rc)
        return rc;
    if (!o.lab || !o.image || !o.at || !o.group || !o.iface)
        return fc_usage_error("schedule create needs --lab, --image, --at, --group and --iface");
    at = fc_cli_time(o.at, time(NULL), 1);
    if (at < 0)
        return fc_usage_error("--at takes '2026-12-01 02:00', 02:00, +10m or unix seconds");
    if (o.max_wait && (strspn(o.max_wait, "0123456789") != strlen(o.max_wait)))
        return fc_usage_error("--max-wait takes seconds");
    body = json_pack("{s:s, s:I, s:b, s:o}", "lab", o.lab, "at", (json_int_t)at, "wake", o.wake,
                     "session", session_body(&o));
    if (o.every)
        json_object_set_new(body, "every", json_string(o.every));
    if (o.deadline)
        json_object_set_new(body, "deadline", json_string(o.deadline));
    rc = call(&o, "POST", "/api/v1/schedules", body, &out);
    if (rc)
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else
        print_one(json_object_get(out, "schedule"));
    json_decref(out);
    return 0;
}

static int cmd_list(struct fc_args *a)
{
    struct sched_opts o;
    json_t *out, *s;
    size_t i;
    int rc = parse(a, &o, 0, 0);

    if (rc || (rc = call(&o, "GET", "/api/v1/schedules", NULL, &out)))
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else if (!json_array_size(json_object_get(out, "schedules")))
        printf("no schedules\n");
    else {
        printf("%-4s  %-10s  %-16s  %-10s  %-5s  %-8s  %s\n", "ID", "LAB", "NEXT RUN", "EVERY",
               "WAKE", "DEADLINE", "IMAGE");
        json_array_foreach(json_object_get(out, "schedules"), i, s) print_one(s);
    }
    json_decref(out);
    return 0;
}

static int cmd_cancel(struct fc_args *a)
{
    struct sched_opts o;
    char path[80];
    json_t *out;
    int rc = parse(a, &o, 0, 1);

    if (rc)
        return rc;
    if (strspn(o.operand, "0123456789") != strlen(o.operand) || strlen(o.operand) > 15)
        return fc_usage_error("'%s' is not a schedule id", o.operand);
    snprintf(path, sizeof(path), "/api/v1/schedules/%s", o.operand);
    rc = call(&o, "DELETE", path, NULL, &out);
    if (rc)
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else
        printf("schedule %s cancelled\n", o.operand);
    json_decref(out);
    return 0;
}

int fc_cmd_schedule(struct fc_args *a)
{
    const char *sub = a->pos < a->argc ? a->argv[a->pos] : NULL;

    if (!sub)
        return fc_usage_error("schedule needs a subcommand: create, list, cancel");
    a->pos++;
    if (!strcmp(sub, "create"))
        return cmd_create(a);
    if (!strcmp(sub, "list"))
        return cmd_list(a);
    if (!strcmp(sub, "cancel"))
        return cmd_cancel(a);
    return fc_usage_error("unknown schedule subcommand '%s'", sub);
}
