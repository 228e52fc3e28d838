/* udp-probe: send crafted UDP datagrams and print what comes back, decoded
 * as TFTP when it parses.  A test tool for pxed's integration tests (no
 * Python on CI machines).
 *
 *   udp-probe --to IP:PORT [--bind IP:PORT] [--sources K] [--count N]
 *             [--wait-ms T] [--expect-replies N] [--quiet]
 *             payload:  --hex HEX (repeatable) | --file F | --random N[-M]
 *                       | --rrq NAME | --wrq NAME  [--mode M] [--opt NAME=VALUE]...
 *             replies:  --then HEX (repeatable: the i-th is sent back to the
 *                       sender of the i-th reply)
 *             client:   --download OUT | --upload FILE  [--stop-after BLOCKS]
 *                       [--stray HEX]
 *
 * Every payload is sent --count times, round robin over --sources sockets
 * (distinct source ports).  Each reply prints as "from IP:PORT HEX" (HEX cut
 * after 64 bytes) and, when it decodes, a line "tftp OPCODE ...".
 * The last lines are "sent N replies M" and "bytes sent S received R" (UDP
 * payload bytes, --random ones not counted: for amplification bounds).
 * Without --expect-replies the tool listens for --wait-ms and exits 0; with
 * it, it exits 0 as soon as N replies arrived (N = 0: when none arrived in
 * the whole wait), else 1.
 * --download / --upload run one TFTP transfer after the request (the
 * first payload: --hex or --rrq / --wrq) (ACK 0
 * after an OACK, windowsize honoured on download); --wait-ms is then the
 * idle limit.  --stop-after K vanishes (exits 0) after K data blocks.
 * --stray sends HEX from another port to the server's transfer port after
 * the first block and prints the answer.  Exit 2: usage or system error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cursor.h"
#include "core/log.h"
#include "core/util.h"
#include "tftp/codec.h"

#define PROBE_MSG_MAX 64
#define PROBE_OPT_MAX 32
#define PROBE_SOURCES_MAX 1000
#define PROBE_PACKET_MAX 65536
#define PROBE_HEX_SHOWN 64
#define PROBE_RESEND_MS 500

struct blob {
	uint8_t *data;
	size_t len;
};

struct probe {
	struct sockaddr_in to, bind_addr;
	struct blob msg[PROBE_MSG_MAX];
	size_t msg_count;
	struct blob then[PROBE_MSG_MAX];
	size_t then_count;
	struct blob stray;
	const char *req_name, *mode, *opt[PROBE_OPT_MAX];
	size_t opt_count;
	enum tftp_opcode req_op;
	size_t random_min, random_max;
	unsigned long count, sources, stop_after;
	long wait_ms, expect;
	bool quiet;
	const char *download, *upload;
	int sock[PROBE_SOURCES_MAX];
	unsigned long sent, replies;
	uint64_t sent_bytes, reply_bytes;       /* payload bytes both ways */
};

/* One transfer's client state (--download / --upload). */
struct client {
	struct sockaddr_in server;      /* transfer ID, learnt from the first reply */
	bool have_server;
	int fd;
	uint32_t blksize, window;
	uint64_t next;                  /* download: next block expected; upload: last sent */
	uint64_t acked;                 /* upload: last block acknowledged */
	uint64_t since_ack, blocks, bytes;
	bool final_sent, done, stray_sent;
	uint8_t last[PROBE_PACKET_MAX];
	size_t last_len;                /* what to resend on silence */
};

static void
usage(void)
{
	fprintf(stderr, "usage: udp-probe --to IP:PORT [--bind IP:PORT] [--sources K] "
	    "[--count N] [--wait-ms T] [--expect-replies N] [--quiet]\n"
	    "  [--hex HEX]... [--file F] [--random N[-M]] [--rrq|--wrq NAME [--mode M] "
	    "[--opt NAME=VALUE]...]\n"
	    "  [--then HEX]... [--download OUT | --upload FILE] [--stop-after BLOCKS] "
	    "[--stray HEX]\n");
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (parse_u64(s, strlen(s), 0, max, &v) != 0) {
		fprintf(stderr, "udp-probe: '%s' is not a number up to %lu\n", s, max);
		return -EINVAL;
	}
	*out = (unsigned long)v;
	return 0;
}

