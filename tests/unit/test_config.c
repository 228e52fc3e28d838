/* Configuration: layers, errors with file:line, and docs that cover every
 * setting (the example config and the man page).  Run from the top of the
 * tree (tests/run-all.sh does). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/config.h"

static char tmpfile_path[64];

static const char *
write_file(const char *text)
{
	snprintf(tmpfile_path, sizeof tmpfile_path, "/tmp/pxed-test-config.XXXXXX");
	int fd = mkstemp(tmpfile_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return tmpfile_path;
}

static int
load(struct config *cfg, char *err, size_t err_size, int argc, const char **argv)
{
	struct config_args args;
	char *copy[32];

	for (int i = 0; i < argc; i++)
		copy[i] = strdup(argv[i]);
	int rc = config_args_parse(argc, copy, &args);
	if (rc == 0)
		rc = config_load(cfg, &args, err, err_size);
	/* args point into copy: done with them now */
	for (int i = 0; i < argc; i++)
		free(copy[i]);
	return rc;
}

static void
test_defaults(void **state)
{
	const char *argv[] = { "pxed" };
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, err, sizeof err, 1, argv), 0);
	assert_int_equal(cfg.tftp_port, 69);
	assert_int_equal(cfg.http_port, 80);
	assert_int_equal(cfg.tftp_window_max, 64);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_false(cfg.foreground);
	assert_true(cfg.tftp_case_fallback);
	assert_int_equal(cfg.listen.count, 0);
}

static void
test_file_then_flags(void **state)
{
	const char *path = write_file("# comment\nroot = /srv/a\ntftp-port 1069\n"
	    "listen = 192.0.2.1\nlisten = 192.0.2.9\nforeground\nlog-level=debug # trailing\n");
	const char *argv[] = { "pxed", "--config", path, "--tftp-port", "2069",
		"--listen=198.51.100.1", "--http-port=0" };
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, err, sizeof err, 7, argv), 0);
	assert_string_equal(cfg.root, "/srv/a");
	assert_int_equal(cfg.tftp_port, 2069);          /* flag wins */
	assert_int_equal(cfg.http_port, 0);
	assert_true(cfg.foreground);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.listen.count, 1);          /* flag list replaces */
	assert_string_equal(cfg.listen.item[0], "198.51.100.1");
	unlink(path);
}

struct bad_case {
	const char *text;
	const char *expect;             /* substring of the error after "file:" */
};

static void
test_file_errors_name_the_line(void **state)
{
	static const struct bad_case cases[] = {
		{ "root = /a\nbogus = 1\n", ":2: unknown setting 'bogus'" },
		{ "\n\ntftp-port = 70000\n", ":3: tftp-port: '70000' is not a number" },
		{ "foreground = maybe\n", ":1: foreground: 'maybe' is not yes or no" },
		{ "root = relative/dir\n", ":1: root: 'relative/dir' is not an absolute path" },
		{ "log-level = loud\n", ":1: log-level: 'loud'" },
		{ "tftp-window-max = 0\n", ":1: tftp-window-max" },
		{ "tftp-port = -1\n", ":1: tftp-port" },
	};
	struct config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *path = write_file(cases[i].text);
		const char *argv[] = { "pxed", "--config", path };
		assert_int_equal(load(&cfg, err, sizeof err, 3, argv), -EINVAL);
		print_message("%s\n", err);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, cases[i].expect));
		unlink(path);
	}
}

