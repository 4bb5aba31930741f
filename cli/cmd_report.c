/* `fleetcast report`: the morning report, from fleetcastd's store
 * (GET /api/v1/report): per session a summary line, then per machine its
 * result, time, rate, repairs, host name and identity, and error; as text, JSON or one HTML page.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "common/error.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_HTML };

struct report_opts {
    struct fc_api_opts api;
    const char *since, *session, *format, *out;
};

static int parse(struct fc_args *a, struct report_opts *o)
{
    memset(o, 0, sizeof(*o));
    while (a->pos < a->argc) {
        const char *arg = a->argv[a->pos], *v;
        int rc = 0;

        if (fc_api_opt(a, &o->api, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        if (fc_opt_value(a, "--since", &v) || fc_opt_value(a, "--format", &v) ||
            fc_opt_value(a, "--out", &v)) {
            if (!v || !*v)
                return fc_usage_error("%s needs a value", arg);
            *(!strncmp(arg, "--since", 7)    ? &o->since
              : !strncmp(arg, "--format", 8) ? &o->format
                                             : &o->out) = v;
            continue;
        }
        if ((rc = fc_take_operand(a, &o->session, 1)))
            return rc;
    }
    if (o->session && o->since)
        return fc_usage_error("give a session or --since, not both");
    return 0;
}

/* ---- text */

static const char *hms(double secs, char *buf, size_t cap)
{
    return secs < 0 ? "-" : fc_human_secs(secs, buf, (unsigned)cap);
}

/* Seconds from the session's start to the machine's end, or -1. */
static double machine_secs(json_t *s, json_t *m)
{
    if (fc_jnull(m, "done_at") || fc_jnull(s, "started_at"))
        return -1;
    return fc_jnum(m, "done_at", 0) - fc_jnum(s, "started_at", 0);
}

/* The clone's identity as the history keeps it: what the receiver said it
 * set ("windows: unattend ComputerName=LAB-07 (partition 3)"), else the
 * step's outcome (done, skipped, failed), else "-". */
static const char *identity_of(json_t *m)
{
    if (!fc_jnull(m, "identity_detail"))
        return fc_jstr(m, "identity_detail");
    return fc_jnull(m, "identity") ? "-" : fc_jstr(m, "identity");
}

static void text_session(FILE *f, json_t *e)
{
    json_t *s = json_object_get(e, "session"), *m;
    char rate[24], t[24];
    size_t i;

    fprintf(f, "%s\n", fc_jstr(e, "summary"));
    fprintf(f, "  %-16s  %-17s  %-15s  %-8s  %-8s  %8s  %-14s  %7s  %-20s  %-8s  %s\n", "MACHINE",
            "MAC", "IP", "RESULT", "CHECK", "TIME", "RATE", "REPAIRS", "HOSTNAME", "IDENTITY",
            "ERROR");
    json_array_foreach(json_object_get(e, "machines"), i, m)
    {
        fprintf(f, "  %-16.16s  %-17s  %-15s  %-8s  %-8s  %8s  %-14s  %7.0f  %-20s  %-8s  %s\n",
                fc_jstr(m, "name"), fc_jstr(m, "mac"), fc_jstr(m, "ip"), fc_jstr(m, "state"),
                fc_jnull(m, "verdict") ? "-" : fc_jstr(m, "verdict"),
                hms(machine_secs(s, m), t, sizeof(t)),
                fc_human_bits(fc_jnum(m, "rate_bps", 0), rate, sizeof(rate)),
                fc_jnum(m, "repairs_requested", 0),
                fc_jnull(m, "hostname") ? "-" : fc_jstr(m, "hostname"), identity_of(m),
                fc_jstr(m, "error"));
    }
    fputc('\n', f);
}

/* ---- HTML: one page, no script, every text escaped */

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static void html_cell(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    esc(f, text);
    fputs("</td>", f);
}

