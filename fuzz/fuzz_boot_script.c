/* libFuzzer harness: the boot scripts (api/boot.c), templates filled with
 * what a client sends: the file name it asks for (MAC and kind: iPXE,
 * GRUB, PXELINUX) and its Host header, which becomes the server's address
 * in every URL and on the imaging environment's kernel command line.
 *
 * A real API (api_open) on a state directory in /dev/shm, two ways:
 * no-task = menu with a relative bootenv-url, and no-task = local with an
 * absolute one.  Hosts: A approved with a shell task (the script carries
 * its token), B approved with no task (the menu), C given by the input
 * (registered on first sight), D approved with a local task (the first
 * fetch ends it).
 *
 * What must hold: a script answered 200 holds no control byte but '\n';
 * its lines are those of the same script asked with a plain Host
 * ("pxed.example"), line for line the same first word (a Host cannot add,
 * remove or split a line or a kernel argument); a task's token appears
 * once per kernel command line.
 *
 * Input: byte 0: host (bits 0-1) and kind (bits 2-3: .ipxe, .grub,
 * .pxelinux, pxelinux.cfg/01-), bit 4: the second API; for host C the next
 * 6 bytes are its MAC; the rest is the Host header. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/internal.h"
#include "lab.h"
#include "core/log.h"
#include "core/util.h"
#include "store/mgmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EPOCH 20000
#define HOST_A "52:54:00:00:00:0a"
#define HOST_B "52:54:00:00:00:0b"
#define HOST_D "52:54:00:00:00:0d"

static struct {
	char dir[64], state[128], token_file[160];
	struct api *api[2];
	unsigned epoch_left;
} fz;

static void
task_add(struct store *st, const char *mac, enum task_type type)
{
	struct store_task_spec spec = { .type = type, .image = "", .mcast = "",
		.after = type == TASK_SHELL ? TASK_AFTER_SHELL : TASK_AFTER_REBOOT };

	if (store_host_add(st, mac, "", api_now()) < 0 || store_host_approve(st, mac, true) < 0 ||
	    store_task_add(st, mac, &spec, api_now()) < 0)
		abort();
}

static void
state_make(void)
{
	struct api_config cfg = {
		.state_dir = fz.state, .token_file = fz.token_file,
		.bootenv_url = "bootenv", .bootenv_args = "quiet loglevel=3", .chunk_mb = 4,
		.level = 3, .mcast_fec = "off", .timeline = true, .hosts_max = 1000,
		.host_register_rate = 1000000, .no_task_menu = true, .no_task_menu_timeout = 7,
	};
	struct store *st;

	lab_dir_fresh(fz.dir, (const char *const[]){ fz.state, NULL });
	if (api_open(&fz.api[0], &cfg) != 0)
		abort();
	cfg.no_task_menu = false;
	cfg.bootenv_url = "http://images.example:8080/env/bookworm";
	cfg.bootenv_args = "";
	if (api_open(&fz.api[1], &cfg) != 0)
		abort();
	st = api_thread_store(fz.state);
	if (st == NULL)
		abort();
	task_add(st, HOST_A, TASK_SHELL);
	if (store_host_add(st, HOST_B, "b", api_now()) < 0 ||
	    store_host_approve(st, HOST_B, true) < 0)
		abort();
	task_add(st, HOST_D, TASK_LOCAL);
	fz.epoch_left = EPOCH;
}

static void
state_drop(void)
{
	api_close(fz.api[0]);
	api_close(fz.api[1]);
	fz.api[0] = fz.api[1] = NULL;
	api_thread_store_drop();
}

static void
at_exit(void)
{
	if (fz.api[0] != NULL)
		state_drop();
	lab_dir_remove(fz.dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_boot_script", true, LOG_LEVEL_ERROR);
	lab_dir_make(fz.dir, sizeof fz.dir, "fuzz_boot");
	snprintf(fz.state, sizeof fz.state, "%s/state", fz.dir);
	snprintf(fz.token_file, sizeof fz.token_file, "%s/state/api-token", fz.dir);
	state_make();
	atexit(at_exit);
	return 0;
}

/* GET api/v1/boot/NAME with Host: status and the script (malloc'd). */
static unsigned
script_get(struct api *a, const char *name, const char *host, char **text, size_t *len)
{
	char path[256];
	struct api_request rq = { .method = "GET", .path = path, .host = host,
		.peer = "192.0.2.9:1000" };
	struct api_response rs;
	struct api_call *c;

	snprintf(path, sizeof path, "api/v1/boot/%s", name);
	*text = NULL;
	*len = 0;
	if (api_call_begin(a, &rq, &c, &rs) < 0) {
		free(rs.body);
		return rs.status;
	}
	api_call_answer(c, NULL, 0, &rs);
	api_call_end(c);
	*text = rs.body;
	*len = rs.len;
	return rs.status;
}

