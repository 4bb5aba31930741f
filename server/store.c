/* The store (store.h): the SQLite file, its schema and migrations, and the
 * writer thread that runs the loop's queued writes. Reads and inventory
 * edits are in store_read.c. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "server/store.h"
#include "server/store_sql.h"

enum job_kind { JOB_SESSION, JOB_OUTCOME, JOB_SCHEDULE, JOB_BOOT, JOB_PRUNE };

struct job {
    enum job_kind kind;
    char run[FC_RUN_LEN + 1];
    char *image;
    json_t *a, *b;
    struct job *next;
};

struct fc_store {
    char path[1100];
    sqlite3 *db; /* the writer's connection: only the writer thread uses it after open */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a job queued, or stopping */
    pthread_cond_t flushed; /* a batch committed */
    struct job *head, *tail;
    uint64_t queued, committed; /* jobs, for fc_store_flush */
    int stopping, started;
};

/* Each step from version i to i + 1. Never edited once released: a new
 * version appends a step. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE labs(name TEXT PRIMARY KEY, note TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE machines(mac TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',"
    "  lab TEXT REFERENCES labs(name),"
    "  boot_action TEXT NOT NULL DEFAULT 'local', boot_image TEXT,"
    "  last_ip TEXT, disk_size INTEGER, last_image TEXT, last_result TEXT, last_run TEXT,"
    "  first_seen INTEGER, last_seen INTEGER);"
    "CREATE INDEX machines_lab ON machines(lab);"
    "CREATE TABLE images(path TEXT PRIMARY KEY, image_bytes INTEGER, first_used INTEGER,"
    "  last_used INTEGER);"
    "CREATE TABLE sessions(run TEXT PRIMARY KEY, id TEXT NOT NULL, state TEXT NOT NULL,"
    "  result TEXT, image TEXT, created_at INTEGER, started_at INTEGER, ended_at INTEGER,"
    "  config TEXT NOT NULL, session TEXT NOT NULL);"
    "CREATE INDEX sessions_id ON sessions(id, created_at);"
    "CREATE INDEX sessions_ended ON sessions(ended_at);"
    "CREATE TABLE outcomes(run TEXT NOT NULL REFERENCES sessions(run) ON DELETE CASCADE,"
    "  key TEXT NOT NULL, mac TEXT, name TEXT, ip TEXT, state TEXT, verdict TEXT,"
    "  progress_pct REAL, rate_bps INTEGER, repairs INTEGER, pkts_lost INTEGER,"
    "  disk_size INTEGER, error TEXT, updated_at INTEGER, machine TEXT NOT NULL,"
    "  PRIMARY KEY(run, key));",
    /* 1 -> 2: schedules (schedule.c); a session's lab */
    "CREATE TABLE schedules(id INTEGER PRIMARY KEY, state TEXT NOT NULL, next_at INTEGER,"
    "  schedule TEXT NOT NULL);"
    "ALTER TABLE sessions ADD COLUMN lab TEXT;",
    /* 2 -> 3: boot actions (common/bootaction.c). The column was never set before this
     * version (its default, 'local', said nothing): NULL now means "never decided here", and
     * fleetcastd takes the action from the file it wrote earlier, if any (pxecfg.c). */
    "ALTER TABLE machines DROP COLUMN boot_action;"
    "ALTER TABLE machines ADD COLUMN boot_action TEXT;"
    "ALTER TABLE machines ADD COLUMN boot_before TEXT;",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == FC_STORE_SCHEMA, "one migration step per schema version");

int fc__store_exec(sqlite3 *db, const char *sql, char *why, size_t cap)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    if (why)
        snprintf(why, cap, "%s", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return FC_EIO;
}

/* Every connection: foreign keys on, a wait instead of SQLITE_BUSY. */
int fc__store_connect(const char *path, int flags, sqlite3 **out, char *why, size_t cap)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (why)
            snprintf(why, cap, "cannot open %s: %s", path,
                     db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return FC_EIO;
    }
    sqlite3_busy_timeout(db, 5000);
    if (fc__store_exec(db, "PRAGMA foreign_keys = ON;", why, cap)) {
        sqlite3_close(db);
        return FC_EIO;
    }
    *out = db;
    return 0;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Each missing step in its own transaction, the version bumped with it. */