static void
test_bad_flags(void **state)
{
	const char *a1[] = { "pxed", "--no-such-thing", "1" };
	const char *a2[] = { "pxed", "--tftp-port" };
	const char *a3[] = { "pxed", "positional" };
	const char *a4[] = { "pxed", "--tftp-port", "x" };
	const char *a5[] = { "pxed", "--config", "/nonexistent/pxed.conf" };
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_not_equal(load(&cfg, err, sizeof err, 3, a1), 0);
	assert_int_not_equal(load(&cfg, err, sizeof err, 2, a2), 0);
	assert_int_not_equal(load(&cfg, err, sizeof err, 2, a3), 0);
	assert_int_equal(load(&cfg, err, sizeof err, 3, a4), -EINVAL);
	assert_non_null(strstr(err, "--tftp-port"));
	assert_int_equal(load(&cfg, err, sizeof err, 3, a5), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/pxed.conf"));
}

static void
test_print_roundtrip(void **state)
{
	const char *argv[] = { "pxed", "--root", "/srv/x", "--listen", "192.0.2.1",
		"--tftp-window-max", "16" };
	struct config a, b;
	char err[256], text[8192];

	(void)state;
	assert_int_equal(load(&a, err, sizeof err, 7, argv), 0);
	FILE *f = fmemopen(text, sizeof text, "w");
	config_print(&a, f);
	fclose(f);
	const char *path = write_file(text);
	const char *argv2[] = { "pxed", "--config", path };
	assert_int_equal(load(&b, err, sizeof err, 3, argv2), 0);
	memset(b.config_file, 0, sizeof b.config_file);
	memset(a.config_file, 0, sizeof a.config_file);
	memset(b.source, 0, sizeof b.source);   /* flags then, the file now */
	memset(a.source, 0, sizeof a.source);
	assert_memory_equal(&a, &b, sizeof a);
	unlink(path);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 17];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A setting as the man page writes it: ".B tftp\-port = ". */
static void
man_needle(const char *name, char *out, size_t size)
{
	char escaped[128];
	size_t o = 0;

	for (const char *p = name; *p && o + 2 < sizeof escaped; p++) {
		if (*p == '-')
			escaped[o++] = '\\';
		escaped[o++] = *p;
	}
	escaped[o] = '\0';
	snprintf(out, size, ".B %s = ", escaped);
}

static void
test_docs_cover_every_setting(void **state)
{
	const char *const *names = config_setting_names();
	char needle[192];

	(void)state;
	for (size_t i = 0; names[i] != NULL; i++) {
		char *conf = slurp("etc/pxed.conf");
		snprintf(needle, sizeof needle, "%s = ", names[i]);
		print_message("etc/pxed.conf: %s\n", names[i]);
		assert_non_null(strstr(conf, needle));
		char *man = slurp("man/pxed.conf.5");
		man_needle(names[i], needle, sizeof needle);
		print_message("man/pxed.conf.5: %s\n", needle);
		assert_non_null(strstr(man, needle));
	}
}

/* Every setting a reload cannot apply is named in the man page's RELOAD
 * section. */
static void
test_docs_name_restart_settings(void **state)
{
	const char *const *names = config_restart_setting_names();
	char needle[192];

	(void)state;
	assert_non_null(names[0]);
	for (size_t i = 0; names[i] != NULL; i++) {
		char *man = slurp("man/pxed.conf.5");
		char *from = strstr(man, ".SH RELOAD"), *to = from ? strstr(from + 1, ".SH ") : NULL;
		assert_non_null(to);
		*to = '\0';
		snprintf(needle, sizeof needle, ".B ");
		for (const char *p = names[i]; *p != '\0' && strlen(needle) + 3 < sizeof needle; p++) {
			if (*p == '-')
				strcat(needle, "\\");
			strncat(needle, p, 1);
		}
		/* the whole name: followed by the list's "," (or the last one's ".") */
		size_t n = strlen(needle);
		needle[n] = ',';
		needle[n + 1] = '\0';
		bool found = strstr(from, needle) != NULL;
		needle[n] = '.';
		found = found || strstr(from, needle) != NULL;
		print_message("man/pxed.conf.5 RELOAD: %s\n", needle);
		assert_true(found);
	}
}

/* Section settings appear (commented) in the example and in the man page. */
static void
test_docs_cover_section_settings(void **state)
{
	static const char *const sections[] = { "subnet", "host", "relay", "environment" };
	char needle[192];

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		const char *const *names = config_section_setting_names(sections[k]);
		for (size_t i = 0; names[i] != NULL; i++) {
			char *conf = slurp("etc/pxed.conf");
			snprintf(needle, sizeof needle, "#%s = ", names[i]);
			print_message("etc/pxed.conf [%s]: %s\n", sections[k], names[i]);
			assert_non_null(strstr(conf, needle));
			char *man = slurp("man/pxed.conf.5");
			man_needle(names[i], needle, sizeof needle);
			assert_non_null(strstr(man, needle));
		}
	}
}

