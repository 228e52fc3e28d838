/* API tokens with scopes (schema 11): each kept as the SHA-256 of the
 * token, never the token itself.  The administrator's token file
 * (api-token-file) stays the first admin token; these are the others,
 * made with pxectl token create.  One statement per call. */
#ifndef PXED_STORE_TOKENS_H
#define PXED_STORE_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_TOKEN_NAME 64

enum token_scope { TOKEN_READ, TOKEN_ADMIN };

struct store_api_token {
	int64_t id;
	char name[STORE_TOKEN_NAME];
	enum token_scope scope;
	int64_t created, last_used;
};

const char *token_scope_name(enum token_scope s);
/* "read" or "admin": the scope, or -1. */
int token_scope_parse(const char *s);
/* Is name a token's name: 1 to 63 of [A-Za-z0-9._-]? */
bool token_name_valid(const char *name);

/* A new token of hash: its id, -EEXIST (the name is taken) or -EIO. */
int64_t store_token_add(struct store *st, const char *name, enum token_scope scope,
    const uint8_t hash[32], int64_t now);
/* The token whose hash is hash: 0, -ENOENT or -EIO.  Its last_used is set
 * to now when it is older than a minute (one write a minute at most). */
int store_token_use(struct store *st, const uint8_t hash[32], int64_t now,
    struct store_api_token *out);
/* Up to max tokens ordered by id: the count or -EIO. */
int store_token_list(struct store *st, struct store_api_token *out, size_t max);
/* Revoke (delete) the token with this id or name: 0, -ENOENT or -EIO. */
int store_token_remove(struct store *st, const char *id_or_name);

#endif
