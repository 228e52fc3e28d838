/* Logging with levels: stderr in the foreground, syslog otherwise; each
 * line as text, or (log-format = json) as one JSON object: {"time",
 * "level", "message", and "peer" and "mac" when the line is about a
 * client}.  The message is the same text in both formats.
 *
 * Every call site goes through the log_* macros, which test the level
 * before any argument is formatted.  Safe to call from several threads
 * (the HTTP server runs in its own): each line is written with one call. */
#ifndef PXED_CORE_LOG_H
#define PXED_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON,
};

void log_init(const char *ident, bool to_stderr, enum log_level level);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
bool log_enabled(enum log_level level);
void log_write(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line about one client: peer (its address, "192.0.2.5:68") and mac
 * (NULL when the line has none) become the JSON fields "peer" and "mac";
 * the text line is fmt's, which names them itself. */
void log_write_peer(enum log_level level, const char *peer, const char *mac,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Parse "text|json"; returns 0 or -EINVAL.  The check is the config's
 * validator of log-format (err says why). */
int log_format_parse(const char *name, enum log_format *out);
int log_format_check(const char *value, char *err, size_t err_size);

/* Parse "error|warn|info|debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* "192.0.2.5:1234" or "[2001:db8::1]:69" into buf; returns buf. */
#define LOG_ADDR_MAX 64
const char *log_addr(const struct sockaddr *sa, char *buf, size_t size);

/* Copy at most in_len bytes of untrusted text into out as printable ASCII
 * (other bytes become \xNN), always NUL-terminated; returns out. */
const char *log_printable(const void *in, size_t in_len, char *out, size_t size);

/* A line that could come once per packet (a failing disk, a lost
 * database) goes out at most once per interval: log_limit_take says
 * whether this one may, and how many were held back since the last one
 * that went (to be named in it).  now: monotonic seconds.  Not locked:
 * one limiter per thread's object (a store connection, the DHCP server). */
struct log_limit {
	int64_t next;                   /* the next line may go at this time */
	unsigned long held;             /* lines held back since the last one */
	bool started;
};
#define LOG_LIMIT_INTERVAL_S 60
bool log_limit_take(struct log_limit *l, int64_t now, unsigned interval_s,
    unsigned long *held);

#define log_at(lvl, ...) \
	do { if (log_enabled(lvl)) log_write(lvl, __VA_ARGS__); } while (0)
#define log_error(...) log_at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)

#define log_peer_at(lvl, peer, mac, ...) \
	do { if (log_enabled(lvl)) log_write_peer(lvl, peer, mac, __VA_ARGS__); } while (0)
#define log_error_peer(peer, mac, ...) log_peer_at(LOG_LEVEL_ERROR, peer, mac, __VA_ARGS__)
#define log_warn_peer(peer, mac, ...)  log_peer_at(LOG_LEVEL_WARN, peer, mac, __VA_ARGS__)
#define log_info_peer(peer, mac, ...)  log_peer_at(LOG_LEVEL_INFO, peer, mac, __VA_ARGS__)
#define log_debug_peer(peer, mac, ...) log_peer_at(LOG_LEVEL_DEBUG, peer, mac, __VA_ARGS__)

#endif