/* What a reload logs: each changed setting with its old and new value,
 * sections added and removed, restart-only settings marked; subnets
 * changed with pxectl over the file, and where each setting came from. */
#define SEEN_MAX 128             /* lines kept: every main setting fits */
struct diff_seen {
	char lines[SEEN_MAX][256];
	size_t n;
};

static void
diff_collect(void *arg, const struct config_change *c)
{
	struct diff_seen *d = arg;

	if (d->n < SEEN_MAX)
		snprintf(d->lines[d->n++], 256, "%s|%s|%s|%s|%s|%d", c->section ? c->section : "",
		    c->id ? c->id : "", c->name ? c->name : "-", c->old_value ? c->old_value : "NULL",
		    c->new_value ? c->new_value : "NULL", c->restart);
}

static void
describe_collect(void *arg, const char *name, const char *value, const char *source)
{
	struct diff_seen *d = arg;

	if (d->n < SEEN_MAX)
		snprintf(d->lines[d->n++], 256, "%s=%s (%s)", name, value, source);
}

static bool
seen_line(const struct diff_seen *d, const char *line)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->lines[i], line) == 0)
			return true;
	return false;
}

static void
test_diff_and_overrides(void **state)
{
	const char *p1 = write_file("tftp-port = 69\ndhcp-router = 192.0.2.254\n"
	    "[subnet 198.51.100.0/24]\nproxy = yes\npxe = no\n"
	    "[subnet 192.0.2.0/24]\nrange = 192.0.2.10 192.0.2.20\n[host 52:54:00:12:34:56]\n"
	    "[environment gone]\nkernel = a/vmlinuz\n[environment kept]\nkernel = a/vmlinuz\n");
	static struct config a, b;
	struct diff_seen d = { .n = 0 };
	char err[512];
	const char *argv1[] = { "pxed", "--config", p1 };

	(void)state;
	assert_int_equal(load(&a, err, sizeof err, 3, argv1), 0);
	unlink(p1);
	const char *p2 = write_file("tftp-port = 6969\ndhcp-router = 192.0.2.254\n"
	    "[subnet 198.51.100.0/24]\nproxy = yes\npxe = yes\n"
	    "[subnet 203.0.113.0/24]\n[host 52:54:00:12:34:57]\n"
	    "[environment kept]\nkernel = b/vmlinuz\n[environment new]\nkernel = a/vmlinuz\n");
	const char *argv2[] = { "pxed", "--config", p2 };
	assert_int_equal(load(&b, err, sizeof err, 3, argv2), 0);
	unlink(p2);
	size_t changes = config_diff(&a, &b, diff_collect, &d);
	assert_int_equal(changes, d.n);
	assert_true(seen_line(&d, "||tftp-port|69|6969|1"));
	assert_true(seen_line(&d, "subnet|198.51.100.0/24|pxe|no|yes|0"));
	assert_true(seen_line(&d, "subnet|198.51.100.0/24|served|off|proxy|0"));
	assert_true(seen_line(&d, "subnet|192.0.2.0/24|-||NULL|0"));          /* removed */
	assert_true(seen_line(&d, "subnet|203.0.113.0/24|-|NULL|proxy|0"));   /* added */
	assert_true(seen_line(&d, "host|52:54:00:12:34:56|-||NULL|0"));
	assert_true(seen_line(&d, "host|52:54:00:12:34:57|-|NULL||0"));
	/* environments are read at start-up only */
	assert_true(seen_line(&d, "environment|kept|kernel|a/vmlinuz|b/vmlinuz|1"));
	assert_true(seen_line(&d, "environment|gone|-||NULL|1"));
	assert_true(seen_line(&d, "environment|new|-|NULL||1"));
	assert_int_equal(d.n, 10);
	config_keep_restart(&b, &a);
	assert_int_equal(b.tftp_port, 69);
	assert_int_equal(b.environment_count, 2);
	assert_string_equal(b.environment[1].kernel, "a/vmlinuz");
	/* pxectl's changes over the file */
	assert_int_equal(config_subnet_override(&b, "198.51.100.0/24", "off", 5, err, sizeof err), 0);
	assert_string_equal(config_subnet_mode(&b, &b.subnet[0]), "off");
	assert_int_equal(config_subnet_override(&b, "192.0.2.0/25", "full", 6, err, sizeof err), 0);
	assert_int_equal(b.subnet_count, 3);
	assert_false(b.subnet[2].in_file);
	assert_string_equal(config_subnet_mode(&b, &b.subnet[2]), "proxy");  /* no range */
	assert_int_equal(config_subnet_override(&b, "192.0.2.0/25", "on", 7, err, sizeof err),
	    -EINVAL);
	assert_int_equal(config_subnet_override(&b, "192.0.2.0", "off", 7, err, sizeof err),
	    -EINVAL);
	assert_int_equal(config_subnet_override(&b, "198.51.100.0/24", "proxy", 8, err, sizeof err),
	    0);
	d.n = 0;
	config_subnet_describe(&b, &b.subnet[0], describe_collect, &d);
	assert_true(seen_line(&d, "proxy=yes (pxectl)"));
	assert_true(seen_line(&d, "router=192.0.2.254 (global)"));
	assert_true(seen_line(&d, "domain= (default)"));
	assert_true(seen_line(&d, "mtftp=no (default)"));
}

