/* mkhive: builds Windows registry hives for the tests, since no Windows
 * is at hand.  It writes an empty hive itself (the regf base block and one
 * hbin holding the root key and its security cell) and then adds keys and
 * values with libhivex:
 *
 *   mkhive FILE key 'A\B\C'                  the key (and its parents)
 *   mkhive FILE ... sz 'A\B' NAME TEXT       a REG_SZ value (UTF-16LE)
 *   mkhive FILE ... dword 'A\B' NAME N       a REG_DWORD value
 *   mkhive FILE ... user RID NAME FLAGS      a local account of a SAM hive:
 *       SAM\Domains\Account\Users\<RID as %08X> with its F value (0x50
 *       bytes: RID at 0x30, account control bits at 0x38, failed logons at
 *       0x40) and V value (the 0xCC-byte table of offsets and lengths, then
 *       8 bytes standing for the security descriptor, the name in UTF-16LE and, unless FLAGS has "b", an LM and an NT hash
 *       of 20 bytes each: 4 header bytes and 16 random ones), and
 *       SAM\Domains\Account\Users\Names\NAME whose default value's type is
 *       the RID.  FLAGS: any of d (disabled), l (locked out, 3 failed
 *       logons), b (blank password), or "-".
 *
 * Commands follow each other on one command line; the hive is committed
 * once at the end. */
#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096
#define V_HEADER 0xcc

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An empty hive: base block, one hbin with the root nk, an sk, a free cell. */
static int
write_empty(const char *file)
{
	static uint8_t buf[2 * PAGE];
	uint8_t *base = buf, *bin = buf + PAGE, *nk = bin + 0x20, *sk = nk + 88;
	uint32_t sum = 0;
	int fd;

	memcpy(base, "regf", 4);
	put32(base + 4, 1);
	put32(base + 8, 1);
	put32(base + 20, 1);            /* major */
	put32(base + 24, 3);            /* minor */
	put32(base + 32, 1);            /* format */
	put32(base + 36, 0x20);         /* the root key, from the first hbin */
	put32(base + 40, PAGE);         /* hbin bytes */
	put32(base + 44, 1);
	for (int i = 0; i < 127; i++)
		sum ^= (uint32_t)base[4 * i] | (uint32_t)base[4 * i + 1] << 8 |
		    (uint32_t)base[4 * i + 2] << 16 | (uint32_t)base[4 * i + 3] << 24;
	put32(base + 508, sum);
	memcpy(bin, "hbin", 4);
	put32(bin + 8, PAGE);
	/* root nk: 80 bytes + "ROOT", in an 88-byte cell */
	put32(nk, (uint32_t)-88);
	memcpy(nk + 4, "nk", 2);
	put16(nk + 6, 0x2c);            /* hive entry, no delete, compressed name */
	put32(nk + 20, 0xffffffff);     /* parent */
	put32(nk + 32, 0xffffffff);     /* subkey list */
	put32(nk + 36, 0xffffffff);
	put32(nk + 44, 0xffffffff);     /* value list */
	put32(nk + 48, 0x20 + 88);      /* sk */
	put32(nk + 52, 0xffffffff);     /* class */
	put16(nk + 76, 4);
	memcpy(nk + 80, "ROOT", 4);
	/* sk: a 20-byte self-relative security descriptor without ACLs */
	put32(sk, (uint32_t)-48);
	memcpy(sk + 4, "sk", 2);
	put32(sk + 8, 0x20 + 88);
	put32(sk + 12, 0x20 + 88);
	put32(sk + 16, 1);
	put32(sk + 20, 20);
	sk[24] = 1;
	put16(sk + 26, 0x8000);
	/* the rest of the page is free */
	put32(sk + 48, (uint32_t)(PAGE - (0x20 + 88 + 48)));
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
		perror(file);
		return -1;
	}
	return close(fd);
}

/* The key at a backslash-separated path, made when missing. */
static hive_node_h
key_make(hive_h *h, const char *path)
{
	char copy[512], *save = NULL;
	hive_node_h node = hivex_root(h);

	snprintf(copy, sizeof copy, "%s", path);
	for (char *name = strtok_r(copy, "\\", &save); name != NULL && node != 0;
	    name = strtok_r(NULL, "\\", &save)) {
		hive_node_h child = hivex_node_get_child(h, node, name);
		node = child != 0 ? child : hivex_node_add_child(h, node, name);
	}
	return node;
}

static int
value_set(hive_h *h, const char *path, const char *name, hive_type t, const void *data,
    size_t len)
{
	hive_node_h node = key_make(h, path);
	hive_set_value v = { .key = (char *)(uintptr_t)name, .t = t, .len = len,
		.value = (char *)(uintptr_t)data };

	if (node == 0 || hivex_node_set_value(h, node, &v, 0) != 0) {
		fprintf(stderr, "mkhive: %s\\%s: %s\n", path, name, strerror(errno));
		return -1;
	}
	return 0;
}

