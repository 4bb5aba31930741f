/* What store.c and store_read.c share: opening a connection, running SQL.
 * Internal to the store (fc__ names); nothing else includes sqlite3.h. */
#ifndef FC_STORE_SQL_H
#define FC_STORE_SQL_H

#include <sqlite3.h>
#include <stddef.h>

/* Foreign keys on and a 5 s busy wait, on every connection. */
int fc__store_connect(const char *path, int flags, sqlite3 **out, char *why, size_t cap);
int fc__store_exec(sqlite3 *db, const char *sql, char *why, size_t cap);

#endif
