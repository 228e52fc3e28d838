/* The agent's HTTP client: libcurl easy handles, retries with backoff. */
#include "agent/api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/journal.h"
#include "core/json_text.h"
#include "core/util.h"
#include "core/version.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_S 10L
#define STALL_SECONDS 30L               /* below 1 KiB/s this long: a timeout */

int
api_init(struct api *a, const char *base, const char *token, unsigned retry_for,
    atomic_bool *stop)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof a->base || strlen(token) > API_TOKEN_MAX ||
	    strpbrk(token, "\r\n") != NULL)
		return -EINVAL;
	memcpy(a->base, base, n);
	a->base[n] = '\0';
	a->auth[0] = '\0';
	if (token[0] != '\0')
		snprintf(a->auth, sizeof a->auth, "Authorization: Bearer %s", token);
	a->retry_for = retry_for;
	a->stop = stop;
	a->pin[0] = '\0';
	return 0;
}

int
api_pin(struct api *a, const char *pin)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	const char *key = pin + 8;

	/* a SHA-256 in base64: 43 characters and one '=' */
	if (strncmp(pin, "sha256//", 8) != 0 || strlen(key) != 44 || strspn(key, b64) != 44 ||
	    key[43] != '=')
		return -EINVAL;
	str_copy(a->pin, pin, sizeof a->pin);
	return 0;
}

int
api_conn_open(struct api_conn *c, const struct api *a)
{
	c->api = a;
	c->abort_on_stop = false;
	c->curl = curl_easy_init();
	return c->curl != NULL ? 0 : -ENOMEM;
}

void
api_conn_close(struct api_conn *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

void
api_buf_free(struct api_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct api_buf *b = userdata;
	size_t n = size * nmemb;

	if (n > b->max - b->len)
		return 0;               /* CURLE_WRITE_ERROR: too large */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *data = realloc(b->data, cap);
		if (data == NULL)
			return 0;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static bool
curl_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

/* The server's {"error": "..."} or the bare status. */
static void
server_message(long status, const struct api_buf *b, char *err, size_t errlen)
{
	json_t *root = b->len > 0 ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(root, "error"));

	if (msg != NULL)
		snprintf(err, errlen, "HTTP %ld: %s", status, msg);
	else
		snprintf(err, errlen, "HTTP %ld", status);
	json_decref(root);
}

/* libcurl's transfer callback: a non-zero answer aborts the transfer. */
static int
abort_if_stopped(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	atomic_bool *stop = userdata;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(stop);
}

static void
set_abort(CURL *curl, const struct api_conn *c)
{
	if (!c->abort_on_stop || c->api->stop == NULL)
		return;
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_if_stopped);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c->api->stop);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
}

static void
set_timeouts(CURL *curl, const struct api *a)
{
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, a->connect_s ? a->connect_s :
	    CONNECT_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, a->stall_rate ? a->stall_rate : 1024L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, a->stall_s ? a->stall_s : STALL_SECONDS);
	if (a->total_s)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, a->total_s);
}

static void
set_options(CURL *curl, const struct api *a, const char *method, const char *url,
    const void *body, size_t body_len, struct curl_slist *headers, struct api_buf *resp,
    char *curl_err)
{
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (a->pin[0] != '\0' && strncmp(url, a->base, strlen(a->base)) == 0) {
		curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, a->pin);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pxe-agent/" PXED_VERSION);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	set_timeouts(curl, a);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	if (body != NULL || strcmp(method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
}