static int
parse_endpoint(const char *text, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	unsigned long port;

	if (colon == NULL || (size_t)(colon - text) >= sizeof host) {
		fprintf(stderr, "udp-probe: '%s' is not IP:PORT\n", text);
		return -EINVAL;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    parse_ulong(colon + 1, 65535, &port) != 0) {
		fprintf(stderr, "udp-probe: bad address '%s'\n", text);
		return -EINVAL;
	}
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

static int
parse_hex(const char *text, struct blob *out)
{
	size_t len = strlen(text);

	if (len % 2 != 0 || (out->data = malloc(len / 2 + 1)) == NULL) {
		fprintf(stderr, "udp-probe: bad hex '%s'\n", text);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "udp-probe: bad hex '%s'\n", text);
			return -EINVAL;
		}
		out->data[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	out->len = len / 2;
	return 0;
}

static int
read_whole_file(const char *path, struct blob *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		perror(path);
		return -errno;
	}
	out->data = malloc(PROBE_PACKET_MAX);
	n = out->data != NULL ? read(fd, out->data, PROBE_PACKET_MAX) : -1;
	close(fd);
	if (n < 0) {
		perror(path);
		return -EIO;
	}
	out->len = (size_t)n;
	return 0;
}

static int
parse_random(const char *text, struct probe *p)
{
	const char *dash = strchr(text, '-');
	char first[24];
	unsigned long lo, hi;

	if (dash == NULL) {
		if (parse_ulong(text, PROBE_PACKET_MAX - 1, &lo) != 0 || lo == 0)
			return -EINVAL;
		p->random_min = p->random_max = lo;
		return 0;
	}
	if ((size_t)(dash - text) >= sizeof first)
		return -EINVAL;
	memcpy(first, text, (size_t)(dash - text));
	first[dash - text] = '\0';
	if (parse_ulong(first, PROBE_PACKET_MAX - 1, &lo) != 0 ||
	    parse_ulong(dash + 1, PROBE_PACKET_MAX - 1, &hi) != 0 || lo > hi || lo == 0)
		return -EINVAL;
	p->random_min = lo;
	p->random_max = hi;
	return 0;
}

static int
add_blob(struct blob *list, size_t *count, const char *hex)
{
	if (*count >= PROBE_MSG_MAX) {
		fprintf(stderr, "udp-probe: too many packets\n");
		return -EINVAL;
	}
	if (parse_hex(hex, &list[*count]) != 0)
		return -EINVAL;
	(*count)++;
	return 0;
}

static int
add_option(struct probe *p, const char *opt)
{
	if (p->opt_count >= PROBE_OPT_MAX || strchr(opt, '=') == NULL) {
		fprintf(stderr, "udp-probe: bad --opt '%s'\n", opt);
		return -EINVAL;
	}
	p->opt[p->opt_count++] = opt;
	return 0;
}

/* Options that take a value; returns 0, or -EINVAL. */
static int
option_value(struct probe *p, const char *name, const char *v)
{
	if (strcmp(name, "--to") == 0)
		return parse_endpoint(v, &p->to);
	if (strcmp(name, "--bind") == 0)
		return parse_endpoint(v, &p->bind_addr);
	if (strcmp(name, "--hex") == 0)
		return add_blob(p->msg, &p->msg_count, v);
	if (strcmp(name, "--then") == 0)
		return add_blob(p->then, &p->then_count, v);
	if (strcmp(name, "--stray") == 0)
		return parse_hex(v, &p->stray);
	if (strcmp(name, "--file") == 0 && p->msg_count < PROBE_MSG_MAX)
		return read_whole_file(v, &p->msg[p->msg_count++]);
	if (strcmp(name, "--random") == 0)
		return parse_random(v, p);
	if (strcmp(name, "--count") == 0)
		return parse_ulong(v, 100000000, &p->count);
	if (strcmp(name, "--sources") == 0)
		return parse_ulong(v, PROBE_SOURCES_MAX, &p->sources);
	if (strcmp(name, "--stop-after") == 0)
		return parse_ulong(v, UINT32_MAX, &p->stop_after);
	return -ENOENT;
}

