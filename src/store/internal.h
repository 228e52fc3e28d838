/* Between the store's files only: the SQL connection of a store
 * (store/db.h). */
#ifndef PXED_STORE_INTERNAL_H
#define PXED_STORE_INTERNAL_H

#include "store/db.h"

struct store;
struct db *store_db(struct store *st);

#endif
