/* The store's reads and inventory edits (store.h), each on a connection the
 * calling thread opened: the HTTP threads' history, report and inventory
 * calls, and the daemon's look at unfinished sessions when it starts. */
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "proto/wol.h"
#include "server/store.h"
#include "server/store_sql.h"

struct fc_store_reader {
    sqlite3 *db;
};

struct fc_store_reader *fc_store_reader_open_path(const char *db_path)
{
    struct fc_store_reader *r = calloc(1, sizeof(*r));
    char why[256];

    if (!r)
        return NULL;
    if (fc__store_connect(db_path, SQLITE_OPEN_READWRITE, &r->db, why, sizeof(why))) {
        fc_warn("store: %s", why);
        free(r);
        return NULL;
    }
    return r;
}

struct fc_store_reader *fc_store_reader_open(const struct fc_store *st)
{
    return st ? fc_store_reader_open_path(fc_store_path(st)) : NULL;
}

void fc_store_reader_close(struct fc_store_reader *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r);
}

static sqlite3_stmt *prepare(struct fc_store_reader *r, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fc_warn("store: %s", sqlite3_errmsg(r->db));
        return NULL;
    }
    return st;
}

/* A column holding JSON text, parsed; null if absent or unreadable. */
static json_t *json_column(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;

    return j ? j : json_null();
}

/* Every row's column 0 (JSON text) as an array. */
static json_t *json_rows(sqlite3_stmt *st)
{
    json_t *arr = json_array();

    while (arr && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_column(st, 0));
    sqlite3_finalize(st);
    return arr;
}

static json_t *machines_of_run(struct fc_store_reader *r, const char *run);

json_t *fc_store_ended_sessions(struct fc_store_reader *r, int64_t since, int limit,
                                json_t **machines)
{
    sqlite3_stmt *st = prepare(r, "SELECT session, run FROM sessions WHERE ended_at >= ?1"
                                  " ORDER BY ended_at DESC, rowid DESC LIMIT ?2");
    json_t *arr = json_array(), *m;

    if (!st)
        return json_decref(arr), NULL;
    if (machines)
        *machines = json_array();
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int(st, 2, limit);
    while (arr && sqlite3_step(st) == SQLITE_ROW) {
        json_array_append_new(arr, json_column(st, 0));
        if (!machines)
            continue;
        m = machines_of_run(r, (const char *)sqlite3_column_text(st, 1));
        json_array_extend(*machines, m);
        json_decref(m);
    }
    sqlite3_finalize(st);
    return arr;
}

static json_t *machines_of_run(struct fc_store_reader *r, const char *run)
{
    sqlite3_stmt *st = prepare(r, "SELECT machine FROM outcomes WHERE run = ?1 ORDER BY name, key");

    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, run, -1, SQLITE_TRANSIENT);
    return json_rows(st);
}

/* The run of the newest session named id_or_run (an id or a run), into run. */
static int find_run(struct fc_store_reader *r, const char *id_or_run, char run[FC_RUN_LEN + 1])
{
    char lower[FC_RUN_LEN + 1];
    size_t i;

    /* ids and runs are written in lower case; "1A2B3C4D" names the same */
    for (i = 0; id_or_run[i] && i < FC_RUN_LEN; i++)
        lower[i] = (char)tolower((unsigned char)id_or_run[i]);
    lower[i] = 0;
    id_or_run = lower;
    sqlite3_stmt *st = prepare(r, "SELECT run FROM sessions WHERE run = ?1 OR id = ?1"
                                  " ORDER BY created_at DESC, rowid DESC LIMIT 1");
    int found = 0;

    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, id_or_run, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(run, FC_RUN_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

static json_t *session_of_run(struct fc_store_reader *r, const char *run)
{
    sqlite3_stmt *st = prepare(r, "SELECT session FROM sessions WHERE run = ?1");
    json_t *s = NULL;

    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, run, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        s = json_column(st, 0);
    sqlite3_finalize(st);
    return s;
}

json_t *fc_store_session(struct fc_store_reader *r, const char *id_or_run)
{
    char run[FC_RUN_LEN + 1];
    json_t *s;

    if (!find_run(r, id_or_run, run) || !(s = session_of_run(r, run)))
        return NULL;
    return json_pack("{s:o, s:o*}", "session", s, "machines", machines_of_run(r, run));
}

json_t *fc_store_unfinished(struct fc_store_reader *r)
{
    sqlite3_stmt *st = prepare(r, "SELECT run, id, config, created_at, session FROM sessions"
                                  " WHERE state IN ('waiting', 'sending', 'repair')"
                                  " ORDER BY created_at, rowid");
    json_t *arr = json_array();

    if (!st)
        return arr;
    while (arr && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:o, s:I, s:o}", "run", sqlite3_column_text(st, 0), "id",
                           sqlite3_column_text(st, 1), "config", json_column(st, 2), "created_at",
                           (json_int_t)sqlite3_column_int64(st, 3), "session", json_column(st, 4)));
    sqlite3_finalize(st);
    return arr;
}

