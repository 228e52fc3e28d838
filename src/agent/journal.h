/* The agent's log: every line goes to stderr ("pxe-agent: ...") and into
 * a ring of the last JOURNAL_TAIL_MAX bytes, which the final result carries
 * to the server so a failed task can be understood from pxed alone.
 * Thread-safe: workers log too. */
#ifndef PXED_AGENT_JOURNAL_H
#define PXED_AGENT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#define JOURNAL_TAIL_MAX 4096
#define JOURNAL_LINE_MAX 512

/* quiet: informational lines are kept in the ring but not printed. */
void journal_init(bool quiet);
void journal_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void journal_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The newest lines, whole lines only, NUL-terminated in out (size bytes,
 * at most JOURNAL_TAIL_MAX + 1 useful).  Returns the length. */
size_t journal_tail(char *out, size_t size);

#endif
