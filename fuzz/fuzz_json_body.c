/* libFuzzer harness: JSON request bodies (api/reply.c api_body_json): the
 * streaming scan (yajl) that bounds values and depth before jansson
 * builds a tree, for the bounds routes use.
 *
 * What must hold: a body taken holds at most the route's json_max values
 * (keys count) and 32 levels, and is what jansson alone reads (with
 * duplicate keys refused); a body refused is answered 400 with a JSON
 * error; a body within both bounds that jansson reads is taken, unless
 * it holds a NUL byte (jansson reads past one, "[1\0,1,1]" is three
 * values to it: the scan refuses it, so a NUL cannot hide values from
 * the bound).
 *
 * Input: byte 0 picks the bound (8, 16, 32, 64, 4096 values), the rest is
 * the body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/internal.h"
#include "core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH_MAX 32

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_json_body", true, LOG_LEVEL_ERROR);
	return 0;
}

/* Values and keys in v, and its depth (containers). */
static void
measure(json_t *v, unsigned depth, unsigned *values, unsigned *deepest)
{
	const char *key;
	json_t *item;
	size_t i;

	(*values)++;
	if (json_is_object(v) || json_is_array(v)) {
		depth++;
		if (depth > *deepest)
			*deepest = depth;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			(void)key;
			(*values)++;
			measure(item, depth, values, deepest);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			measure(item, depth, values, deepest);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned bounds[] = { 8, 16, 32, 64, 4096 };
	struct api_route route = { .method = "POST", .path = "fuzz", .body_max = 1 << 20 };
	struct api_call call = { .route = &route };
	struct api_response rs = { 0 };
	unsigned values = 0, deepest = 0;

	if (size < 1)
		return 0;
	route.json_max = bounds[data[0] % 5];
	char *body = malloc(size - 1 > 0 ? size - 1 : 1);      /* exactly: ASan */
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	call.body = size > 1 ? body : NULL;
	call.body_len = size - 1;
	call.rs = &rs;
	json_t *got = api_body_json(&call);
	json_t *alone = json_loadb(body, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (alone != NULL)
		measure(alone, 0, &values, &deepest);
	if (got != NULL) {
		unsigned v2 = 0, d2 = 0;
		measure(got, 0, &v2, &d2);
		if (v2 > route.json_max || d2 > DEPTH_MAX || alone == NULL ||
		    !json_equal(got, alone) || rs.status != 0)
			abort();
	} else {
		if (rs.status != 400 || rs.body == NULL)
			abort();
		json_t *err = json_loadb(rs.body, rs.len, 0, NULL);
		if (err == NULL || !json_is_string(json_object_get(err, "error")))
			abort();
		json_decref(err);
		/* jansson alone reads past a NUL byte: no reference then */
		if (alone != NULL && values <= route.json_max && deepest <= DEPTH_MAX &&
		    memchr(body, '\0', size - 1) == NULL) {
			fprintf(stderr, "%u values, %u deep, bound %u: refused\n", values, deepest,
			    route.json_max);
			abort();
		}
	}
	json_decref(got);
	json_decref(alone);
	free(rs.body);
	free(body);
	return 0;
}