json_t *fc_store_schedules(struct fc_store_reader *r, int64_t *max_id)
{
    sqlite3_stmt *st = prepare(r, "SELECT MAX(id) FROM schedules");

    *max_id = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        *max_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = prepare(r, "SELECT schedule FROM schedules WHERE state IN ('scheduled', 'running')"
                    " ORDER BY id");
    return st ? json_rows(st) : json_array();
}

/* ---- the report */

static json_int_t int_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* "3 done, 1 failed of 4 in 1 min 12 s, 96.1 Mbit/s": the line an
 * operator reads first. */
static json_t *summary_line(const json_t *s, const json_t *machines)
{
    const json_t *rx = json_object_get(s, "receivers");
    json_int_t started = int_of(s, "started_at"), ended = int_of(s, "ended_at");
    json_int_t secs = started && ended >= started ? ended - started : 0;
    double mbit = secs ? (double)int_of(s, "image_bytes") * 8 / 1e6 / (double)secs : 0;
    char line[320], absent[48] = "";
    const json_t *m;
    size_t i, n_absent = 0;

    json_array_foreach(machines, i, m) n_absent +=
        !strcmp(json_string_value(json_object_get(m, "state")) ?: "", "absent");
    if (n_absent)
        snprintf(absent, sizeof(absent), ", %zu never joined", n_absent);
    snprintf(line, sizeof(line),
             "session %s (%s): %s; %lld done, %lld failed, %lld dropped%s of %zu machines; "
             "%lld min %02lld s sending, %.1f Mbit/s",
             json_string_value(json_object_get(s, "id")) ?: "?",
             json_string_value(json_object_get(s, "image")) ?: "?",
             json_string_value(json_object_get(s, "result")) ?: "unfinished",
             (long long)int_of(rx, "done"), (long long)int_of(rx, "failed"),
             (long long)int_of(rx, "dropped"), absent, json_array_size(machines),
             (long long)(secs / 60), (long long)(secs % 60), mbit);
    return json_string(line);
}

json_t *fc_store_report(struct fc_store_reader *r, int64_t since, const char *id_or_run)
{
    sqlite3_stmt *st;
    json_t *out = json_array();
    char run[FC_RUN_LEN + 1];

    if (id_or_run) {
        if (!find_run(r, id_or_run, run))
            return json_decref(out), NULL;
        st = prepare(r, "SELECT run, session FROM sessions WHERE run = ?1");
        if (st)
            sqlite3_bind_text(st, 1, run, -1, SQLITE_TRANSIENT);
    } else {
        st = prepare(r, "SELECT run, session FROM sessions WHERE ended_at >= ?1 OR"
                        " (ended_at IS NULL AND created_at >= ?1) ORDER BY created_at, rowid"
                        " LIMIT " FC_STORE_REPORT_MAX_TEXT);
        if (st)
            sqlite3_bind_int64(st, 1, since);
    }
    if (!st)
        return json_decref(out), NULL;
    while (out && sqlite3_step(st) == SQLITE_ROW) {
        json_t *s = json_column(st, 1);
        json_t *m = machines_of_run(r, (const char *)sqlite3_column_text(st, 0));
        json_array_append_new(out, json_pack("{s:s, s:o, s:o, s:o}", "run",
                                             sqlite3_column_text(st, 0), "summary",
                                             summary_line(s, m), "session", s, "machines", m));
    }
    sqlite3_finalize(st);
    return json_pack("{s:I, s:o}", "since", (json_int_t)since, "sessions", out);
}

/* ---- the inventory */

static json_t *column_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_string((const char *)sqlite3_column_text(st, i));
    default:
        return json_null();
    }
}

/* Rows as objects named by their columns. */
static json_t *objects(sqlite3_stmt *st)
{
    json_t *arr = json_array();
    int i, n = sqlite3_column_count(st);

    while (arr && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (i = 0; o && i < n; i++)
            json_object_set_new(o, sqlite3_column_name(st, i), column_value(st, i));
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    return arr;
}

json_t *fc_store_machines(struct fc_store_reader *r, const char *lab)
{
    sqlite3_stmt *st = prepare(
        r, "SELECT mac, name, lab, boot_action, boot_image, boot_before, last_ip, disk_size,"
           " last_image, last_result, last_run, first_seen, last_seen"
           " FROM machines WHERE ?1 IS NULL OR lab = ?1 ORDER BY lab, name, mac");

    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, lab, -1, SQLITE_TRANSIENT);
    return objects(st);
}

