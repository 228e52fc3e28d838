/* API tokens in SQLite.  See tokens.h. */
#include <stdbool.h>

#include "store/tokens.h"
#include "store/internal.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

static const char *const scope_names[] = { [TOKEN_READ] = "read", [TOKEN_ADMIN] = "admin" };

const char *
token_scope_name(enum token_scope s)
{
	return (size_t)s < ARRAY_SIZE(scope_names) ? scope_names[s] : "?";
}

int
token_scope_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(scope_names); i++)
		if (strcmp(s, scope_names[i]) == 0)
			return (int)i;
	return -1;
}

bool
token_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= STORE_TOKEN_NAME || name[0] == '-' || name[0] == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

int64_t
store_token_add(struct store *st, const char *name, enum token_scope scope,
    const uint8_t hash[32], int64_t now)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "INSERT INTO tokens (name, scope, hash, created)"
	    " VALUES (?1, ?2, ?3, ?4)");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, token_scope_name(scope));
	sqlite3_bind_blob(s, 3, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, now);
	rc = store_stmt_run(st, s);
	if (rc < 0)
		return rc == -EEXIST ? -EEXIST : -EIO;
	return sqlite3_last_insert_rowid(store_db(st));
}

static void
row_token(sqlite3_stmt *s, struct store_api_token *t)
{
	char scope[8];

	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, t->name, sizeof t->name);
	store_col_text(s, 2, scope, sizeof scope);
	t->scope = token_scope_parse(scope) == TOKEN_ADMIN ? TOKEN_ADMIN : TOKEN_READ;
	t->created = sqlite3_column_int64(s, 3);
	t->last_used = sqlite3_column_int64(s, 4);
}

int
store_token_use(struct store *st, const uint8_t hash[32], int64_t now,
    struct store_api_token *out)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT id, name, scope, created, last_used"
	    " FROM tokens WHERE hash = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_token(s, out);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	if (now - out->last_used >= 60) {
		s = store_stmt_prepare(st, "UPDATE tokens SET last_used = ?2 WHERE id = ?1");
		if (s != NULL) {
			sqlite3_bind_int64(s, 1, out->id);
			sqlite3_bind_int64(s, 2, now);
			(void)store_stmt_run(st, s);
		}
	}
	return 0;
}

int
store_token_list(struct store *st, struct store_api_token *out, size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT id, name, scope, created, last_used"
	    " FROM tokens ORDER BY id LIMIT ?1");
	size_t n = 0;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	while (n < max && sqlite3_step(s) == SQLITE_ROW)
		row_token(s, &out[n++]);
	sqlite3_finalize(s);
	return (int)n;
}

int
store_token_remove(struct store *st, const char *id_or_name)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "DELETE FROM tokens WHERE name = ?1"
	    " OR (?1 GLOB '[0-9]*' AND id = CAST(?1 AS INTEGER))");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, id_or_name);
	rc = store_stmt_run(st, s);
	return rc < 0 ? -EIO : rc == 0 ? -ENOENT : 0;
}
