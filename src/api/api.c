/* The API's object: its configuration, the administrator's token, the
 * image repository; and what every resource shares (the JSON of hosts and
 * tasks, timeline events).
 *
 * Reads are open; writes need the administrator's token
 * ("Authorization: Bearer TOKEN", the token in api-token-file).  The
 * agent's endpoints (agent.c) take a task token instead.  The routes and
 * who may call each are in the resources' tables (router.c). */
#include "api/diag.h"
#include "api/internal.h"
#include "api/task_options.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/board.h"
#include "image/chunk.h"

/* An event in the boot timeline of the host with MAC text mac, written at
 * once (the loop's store batches its own; this connection is the thread's). */
void
api_event(struct store *st, const char *mac, const char *kind, const char *fmt, ...)
{
	uint8_t raw[6];
	char detail[256];
	struct timespec ts;
	va_list ap;

	if (config_parse_mac(mac, raw) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (store_event_add(st, raw, sizeof raw, kind, detail,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) == 0)
		(void)store_events_flush(st);
}

int
api_board_snapshot(struct api *a, unsigned what, size_t min_len, void **data, size_t *len,
    struct api_response *rs)
{
	int rc = a->cfg.board != NULL ? board_ask_snapshot(a->cfg.board, what, data, len)
	    : -ECANCELED;

	if (rc == 0 && *len >= min_len)
		return 0;
	free(*data);
	*data = NULL;
	if (rc == -ETIMEDOUT || rc == -ECANCELED)
		api_reply_error(rs, 503, "the server did not answer in time");
	else
		api_reply_error(rs, 500, rc == 0 ? "a short snapshot from the loop" : "out of memory");
	return rc != 0 ? rc : -EPROTO;
}

/* ---- tokens ---- */

bool
api_bearer_hash(const char *authorization, uint8_t hash[32])
{
	const char *a = authorization;
	size_t n;

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return false;
	a += 7;
	while (*a == ' ')
		a++;
	n = strcspn(a, " \t");
	if (n < 16 || n > 256)
		return false;
	chunk_sha256(a, n, hash);
	return true;
}

int
api_scope(const struct api *a, struct store *st, const char *authorization)
{
	struct store_api_token t;
	uint8_t h[32];

	if (!api_bearer_hash(authorization, h))
		return -1;
	if (CRYPTO_memcmp(h, a->admin_hash, 32) == 0)
		return TOKEN_ADMIN;
	if (st == NULL || store_token_use(st, h, api_now(), &t) < 0)
		return -1;
	return (int)t.scope;
}

/* Read the token file, or create it with a new random token (0600). */
static int
load_token(struct api *m, const char *path)
{
	char text[TOKEN_HEX + 2];
	uint8_t raw[TOKEN_BYTES];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT) {
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
			return -EIO;
		sha256_hex(raw, text);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, text, TOKEN_HEX) != TOKEN_HEX || write(fd, "\n", 1) != 1) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			return -err;
		}
		close(fd);
		log_info("api: created a new API token in %s", path);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	if (n < 16) {
		log_error("api: %s holds no token (16 characters at least)", path);
		return -EINVAL;
	}
	chunk_sha256(text, (size_t)n, m->admin_hash);
	return 0;
}

