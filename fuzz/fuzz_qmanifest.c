/* libFuzzer harness: the quarantine manifest a restore reads back from a
 * disk (src/agent/qmanifest.c): whatever parses has only absolute,
 * normalized paths and digit names, and formats into text that parses
 * back to the same manifest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/qmanifest.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmanifest m, again;
	char err[256];
	char *text;

	if (qmanifest_parse((const char *)data, size, &m, err, sizeof err) != 0) {
		qmanifest_free(&m);
		return 0;
	}
	for (size_t i = 0; i < m.nfiles; i++)
		if (!qmanifest_path_ok(m.files[i].path) || strlen(m.files[i].name) < 4)
			abort();
	text = qmanifest_format(&m);
	if (text == NULL || qmanifest_parse(text, strlen(text), &again, err, sizeof err) != 0 ||
	    again.task != m.task || again.restored_by != m.restored_by ||
	    again.nfiles != m.nfiles)
		abort();
	for (size_t i = 0; i < m.nfiles; i++)
		if (strcmp(m.files[i].path, again.files[i].path) != 0 ||
		    strcmp(m.files[i].name, again.files[i].name) != 0 ||
		    strcmp(m.files[i].sha256, again.files[i].sha256) != 0 ||
		    strcmp(m.files[i].signature, again.files[i].signature) != 0 ||
		    m.files[i].size != again.files[i].size)
			abort();
	free(text);
	qmanifest_free(&again);
	qmanifest_free(&m);
	return 0;
}
