/* Between the store's files only: the SQL connection of a store
 * (store/db.h). */
#ifndef PXED_STORE_INTERNAL_H
#define PXED_STORE_INTERNAL_H

#include "store/db.h"

struct store;
struct db *store_db(struct store *st);
/* A statement for one run on the store's connection (db_prepare). */
struct db_stmt *store_prep(struct store *st, const char *sql);
struct store_lease;
/* A row of (address, mac, client_id, state, starts, expires, hostname)
 * into l: 0 or -EINVAL. */
int store_row_lease(struct db_stmt *s, struct store_lease *l);

#endif
