/* API tokens in the store's database.  See tokens.h. */
#include <stdbool.h>

#include "store/tokens.h"
#include "store/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
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
	struct db_stmt *s = db_prepare(store_db(st), "INSERT INTO tokens (name, scope,"
	    " hash, created) VALUES (?1, ?2, ?3, ?4) RETURNING id", false);
	int64_t id;
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, token_scope_name(scope));
	db_bind_blob(s, 3, hash, 32);
	db_bind_int64(s, 4, now);
	rc = db_step(s);
	id = rc == 1 ? db_col_int64(s, 0) : rc == -EEXIST ? -EEXIST : -EIO;
	db_finalize(s);
	return id;
}

static void
row_token(struct db_stmt *s, struct store_api_token *t)
{
	char scope[8];

	memset(t, 0, sizeof *t);
	t->id = db_col_int64(s, 0);
	db_col_str(s, 1, t->name, sizeof t->name);
	db_col_str(s, 2, scope, sizeof scope);
	t->scope = token_scope_parse(scope) == TOKEN_ADMIN ? TOKEN_ADMIN : TOKEN_READ;
	t->created = db_col_int64(s, 3);
	t->last_used = db_col_int64(s, 4);
}

int
store_token_use(struct store *st, const uint8_t hash[32], int64_t now,
    struct store_api_token *out)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT id, name, scope, created, last_used"
	    " FROM tokens WHERE hash = ?1", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_blob(s, 1, hash, 32);
	rc = db_step(s);
	if (rc == 1)
		row_token(s, out);
	db_finalize(s);
	if (rc != 1)
		return rc == 0 ? -ENOENT : -EIO;
	if (now - out->last_used >= 60) {
		s = db_prepare(store_db(st), "UPDATE tokens SET last_used = ?2 WHERE id = ?1", false);
		if (s != NULL) {
			db_bind_int64(s, 1, out->id);
			db_bind_int64(s, 2, now);
			(void)db_run(s);
		}
	}
	return 0;
}

int
store_token_list(struct store *st, struct store_api_token *out, size_t max)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT id, name, scope, created, last_used"
	    " FROM tokens ORDER BY id LIMIT ?1", false);
	size_t n = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, (int64_t)max);
	while (n < max && db_step(s) == 1)
		row_token(s, &out[n++]);
	db_finalize(s);
	return (int)n;
}

int
store_token_remove(struct store *st, const char *id_or_name)
{
	struct db_stmt *s = db_prepare(store_db(st), "DELETE FROM tokens WHERE name = ?1"
	    " OR id = ?2", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, id_or_name);
	/* a text starting with a digit is also an id (its leading digits) */
	db_bind_int64(s, 2, isdigit((unsigned char)id_or_name[0]) ?
	    strtoll(id_or_name, NULL, 10) : -1);
	rc = db_run(s);
	return rc < 0 ? -EIO : rc == 0 ? -ENOENT : 0;
}