int fc_store_begin(struct fc_store_reader *r)
{
    return fc__store_exec(r->db, "BEGIN IMMEDIATE;", NULL, 0);
}

int fc_store_end(struct fc_store_reader *r, int commit)
{
    int rc = fc__store_exec(r->db, commit ? "COMMIT;" : "ROLLBACK;", NULL, 0);

    if (rc && commit)
        fc__store_exec(r->db, "ROLLBACK;", NULL, 0);
    return rc;
}

static int run_edit(struct fc_store_reader *r, sqlite3_stmt *st, char *why, size_t cap)
{
    int rc;

    if (!st)
        return snprintf(why, cap, "%s", sqlite3_errmsg(r->db)), FC_EIO;
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    snprintf(why, cap, "%s", sqlite3_errmsg(r->db));
    return rc == SQLITE_CONSTRAINT ? FC_EINVAL : FC_EIO;
}

int fc_store_machine_set(struct fc_store_reader *r, const char *mac, const char *name,
                         const char *lab, char *why, size_t cap)
{
    sqlite3_stmt *st;
    char m[18];
    int rc;

    if (fc_mac_normalize(mac, ':', m))
        return snprintf(why, cap, "bad MAC address '%s' (want 52:54:00:ab:cd:ef)", mac ?: ""),
               FC_EINVAL;
    /* What is not given is kept: `machines add MAC --lab B` moves it and
     * keeps its name. */
    st = prepare(r, "INSERT INTO machines(mac, name, lab, first_seen)"
                    " VALUES(?1, COALESCE(?2, ''), ?3, NULL)"
                    " ON CONFLICT(mac) DO UPDATE SET name = COALESCE(?2, name),"
                    " lab = COALESCE(?3, lab)");
    if (st) {
        sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name && *name ? name : NULL, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, lab && *lab ? lab : NULL, -1, SQLITE_TRANSIENT);
    }
    rc = run_edit(r, st, why, cap);
    if (rc == FC_EINVAL)
        snprintf(why, cap, "no lab '%s' (fleetcast labs add %s)", lab, lab);
    return rc;
}

int fc_store_machine_remove(struct fc_store_reader *r, const char *mac)
{
    sqlite3_stmt *st;
    char m[18], why[128];

    if (fc_mac_normalize(mac, ':', m))
        return FC_EINVAL;
    st = prepare(r, "DELETE FROM machines WHERE mac = ?1");
    if (st)
        sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
    if (run_edit(r, st, why, sizeof(why)))
        return FC_EIO;
    return sqlite3_changes(r->db) ? 0 : FC_ESTATE;
}

json_t *fc_store_labs(struct fc_store_reader *r)
{
    sqlite3_stmt *st = prepare(r, "SELECT l.name, l.note, l.created_at, COUNT(m.mac) AS machines"
                                  " FROM labs l LEFT JOIN machines m ON m.lab = l.name"
                                  " GROUP BY l.name ORDER BY l.name");

    return st ? objects(st) : NULL;
}

/* A lab's name goes into URLs, files and logs: letters, digits, - _ . */
static int lab_name_ok(const char *name)
{
    size_t i, n = name ? strlen(name) : 0;

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
            return 0;
    return 1;
}

int fc_store_lab_set(struct fc_store_reader *r, const char *name, const char *note, char *why,
                     size_t cap)
{
    sqlite3_stmt *st;

    if (!lab_name_ok(name))
        return snprintf(why, cap, "bad lab name '%s' (1-64 letters, digits, - _ .)", name ?: ""),
               FC_EINVAL;
    st = prepare(r, "INSERT INTO labs(name, note, created_at) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(name) DO UPDATE SET note = ?2");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, note ? note : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    }
    return run_edit(r, st, why, cap);
}

int fc_store_lab_remove(struct fc_store_reader *r, const char *name, char *why, size_t cap)
{
    sqlite3_stmt *st = prepare(r, "DELETE FROM labs WHERE name = ?1");
    int rc;

    if (st)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    rc = run_edit(r, st, why, cap);
    if (rc == FC_EINVAL)
        return snprintf(why, cap, "lab '%s' still has machines (move or remove them first)", name),
               FC_ESTATE;
    if (!rc && !sqlite3_changes(r->db))
        return snprintf(why, cap, "no lab '%s'", name), FC_EINVAL;
    return rc;
}