static int
set_sz(hive_h *h, const char *path, const char *name, const char *text)
{
	size_t n = strlen(text);
	uint8_t *u = calloc(n + 1, 2);
	int rc;

	for (size_t i = 0; i < n; i++)
		u[2 * i] = (uint8_t)text[i];
	rc = value_set(h, path, name, hive_t_REG_SZ, u, 2 * (n + 1));
	free(u);
	return rc;
}

/* One entry of V's table: data at off (from 0xCC), len bytes. */
static void
v_entry(uint8_t *v, unsigned at, uint32_t off, uint32_t len)
{
	put32(v + at, off);
	put32(v + at + 4, len);
}

static int
add_user(hive_h *h, unsigned rid, const char *name, const char *flags)
{
	uint8_t f[0x50] = { 0 }, v[V_HEADER + 256] = { 0 };
	size_t n = strlen(name), vlen;
	uint32_t off = 0, namelen = (uint32_t)(2 * n);
	uint16_t acb = 0x0010;                  /* normal account */
	char path[160];
	int rnd = open("/dev/urandom", O_RDONLY);

	if (n == 0 || n > 40 || rnd < 0)
		return -1;
	if (strchr(flags, 'd'))
		acb |= 0x0001;
	if (strchr(flags, 'l'))
		acb |= 0x0400;
	put16(f, 2);
	put32(f + 0x30, rid);
	put16(f + 0x38, acb);
	put16(f + 0x40, strchr(flags, 'l') ? 3 : 0);
	v_entry(v, 0x00, off, 8);               /* (security descriptor) */
	off += 8;
	v_entry(v, 0x0c, off, namelen);
	for (size_t i = 0; i < n; i++)
		v[V_HEADER + off + 2 * i] = (uint8_t)name[i];
	off += (namelen + 3) & ~3u;
	if (!strchr(flags, 'b')) {
		for (unsigned at = 0x9c; at <= 0xa8; at += 0xa8 - 0x9c) {
			v_entry(v, at, off, 20);
			put32(v + V_HEADER + off, 0x00010002);
			if (read(rnd, v + V_HEADER + off + 4, 16) != 16)
				return -1;
			off += 20;
		}
	} else {
		v_entry(v, 0x9c, off, 4);       /* empty hash entries as Windows keeps them */
		v_entry(v, 0xa8, off + 4, 4);
		put32(v + V_HEADER + off, 0x00010002);
		put32(v + V_HEADER + off + 4, 0x00010002);
		off += 8;
	}
	close(rnd);
	vlen = V_HEADER + off;
	snprintf(path, sizeof path, "SAM\\Domains\\Account\\Users\\%08X", rid);
	if (value_set(h, path, "F", hive_t_REG_BINARY, f, sizeof f) < 0 ||
	    value_set(h, path, "V", hive_t_REG_BINARY, v, vlen) < 0)
		return -1;
	snprintf(path, sizeof path, "SAM\\Domains\\Account\\Users\\Names\\%s", name);
	return value_set(h, path, "", (hive_type)rid, "", 0);
}

static int
run(hive_h *h, int argc, char **argv)
{
	for (int i = 0; i < argc;) {
		const char *c = argv[i];
		int rc;

		if (strcmp(c, "key") == 0 && i + 1 < argc) {
			rc = key_make(h, argv[i + 1]) != 0 ? 0 : -1;
			i += 2;
		} else if (strcmp(c, "sz") == 0 && i + 3 < argc) {
			rc = set_sz(h, argv[i + 1], argv[i + 2], argv[i + 3]);
			i += 4;
		} else if (strcmp(c, "dword") == 0 && i + 3 < argc) {
			uint8_t d[4];
			put32(d, (uint32_t)strtoul(argv[i + 3], NULL, 0));
			rc = value_set(h, argv[i + 1], argv[i + 2], hive_t_REG_DWORD, d, 4);
			i += 4;
		} else if (strcmp(c, "user") == 0 && i + 3 < argc) {
			rc = add_user(h, (unsigned)strtoul(argv[i + 1], NULL, 0), argv[i + 2],
			    argv[i + 3]);
			i += 4;
		} else {
			fprintf(stderr, "mkhive: bad command at '%s'\n", c);
			return -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	hive_h *h;

	if (argc < 2) {
		fprintf(stderr, "usage: mkhive FILE [key PATH | sz PATH NAME TEXT | dword PATH "
		    "NAME N | user RID NAME FLAGS]...\n");
		return 2;
	}
	if (write_empty(argv[1]) < 0)
		return 1;
	h = hivex_open(argv[1], HIVEX_OPEN_WRITE);
	if (h == NULL) {
		fprintf(stderr, "mkhive: hivex_open: %s\n", strerror(errno));
		return 1;
	}
	if (run(h, argc - 2, argv + 2) < 0 || hivex_commit(h, NULL, 0) != 0) {
		hivex_close(h);
		return 1;
	}
	return hivex_close(h) == 0 ? 0 : 1;
}
