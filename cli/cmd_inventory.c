/* `fleetcast machines add|remove|list|import` and `fleetcast labs
 * add|remove|list`: the inventory fleetcastd keeps in its store (docs/api.md,
 * "Inventory"). A lab is the room or set of machines imaged together (the
 * multicast group is --group). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "common/error.h"

#define CSV_LINE_MAX 1024

struct inv_opts {
    struct fc_api_opts api;
    const char *operand;
    const char *name, *lab, *note;
};

/* The API options, the given named values, and at most one operand. */
static int parse(struct fc_args *a, struct inv_opts *o, const char *const *named, int want,
                 const char *what)
{
    memset(o, 0, sizeof(*o));
    while (a->pos < a->argc) {
        const char **slot = NULL, *v;
        int rc = 0, i;

        if (fc_api_opt(a, &o->api, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        for (i = 0; named && named[i]; i++)
            if (fc_opt_value(a, named[i], &v)) {
                slot = !strcmp(named[i], "--name")  ? &o->name
                       : !strcmp(named[i], "--lab") ? &o->lab
                                                    : &o->note;
                if (!v || !*v)
                    return fc_usage_error("%s needs a value", named[i]);
                *slot = v;
                break;
            }
        if (slot)
            continue;
        if ((rc = fc_take_operand(a, &o->operand, want)))
            return rc;
    }
    if (want && !o->operand)
        return fc_usage_error("%s", what);
    return 0;
}

/* One call; the answer in *out (NULL: not wanted). Returns an exit status. */
static int call(struct inv_opts *o, const char *method, const char *path, json_t *body,
                json_t **out)
{
    struct fc_api api;
    json_t *res = NULL;
    int rc = fc_api_open(&api, &o->api);

    if (!rc)
        rc = fc_api_call(&api, method, path, body, &res);
    json_decref(body);
    if (rc)
        return rc < 0 ? fc_api_fail(&api, rc) : rc;
    if (out)
        *out = res;
    else
        json_decref(res);
    return 0;
}

/* A path segment the server takes as is: MACs and lab names only. */
static int safe_segment(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(":-_.", s[i]))
            return 0;
    return 1;
}

static const char *when(json_t *o, const char *key, char *buf, size_t cap)
{
    time_t t = (time_t)fc_jnum(o, key, 0);

    if (t <= 0)
        return "-";
    strftime(buf, cap, "%Y-%m-%d %H:%M", localtime(&t));
    return buf;
}

static void machines_table(json_t *list)
{
    json_t *m;
    size_t i;
    char seen[32];

    printf("%-17s  %-16s  %-10s  %-7s  %-8s  %-16s  %s\n", "MAC", "NAME", "LAB", "BOOT", "LAST",
           "LAST SEEN", "LAST IMAGE");
    json_array_foreach(list, i, m)
    {
        printf("%-17s  %-16.16s  %-10.10s  %-7.7s  %-8.8s  %-16s  %s\n", fc_jstr(m, "mac"),
               fc_jstr(m, "name"), fc_jstr(m, "lab"), fc_jstr(m, "boot_action"),
               fc_jstr(m, "last_result"), when(m, "last_seen", seen, sizeof(seen)),
               fc_jstr(m, "last_image"));
    }
}

static int machines_list(struct fc_args *a)
{
    static const char *const named[] = {"--lab", NULL};
    struct inv_opts o;
    char path[160];
    json_t *out;
    int rc = parse(a, &o, named, 0, NULL);

    if (rc)
        return rc;
    if (o.lab && !safe_segment(o.lab))
        return fc_usage_error("'%s' is not a lab name", o.lab);
    snprintf(path, sizeof(path), "/api/v1/inventory/machines%s%s", o.lab ? "?lab=" : "",
             o.lab ? o.lab : "");
    if ((rc = call(&o, "GET", path, NULL, &out)))
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else if (!json_array_size(json_object_get(out, "machines")))
        printf("no machines in the inventory\n");
    else
        machines_table(json_object_get(out, "machines"));
    json_decref(out);
    return 0;
}

static int machines_add(struct fc_args *a)
{
    static const char *const named[] = {"--name", "--lab", NULL};
    struct inv_opts o;
    int rc = parse(a, &o, named, 1, "machines add needs a MAC address");

    if (rc)
        return rc;
    rc = call(
        &o, "POST", "/api/v1/inventory/machines",
        json_pack("{s:s, s:s, s:s?}", "mac", o.operand, "name", o.name ? o.name : "", "lab", o.lab),
        NULL);
    if (!rc && !o.api.json)
        printf("machine %s added\n", o.operand);
    return rc;
}

static int machines_remove(struct fc_args *a)
{
    struct inv_opts o;
    char path[160];
    int rc = parse(a, &o, NULL, 1, "machines remove needs a MAC address");

    if (rc)
        return rc;
    if (!safe_segment(o.operand))
        return fc_usage_error("'%s' is not a MAC address", o.operand);
    snprintf(path, sizeof(path), "/api/v1/inventory/machines/%s", o.operand);
    rc = call(&o, "DELETE", path, NULL, NULL);
    if (!rc && !o.api.json)
        printf("machine %s removed\n", o.operand);
    return rc;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* One CSV line "MAC,name,lab" into list; 0, or 2 after the error line. */
static int csv_line(char *line, unsigned no, const char *file, json_t *list)
{
    char *f[3] = {NULL, NULL, NULL}, *p = line;
    int n = 0;

    while (n < 3 && p) {
        f[n++] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = 0;
    }
    if (p || !f[0])
        return fprintf(stderr, "fleetcast: error: %s:%u: want MAC,name,lab\n", file, no), 2;
    json_array_append_new(list, json_pack("{s:s, s:s, s:s?}", "mac", trim(f[0]), "name",
                                          f[1] ? trim(f[1]) : "", "lab",
                                          f[2] && *trim(f[2]) ? trim(f[2]) : NULL));
    return 0;
}

/* MAC,name,lab per line; '#' comments, blank lines and a "mac,..." header
 * are skipped. All or nothing: the server applies the file in one
 * transaction. */
static int machines_import(struct fc_args *a)
{
    struct inv_opts o;
    char line[CSV_LINE_MAX], *l;
    unsigned no = 0;
    json_t *list, *out;
    FILE *f;
    int rc = parse(a, &o, NULL, 1, "machines import needs a CSV file (MAC,name,lab per line)");

    if (rc)
        return rc;
    f = strcmp(o.operand, "-") ? fopen(o.operand, "r") : stdin;
    if (!f)
        return fprintf(stderr, "fleetcast: error: %s: %s\n", o.operand, strerror(errno)), 5;
    list = json_array();
    while (!rc && fgets(line, sizeof(line), f)) {
        no++;
        l = trim(line);
        if (!*l || *l == '#' || (no == 1 && !strncasecmp(l, "mac,", 4)))
            continue;
        rc = csv_line(l, no, o.operand, list);
    }
    if (f != stdin)
        fclose(f);
    if (!rc && !json_array_size(list))
        rc = (fprintf(stderr, "fleetcast: error: %s: no machines in it\n", o.operand), 2);
    if (rc)
        return json_decref(list), rc;
    rc = call(&o, "POST", "/api/v1/inventory/machines", json_pack("{s:o}", "machines", list), &out);
    if (!rc && !o.api.json)
        printf("%lld machines imported from %s\n",
               (long long)json_integer_value(json_object_get(out, "machines")), o.operand);
    if (!rc)
        json_decref(out);
    return rc;
}

/* `fleetcast machines SUB ...`: 1 and *rc if SUB is an inventory one. */
int fc_cmd_inventory_machines(struct fc_args *a, int *rc)
{
    const char *sub = a->pos < a->argc ? a->argv[a->pos] : "";

    if (!strcmp(sub, "list"))
        return a->pos++, *rc = machines_list(a), 1;
    if (!strcmp(sub, "add"))
        return a->pos++, *rc = machines_add(a), 1;
    if (!strcmp(sub, "remove"))
        return a->pos++, *rc = machines_remove(a), 1;
    if (!strcmp(sub, "import"))
        return a->pos++, *rc = machines_import(a), 1;
    if (!strcmp(sub, "boot"))
        return a->pos++, *rc = fc_cmd_machines_boot(a), 1;
    return 0;
}

static int labs_list(struct fc_args *a)
{
    struct inv_opts o;
    json_t *out, *l;
    size_t i;
    int rc = parse(a, &o, NULL, 0, NULL);

    if (rc || (rc = call(&o, "GET", "/api/v1/inventory/labs", NULL, &out)))
        return rc;
    if (o.api.json)
        fc_api_print_json(out);
    else if (!json_array_size(json_object_get(out, "labs")))
        printf("no labs\n");
    else {
        printf("%-16s  %8s  %s\n", "LAB", "MACHINES", "NOTE");
        json_array_foreach(json_object_get(out, "labs"), i, l)
            printf("%-16s  %8.0f  %s\n", fc_jstr(l, "name"), fc_jnum(l, "machines", 0),
                   fc_jstr(l, "note"));
    }
    json_decref(out);
    return 0;
}

int fc_cmd_labs(struct fc_args *a)
{
    static const char *const named[] = {"--note", NULL};
    const char *sub = a->pos < a->argc ? a->argv[a->pos] : NULL;
    struct inv_opts o;
    char path[160];
    int rc;

    if (!sub)
        return fc_usage_error("labs needs a subcommand: add, remove, list");
    a->pos++;
    if (!strcmp(sub, "list"))
        return labs_list(a);
    if (strcmp(sub, "add") && strcmp(sub, "remove"))
        return fc_usage_error("unknown labs subcommand '%s'", sub);
    rc = parse(a, &o, !strcmp(sub, "add") ? named : NULL, 1, "which lab? (a name)");
    if (rc)
        return rc;
    if (!strcmp(sub, "add"))
        rc = call(&o, "POST", "/api/v1/inventory/labs",
                  json_pack("{s:s, s:s}", "name", o.operand, "note", o.note ? o.note : ""), NULL);
    else if (!safe_segment(o.operand))
        return fc_usage_error("'%s' is not a lab name", o.operand);
    else {
        snprintf(path, sizeof(path), "/api/v1/inventory/labs/%s", o.operand);
        rc = call(&o, "DELETE", path, NULL, NULL);
    }
    if (!rc && !o.api.json)
        printf("lab %s %s\n", o.operand, !strcmp(sub, "add") ? "saved" : "removed");
    return rc;
}
