/* The task JSON: checked member by member; a deploy's manifest goes
 * through manifest_parse like any other untrusted manifest. */
#include "agent/task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/util.h"
#include "mcast/codec.h"

static const char *const type_names[] = {
	[TASK_DEPLOY] = "deploy", [TASK_CAPTURE] = "capture",
	[TASK_WIPE] = "wipe", [TASK_SHELL] = "shell", [TASK_DIAGNOSE] = "diagnose",
	[TASK_SCAN] = "scan", [TASK_RESET_PASSWORD] = "reset-password", [TASK_RESTORE] = "restore",
};

const char *
task_type_name(enum task_type type)
{
	return (size_t)type < ARRAY_SIZE(type_names) ? type_names[type] : "?";
}

int
task_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* An optional string member into out; absent or null leaves "". */
static int
get_text(json_t *root, const char *key, char *out, size_t size, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)))
		return task_error(err, errlen, "task \"%s\" is not a string", key);
	if (json_string_length(v) >= size)
		return task_error(err, errlen, "task \"%s\" too long", key);
	str_copy(out, json_string_value(v), size);
	return 0;
}

/* An optional integer member in [min, max]; absent keeps *out. */
static int
get_int(json_t *root, const char *key, int64_t min, int64_t max, int64_t *out,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return task_error(err, errlen, "task \"%s\" is not an integer in range", key);
	*out = json_integer_value(v);
	return 0;
}

static int
parse_type(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	char type[16];

	if (get_text(root, "type", type, sizeof type, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (strcmp(type, type_names[i]) == 0) {
			t->type = (enum task_type)i;
			return 0;
		}
	return task_error(err, errlen, "task type \"%s\" unknown", type);
}

/* An optional boolean member; absent or null is false. */
static int
get_bool(json_t *root, const char *key, bool *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return task_error(err, errlen, "task \"%s\" is not a boolean", key);
	*out = json_is_true(v);
	return 0;
}

static int
parse_flags(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	if (get_bool(root, "verify", &t->verify, err, errlen) < 0 ||
	    get_bool(root, "outside_partitions", &t->outside_partitions, err, errlen) < 0 ||
	    get_bool(root, "no_grow", &t->no_grow, err, errlen) < 0 ||
	    get_bool(root, "raw_encrypted", &t->raw_encrypted, err, errlen) < 0 ||
	    get_bool(root, "quarantine", &t->quarantine, err, errlen) < 0 ||
	    get_bool(root, "unlock", &t->unlock, err, errlen) < 0 ||
	    get_bool(root, "enable", &t->enable, err, errlen) < 0 ||
	    get_bool(root, "list", &t->list, err, errlen) < 0 ||
	    get_text(root, "user", t->user, sizeof t->user, err, errlen) < 0 ||
	    get_text(root, "windows", t->windows, sizeof t->windows, err, errlen) < 0 ||
	    get_int(root, "of", 1, INT64_MAX, &t->restore_of, err, errlen) < 0)
		return -EINVAL;
	if (t->type == TASK_RESET_PASSWORD && t->user[0] == '\0' && !t->list)
		return task_error(err, errlen, "reset-password task without \"user\"");
	if (t->type == TASK_RESTORE && t->restore_of == 0)
		return task_error(err, errlen, "restore task without \"of\"");
	return 0;
}

static int
parse_numbers(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	int64_t resume = 0, chunk = TASK_CHUNK_SIZE_DEFAULT, level = TASK_LEVEL_DEFAULT;

	if (get_int(root, "id", 0, INT64_MAX, &t->id, err, errlen) < 0 ||
	    get_int(root, "resume_offset", 0, INT64_MAX, &resume, err, errlen) < 0 ||
	    get_int(root, "chunk_size", 4096, IMAGE_CHUNK_MAX, &chunk, err, errlen) < 0 ||
	    get_int(root, "level", 1, 19, &level, err, errlen) < 0)
		return -EINVAL;
	t->resume_offset = (uint64_t)resume;
	t->chunk_size = (uint64_t)chunk;
	t->level = (int)level;
	return 0;
}

/* The manifest, as an object (or a string holding its JSON). */
static int
parse_manifest(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, "manifest");
	char reason[256];
	char *text;
	int rc;

	if (json_is_string(v))
		text = strndup(json_string_value(v), json_string_length(v));
	else if (json_is_object(v))
		text = json_text(v, JSON_COMPACT, NULL);
	else
		return task_error(err, errlen, "deploy task without a manifest");
	if (text == NULL)
		return -ENOMEM;
	rc = manifest_parse(text, strlen(text), &t->manifest, reason, sizeof reason);
	free(text);
	if (rc == -EINVAL)
		return task_error(err, errlen, "manifest: %s", reason);
	return rc;
}

static int
parse_hex64(json_t *o, const char *key, uint64_t *out, char *err, size_t errlen)
{
	const char *v = json_string_value(json_object_get(o, key));
	uint64_t x = 0;

	if (v == NULL || strlen(v) != 16)
		return task_error(err, errlen, "multicast: \"%s\" is not 16 hex digits", key);
	for (size_t i = 0; i < 16; i++) {
		int d = hex_digit((unsigned char)v[i]);
		if (d < 0)
			return task_error(err, errlen, "multicast: bad \"%s\"", key);
		x = x << 4 | (uint64_t)d;
	}
	*out = x;
	return 0;
}

/* "frames": each chunk's compressed size, as many as "chunks". */
static int
parse_frames(json_t *arr, struct agent_mcast *mc, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) != mc->chunks)
		return task_error(err, errlen, "multicast: \"frames\" must list every chunk");
	mc->frames = calloc(mc->chunks ? mc->chunks : 1, sizeof *mc->frames);
	if (mc->frames == NULL)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
		    json_integer_value(v) > MCAST_FRAME_MAX)
			return task_error(err, errlen, "multicast: frame %zu out of range", i);
		mc->frames[i] = (uint32_t)json_integer_value(v);
	}
	mc->on = true;
	return 0;
}