static int
option_value2(struct probe *p, const char *name, const char *v)
{
	unsigned long n;

	if (strcmp(name, "--wait-ms") == 0 || strcmp(name, "--expect-replies") == 0) {
		if (parse_ulong(v, 100000000, &n) != 0)
			return -EINVAL;
		*(name[2] == 'w' ? &p->wait_ms : &p->expect) = (long)n;
		return 0;
	}
	if (strcmp(name, "--rrq") == 0 || strcmp(name, "--wrq") == 0) {
		p->req_name = v;
		p->req_op = name[2] == 'r' ? TFTP_RRQ : TFTP_WRQ;
		return 0;
	}
	if (strcmp(name, "--mode") == 0) {
		p->mode = v;
		return 0;
	}
	if (strcmp(name, "--opt") == 0)
		return add_option(p, v);
	if (strcmp(name, "--download") == 0 || strcmp(name, "--upload") == 0) {
		*(name[2] == 'd' ? &p->download : &p->upload) = v;
		return 0;
	}
	return -ENOENT;
}

static int
parse_args(int argc, char **argv, struct probe *p)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quiet") == 0) {
			p->quiet = true;
			continue;
		}
		if (i + 1 >= argc) {
			usage();
			return -EINVAL;
		}
		int rc = option_value(p, argv[i], argv[i + 1]);
		if (rc == -ENOENT)
			rc = option_value2(p, argv[i], argv[i + 1]);
		if (rc == -ENOENT)
			usage();
		if (rc != 0)
			return -EINVAL;
		i++;
	}
	if (p->to.sin_family != AF_INET || p->sources == 0 ||
	    ((p->download != NULL || p->upload != NULL) && p->req_name == NULL &&
	    p->msg_count == 0)) {
		usage();
		return -EINVAL;
	}
	return 0;
}

/* RRQ/WRQ with free-form options, in the order given. */
static int
build_request(struct probe *p)
{
	uint8_t buf[PROBE_PACKET_MAX];
	struct writer w = writer_make(buf, sizeof buf);

	writer_u16(&w, (uint16_t)p->req_op);
	writer_cstring(&w, p->req_name);
	writer_cstring(&w, p->mode != NULL ? p->mode : "octet");
	for (size_t i = 0; i < p->opt_count; i++) {
		const char *eq = strchr(p->opt[i], '=');
		writer_bytes(&w, p->opt[i], (size_t)(eq - p->opt[i]));
		writer_u8(&w, 0);
		writer_cstring(&w, eq + 1);
	}
	if (w.overflow || p->msg_count >= PROBE_MSG_MAX)
		return -EINVAL;
	struct blob *b = &p->msg[p->msg_count++];
	b->data = malloc(w.used);
	if (b->data == NULL)
		return -ENOMEM;
	memcpy(b->data, buf, w.used);
	b->len = w.used;
	return 0;
}