static int migrate(sqlite3 *db, const char *path, char *why, size_t cap)
{
    int v = user_version(db);
    char sql[64];

    if (v < 0)
        return snprintf(why, cap, "%s: %s", path, sqlite3_errmsg(db)), FC_EIO;
    if (v > (int)N_MIGRATIONS)
        return snprintf(why, cap,
                        "%s has schema version %d; this fleetcastd knows up to %d (a newer "
                        "fleetcast wrote it)",
                        path, v, (int)N_MIGRATIONS),
               FC_EVERSION;
    for (; v < (int)N_MIGRATIONS; v++) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;", v + 1);
        if (fc__store_exec(db, "BEGIN IMMEDIATE;", why, cap))
            return FC_EIO;
        if (fc__store_exec(db, migrations[v], why, cap) || fc__store_exec(db, sql, why, cap)) {
            fc__store_exec(db, "ROLLBACK;", NULL, 0);
            return FC_EIO;
        }
        if (fc__store_exec(db, "COMMIT;", why, cap))
            return FC_EIO;
        fc_info("store: %s migrated to schema %d", path, v + 1);
    }
    return 0;
}

/* ---- the writer's statements */

static char *dump(const json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT) : NULL;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void bind_int_or_null(sqlite3_stmt *st, int i, const json_t *v)
{
    if (json_is_integer(v))
        sqlite3_bind_int64(st, i, json_integer_value(v));
    else if (json_is_real(v))
        sqlite3_bind_double(st, i, json_real_value(v));
    else
        sqlite3_bind_null(st, i);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    fc_warn("store: %s: %s", what, sqlite3_errmsg(db));
    return FC_EIO;
}

static int write_session(sqlite3 *db, const struct job *j)
{
    static const char sql[] =
        "INSERT INTO sessions(run, id, state, result, image, created_at, started_at, ended_at,"
        " config, session, lab) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT(run) DO UPDATE SET state = ?3, result = ?4, started_at = ?7,"
        " ended_at = ?8, config = ?9, session = ?10, lab = ?11";
    sqlite3_stmt *st;
    char *config = dump(j->b), *session = dump(j->a);
    int rc = FC_ENOMEM;

    if (!config || !session)
        goto out;
    rc = FC_EIO;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, j->run, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, str_of(j->a, "id"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, str_of(j->a, "state"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, str_of(j->a, "result"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, str_of(j->a, "image"), -1, SQLITE_TRANSIENT);
    bind_int_or_null(st, 6, json_object_get(j->a, "created_at"));
    bind_int_or_null(st, 7, json_object_get(j->a, "started_at"));
    bind_int_or_null(st, 8, json_object_get(j->a, "ended_at"));
    sqlite3_bind_text(st, 9, config, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, session, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, str_of(j->b, "lab"), -1, SQLITE_TRANSIENT);
    rc = step_done(db, st, "a session's row");
    if (!rc && str_of(j->a, "image")) {
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO images(path, image_bytes, first_used, last_used)"
                               " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(path) DO UPDATE SET"
                               " image_bytes = ?2, last_used = ?3",
                               -1, &st, NULL) != SQLITE_OK)
            goto out;
        sqlite3_bind_text(st, 1, str_of(j->a, "image"), -1, SQLITE_TRANSIENT);
        bind_int_or_null(st, 2, json_object_get(j->a, "image_bytes"));
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
        rc = step_done(db, st, "an image's row");
    }
out:
    free(config);
    free(session);
    return rc;
}

/* The machine's inventory row follows its outcomes: a machine is known from
 * its first session on, even if nobody added it. */
