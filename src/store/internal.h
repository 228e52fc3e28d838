/* Between the store's files only: the SQLite handle of a connection. */
#ifndef PXED_STORE_INTERNAL_H
#define PXED_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

struct store;
sqlite3 *store_db(struct store *st);

/* One statement per call (store/mgmt.c): prepared (NULL, logged, on an
 * error), stepped and finalized by store_stmt_run (the rows changed, -EIO,
 * -EEXIST for a constraint); text bound as a copy, "" for NULL; a text
 * column copied into out (truncated, "" for NULL). */
sqlite3_stmt *store_stmt_prepare(struct store *st, const char *sql);
int store_stmt_run(struct store *st, sqlite3_stmt *s);
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
void store_col_text(sqlite3_stmt *s, int i, char *out, size_t size);

#endif