int
api_open(struct api **out, const struct api_config *cfg)
{
	struct api *m = calloc(1, sizeof *m);
	char path[1100];
	int rc;

	*out = NULL;
	if (m == NULL)
		return -ENOMEM;
	m->cfg = *cfg;
	pthread_mutex_init(&m->mcast_lock, NULL);
	pthread_mutex_init(&m->repo_lock, NULL);
	pthread_mutex_init(&m->register_lock, NULL);
	pthread_rwlock_init(&m->sources_lock, NULL);
	m->started_us = clock_now_us();
	str_copy(m->state, cfg->state != NULL ? cfg->state : cfg->state_dir, sizeof m->state);
	str_copy(m->bootenv_url, cfg->bootenv_url != NULL ? cfg->bootenv_url : "",
	    sizeof m->bootenv_url);
	str_copy(m->bootenv_args, cfg->bootenv_args != NULL ? cfg->bootenv_args : "",
	    sizeof m->bootenv_args);
	if (cfg->image_dir != NULL && cfg->image_dir[0] != '\0')
		str_copy(path, cfg->image_dir, sizeof path);
	else
		snprintf(path, sizeof path, "%s/images", cfg->state_dir);
	rc = repo_open(&m->repo, path);
	if (rc < 0) {
		log_error("api: image-dir %s: %s", path, strerror(-rc));
		pthread_mutex_destroy(&m->mcast_lock);
		pthread_mutex_destroy(&m->repo_lock);
		pthread_mutex_destroy(&m->register_lock);
		pthread_rwlock_destroy(&m->sources_lock);
		free(m);
		return rc;
	}
	if (cfg->token_file != NULL && cfg->token_file[0] != '\0')
		str_copy(path, cfg->token_file, sizeof path);
	else
		snprintf(path, sizeof path, "%s/api-token", cfg->state_dir);
	rc = load_token(m, path);
	if (rc < 0) {
		log_error("api: token file %s: %s", path, strerror(-rc));
		api_close(m);
		return rc;
	}
	m->clamav_dirfd = api_clamav_open(cfg->clamav_db_dir);
	api_images_reconcile(m);
	rc = api_envs_open(m);
	if (rc < 0) {
		api_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
api_close(struct api *m)
{
	if (m == NULL)
		return;
	api_mcast_close(m);
	api_envs_close(m);
	pthread_mutex_destroy(&m->mcast_lock);
	pthread_mutex_destroy(&m->repo_lock);
	pthread_mutex_destroy(&m->register_lock);
	api_chunk_sources_free(m);
	pthread_rwlock_destroy(&m->sources_lock);
	repo_close(&m->repo);
	if (m->clamav_dirfd >= 0)
		close(m->clamav_dirfd);
	free(m);
}

int
api_image_dirfd(const struct api *m)
{
	return m->repo.dirfd;
}

int
api_clamav_dirfd(const struct api *m)
{
	return m->clamav_dirfd;
}

/* ---- JSON of rows ---- */

json_t *
api_host_json(const struct store_host *h)
{
	json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:I,s:I,s:b}", "mac", h->mac, "name",
	    api_json_text(h->name), "arch", api_json_text(h->arch), "uuid",
	    api_json_text(h->uuid), "first_seen", (json_int_t)h->first_seen,
	    "last_seen", (json_int_t)h->last_seen, "approved", h->approved);

	if (o != NULL)
		json_object_set_new(o, "hostname", json_string(h->hostname));
	json_t *inv = h->inventory != NULL ? json_loads(h->inventory, 0, NULL) : NULL;

	if (o != NULL)
		json_object_set_new(o, "inventory", inv != NULL ? inv : json_null());
	else
		json_decref(inv);
	return o;
}

json_t *
api_task_json(const struct store_task *t)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:o,"
	    "s:o}", "id", (json_int_t)t->id, "host", t->mac, "type", task_type_name(t->type),
	    "image", t->image, "state", task_state_name(t->state), "verify", t->verify,
	    "replace", t->replace, "after", task_after_name(t->after),
	    "created", (json_int_t)t->created, "started", (json_int_t)t->started,
	    "finished", (json_int_t)t->finished, "phase", api_json_text(t->phase),
	    "bytes", (json_int_t)t->bytes, "total", (json_int_t)t->total,
	    "rate", (json_int_t)t->rate, "resume_offset", (json_int_t)t->resume_offset,
	    "message", api_json_text(t->message), "log", api_json_text(t->log_tail));

	if (o != NULL) {
		json_object_set_new(o, "options", task_options_json(t->options));
		json_object_set_new(o, "files", json_integer((json_int_t)t->files));
	}
	return o;
}

/* A host argument: a MAC, or the name of a known host. */
int
api_resolve_host(struct store *st, const char *arg, char mac[STORE_MAC_TEXT])
{
	if (mac_text_canon(arg, mac) == 0)
		return 0;
	return store_host_by_name(st, arg, mac);
}