static void html_session(FILE *f, json_t *e)
{
    json_t *s = json_object_get(e, "session"), *m;
    char rate[24], t[24], rep[24];
    size_t i;

    fputs("<section><h2>", f);
    esc(f, fc_jstr(e, "summary"));
    fputs("</h2>\n<table><tr><th>Machine</th><th>MAC</th><th>IP</th><th>Result</th>"
          "<th>Check</th><th>Time</th><th>Rate</th><th>Repairs</th><th>Host name</th>"
          "<th>Identity</th><th>Error</th></tr>\n",
          f);
    json_array_foreach(json_object_get(e, "machines"), i, m)
    {
        fputs("<tr>", f);
        html_cell(f, NULL, fc_jstr(m, "name"));
        html_cell(f, NULL, fc_jstr(m, "mac"));
        html_cell(f, NULL, fc_jstr(m, "ip"));
        html_cell(f, fc_jstr(m, "state"), fc_jstr(m, "state"));
        html_cell(f, NULL, fc_jnull(m, "verdict") ? "-" : fc_jstr(m, "verdict"));
        html_cell(f, NULL, hms(machine_secs(s, m), t, sizeof(t)));
        html_cell(f, NULL, fc_human_bits(fc_jnum(m, "rate_bps", 0), rate, sizeof(rate)));
        snprintf(rep, sizeof(rep), "%.0f", fc_jnum(m, "repairs_requested", 0));
        html_cell(f, NULL, rep);
        html_cell(f, NULL, fc_jnull(m, "hostname") ? "-" : fc_jstr(m, "hostname"));
        html_cell(f, NULL, identity_of(m));
        html_cell(f, NULL, fc_jstr(m, "error"));
        fputs("</tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

static void html_report(FILE *f, json_t *r, const char *title)
{
    json_t *e;
    size_t i;

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    esc(f, title);
    fputs("</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:"
          "collapse}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}"
          ".done{color:#070}.failed,.dropped{color:#b00;font-weight:bold}h2{font-size:1em}"
          "</style></head><body>\n<h1>",
          f);
    esc(f, title);
    fputs("</h1>\n", f);
    if (!json_array_size(json_object_get(r, "sessions")))
        fputs("<p>No session in this period.</p>\n", f);
    json_array_foreach(json_object_get(r, "sessions"), i, e) html_session(f, e);
    fputs("</body></html>\n", f);
}

static int emit(const struct report_opts *o, enum fmt fmt, json_t *r, const char *title)
{
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    json_t *e;
    size_t i;

    if (!f)
        return fprintf(stderr, "fleetcast: error: %s: %s\n", o->out, strerror(errno)), 5;
    if (fmt == FMT_JSON) {
        char *t = json_dumps(r, JSON_INDENT(2));
        fprintf(f, "%s\n", t ? t : "{}");
        free(t);
    } else if (fmt == FMT_HTML) {
        html_report(f, r, title);
    } else {
        fprintf(f, "%s\n\n", title);
        if (!json_array_size(json_object_get(r, "sessions")))
            fprintf(f, "no session in this period\n");
        json_array_foreach(json_object_get(r, "sessions"), i, e) text_session(f, e);
    }
    if (f != stdout && fclose(f))
        return fprintf(stderr, "fleetcast: error: %s: %s\n", o->out, strerror(errno)), 5;
    return 0;
}

int fc_cmd_report(struct fc_args *a)
{
    struct report_opts o;
    struct fc_api api;
    enum fmt fmt = FMT_TEXT;
    time_t now = time(NULL);
    long long since = now - 86400;
    char path[200], title[160], when[40];
    json_t *r = NULL;
    int rc = parse(a, &o);

    if (rc)
        return rc;
    if (o.format && !strcmp(o.format, "json"))
        fmt = FMT_JSON;
    else if (o.format && !strcmp(o.format, "html"))
        fmt = FMT_HTML;
    else if (o.format && strcmp(o.format, "text"))
        return fc_usage_error("--format is text, json or html");
    if (o.api.json)
        fmt = FMT_JSON;
    if (o.since && (since = fc_cli_time(o.since, now, 0)) < 0)
        return fc_usage_error("--since takes 18:00, '2026-12-01 02:00', 12h, 2d or unix seconds");
    if (o.session && (strspn(o.session, "0123456789abcdefABCDEF") != strlen(o.session) ||
                      strlen(o.session) > 16))
        return fc_usage_error("'%s' is not a session id", o.session);
    if (o.session)
        snprintf(path, sizeof(path), "/api/v1/report?session=%s", o.session);
    else
        snprintf(path, sizeof(path), "/api/v1/report?since=%lld", since);
    rc = fc_api_open(&api, &o.api);
    if (rc)
        return rc;
    rc = fc_api_call(&api, "GET", path, NULL, &r);
    if (rc)
        return fc_api_fail(&api, rc);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&(time_t){(time_t)since}));
    if (o.session)
        snprintf(title, sizeof(title), "fleetcast report: session %s", o.session);
    else
        snprintf(title, sizeof(title), "fleetcast report: sessions since %s", when);
    rc = emit(&o, fmt, r, title);
    json_decref(r);
    return rc;
}
