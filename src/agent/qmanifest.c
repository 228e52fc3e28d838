/* The quarantine manifest: JSON, checked member by member. */
#include "agent/qmanifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"

int
qmanifest_path_ok(const char *path)
{
	size_t len = strlen(path);

	if (len < 2 || len > QMANIFEST_PATH_MAX || path[0] != '/' || path[len - 1] == '/')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return 0;
		if (path[i] != '/')
			continue;
		const char *c = path + i + 1;
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
	}
	return 1;
}

static int
fail(char *err, size_t errlen, const char *what, size_t i)
{
	snprintf(err, errlen, "quarantine manifest: file %zu: %s", i, what);
	return -EINVAL;
}

static int
qfile_parse(json_t *o, size_t i, struct qfile *f, char *err, size_t errlen)
{
	const char *name, *path, *sha, *sig;
	json_t *size = json_object_get(o, "size");

	name = json_string_value(json_object_get(o, "name"));
	path = json_string_value(json_object_get(o, "path"));
	sha = json_string_value(json_object_get(o, "sha256"));
	sig = json_string_value(json_object_get(o, "signature"));
	if (name == NULL || strlen(name) < 4 || strlen(name) > 8 ||
	    strspn(name, "0123456789") != strlen(name))
		return fail(err, errlen, "\"name\" is not 4-8 digits", i);
	if (path == NULL || !qmanifest_path_ok(path))
		return fail(err, errlen, "\"path\" is not an absolute path", i);
	if (sha == NULL || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
		return fail(err, errlen, "\"sha256\" is not 64 lower-case hex digits", i);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return fail(err, errlen, "\"size\" is not a size", i);
	if (sig == NULL || strlen(sig) >= QMANIFEST_SIG_MAX)
		return fail(err, errlen, "\"signature\" is missing or too long", i);
	memcpy(f->name, name, strlen(name) + 1);
	memcpy(f->sha256, sha, 65);
	memcpy(f->signature, sig, strlen(sig) + 1);
	f->size = (uint64_t)json_integer_value(size);
	f->path = strdup(path);
	return f->path != NULL ? 0 : -ENOMEM;
}

static int
qmanifest_members(json_t *root, struct qmanifest *m, char *err, size_t errlen)
{
	json_t *task = json_object_get(root, "task"), *by = json_object_get(root, "restored_by");
	json_t *files = json_object_get(root, "files"), *f;
	size_t i;
	int rc = 0;

	if (!json_is_integer(task) || json_integer_value(task) <= 0 ||
	    (by != NULL && (!json_is_integer(by) || json_integer_value(by) < 0)) ||
	    !json_is_array(files) || json_array_size(files) > QMANIFEST_FILES_MAX) {
		snprintf(err, errlen, "quarantine manifest: not {\"task\", \"files\": [...]}");
		return -EINVAL;
	}
	m->task = json_integer_value(task);
	m->restored_by = by != NULL ? json_integer_value(by) : 0;
	m->files = calloc(json_array_size(files) + 1, sizeof *m->files);
	if (m->files == NULL)
		return -ENOMEM;
	json_array_foreach(files, i, f) {
		if (!json_is_object(f))
			return fail(err, errlen, "not an object", i);
		rc = qfile_parse(f, i, &m->files[m->nfiles], err, errlen);
		if (rc < 0)
			return rc;
		m->nfiles++;
		for (size_t j = 0; j + 1 < m->nfiles; j++)
			if (strcmp(m->files[j].name, m->files[m->nfiles - 1].name) == 0)
				return fail(err, errlen, "\"name\" given twice", i);
	}
	return 0;
}

int
qmanifest_parse(const char *text, size_t len, struct qmanifest *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (len > QMANIFEST_MAX) {
		snprintf(err, errlen, "quarantine manifest: larger than %u bytes", QMANIFEST_MAX);
		return -EINVAL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen, "quarantine manifest: not a JSON object");
		return -EINVAL;
	}
	rc = qmanifest_members(root, out, err, errlen);
	json_decref(root);
	return rc;
}

char *
qmanifest_format(const struct qmanifest *m)
{
	json_t *files = json_array(), *root;
	char *text;

	for (size_t i = 0; files != NULL && i < m->nfiles; i++) {
		const struct qfile *f = &m->files[i];
		json_array_append_new(files, json_pack("{s:s,s:s,s:I,s:s,s:s}", "name", f->name,
		    "path", f->path, "size", (json_int_t)f->size, "sha256", f->sha256,
		    "signature", f->signature));
	}
	root = json_pack("{s:I,s:o}", "task", (json_int_t)m->task, "files", files);
	if (root != NULL && m->restored_by > 0)
		json_object_set_new(root, "restored_by", json_integer(m->restored_by));
	text = root != NULL ? json_text(root, JSON_INDENT(1), NULL) : NULL;
	json_decref(root);
	return text;
}

void
qmanifest_free(struct qmanifest *m)
{
	for (size_t i = 0; m->files != NULL && i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	memset(m, 0, sizeof *m);
}