/* The optional multicast session of a deploy. */
static int
parse_mcast(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	json_t *o = json_object_get(root, "multicast");
	struct agent_mcast *mc = &t->mcast;
	int64_t port = 0, cport = 0, chunks = 0, slice = 0, fec_k = 0, fec_m = 0;
	struct in_addr a;

	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return task_error(err, errlen, "multicast is not an object");
	if (get_text(o, "name", mc->name, sizeof mc->name, err, errlen) < 0 ||
	    get_text(o, "group", mc->group, sizeof mc->group, err, errlen) < 0 ||
	    get_text(o, "control", mc->control, sizeof mc->control, err, errlen) < 0 ||
	    get_int(o, "port", 1, 65535, &port, err, errlen) < 0 ||
	    get_int(o, "control_port", 1, 65535, &cport, err, errlen) < 0 ||
	    get_int(o, "chunks", 0, INT32_MAX, &chunks, err, errlen) < 0 ||
	    get_int(o, "slice", 512, 8900, &slice, err, errlen) < 0 ||
	    get_int(o, "fec_k", 0, MCAST_FEC_K_MAX, &fec_k, err, errlen) < 0 ||
	    get_int(o, "fec_m", 0, MCAST_FEC_K_MAX, &fec_m, err, errlen) < 0 ||
	    parse_hex64(o, "session", &mc->session, err, errlen) < 0 ||
	    parse_hex64(o, "receiver", &mc->receiver, err, errlen) < 0)
		return -EINVAL;
	if (port == 0 || cport == 0 || slice == 0)
		return task_error(err, errlen, "multicast: port, control_port and slice are needed");
	if ((fec_k != 0 || fec_m != 0) && !mcast_fec_valid((unsigned)fec_k, (unsigned)fec_m))
		return task_error(err, errlen, "multicast: fec_k, fec_m out of range");
	if (inet_pton(AF_INET, mc->group, &a) != 1 || !IN_MULTICAST(ntohl(a.s_addr)) ||
	    inet_pton(AF_INET, mc->control, &a) != 1)
		return task_error(err, errlen, "multicast: bad group or control address");
	mc->port = (uint16_t)port;
	mc->control_port = (uint16_t)cport;
	mc->chunks = (uint32_t)chunks;
	mc->slice = (uint32_t)slice;
	mc->fec_k = (unsigned)fec_k;
	mc->fec_m = (unsigned)fec_m;
	return parse_frames(json_object_get(o, "frames"), mc, err, errlen);
}

