#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "core/util.h"

#define LOG_LINE_MAX 1024               /* a message, cut beyond */
#define LOG_JSON_MAX 4096               /* a JSON line, cut on a character */

static atomic_int current_level = LOG_LEVEL_INFO;
static atomic_int current_format = LOG_FORMAT_TEXT;
static bool use_stderr = true;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const format_names[] = { "text", "json" };

void
log_init(const char *ident, bool to_stderr, enum log_level level)
{
	use_stderr = to_stderr;
	atomic_store(&current_level, level);
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	atomic_store(&current_level, level);
}

void
log_set_format(enum log_format format)
{
	atomic_store(&current_format, format);
}

/* The index of name in names (any case), or -EINVAL. */
static int
name_index(const char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

int
log_format_parse(const char *name, enum log_format *out)
{
	int i = name_index(format_names, sizeof format_names / sizeof format_names[0], name);

	if (i < 0)
		return i;
	*out = (enum log_format)i;
	return 0;
}

int
log_format_check(const char *value, char *err, size_t err_size)
{
	enum log_format f;

	if (log_format_parse(value, &f) == 0)
		return 0;
	snprintf(err, err_size, "'%.32s' is not text or json", value);
	return -EINVAL;
}

bool
log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&current_level);
}

int
log_level_parse(const char *name, enum log_level *out)
{
	int i = name_index(level_names, sizeof level_names / sizeof level_names[0], name);

	if (i < 0)
		return i;
	*out = (enum log_level)i;
	return 0;
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level < sizeof level_names / sizeof level_names[0])
		return level_names[level];
	return "?";
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR: return LOG_ERR;
	case LOG_LEVEL_WARN: return LOG_WARNING;
	case LOG_LEVEL_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

/* The bytes of the UTF-8 character that starts with c (valid text). */
static size_t
utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
}

/* Append "KEY":"VALUE" (with a leading comma unless first) to out at *o:
 * VALUE made valid UTF-8, '"', '\\' and control characters escaped; what
 * does not fit is cut on a character.  Returns false when it was cut. */
static bool
json_field(char *out, size_t size, size_t *o, const char *key, const char *value, bool first)
{
	char clean[3 * LOG_LINE_MAX + 1];
	size_t n = *o, len;

	len = utf8_sanitize(clean, sizeof clean, value, strnlen(value, LOG_LINE_MAX));
	n += (size_t)snprintf(out + n, size - n, "%s\"%s\":\"", first ? "" : ",", key);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)clean[i];
		size_t step = utf8_len(c);
		char esc[8];
		size_t elen = 0;
		if (c == '"' || c == '\\')
			elen = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
		if (n + (elen ? elen : step) + 3 > size) {
			n += (size_t)snprintf(out + n, size - n, "\"");
			*o = n;
			return false;
		}
		if (elen > 0)
			memcpy(out + n, esc, elen);
		else
			memcpy(out + n, clean + i, step);
		n += elen ? elen : step;
		i += step;
	}
	out[n++] = '"';
	out[n] = '\0';
	*o = n;
	return true;
}

/* {"time":"2026-12-07T11:48:00.123Z","level":"info","message":...,
 * "peer":...,"mac":...} */
static void
json_line(char *out, size_t size, enum log_level level, const char *peer, const char *mac,
    const char *line)
{
	struct timespec ts;
	struct tm tm;
	char stamp[40];
	size_t o = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp), ".%03ldZ",
	    ts.tv_nsec / 1000000L);
	out[o++] = '{';
	out[o] = '\0';
	(void)(json_field(out, size, &o, "time", stamp, true) &&
	    json_field(out, size, &o, "level", log_level_name(level), false) &&
	    json_field(out, size, &o, "message", line, false) &&
	    (peer == NULL || json_field(out, size, &o, "peer", peer, false)) &&
	    (mac == NULL || json_field(out, size, &o, "mac", mac, false)));
	snprintf(out + o, size - o, "}");
}

static void
log_emit(enum log_level level, const char *peer, const char *mac, const char *line)
{
	if (atomic_load(&current_format) == LOG_FORMAT_JSON) {
		char json[LOG_JSON_MAX];
		json_line(json, sizeof json, level, peer, mac, line);
		if (use_stderr)
			fprintf(stderr, "%s\n", json);
		else
			syslog(syslog_priority(level), "%s", json);
		return;
	}
	if (!use_stderr) {
		syslog(syslog_priority(level), "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %-5s %s\n", stamp, ts.tv_nsec / 1000000L,
	    log_level_name(level), line);
}

static void __attribute__((format(printf, 4, 0)))
log_vwrite(enum log_level level, const char *peer, const char *mac, const char *fmt,
    va_list ap)
{
	char line[LOG_LINE_MAX];

	vsnprintf(line, sizeof line, fmt, ap);
	log_emit(level, peer, mac, line);
}

void
log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_write_peer(enum log_level level, const char *peer, const char *mac, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, peer, mac, fmt, ap);
	va_end(ap);
}

const char *
log_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (sa == NULL) {
		snprintf(buf, size, "-");
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "(family %d)", sa->sa_family);
	}
	return buf;
}

const char *
log_printable(const void *in, size_t in_len, char *out, size_t size)
{
	const unsigned char *p = in;
	size_t o = 0;

	if (size == 0)
		return out;
	for (size_t i = 0; i < in_len; i++) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			snprintf(out + o, size - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}

bool
log_limit_take(struct log_limit *l, int64_t now, unsigned interval_s, unsigned long *held)
{
	if (l->started && now < l->next) {
		l->held++;
		return false;
	}
	*held = l->held;
	l->held = 0;
	l->started = true;
	l->next = now + interval_s;
	return true;
}
