/* fleetcastd's memory across restarts: the inventory (machines, labs), the
 * images served, every session and each machine's outcome in it. One SQLite
 * file (fleetcast.db) in the state directory, WAL, a versioned schema with
 * migrations (docs/design.md, "The store").
 *
 * Who touches it, and how:
 *   - The loop thread never waits on the disk: its writes are queued to one
 *     writer thread, which runs everything queued in one transaction.
 *   - Reads (the API's history, the report, the inventory) run on the
 *     caller's own connection (struct fc_store_reader), opened per use; in
 *     WAL mode they never wait for the writer.
 *   - Inventory edits from the API run on such a connection too, in their own
 *     short transaction (SQLite orders them with the writer's).
 * The interface is small on purpose: a later PostgreSQL store (several
 * servers, one inventory) implements the same calls. */
#ifndef FC_STORE_H
#define FC_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define FC_STORE_FILE "fleetcast.db"
#define FC_STORE_SCHEMA 3 /* the version this build writes (PRAGMA user_version) */
#define FC_RUN_LEN 16     /* a session's run key: 16 hex digits, unique in the store */
#define FC_STORE_REPORT_MAX_TEXT "1000" /* sessions in one report at most */

struct fc_store;
struct fc_store_reader;

/* Opens (creating) DIR/fleetcast.db, migrates it to FC_STORE_SCHEMA and
 * starts the writer. A file from a newer fleetcast is refused. */
int fc_store_open(const char *dir, struct fc_store **out, char *why, size_t cap);
/* Runs what is queued, stops the writer, closes. NULL is fine. */
void fc_store_close(struct fc_store *st);
const char *fc_store_path(const struct fc_store *st);
/* Waits until every write queued before the call is committed (tests,
 * shutdown). */
void fc_store_flush(struct fc_store *st);

/* ---- writes from the loop thread (queued; each takes its json references) */

/* A session's row: its API Session object (docs/api.md) with "run", and the
 * settings that would create it again ("config", an API create body).
 * Inserted or replaced by run. */
void fc_store_put_session(struct fc_store *st, const char *run, json_t *session, json_t *config);
/* A machine's outcome in a session (an API Machine object), keyed by run and
 * its MAC (or its receiver id while the MAC is unknown); the machine's
 * inventory row is updated from it (last IP, disk size, last image, result,
 * first and last seen). */
void fc_store_put_outcome(struct fc_store *st, const char *run, const char *image, json_t *machine);

/* A schedule (schedule.c's JSON: "id", "state", "at", ...), by id. */
void fc_store_put_schedule(struct fc_store *st, json_t *schedule);
/* Ended sessions that ended before `before` (unix seconds) leave, with their outcomes. */
void fc_store_prune(struct fc_store *st, int64_t before);
/* A machine's boot action (deploy|local|capture|shell) and the image it deploys (NULL: the
 * menu's); the machine is added to the inventory if it is not there. remember: keep the
 * action it had in boot_before (a schedule's run gives it back to a machine that never came). */
void fc_store_put_boot(struct fc_store *st, const char *mac, const char *action, const char *image,
                       int remember);

/* ---- reads, on a connection of the caller's own thread */

struct fc_store_reader *fc_store_reader_open(const struct fc_store *st);
struct fc_store_reader *fc_store_reader_open_path(const char *db_path);
void fc_store_reader_close(struct fc_store_reader *r);

/* Ended sessions (Session objects, newest first) that ended at or after
 * since (unix seconds), at most limit; their machines into *machines unless
 * it is NULL. */
json_t *fc_store_ended_sessions(struct fc_store_reader *r, int64_t since, int limit,
                                json_t **machines);
/* {"session": ..., "machines": [...]} of the newest session with this id (8
 * hex digits) or run (16), or NULL. */
json_t *fc_store_session(struct fc_store_reader *r, const char *id_or_run);
/* Sessions left unfinished (waiting, sending, repair) by a daemon that
 * stopped: [{"run", "id", "config", "created_at", "session"}], oldest first. */
json_t *fc_store_unfinished(struct fc_store_reader *r);
/* Every schedule not cancelled or done, oldest first; and the highest id
 * ever given (*max_id). */
json_t *fc_store_schedules(struct fc_store_reader *r, int64_t *max_id);
/* The morning report (docs/api.md, GET /api/v1/report): every session that
 * ended at or after since, or the one named, with its machines and a summary
 * line each. */
json_t *fc_store_report(struct fc_store_reader *r, int64_t since, const char *id_or_run);

/* ---- the inventory (reader connections; each edit its own transaction) */

json_t *fc_store_machines(struct fc_store_reader *r, const char *lab);
/* Several edits as one: fc_store_end(r, 1) commits them, (r, 0) undoes them.
 * Both FC_EIO when SQLite refuses (busy past its wait); a failed commit is
 * rolled back. */
int fc_store_begin(struct fc_store_reader *r);
int fc_store_end(struct fc_store_reader *r, int commit);
/* Adds or updates (by MAC) name and lab (NULL or "": kept as they are); *why
 * on a bad MAC or unknown lab. */
int fc_store_machine_set(struct fc_store_reader *r, const char *mac, const char *name,
                         const char *lab, char *why, size_t cap);
int fc_store_machine_remove(struct fc_store_reader *r, const char *mac);
json_t *fc_store_labs(struct fc_store_reader *r);
int fc_store_lab_set(struct fc_store_reader *r, const char *name, const char *note, char *why,
                     size_t cap);
/* Refused (FC_ESTATE) while machines belong to it. */
int fc_store_lab_remove(struct fc_store_reader *r, const char *name, char *why, size_t cap);

#endif
