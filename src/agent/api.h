/* pxed's agent API over libcurl: one connection object per thread (keep-
 * alive), every request with "Authorization: Bearer TOKEN", transient
 * failures (connection refused or reset, timeouts, HTTP 5xx but 507)
 * retried with backoff 0.25 s doubling to 5 s for at most retry_for
 * seconds in total per request. */
#ifndef PXED_AGENT_API_H
#define PXED_AGENT_API_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define API_URL_MAX 1024
#define API_TOKEN_MAX 512
#define API_ERR_MAX 512
#define API_JSON_MAX (1u << 20)         /* answers other than task and chunks */
#define API_PIN_MAX 128                 /* "sha256//" and a SHA-256 in base64 */

struct api {
	char base[API_URL_MAX];                 /* "http://host:port", no '/' at the end */
	char auth[API_TOKEN_MAX + 32];          /* the Authorization header */
	char pin[API_PIN_MAX];                  /* the server's key ("": none), api_pin */
	unsigned retry_for;                     /* seconds per request */
	atomic_bool *stop;                      /* when set, retries end at once */
	/* 0: the defaults (connect 10 s; below 1 KiB/s for 30 s; no total) */
	long connect_s, stall_s, stall_rate, total_s;
};

struct api_conn {
	const struct api *api;
	void *curl;                             /* CURL * */
	bool abort_on_stop;                     /* a transfer ends when stop is set */
};

/* A response body, bounded: more than max bytes fails the request. */
struct api_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* base: the server URL; token: the bearer token ("": none sent, for
 * places other than pxed).  0 or -EINVAL. */
int api_init(struct api *a, const char *base, const char *token, unsigned retry_for,
    atomic_bool *stop);
/* Pin the server's public key: pin is "sha256//" and the base64 of the
 * SHA-256 of its SubjectPublicKeyInfo (pxed.pin= on the kernel command
 * line).  Every request to base over HTTPS then checks the key the server
 * shows against it and fails before anything is sent when it differs; the
 * certificate's chain is not checked (a site's own CA or a self-signed
 * certificate: the pin is the identity).  0, or -EINVAL for a malformed
 * pin. */
int api_pin(struct api *a, const char *pin);
int api_conn_open(struct api_conn *c, const struct api *a);
void api_conn_close(struct api_conn *c);
void api_buf_free(struct api_buf *b);

/* One request with retries.  url: absolute, or a path ("/api/...") under
 * the server.  body may be NULL.  Returns the final HTTP status (2xx, 4xx
 * or 507; err then holds the server's message), or a negative errno:
 * -ETIMEDOUT (still failing after retry_for), -ECANCELED (stop was set:
 * retries end, and on a connection with abort_on_stop a transfer too),
 * -EMSGSIZE (answer larger than resp->max), -EIO; err says why. */
int api_request(struct api_conn *c, const char *method, const char *url,
    const void *body, size_t body_len, const char *content_type,
    struct api_buf *resp, char *err, size_t errlen);

/* POST or PUT a JSON value (not consumed) to a path; resp may be NULL. */
int api_send_json(struct api_conn *c, const char *method, const char *path,
    const json_t *body, struct api_buf *resp, char *err, size_t errlen);

#endif
