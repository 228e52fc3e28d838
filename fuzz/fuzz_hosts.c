/* libFuzzer harness: /etc/hosts text from a disk (any bytes) rewritten for
 * a machine's name (src/agent/hosts.c): the output stays within its
 * bound, holds exactly one "127.0.1.1<TAB>name" line, ends in a newline,
 * and rewriting it again changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/hosts.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count_ours(const char *s, size_t len, const char *line)
{
	size_t n = 0, l = strlen(line);

	for (size_t at = 0; at < len;) {
		const char *nl = memchr(s + at, '\n', len - at);
		size_t end = nl != NULL ? (size_t)(nl - s) : len;
		if (end - at == l && memcmp(s + at, line, l) == 0)
			n++;
		at = end + 1;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char name[] = "pc-42";
	size_t len, len2;
	char *out = identity_hosts_text((const char *)data, size, name, &len), *again;

	if (out == NULL)
		return 0;
	if (len > size + sizeof name + 32 || len == 0 || out[len - 1] != '\n' ||
	    count_ours(out, len, "127.0.1.1\tpc-42") != 1)
		abort();
	again = identity_hosts_text(out, len, name, &len2);
	if (again == NULL || len2 != len || memcmp(again, out, len) != 0)
		abort();
	free(again);
	free(out);
	return 0;
}
