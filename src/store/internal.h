/* Between the store's files only: the SQLite handle of a connection. */
#ifndef PXED_STORE_INTERNAL_H
#define PXED_STORE_INTERNAL_H

#include <sqlite3.h>

struct store;
sqlite3 *store_db(struct store *st);

#endif
