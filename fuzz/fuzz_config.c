/* libFuzzer harness: the configuration file (core/config.c) with the
 * checks pxed makes at start-up and at a reload: the settings table's
 * types and bounds, [subnet], [host] and [relay] sections, the boot
 * rules' validator, the DHCP rules between settings (dhcp_config_check)
 * and the MTFTP table (mtftp_files_build).
 *
 * What must hold: a refused file says why (a message naming file:line);
 * an accepted one printed (config_print) and read back gives the same
 * configuration (config_diff finds no change), and a second print is the
 * first byte for byte.
 *
 * Input: the file's bytes (written to a memfd, read through
 * /proc/self/fd/N as pxed reads --config). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/api.h"
#include "boot/policy.h"
#include "core/config.h"
#include "core/log.h"
#include "dhcp/server.h"
#include "mcast/fec.h"
#include "tftp/mtftp_files.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_config", true, LOG_LEVEL_ERROR);
	config_validator_register("boot", boot_rule_check);
	config_validator_register("mcast-fec", mcast_fec_check);
	config_validator_register("no-task", api_no_task_check);
	config_validator_register("metrics-auth", api_metrics_auth_check);
	return 0;
}

/* Load the file held by fd as pxed --config would. */
static int
load_fd(int fd, struct config *cfg, char *err, size_t size)
{
	char path[64];
	struct config_args args = { .count = 1 };

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	args.set[0].name = "config";
	args.set[0].value = path;
	return config_load(cfg, &args, err, size);
}

static int
fd_with(const void *data, size_t size)
{
	int fd = memfd_create("pxed.conf", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	return fd;
}

static char *
print_text(const struct config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		abort();
	config_print(cfg, f);
	fclose(f);
	return text;
}

static void
on_change(void *arg, const struct config_change *c)
{
	(void)arg;
	fprintf(stderr, "changed in the round trip: %s %s %s: '%s' -> '%s'\n",
	    c->section != NULL ? c->section : "", c->id != NULL ? c->id : "",
	    c->name != NULL ? c->name : "(section)", c->old_value != NULL ? c->old_value : "",
	    c->new_value != NULL ? c->new_value : "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg, back;
	static struct mtftp_files mtftp;
	char err[512] = "";
	size_t len, len2;
	int fd = fd_with(data, size);

	int rc = load_fd(fd, &cfg, err, sizeof err);
	close(fd);
	if (rc != 0) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	/* start-up's other checks may refuse it too; they must not crash */
	if (mtftp_files_build(&cfg, &mtftp, err, sizeof err) != 0 ||
	    (dhcp_enabled(&cfg) && dhcp_config_check(&cfg, err, sizeof err) != 0))
		return 0;
	char *text = print_text(&cfg, &len);
	fd = fd_with(text, len);
	rc = load_fd(fd, &back, err, sizeof err);
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "printed configuration refused: %s\n%s\n", err, text);
		abort();
	}
	if (config_diff(&cfg, &back, on_change, NULL) != 0)
		abort();
	char *again = print_text(&back, &len2);
	if (len != len2 || memcmp(text, again, len) != 0) {
		fprintf(stderr, "printed twice, not the same:\n%s\n---\n%s\n", text, again);
		abort();
	}
	free(text);
	free(again);
	return 0;
}