static void
check_bytes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];
		if ((b < 0x20 && b != '\n') || b == 0x7f) {
			fprintf(stderr, "byte 0x%02x at %zu\n", b, i);
			abort();
		}
	}
}

/* The number of lines, and the first word of line i in word (when i is
 * below the count). */
static size_t
lines_word(const char *s, size_t len, size_t i, char *word, size_t size)
{
	size_t line = 0;

	word[0] = '\0';
	for (size_t at = 0; at < len; ) {
		const char *nl = memchr(s + at, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - (s + at)) : len - at;
		if (line == i) {
			size_t w = strcspn(s + at, " \n");
			snprintf(word, size, "%.*s", (int)MIN(MIN(w, n), size - 1), s + at);
		}
		line++;
		at += n + 1;
	}
	return line;
}

static void
check_like(const char *got, size_t glen, const char *ref, size_t rlen)
{
	char a[64], b[64];
	size_t n = lines_word(got, glen, 0, a, sizeof a);

	if (n != lines_word(ref, rlen, 0, b, sizeof b)) {
		fprintf(stderr, "%zu lines, %zu expected:\n%.*s\n--- expected:\n%.*s\n", n,
		    lines_word(ref, rlen, 0, b, sizeof b), (int)glen, got, (int)rlen, ref);
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		lines_word(got, glen, i, a, sizeof a);
		lines_word(ref, rlen, i, b, sizeof b);
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "line %zu starts '%s', expected '%s'\n", i, a, b);
			abort();
		}
	}
}

/* Each kernel command line carries pxed.token= at most once, and the
 * arguments after it are the ones the reference has after it. */
static void
check_token(const char *s, size_t len)
{
	char *copy = strndup(s, len), *save = NULL;

	if (copy == NULL)
		return;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *first = strstr(line, "pxed.token=");
		if (first != NULL && strstr(first + 1, "pxed.token=") != NULL) {
			fprintf(stderr, "two tokens: %s\n", line);
			abort();
		}
	}
	free(copy);
}

static void
script_name_make(unsigned kind, const char *mac, char *out, size_t size)
{
	char dashed[STORE_MAC_TEXT];

	str_copy(dashed, mac, sizeof dashed);
	for (char *p = dashed; *p != '\0'; p++)
		if (*p == ':')
			*p = '-';
	switch (kind) {
	case 0: snprintf(out, size, "%s.ipxe", dashed); break;
	case 1: snprintf(out, size, "%s.grub", mac); break;
	case 2: snprintf(out, size, "%s.pxelinux", dashed); break;
	default: snprintf(out, size, "pxelinux.cfg/01-%s", dashed); break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char mac[STORE_MAC_TEXT], name[64], host[512];
	char *got, *ref;
	size_t glen, rlen;

	if (size < 1)
		return 0;
	if (fz.epoch_left-- == 0) {
		state_drop();
		state_make();
	}
	unsigned who = data[0] & 3, kind = (data[0] >> 2) & 3;
	struct api *a = fz.api[(data[0] >> 4) & 1];
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	static const char *const known[] = { HOST_A, HOST_B, NULL, HOST_D };
	if (who == 2) {
		if (left < 6)
			return 0;
		snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3],
		    p[4], p[5]);
		p += 6;
		left -= 6;
	} else {
		str_copy(mac, known[who], sizeof mac);
	}
	snprintf(host, sizeof host, "%.*s", (int)MIN(left, sizeof host - 1), (const char *)p);
	script_name_make(kind, mac, name, sizeof name);
	unsigned status = script_get(a, name, host, &got, &glen);
	if (status == 200) {
		check_bytes(got, glen);
		check_token(got, glen);
		/* the local task ended at the first fetch: the reference differs */
		if (who != 3 && script_get(a, name, "pxed.example", &ref, &rlen) == 200)
			check_like(got, glen, ref, rlen);
		else
			ref = NULL;
		free(ref);
	}
	free(got);
	return 0;
}
