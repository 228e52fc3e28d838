/* /etc/hosts rewritten for a machine's name.  Pure. */
#include "agent/hosts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* /etc/hosts with every 127.0.1.1 line replaced by one naming the host,
 * or such a line appended.  Pure; malloc'd NUL-terminated text. */
char *
identity_hosts_text(const char *text, size_t len, const char *name, size_t *out_len)
{
	size_t cap = len + strlen(name) + 32, o = 0;
	char *out = malloc(cap);
	bool done = false;

	if (out == NULL)
		return NULL;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
		bool ours = n >= 9 && memcmp(text + at, "127.0.1.1", 9) == 0 &&
		    (n == 9 || text[at + 9] == ' ' || text[at + 9] == '\t');
		if (ours && !done) {
			o += (size_t)snprintf(out + o, cap - o, "127.0.1.1\t%s\n", name);
			done = true;
		} else if (!ours) {
			memcpy(out + o, text + at, n);
			o += n;
			out[o++] = '\n';
		}
		at += n + 1;
	}
	if (!done)
		o += (size_t)snprintf(out + o, cap - o, "127.0.1.1\t%s\n", name);
	out[o] = '\0';
	*out_len = o;
	return out;
}

