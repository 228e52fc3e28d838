/* The agent's log lines: stderr and a ring of the newest 4 KiB. */
#include "agent/journal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

static struct {
	pthread_mutex_t lock;
	bool quiet;
	char ring[JOURNAL_TAIL_MAX];
	size_t head;            /* next byte written */
	size_t len;             /* bytes held, <= JOURNAL_TAIL_MAX */
} journal = { .lock = PTHREAD_MUTEX_INITIALIZER };

void
journal_init(bool quiet)
{
	pthread_mutex_lock(&journal.lock);
	journal.quiet = quiet;
	journal.head = journal.len = 0;
	pthread_mutex_unlock(&journal.lock);
}

static void
ring_put(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		journal.ring[journal.head] = s[i];
		journal.head = (journal.head + 1) % JOURNAL_TAIL_MAX;
	}
	journal.len = journal.len + n > JOURNAL_TAIL_MAX ? JOURNAL_TAIL_MAX : journal.len + n;
}

static void
journal_line(bool error, const char *fmt, va_list ap)
{
	char raw[JOURNAL_LINE_MAX], line[JOURNAL_LINE_MAX];
	int n;

	n = vsnprintf(raw, sizeof raw, fmt, ap);
	if (n < 0)
		return;
	/* messages may quote the server: printable only, one line each */
	log_printable(raw, strlen(raw), line, sizeof line);
	pthread_mutex_lock(&journal.lock);
	if (error || !journal.quiet)
		fprintf(stderr, "pxe-agent: %s\n", line);
	ring_put(line, strlen(line));
	ring_put("\n", 1);
	pthread_mutex_unlock(&journal.lock);
}

void
journal_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	journal_line(false, fmt, ap);
	va_end(ap);
}

void
journal_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	journal_line(true, fmt, ap);
	va_end(ap);
}

size_t
journal_tail(char *out, size_t size)
{
	size_t start, n = 0, skip = 0;

	if (size == 0)
		return 0;
	pthread_mutex_lock(&journal.lock);
	start = (journal.head + JOURNAL_TAIL_MAX - journal.len) % JOURNAL_TAIL_MAX;
	/* the ring wrapped: the oldest line is cut, drop it */
	if (journal.len == JOURNAL_TAIL_MAX) {
		while (skip < journal.len && journal.ring[(start + skip) % JOURNAL_TAIL_MAX] != '\n')
			skip++;
		skip = skip < journal.len ? skip + 1 : 0;
	}
	/* keep the newest bytes when out is smaller than the ring */
	if (journal.len - skip > size - 1)
		skip = journal.len - (size - 1);
	for (size_t i = skip; i < journal.len; i++)
		out[n++] = journal.ring[(start + i) % JOURNAL_TAIL_MAX];
	pthread_mutex_unlock(&journal.lock);
	out[n] = '\0';
	return n;
}