/* "chunk_sources": the caches to try before chunk_url, each URL checked
 * as the server's setting is (image/sources.h). */
static int
parse_sources(json_t *root, struct chunk_sources *s, char *err, size_t errlen)
{
	json_t *arr = json_object_get(root, "chunk_sources"), *v;
	char why[128];
	size_t i;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > CHUNK_SOURCES_MAX)
		return task_error(err, errlen, "task \"chunk_sources\" is not a list of at most "
		    "%d URLs", CHUNK_SOURCES_MAX);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || chunk_source_url_parse(json_string_value(v),
		    json_string_length(v), s->url[i], why, sizeof why) < 0)
			return task_error(err, errlen, "task chunk source %zu: %s", i,
			    json_is_string(v) ? why : "not a string");
		s->count = i + 1;
	}
	return 0;
}

static int
parse_members(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	size_t n;

	if (!json_is_object(root))
		return task_error(err, errlen, "task is not a JSON object");
	if (parse_type(root, t, err, errlen) < 0 || parse_numbers(root, t, err, errlen) < 0 ||
	    parse_flags(root, t, err, errlen) < 0 ||
	    get_text(root, "image", t->image, sizeof t->image, err, errlen) < 0 ||
	    get_text(root, "disk", t->disk, sizeof t->disk, err, errlen) < 0 ||
	    get_text(root, "hostname", t->hostname, sizeof t->hostname, err, errlen) < 0 ||
	    get_text(root, "chunk_url", t->chunk_url, sizeof t->chunk_url - 1, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; t->hostname[i] != '\0'; i++) {
		char c = t->hostname[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return task_error(err, errlen, "task \"hostname\" is not a host name");
	}
	n = strlen(t->chunk_url);
	if (n > 0 && t->chunk_url[n - 1] != '/')
		memcpy(t->chunk_url + n, "/", 2);
	if (t->type == TASK_CAPTURE && !image_name_valid(t->image))
		return task_error(err, errlen, "capture task: image name \"%s\" invalid", t->image);
	if (task_params_parse(root, t, err, errlen) < 0)
		return -EINVAL;
	if (t->type != TASK_DEPLOY)
		return 0;
	if (t->chunk_url[0] == '\0')
		return task_error(err, errlen, "deploy task without chunk_url");
	if (parse_mcast(root, t, err, errlen) < 0 ||
	    parse_sources(root, &t->sources, err, errlen) < 0)
		return -EINVAL;
	return parse_manifest(root, t, err, errlen);
}

int
task_parse(const char *text, size_t len, struct agent_task *t, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(t, 0, sizeof *t);
	if (errlen > 0)
		err[0] = '\0';
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return task_error(err, errlen, "task is not JSON: %s", jerr.text);
	rc = parse_members(root, t, err, errlen);
	json_decref(root);
	if (rc < 0)
		task_free(t);
	return rc;
}

void
task_free(struct agent_task *t)
{
	manifest_free(&t->manifest);
	free(t->mcast.frames);
	t->mcast.frames = NULL;
}

void
task_report_bound(json_t *report, size_t max)
{
	for (int round = 0; round < 64; round++) {
		char *text = json_text(report, JSON_COMPACT, NULL);
		size_t len = text != NULL ? strlen(text) : 0, keep;
		json_t *longest = NULL, *v;
		const char *key;

		free(text);
		if (len <= max)
			return;
		json_object_foreach(report, key, v)
			if (json_is_array(v) && (longest == NULL ||
			    json_array_size(v) > json_array_size(longest)))
				longest = v;
		if (longest == NULL || json_array_size(longest) == 0)
			break;
		keep = json_array_size(longest) / 2;
		while (json_array_size(longest) > keep &&
		    json_array_remove(longest, json_array_size(longest) - 1) == 0)
			;
		json_object_set_new(report, "truncated", json_true());
	}
	json_object_clear(report);
	json_object_set_new(report, "truncated", json_true());
}
