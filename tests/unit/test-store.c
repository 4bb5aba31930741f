/* The store (server/store.c, store_read.c): a new file is migrated to the
 * current schema and opened again without change; a file from a newer
 * fleetcast is refused; the writer's queued rows are read back after a
 * flush; a machine's outcome keyed by its receiver id is replaced by the one
 * keyed by its MAC; unfinished runs are found; the report's summary line; the
 * inventory's edits, an import all or nothing, a lab that still has machines. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "server/store.h"
#include "tests/unit/unit.h"

static char dir[64];

static struct fc_store *open_fresh(void)
{
    struct fc_store *st = NULL;
    char why[256];

    snprintf(dir, sizeof(dir), "/tmp/fc-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(fc_store_open(dir, &st, why, sizeof(why)), 0);
    return st;
}

static void remove_dir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int schema_of(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static json_t *session(const char *id, const char *state, long long created, long long ended)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:I, s:{s:i, s:i, s:i}}", "id", id,
                     "state", state, "image", "/srv/lab.fcimg", "image_bytes", 100000000LL,
                     "created_at", created, "started_at", created + 10, "ended_at",
                     ended ? json_integer(ended) : json_null(), "result",
                     ended ? json_string("done") : json_null(), "min_receivers", 2LL, "receivers",
                     "done", 2, "failed", 0, "dropped", 0);
}

static json_t *config(const char *group)
{
    return json_pack("{s:s, s:s, s:s}", "image", "/srv/lab.fcimg", "group", group, "iface", "eth0");
}

static json_t *machine(long long id, const char *mac, const char *state)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "session", "0000000a", "id", id,
                     "name", "pc-1", "mac", mac, "ip", "10.0.0.5", "state", state, "bytes_written",
                     4096LL, "disk_size", 1LL << 30);
}

START_TEST(test_migrate_reopen_refuse_newer)
{
    struct fc_store *st = open_fresh();
    char path[128], why[256];
    sqlite3 *db;

    snprintf(path, sizeof(path), "%s/%s", dir, FC_STORE_FILE);
    ck_assert_int_eq(schema_of(path), FC_STORE_SCHEMA);
    fc_store_close(st);
    /* Opened again: nothing to do, same version. */
    ck_assert_int_eq(fc_store_open(dir, &st, why, sizeof(why)), 0);
    ck_assert_int_eq(schema_of(path), FC_STORE_SCHEMA);
    fc_store_close(st);
    /* A newer fleetcast's file is refused, and said so. */
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(fc_store_open(dir, &st, why, sizeof(why)), FC_EVERSION);
    ck_assert_ptr_nonnull(strstr(why, "schema version 99"));
    remove_dir();
}
END_TEST

START_TEST(test_sessions_written_and_read)
{
    struct fc_store *st = open_fresh();
    struct fc_store_reader *r;
    json_t *list, *one, *unf;

    fc_store_put_session(st, "00000000000000a1", session("0000000a", "finished", 1000, 1100),
                         config("239.1.1.1:9000"));
    fc_store_put_session(st, "00000000000000b1", session("0000000b", "sending", 1200, 0),
                         config("239.1.1.2:9000"));
    /* The same id again, a newer run. */
    fc_store_put_session(st, "00000000000000a2", session("0000000a", "finished", 2000, 2100),
                         config("239.1.1.1:9000"));
    fc_store_flush(st);
    r = fc_store_reader_open(st);
    ck_assert_ptr_nonnull(r);
    list = fc_store_ended_sessions(r, 0, 10, NULL);
    ck_assert_uint_eq(json_array_size(list), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 0), "ended_at")),
                     2100);
    json_decref(list);
    list = fc_store_ended_sessions(r, 2000, 10, NULL);
    ck_assert_uint_eq(json_array_size(list), 1);
    json_decref(list);
    /* By id: the newest run; by run: that one. */
    one = fc_store_session(r, "0000000a");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(one, "session"), "created_at")), 2000);
    json_decref(one);
    one = fc_store_session(r, "00000000000000a1");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(one, "session"), "created_at")), 1000);
    json_decref(one);
    ck_assert_ptr_null(fc_store_session(r, "0000000c"));
    unf = fc_store_unfinished(r);
    ck_assert_uint_eq(json_array_size(unf), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(unf, 0), "run")),
                     "00000000000000b1");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(unf, 0), "config"), "group")),
                     "239.1.1.2:9000");
    json_decref(unf);
    fc_store_reader_close(r);
    fc_store_close(st);
    remove_dir();
}
END_TEST

START_TEST(test_outcome_one_row_per_machine)
{
    struct fc_store *st = open_fresh();
    struct fc_store_reader *r;
    json_t *one, *inv, *m;

    fc_store_put_session(st, "00000000000000a1", session("0000000a", "finished", 1000, 1100),
                         config("239.1.1.1:9000"));
    /* Joined before its MAC was known, then known; then a restarted daemon
     * gave it another receiver id. */
    fc_store_put_outcome(st, "00000000000000a1", "/srv/lab.fcimg", machine(7, "", "waiting"));
    fc_store_put_outcome(st, "00000000000000a1", "/srv/lab.fcimg",
                         machine(7, "52:54:00:00:00:01", "receiving"));
    fc_store_put_outcome(st, "00000000000000a1", "/srv/lab.fcimg",
                         machine(9, "52:54:00:00:00:01", "done"));
    fc_store_flush(st);
    r = fc_store_reader_open(st);
    one = fc_store_session(r, "0000000a");
    ck_assert_uint_eq(json_array_size(json_object_get(one, "machines")), 1);
    m = json_array_get(json_object_get(one, "machines"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(m, "state")), "done");
    json_decref(one);
    /* The inventory follows: added by itself, with its last result. */
    inv = fc_store_machines(r, NULL);
    ck_assert_uint_eq(json_array_size(inv), 1);
    m = json_array_get(inv, 0);
    ck_assert_str_eq(json_string_value(json_object_get(m, "mac")), "52:54:00:00:00:01");
    ck_assert_str_eq(json_string_value(json_object_get(m, "last_result")), "done");
    ck_assert_str_eq(json_string_value(json_object_get(m, "last_image")), "/srv/lab.fcimg");
    ck_assert_str_eq(json_string_value(json_object_get(m, "name")), "pc-1");
    json_decref(inv);
    fc_store_reader_close(r);
    fc_store_close(st);
    remove_dir();
}
END_TEST