static int
open_sockets(struct probe *p)
{
	struct sockaddr_in local = p->bind_addr;

	if (local.sin_family != AF_INET) {
		local.sin_family = AF_INET;
		local.sin_addr.s_addr = htonl(INADDR_ANY);
	}
	for (unsigned long i = 0; i < p->sources; i++) {
		p->sock[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (p->sock[i] < 0 || bind(p->sock[i], (struct sockaddr *)&local, sizeof local) != 0) {
			perror("udp-probe: socket");
			return -errno;
		}
		local.sin_port = 0;     /* only the first socket takes --bind's port */
	}
	return 0;
}

static const char *
opcode_name(uint16_t op)
{
	static const char *const names[] = { "0", "RRQ", "WRQ", "DATA", "ACK", "ERROR", "OACK" };

	return op < ARRAY_SIZE(names) ? names[op] : "?";
}

/* "name=value name=value" for the option pairs of an OACK or request. */
static void
print_options(struct cursor c)
{
	const char *name, *value;
	size_t name_len, value_len;
	char a[128], b[128];

	while (c.left > 0) {
		if (!cursor_cstring(&c, &name, &name_len) ||
		    !cursor_cstring(&c, &value, &value_len)) {
			printf(" (malformed)");
			return;
		}
		printf(" %s=%s", log_printable(name, name_len, a, sizeof a),
		    log_printable(value, value_len, b, sizeof b));
	}
}

static void
print_tftp(const uint8_t *buf, size_t len)
{
	struct cursor c = cursor_make(buf, len);
	uint16_t op, num;
	char text[256];

	if (!cursor_u16(&c, &op) || op == 0 || op > TFTP_OACK)
		return;
	printf("tftp %s", opcode_name(op));
	if (op == TFTP_OACK)
		print_options(c);
	else if (!cursor_u16(&c, &num))
		printf(" (truncated)");
	else if (op == TFTP_ERROR)
		printf(" code=%u msg=\"%s\"", num, log_printable(c.p,
		    strnlen((const char *)c.p, c.left), text, sizeof text));
	else if (op == TFTP_DATA)
		printf(" block=%u len=%zu", num, c.left);
	else if (op == TFTP_ACK)
		printf(" block=%u", num);
	printf("\n");
}

static void
print_packet(const char *prefix, const struct sockaddr_in *from, const uint8_t *buf,
    size_t len)
{
	char addr[LOG_ADDR_MAX];

	printf("%sfrom %s ", prefix, log_addr((const struct sockaddr *)from, addr, sizeof addr));
	for (size_t i = 0; i < len && i < PROBE_HEX_SHOWN; i++)
		printf("%02x", buf[i]);
	if (len > PROBE_HEX_SHOWN)
		printf("... (%zu bytes)", len);
	printf("\n");
	print_tftp(buf, len);
}

static void
send_to(int sock, const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	if (sendto(sock, buf, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
		perror("udp-probe: sendto");
}

static int
send_random(struct probe *p, int sock)
{
	uint8_t buf[PROBE_PACKET_MAX];
	uint32_t r = 0;
	size_t len = p->random_min;

	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		return -EIO;
	len += r % (p->random_max - p->random_min + 1);
	if (getrandom(buf, len, 0) != (ssize_t)len)
		return -EIO;
	send_to(sock, &p->to, buf, len);
	return 0;
}

static int
send_all(struct probe *p)
{
	unsigned long k = 0;

	for (unsigned long rep = 0; rep < p->count; rep++) {
		for (size_t i = 0; i < p->msg_count; i++, p->sent++) {
			send_to(p->sock[k++ % p->sources], &p->to, p->msg[i].data, p->msg[i].len);
			p->sent_bytes += p->msg[i].len;
		}
		if (p->random_max > 0) {
			if (send_random(p, p->sock[k++ % p->sources]) != 0)
				return -EIO;
			p->sent++;
		}
	}
	return 0;
}

static long
ms_left(uint64_t deadline_us)
{
	uint64_t now = clock_now_us();

	return deadline_us > now ? (long)((deadline_us - now + 999) / 1000) : 0;
}

/* Wait for one datagram on any of the sockets; returns its length, 0 on
 * timeout, < 0 on error.  *which is the index of the socket. */
static ssize_t
receive_any(int *socks, size_t n, long timeout_ms, uint8_t *buf, struct sockaddr_in *from,
    size_t *which)
{
	struct pollfd pfd[PROBE_SOURCES_MAX];

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = socks[i], .events = POLLIN };
	int rc = poll(pfd, (nfds_t)n, (int)MIN(timeout_ms, (long)INT32_MAX));
	if (rc <= 0)
		return rc < 0 ? -errno : 0;
	for (size_t i = 0; i < n; i++) {
		if (!(pfd[i].revents & (POLLIN | POLLERR)))
			continue;
		socklen_t from_len = sizeof *from;
		ssize_t len = recvfrom(socks[i], buf, PROBE_PACKET_MAX, MSG_DONTWAIT,
		    (struct sockaddr *)from, &from_len);
		*which = i;
		if (len >= 0 || errno != ECONNREFUSED)
			return len < 0 ? -errno : len;
	}
	return -EAGAIN;
}

/* Listen, print, answer with --then; returns the exit status. */
static int
listen_replies(struct probe *p)
{
	uint8_t *buf = malloc(PROBE_PACKET_MAX);
	uint64_t deadline = clock_now_us() + (uint64_t)p->wait_ms * 1000u;
	struct sockaddr_in from;
	size_t which;

	if (buf == NULL)
		return 2;
	while ((p->expect <= 0 || (long)p->replies < p->expect) && ms_left(deadline) > 0) {
		ssize_t n = receive_any(p->sock, p->sources, ms_left(deadline), buf, &from, &which);
		if (n < 0)
			continue;
		if (n == 0)
			break;
		if (!p->quiet)
			print_packet("", &from, buf, (size_t)n);
		p->reply_bytes += (uint64_t)n;
		if (p->replies < p->then_count)
			send_to(p->sock[which], &from, p->then[p->replies].data,
			    p->then[p->replies].len);
		p->replies++;
	}
	free(buf);
	printf("sent %lu replies %lu\n", p->sent, p->replies);
	printf("bytes sent %llu received %llu\n", (unsigned long long)p->sent_bytes,
	    (unsigned long long)p->reply_bytes);
	if (p->expect < 0)
		return 0;
	return (long)p->replies == p->expect ? 0 : 1;
}

static bool
same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void
client_send(struct probe *p, struct client *c, const uint8_t *buf, size_t len)
{
	memcpy(c->last, buf, len);
	c->last_len = len;
	send_to(p->sock[0], &c->server, buf, len);
}

static void
client_ack(struct probe *p, struct client *c, uint64_t block)
{
	uint8_t ack[TFTP_HEADER_SIZE];

	tftp_build_ack(ack, sizeof ack, (uint16_t)block);
	client_send(p, c, ack, sizeof ack);
	c->since_ack = 0;
}

/* --stray: from a fresh port, poke the transfer's port and show the answer. */
static void
client_stray(struct probe *p, struct client *c)
{
	struct sockaddr_in local = p->bind_addr, from;
	uint8_t buf[1024];
	size_t which;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	c->stray_sent = true;
	local.sin_family = AF_INET;
	local.sin_port = 0;
	if (s < 0 || bind(s, (struct sockaddr *)&local, sizeof local) != 0) {
		perror("udp-probe: stray socket");
		if (s >= 0)
			close(s);
		return;
	}
	send_to(s, &c->server, p->stray.data, p->stray.len);
	ssize_t n = receive_any(&s, 1, 1000, buf, &from, &which);
	if (n > 0)
		print_packet("stray ", &from, buf, (size_t)n);
	else
		printf("stray: no answer\n");
	close(s);
}

static void
oack_accept(struct client *c, const uint8_t *buf, size_t len)
{
	struct tftp_oack o;

	if (tftp_oack_parse(buf, len, &o) != 0)
		return;
	if (o.present & TFTP_OPT_BLKSIZE)
		c->blksize = o.blksize;
	if (o.present & TFTP_OPT_WINDOWSIZE)
		c->window = o.windowsize;
}

static int
download_data(struct probe *p, struct client *c, uint16_t block, const uint8_t *data,
    size_t len)
{
	if (block != (uint16_t)c->next) {
		client_ack(p, c, c->next - 1);  /* gap or repeat: where we are */
		return 0;
	}
	if (len > 0 && write(c->fd, data, len) != (ssize_t)len) {
		perror(p->download);
		return -EIO;
	}
	c->next++;
	c->blocks++;
	c->bytes += len;
	if (++c->since_ack >= c->window || len < c->blksize)
		client_ack(p, c, c->next - 1);
	c->done = len < c->blksize;
	return 0;
}

/* Send the block after c->acked (upload), from the file. */
static int
upload_next(struct probe *p, struct client *c)
{
	uint8_t buf[PROBE_PACKET_MAX];
	uint64_t block = c->acked + 1;
	ssize_t n = pread(c->fd, buf + TFTP_HEADER_SIZE, c->blksize,
	    (off_t)((block - 1) * c->blksize));

	if (n < 0) {
		perror(p->upload);
		return -EIO;
	}
	tftp_build_data_header(buf, sizeof buf, (uint16_t)block);
	client_send(p, c, buf, (size_t)n + TFTP_HEADER_SIZE);
	c->next = block;
	c->blocks++;
	c->bytes += (uint64_t)n;
	c->final_sent = (size_t)n < c->blksize;
	return 0;
}

static int
upload_ack(struct probe *p, struct client *c, uint16_t block)
{
	if (block != (uint16_t)c->next)
		return 0;               /* old or duplicate ACK: never resend on it */
	c->acked = c->next;
	if (c->final_sent && c->acked > 0) {
		c->done = true;
		return 0;
	}
	return upload_next(p, c);
}

/* One packet of the transfer; returns < 0 to stop with an error. */
static int
client_packet(struct probe *p, struct client *c, const uint8_t *buf, size_t len)
{
	uint16_t op, num;

	if (len >= 2 && buf[0] == 0 && buf[1] == TFTP_OACK) {
		print_tftp(buf, len);
		oack_accept(c, buf, len);
		if (p->download != NULL) {
			client_ack(p, c, 0);
			return 0;
		}
		return upload_ack(p, c, 0);
	}
	if (tftp_packet_header(buf, len, &op, &num) != 0)
		return 0;
	if (op == TFTP_ERROR) {
		print_tftp(buf, len);
		return -EPROTO;
	}
	if (op == TFTP_DATA && p->download != NULL)
		return download_data(p, c, num, buf + TFTP_HEADER_SIZE, len - TFTP_HEADER_SIZE);
	if (op == TFTP_ACK && p->upload != NULL)
		return upload_ack(p, c, num);
	return 0;
}

static bool
client_should_vanish(const struct probe *p, const struct client *c)
{
	return p->stop_after > 0 && c->blocks >= p->stop_after && !c->done;
}

static int
client_receive(struct probe *p, struct client *c, uint8_t *buf, struct sockaddr_in *from)
{
	size_t which;
	ssize_t n = receive_any(p->sock, 1, PROBE_RESEND_MS, buf, from, &which);

	if (n == 0) {
		if (c->last_len > 0)
			send_to(p->sock[0], &c->server, c->last, c->last_len);
		else
			send_to(p->sock[0], &p->to, p->msg[0].data, p->msg[0].len);
		return 0;
	}
	if (n < 0)
		return 0;
	if (!c->have_server) {
		c->server = *from;
		c->have_server = true;
	} else if (!same_endpoint(from, &c->server)) {
		print_packet("other TID ", from, buf, (size_t)n);
		return 0;
	}
	return (int)n;
}

static int
client_run(struct probe *p, struct client *c)
{
	uint8_t *buf = malloc(PROBE_PACKET_MAX);
	uint64_t idle_deadline = clock_now_us() + (uint64_t)p->wait_ms * 1000u;
	struct sockaddr_in from;
	int rc = 0;

	while (buf != NULL && rc == 0 && !c->done && !client_should_vanish(p, c) &&
	    ms_left(idle_deadline) > 0) {
		int n = client_receive(p, c, buf, &from);
		if (n <= 0)
			continue;
		idle_deadline = clock_now_us() + (uint64_t)p->wait_ms * 1000u;
		rc = client_packet(p, c, buf, (size_t)n);
		if (rc == 0 && p->stray.len > 0 && !c->stray_sent && c->blocks > 0)
			client_stray(p, c);
	}
	free(buf);
	if (client_should_vanish(p, c)) {
		printf("vanished after %lu blocks\n", (unsigned long)c->blocks);
		return 0;
	}
	printf("%s %s: %lu bytes in %lu blocks, blksize %u window %u\n",
	    p->download != NULL ? "download" : "upload", c->done ? "complete" : "FAILED",
	    (unsigned long)c->bytes, (unsigned long)c->blocks, c->blksize, c->window);
	return c->done ? 0 : 1;
}

static int
client_main(struct probe *p)
{
	struct client c = { .blksize = TFTP_BLKSIZE_DEFAULT, .window = 1, .next = 1 };
	int rc;

	if (p->download != NULL)
		c.fd = open(p->download, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	else
		c.fd = open(p->upload, O_RDONLY | O_CLOEXEC);
	if (c.fd < 0) {
		perror(p->download != NULL ? p->download : p->upload);
		return 2;
	}
	if (p->upload != NULL)
		c.next = 0;
	send_to(p->sock[0], &p->to, p->msg[0].data, p->msg[0].len);
	p->sent++;
	rc = client_run(p, &c);
	close(c.fd);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct probe p = { .count = 1, .sources = 1, .wait_ms = 1000, .expect = -1 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &p) != 0)
		return 2;
	if ((p.req_name != NULL && build_request(&p) != 0) || open_sockets(&p) != 0)
		return 2;
	if (p.download != NULL || p.upload != NULL)
		return client_main(&p);
	if (send_all(&p) != 0)
		return 2;
	return listen_replies(&p);
}