/* One attempt.  Returns the status, or -EAGAIN (transient), or -errno. */
static long
attempt(struct api_conn *c, const char *method, const char *url, const void *body,
    size_t body_len, struct curl_slist *headers, struct api_buf *resp,
    char *err, size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	resp->len = 0;
	set_options(c->curl, c->api, method, url, body, body_len, headers, resp, curl_err);
	set_abort(c->curl, c);
	rc = curl_easy_perform(c->curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(err, errlen, "%s %s: stopped", method, url);
		return -ECANCELED;
	}
	if (rc == CURLE_WRITE_ERROR) {
		snprintf(err, errlen, "%s %s: answer larger than %zu bytes", method, url,
		    resp->max);
		return -EMSGSIZE;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s %s: %s", method, url, curl_err[0] ? curl_err : curl_easy_strerror(rc));
		return curl_transient(rc) ? -EAGAIN : -EIO;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return status;
	server_message(status, resp, err, errlen);
	return status >= 500 && status != 507 ? -EAGAIN : status;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The token goes only to the server itself, never to a mirror or cache of
 * the chunks on another host (fetch.c also asks those through a connection
 * without it). */
static bool
to_server(const struct api *a, const char *url)
{
	size_t n = strlen(a->base);

	return strncmp(url, a->base, n) == 0 && (url[n] == '/' || url[n] == '\0');
}

static struct curl_slist *
headers_make(const struct api *a, const char *url, const char *content_type)
{
	char type[128];
	/* no "Expect: 100-continue" round trip before a chunk upload */
	struct curl_slist *h = curl_slist_append(NULL, "Expect:"), *t;

	if (h == NULL)
		return NULL;
	if (a->auth[0] != '\0' && to_server(a, url)) {
		if ((t = curl_slist_append(h, a->auth)) == NULL)
			goto fail;
		h = t;
	}
	if (content_type != NULL) {
		snprintf(type, sizeof type, "Content-Type: %s", content_type);
		if ((t = curl_slist_append(h, type)) == NULL)
			goto fail;
		h = t;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

/* Retries an attempt that failed transiently, with backoff. */
static long
with_retries(struct api_conn *c, const char *method, const char *url, const void *body,
    size_t body_len, struct curl_slist *headers, struct api_buf *resp,
    char *err, size_t errlen)
{
	uint64_t start = clock_now_us(), limit = (uint64_t)c->api->retry_for * 1000000u;
	unsigned delay = BACKOFF_FIRST_MS, tries = 0;
	long rc;

	while ((rc = attempt(c, method, url, body, body_len, headers, resp, err, errlen)) == -EAGAIN) {
		uint64_t elapsed = clock_now_us() - start;
		if (c->api->stop != NULL && atomic_load(c->api->stop))
			return -ECANCELED;
		if (elapsed >= limit) {
			size_t n = strlen(err);
			if (c->api->retry_for > 0)
				snprintf(err + n, errlen - n, " (gave up after %u s)",
				    c->api->retry_for);
			return -ETIMEDOUT;
		}
		if (tries++ % 10 == 0)
			journal_info("%s (retrying)", err);
		/* the last wait ends at the limit: one more try there */
		sleep_ms((unsigned)MIN((uint64_t)delay, (limit - elapsed + 999) / 1000));
		delay = MIN(delay * 2, BACKOFF_MAX_MS);
	}
	if (tries > 0 && rc >= 0)
		journal_info("%s %s: server answered again after %u tries", method, url, tries);
	return rc;
}

int
api_request(struct api_conn *c, const char *method, const char *url,
    const void *body, size_t body_len, const char *content_type,
    struct api_buf *resp, char *err, size_t errlen)
{
	char full[API_URL_MAX * 2];
	struct api_buf scratch = { .max = API_JSON_MAX };
	struct curl_slist *headers;
	long rc;

	if (url[0] == '/')
		snprintf(full, sizeof full, "%s%s", c->api->base, url);
	else
		str_copy(full, url, sizeof full);
	if ((headers = headers_make(c->api, full, content_type)) == NULL)
		return -ENOMEM;
	rc = with_retries(c, method, full, body, body_len, headers,
	    resp != NULL ? resp : &scratch, err, errlen);
	curl_slist_free_all(headers);
	api_buf_free(&scratch);
	return (int)rc;
}

int
api_send_json(struct api_conn *c, const char *method, const char *path,
    const json_t *body, struct api_buf *resp, char *err, size_t errlen)
{
	char *text = json_text(body, JSON_COMPACT, NULL);
	int rc;

	if (text == NULL)
		return -ENOMEM;
	rc = api_request(c, method, path, text, strlen(text), "application/json",
	    resp, err, errlen);
	free(text);
	return rc;
}
