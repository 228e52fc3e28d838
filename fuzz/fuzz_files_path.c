/* libFuzzer harness for files_path_normalize(): arbitrary bytes, with and
 * without a root prefix, and into a short output buffer.  On success the
 * result must be a clean relative path, and normalizing it again must give
 * it back unchanged. */
#include "files/files.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_clean(const char *out, size_t size)
{
	size_t len = strnlen(out, size);

	assert(len < size);
	assert(len < FILES_PATH_MAX);
	if (len == 0)
		return;
	assert(out[0] != '/');
	assert(out[len - 1] != '/');
	assert(strstr(out, "//") == NULL);
	assert(strchr(out, '\\') == NULL);
	for (size_t i = 0; i < len; i++)
		assert((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	/* no "." or ".." component, none longer than FILES_NAME_MAX */
	for (const char *p = out; *p != '\0';) {
		size_t n = strcspn(p, "/");
		assert(n > 0 && n <= FILES_NAME_MAX);
		assert(!(n == 1 && p[0] == '.'));
		assert(!(n == 2 && p[0] == '.' && p[1] == '.'));
		p += n;
		if (*p == '/')
			p++;
	}
}

static void
run(const char *in, size_t len, const char *root, size_t out_size)
{
	char out[FILES_PATH_MAX + 8], again[FILES_PATH_MAX + 8];
	int rc = files_path_normalize(in, len, root, out, out_size);

	assert(rc == 0 || rc == -EACCES || rc == -ENAMETOOLONG);
	if (rc != 0) {
		assert(out[0] == '\0');
		return;
	}
	check_clean(out, out_size);
	rc = files_path_normalize(out, strlen(out), NULL, again, sizeof again);
	assert(rc == 0 && strcmp(out, again) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private heap copy of exactly size bytes: ASan flags any over-read. */
	char *in = malloc(size > 0 ? size : 1);

	if (in == NULL)
		return 0;
	if (size > 0)
		memcpy(in, data, size);
	run(in, size, NULL, FILES_PATH_MAX);
	run(in, size, "/srv/tftp", FILES_PATH_MAX);
	run(in, size, "/", FILES_PATH_MAX + 8);
	run(in, size, "/srv/tftp", 16);
	free(in);
	return 0;
}
