/* /api/v1/tokens: API tokens with scopes (docs/API.md, "Credentials").
 *
 * A token is 32 random bytes in hex, shown once when it is made and kept
 * only as its SHA-256 (store/tokens.c).  read reads everything the console
 * shows; admin changes things too.  Only an admin token manages tokens. */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/util.h"
#include "image/chunk.h"

#define TOKENS_MAX 1000                 /* tokens listed */

static json_t *
token_json(const struct store_api_token *t)
{
	return json_pack("{s:I,s:s,s:s,s:I,s:I}", "id", (json_int_t)t->id, "name", t->name,
	    "scope", token_scope_name(t->scope), "created", (json_int_t)t->created,
	    "last_used", (json_int_t)t->last_used);
}

static void
tokens_list(struct api_call *c)
{
	struct store_api_token *list = calloc(TOKENS_MAX, sizeof *list);
	int n = list != NULL ? store_token_list(c->st, list, TOKENS_MAX) : -ENOMEM;
	json_t *arr;

	if (n < 0) {
		free(list);
		api_reply_error(c->rs, 500, "cannot list tokens");
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, token_json(&list[i]));
	free(list);
	api_reply_json(c->rs, 200, json_pack("{s:o}", "tokens", arr));
}

static void
token_create(struct api_call *c)
{
	json_t *body = api_body_json(c), *o;
	const char *name = NULL, *scope_text = "read";
	uint8_t raw[TOKEN_BYTES], hash[32];
	char text[TOKEN_HEX + 1];
	int scope;
	int64_t id;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s?s}", "name", &name, "scope", &scope_text) < 0 ||
	    !token_name_valid(name) || (scope = token_scope_parse(scope_text)) < 0) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected {\"name\": [A-Za-z0-9._-]{1,63},"
		    " \"scope\": \"read\" | \"admin\"}");
		return;
	}
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		json_decref(body);
		api_reply_error(c->rs, 500, "no random bytes");
		return;
	}
	sha256_hex(raw, text);
	chunk_sha256(text, TOKEN_HEX, hash);
	id = store_token_add(c->st, name, (enum token_scope)scope, hash, api_now());
	if (id < 0) {
		api_reply_error(c->rs, id == -EEXIST ? 409 : 500, id == -EEXIST ?
		    "a token named %s exists" : "cannot store the token%s", id == -EEXIST ? name : "");
		json_decref(body);
		return;
	}
	log_info("api: %s: token %s (%s) created", c->peer, name, scope_text);
	o = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "scope",
	    scope_text, "token", text);
	json_decref(body);
	api_reply_json(c->rs, 201, o);
}

static void
token_revoke(struct api_call *c)
{
	int rc = store_token_remove(c->st, c->arg[0]);

	if (rc == -ENOENT) {
		api_reply_error(c->rs, 404, "no token %s", c->arg[0]);
		return;
	}
	if (rc < 0) {
		api_reply_error(c->rs, 500, "cannot revoke the token");
		return;
	}
	log_info("api: %s: token %s revoked", c->peer, c->arg[0]);
	api_reply_json(c->rs, 204, NULL);
}

const struct api_route api_tokens_routes[] = {
	{ "GET", "api/v1/tokens", API_ADMIN, .handler = tokens_list, .statuses = "200",
	    .summary = "the API tokens (never the tokens themselves)" },
	{ "POST", "api/v1/tokens", API_ADMIN, .body_max = 1024, .json_max = 8,
	    .handler = token_create, .statuses = "201 409",
	    .summary = "a token {name, scope: read|admin}, shown once in the answer" },
	{ "DELETE", "api/v1/tokens/{token}", API_ADMIN, .handler = token_revoke,
	    .statuses = "204 404",
	    .summary = "revoke a token (by id or name)" },
	{ NULL },
};