START_TEST(test_report_summary)
{
    struct fc_store *st = open_fresh();
    struct fc_store_reader *r;
    json_t *rep, *e;
    const char *line;

    fc_store_put_session(st, "00000000000000a1", session("0000000a", "finished", 1000, 1100),
                         config("239.1.1.1:9000"));
    fc_store_put_outcome(st, "00000000000000a1", "/srv/lab.fcimg",
                         machine(1, "52:54:00:00:00:01", "done"));
    fc_store_put_outcome(st, "00000000000000a1", "/srv/lab.fcimg",
                         machine(2, "52:54:00:00:00:02", "done"));
    fc_store_flush(st);
    r = fc_store_reader_open(st);
    rep = fc_store_report(r, 0, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(rep, "sessions")), 1);
    e = json_array_get(json_object_get(rep, "sessions"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(e, "machines")), 2);
    line = json_string_value(json_object_get(e, "summary"));
    /* 100 MB in 90 s (started 10 s after creation): 8.9 Mbit/s. */
    ck_assert_ptr_nonnull(strstr(line, "session 0000000a (/srv/lab.fcimg): done; 2 done, 0 failed, "
                                       "0 dropped of 2 machines; 1 min 30 s sending, 8.9 Mbit/s"));
    json_decref(rep);
    rep = fc_store_report(r, 1101, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(rep, "sessions")), 0);
    json_decref(rep);
    ck_assert_ptr_null(fc_store_report(r, 0, "0000000f"));
    fc_store_reader_close(r);
    fc_store_close(st);
    remove_dir();
}
END_TEST

START_TEST(test_inventory_edits)
{
    struct fc_store *st = open_fresh();
    struct fc_store_reader *r = fc_store_reader_open(st);
    char why[256];
    json_t *list;

    ck_assert_int_eq(fc_store_lab_set(r, "lab a", "", why, sizeof(why)), FC_EINVAL);
    ck_assert_int_eq(fc_store_lab_set(r, "lab-a", "room 12", why, sizeof(why)), 0);
    ck_assert_int_eq(
        fc_store_machine_set(r, "52:54:00:AB:CD:EF", "pc-1", "lab-a", why, sizeof(why)), 0);
    ck_assert_int_eq(
        fc_store_machine_set(r, "52-54-00-ab-cd-ef", "pc-one", "lab-a", why, sizeof(why)), 0);
    /* What is not given is kept: a move to no lab named keeps name and lab. */
    ck_assert_int_eq(fc_store_machine_set(r, "52:54:00:ab:cd:ef", NULL, NULL, why, sizeof(why)), 0);
    ck_assert_int_eq(fc_store_machine_set(r, "52:54:00:ab:cd", "x", NULL, why, sizeof(why)),
                     FC_EINVAL);
    ck_assert_int_eq(fc_store_machine_set(r, "52:54:00:ab:cd:01", "x", "nolab", why, sizeof(why)),
                     FC_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "no lab 'nolab'"));
    /* An import that fails half-way changes nothing. */
    ck_assert_int_eq(fc_store_begin(r), 0);
    ck_assert_int_eq(
        fc_store_machine_set(r, "52:54:00:00:00:02", "pc-2", "lab-a", why, sizeof(why)), 0);
    ck_assert_int_eq(fc_store_end(r, 0), 0);
    list = fc_store_machines(r, "lab-a");
    ck_assert_uint_eq(json_array_size(list), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "mac")),
                     "52:54:00:ab:cd:ef");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "name")), "pc-one");
    json_decref(list);
    ck_assert_int_eq(fc_store_lab_remove(r, "lab-a", why, sizeof(why)), FC_ESTATE);
    ck_assert_int_eq(fc_store_machine_remove(r, "52:54:00:ab:cd:ef"), 0);
    ck_assert_int_eq(fc_store_machine_remove(r, "52:54:00:ab:cd:ef"), FC_ESTATE);
    ck_assert_int_eq(fc_store_lab_remove(r, "lab-a", why, sizeof(why)), 0);
    ck_assert_int_eq(fc_store_lab_remove(r, "lab-a", why, sizeof(why)), FC_EINVAL);
    list = fc_store_labs(r);
    ck_assert_uint_eq(json_array_size(list), 0);
    json_decref(list);
    fc_store_reader_close(r);
    fc_store_close(st);
    remove_dir();
}
END_TEST

FC_TEST_MAIN("store", test_migrate_reopen_refuse_newer, test_sessions_written_and_read,
             test_outcome_one_row_per_machine, test_report_summary, test_inventory_edits)
