/* /etc/hosts rewritten for a machine's name (pure, fuzzed:
 * fuzz/fuzz_hosts.c). */
#ifndef PXED_AGENT_HOSTS_H
#define PXED_AGENT_HOSTS_H

#include <stddef.h>

/* text (len bytes, from the disk: any bytes) with every line starting
 * "127.0.1.1" followed by a blank or its end replaced by one
 * "127.0.1.1<TAB>name" line (the first such; the others dropped), or that
 * line appended; every other line kept, each ending in a newline.  NULs
 * are kept as they are.  malloc'd, NUL-terminated (its length: out_len). */
char *identity_hosts_text(const char *text, size_t len, const char *name, size_t *out_len);

#endif