static int write_inventory(sqlite3 *db, const struct job *j, const char *mac)
{
    static const char sql[] =
        "INSERT INTO machines(mac, name, last_ip, disk_size, last_image, last_result, last_run,"
        " first_seen, last_seen) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
        " ON CONFLICT(mac) DO UPDATE SET name = CASE WHEN name = '' THEN ?2 ELSE name END,"
        " last_ip = ?3, disk_size = ?4, last_image = ?5, last_result = ?6, last_run = ?7,"
        " last_seen = ?8";
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return FC_EIO;
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, str_of(j->a, "name") ?: "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, str_of(j->a, "ip"), -1, SQLITE_TRANSIENT);
    bind_int_or_null(st, 4, json_object_get(j->a, "disk_size"));
    sqlite3_bind_text(st, 5, j->image, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, str_of(j->a, "state"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, j->run, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
    return step_done(db, st, "a machine's row");
}

/* The key of a machine's outcome while its MAC is unknown. */
static void unnamed_key(const struct job *j, char key[32])
{
    snprintf(key, 32, "id:%lld", (long long)json_integer_value(json_object_get(j->a, "id")));
}

/* Its row from before its MAC was known (keyed by receiver id) is
 * replaced by the one keyed by MAC: one row per machine and run, also when
 * a restarted daemon gave the machine a new receiver id. */
static int forget_unnamed(sqlite3 *db, const struct job *j)
{
    sqlite3_stmt *st;
    char key[32];

    unnamed_key(j, key);
    if (sqlite3_prepare_v2(db, "DELETE FROM outcomes WHERE run = ?1 AND key = ?2", -1, &st, NULL) !=
        SQLITE_OK)
        return FC_EIO;
    sqlite3_bind_text(st, 1, j->run, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    return step_done(db, st, "a machine's earlier outcome");
}

static int write_outcome(sqlite3 *db, const struct job *j)
{
    static const char sql[] =
        "INSERT INTO outcomes(run, key, mac, name, ip, state, verdict, progress_pct, rate_bps,"
        " repairs, pkts_lost, disk_size, error, updated_at, machine)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        " ON CONFLICT(run, key) DO UPDATE SET mac = ?3, name = ?4, ip = ?5, state = ?6,"
        " verdict = ?7, progress_pct = ?8, rate_bps = ?9, repairs = ?10, pkts_lost = ?11,"
        " disk_size = ?12, error = ?13, updated_at = ?14, machine = ?15";
    const char *mac = str_of(j->a, "mac");
    sqlite3_stmt *st;
    char key[32], *machine = dump(j->a);
    int rc = FC_EIO;

    if (!machine)
        return FC_ENOMEM;
    if (mac && *mac)
        snprintf(key, sizeof(key), "%s", mac);
    else
        unnamed_key(j, key);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, j->run, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, mac && *mac ? mac : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, str_of(j->a, "name"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, str_of(j->a, "ip"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, str_of(j->a, "state"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, str_of(j->a, "verdict"), -1, SQLITE_TRANSIENT);
    bind_int_or_null(st, 8, json_object_get(j->a, "progress_pct"));
    bind_int_or_null(st, 9, json_object_get(j->a, "rate_bps"));
    bind_int_or_null(st, 10, json_object_get(j->a, "repairs_requested"));
    bind_int_or_null(st, 11, json_object_get(j->a, "pkts_lost"));
    bind_int_or_null(st, 12, json_object_get(j->a, "disk_size"));
    sqlite3_bind_text(st, 13, str_of(j->a, "error"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(st, 15, machine, -1, SQLITE_TRANSIENT);
    rc = step_done(db, st, "a machine's outcome");
    if (!rc && mac && *mac)
        rc = forget_unnamed(db, j);
    /* A machine that never joined was not seen: its inventory row stays. */
    if (!rc && mac && *mac && strcmp(str_of(j->a, "state") ?: "", "absent"))
        rc = write_inventory(db, j, mac);
out:
    free(machine);
    return rc;
}

static int write_schedule(sqlite3 *db, const struct job *j)
{
    sqlite3_stmt *st;
    char *text = dump(j->a);
    int rc = FC_EIO;

    if (!text)
        return FC_ENOMEM;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO schedules(id, state, next_at, schedule) VALUES(?1, ?2, ?3, ?4)"
            " ON CONFLICT(id) DO UPDATE SET state = ?2, next_at = ?3, schedule = ?4",
            -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(j->a, "id")));
        sqlite3_bind_text(st, 2, str_of(j->a, "state"), -1, SQLITE_TRANSIENT);
        bind_int_or_null(st, 3, json_object_get(j->a, "at"));
        sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
        rc = step_done(db, st, "a schedule's row");
    }
    free(text);
    return rc;
}

/* Ended sessions before a time leave, their outcomes with them (ON DELETE CASCADE). */
static int write_prune(sqlite3 *db, const struct job *j)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return FC_EIO;
    sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(j->a, "before")));
    rc = step_done(db, st, "pruning the history");
    if (!rc && sqlite3_changes(db))
        fc_info("store: %d ended sessions older than the history kept removed",
                sqlite3_changes(db));
    return rc;
}

/* The image pin as bootaction.c keeps it: not given (NULL) keeps it, "none" drops it. */
#define PIN_NEW "NULLIF(?3, 'none')"
#define PIN_KEPT "CASE WHEN ?3 IS NULL THEN boot_image WHEN ?3 = 'none' THEN NULL ELSE ?3 END"

/* A machine's boot action, added to the inventory if it is not there yet. With "remember",
 * the action it had goes to boot_before (an UPDATE's right-hand sides see the old row). */
static int write_boot(sqlite3 *db, const struct job *j)
{
    sqlite3_stmt *st;
    const char *sql =
        json_is_true(json_object_get(j->a, "remember"))
            ? "INSERT INTO machines(mac, boot_action, boot_image) VALUES(?1, ?2, " PIN_NEW ")"
              " ON CONFLICT(mac) DO UPDATE SET boot_before = boot_action, boot_action = ?2,"
              " boot_image = " PIN_KEPT
            : "INSERT INTO machines(mac, boot_action, boot_image) VALUES(?1, ?2, " PIN_NEW ")"
              " ON CONFLICT(mac) DO UPDATE SET boot_action = ?2, boot_image = " PIN_KEPT ","
              " boot_before = NULL";

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return FC_EIO;
    sqlite3_bind_text(st, 1, str_of(j->a, "mac"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, str_of(j->a, "boot_action"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, str_of(j->a, "boot_image"), -1, SQLITE_TRANSIENT);
    return step_done(db, st, "a machine's boot action");
}

static void job_free(struct job *j)
{
    json_decref(j->a);
    json_decref(j->b);
    free(j->image);
    free(j);
}

/* One transaction for everything queued: a session's end writes its row and
 * every machine's at once, and the disk sees one commit. */
static void run_batch(struct fc_store *st, struct job *list)
{
    struct job *j;
    int n = 0;

    fc__store_exec(st->db, "BEGIN IMMEDIATE;", NULL, 0);
    for (j = list; j; j = j->next) {
        if (j->kind == JOB_SESSION)
            write_session(st->db, j);
        else if (j->kind == JOB_OUTCOME)
            write_outcome(st->db, j);
        else if (j->kind == JOB_SCHEDULE)
            write_schedule(st->db, j);
        else if (j->kind == JOB_BOOT)
            write_boot(st->db, j);
        else
            write_prune(st->db, j);
        n++;
    }
    if (fc__store_exec(st->db, "COMMIT;", NULL, 0)) {
        fc_warn("store: %s: a commit of %d writes failed: %s", st->path, n, sqlite3_errmsg(st->db));
        fc__store_exec(st->db, "ROLLBACK;", NULL, 0);
    }
}

static void *writer(void *arg)
{
    struct fc_store *st = arg;
    struct job *list, *j;
    uint64_t n;

    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->head && !st->stopping)
            pthread_cond_wait(&st->cv, &st->mu);
        if (!st->head && st->stopping)
            break;
        list = st->head;
        st->head = st->tail = NULL;
        pthread_mutex_unlock(&st->mu);
        run_batch(st, list);
        for (n = 0; list; n++, list = j) {
            j = list->next;
            job_free(list);
        }
        pthread_mutex_lock(&st->mu);
        st->committed += n;
        pthread_cond_broadcast(&st->flushed);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static void enqueue(struct fc_store *st, struct job *j)
{
    pthread_mutex_lock(&st->mu);
    if (st->tail)
        st->tail->next = j;
    else
        st->head = j;
    st->tail = j;
    st->queued++;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

static struct job *job_new(enum job_kind kind, const char *run, json_t *a, json_t *b)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j) {
        json_decref(a);
        json_decref(b);
        return NULL;
    }
    j->kind = kind;
    snprintf(j->run, sizeof(j->run), "%s", run ? run : "");
    j->a = a;
    j->b = b;
    return j;
}

void fc_store_put_session(struct fc_store *st, const char *run, json_t *session, json_t *config)
{
    struct job *j;

    if (!st) {
        json_decref(session);
        json_decref(config);
        return;
    }
    j = job_new(JOB_SESSION, run, session, config);
    if (j)
        enqueue(st, j);
}

void fc_store_put_outcome(struct fc_store *st, const char *run, const char *image, json_t *machine)
{
    struct job *j;

    if (!st) {
        json_decref(machine);
        return;
    }
    j = job_new(JOB_OUTCOME, run, machine, NULL);
    if (!j)
        return;
    j->image = image ? strdup(image) : NULL;
    enqueue(st, j);
}

static void put_one(struct fc_store *st, enum job_kind kind, json_t *a)
{
    struct job *j;

    if (!st) {
        json_decref(a);
        return;
    }
    j = job_new(kind, NULL, a, NULL);
    if (j)
        enqueue(st, j);
}

void fc_store_put_schedule(struct fc_store *st, json_t *schedule)
{
    put_one(st, JOB_SCHEDULE, schedule);
}

void fc_store_prune(struct fc_store *st, int64_t before)
{
    put_one(st, JOB_PRUNE, json_pack("{s:I}", "before", (json_int_t)before));
}

void fc_store_put_boot(struct fc_store *st, const char *mac, const char *action, const char *image,
                       int remember)
{
    put_one(st, JOB_BOOT,
            json_pack("{s:s, s:s, s:s?, s:b}", "mac", mac, "boot_action", action, "boot_image",
                      image, "remember", remember));
}

void fc_store_flush(struct fc_store *st)
{
    uint64_t target;

    if (!st || !st->started)
        return;
    pthread_mutex_lock(&st->mu);
    target = st->queued;
    while (st->committed < target)
        pthread_cond_wait(&st->flushed, &st->mu);
    pthread_mutex_unlock(&st->mu);
}

const char *fc_store_path(const struct fc_store *st)
{
    return st->path;
}

int fc_store_open(const char *dir, struct fc_store **out, char *why, size_t cap)
{
    struct fc_store *st = calloc(1, sizeof(*st));
    int rc = FC_ENOMEM;

    if (!st)
        goto fail;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    pthread_cond_init(&st->flushed, NULL);
    snprintf(st->path, sizeof(st->path), "%s/%s", dir, FC_STORE_FILE);
    rc = fc__store_connect(st->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &st->db, why, cap);
    if (rc)
        goto fail;
    /* WAL: readers never wait for the writer; NORMAL sync is durable
     * across a crash of fleetcastd (only a power cut may lose the last
     * commits, never corrupt the file). */
    rc =
        fc__store_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", why, cap);
    if (!rc)
        rc = migrate(st->db, st->path, why, cap);
    if (rc)
        goto fail;
    if (pthread_create(&st->thread, NULL, writer, st)) {
        snprintf(why, cap, "cannot start the store's writer thread");
        rc = FC_EIO;
        goto fail;
    }
    st->started = 1;
    *out = st;
    return 0;
fail:
    fc_store_close(st);
    return rc;
}

void fc_store_close(struct fc_store *st)
{
    if (!st)
        return;
    if (st->started) {
        pthread_mutex_lock(&st->mu);
        st->stopping = 1;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->thread, NULL);
    }
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    pthread_cond_destroy(&st->flushed);
    free(st);
}