/* Where each main setting came from: default, file, flag; the
 * restart-only settings a reload wanted changed. */
static void
test_sources(void **state)
{
	const char *p1 = write_file("tftp-window-max = 32\nlisten = 192.0.2.9\n[global]\n"
	    "log-level = warn\nhttp-threads = 3\ntftp-port = 1069\n");
	const char *argv1[] = { "pxed", "--config", p1, "--tftp-session-timeout", "7",
		"--listen", "192.0.2.1", "--tftp-port=2069" };
	static struct config running, next;
	struct diff_seen d = { .n = 0 };
	const char *names[8];
	char err[512];

	(void)state;
	assert_int_equal(load(&running, err, sizeof err, 8, argv1), 0);
	config_describe(&running, describe_collect, &d);
	assert_true(seen_line(&d, "tftp-window-max=32 (file)"));
	assert_true(seen_line(&d, "log-level=warn (file)"));         /* [global] is the file */
	assert_true(seen_line(&d, "tftp-session-timeout=7 (flag)"));
	assert_true(seen_line(&d, "tftp-port=2069 (flag)"));         /* the flag over the file */
	assert_true(seen_line(&d, "listen=192.0.2.1 (flag)"));       /* a flag's list replaces */
	assert_true(seen_line(&d, "tftp-max-sessions=1024 (default)"));
	assert_true(seen_line(&d, "dhcp-router= (default)"));
	assert_true(seen_line(&d, "http-threads=3 (file)"));
	assert_int_equal(config_restart_needed(&running, names, 8), 0);
	unlink(p1);

	/* a reload: the file changes a reloadable and a restart-only setting */
	const char *p2 = write_file("tftp-window-max = 16\nhttp-threads = 4\n");
	const char *argv2[] = { "pxed", "--config", p2, "--tftp-session-timeout", "7" };
	assert_int_equal(load(&next, err, sizeof err, 5, argv2), 0);
	config_keep_restart(&next, &running);
	d.n = 0;
	config_describe(&next, describe_collect, &d);
	assert_true(seen_line(&d, "tftp-window-max=16 (file)"));
	assert_true(seen_line(&d, "http-threads=3 (file)"));         /* the running value */
	assert_true(seen_line(&d, "log-level=info (default)"));      /* gone from the file */
	assert_true(seen_line(&d, "tftp-port=2069 (flag)"));         /* restart-only: as running */
	assert_int_equal(config_restart_needed(&next, names, 8), 3);
	assert_string_equal(names[0], "listen");                     /* the flags are gone too */
	assert_string_equal(names[1], "tftp-port");
	assert_string_equal(names[2], "http-threads");
	assert_int_equal(config_restart_needed(&next, names, 1), 1); /* bounded */
	unlink(p2);

	/* the file back as it was: nothing waits */
	const char *p3 = write_file("http-threads = 3\n");
	const char *argv3[] = { "pxed", "--config", p3, "--listen", "192.0.2.1",
		"--tftp-port", "2069" };
	assert_int_equal(load(&next, err, sizeof err, 7, argv3), 0);
	config_keep_restart(&next, &running);
	assert_int_equal(config_restart_needed(&next, names, 8), 0);
	unlink(p3);
}

static void
test_sections(void **state)
{
	const char *path = write_file("root = /srv\n[subnet 192.0.2.0/24]\nrange = 192.0.2.10 "
	    "192.0.2.20\nrouter = 192.0.2.1\nlease-time = 2h\nboot = bios x.kpxe\n"
	    "[host 52:54:00:12:34:56]\naddress = 192.0.2.5\n[global]\ntftp-port = 6969\n");
	const char *argv[] = { "pxed", "--config", path };
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load(&cfg, err, sizeof err, 3, argv), 0);
	assert_int_equal(cfg.subnet_count, 1);
	assert_int_equal(cfg.subnet[0].lease_time, 7200);
	assert_int_equal(cfg.subnet[0].range.count, 1);
	assert_true(cfg.subnet[0].pxe);                 /* section default */
	assert_int_equal(cfg.host_count, 1);
	assert_int_equal(cfg.host[0].mac[5], 0x56);
	assert_int_equal(cfg.tftp_port, 6969);          /* after [global] */
	unlink(path);
	static const struct bad_case bad[] = {
		{ "[subnet 192.0.2.0]\n", ":1: [subnet 192.0.2.0]: not a subnet" },
		{ "[host 52:54:00]\n", ":1: [host 52:54:00]: not a MAC" },
		{ "[subnet 192.0.2.0/24]\nroot = /x\n", ":2: unknown setting 'root' in a [subnet]" },
		{ "[subnet 192.0.2.0/24]\n[subnet 192.0.2.0/24]\n", ":2: [subnet 192.0.2.0/24]: "
		    "defined twice" },
		{ "[pool x]\n", ":1: unknown section [pool]" },
		{ "[subnet 192.0.2.0/24]\nlease-time = 5\n", ":2: lease-time" },
		{ "[subnet 192.0.2.0/24]\nrouter = 300.1.1.1\n", ":2: router: '300.1.1.1'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		path = write_file(bad[i].text);
		const char *argv2[] = { "pxed", "--config", path };
		assert_int_equal(load(&cfg, err, sizeof err, 3, argv2), -EINVAL);
		print_message("%s\n", err);
		assert_non_null(strstr(err, bad[i].expect));
		unlink(path);
	}
}

static void
test_example_config_is_valid(void **state)
{
	const char *argv[] = { "pxed", "--config", "etc/pxed.conf" };
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, err, sizeof err, 3, argv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_then_flags),
		cmocka_unit_test(test_file_errors_name_the_line),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_docs_cover_every_setting),
		cmocka_unit_test(test_docs_name_restart_settings),
		cmocka_unit_test(test_diff_and_overrides),
		cmocka_unit_test(test_example_config_is_valid),
		cmocka_unit_test(test_docs_cover_section_settings),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
