/* The daemon's sandbox: pxed/sandbox.h.
 *
 * Landlock through its three system calls (Debian 12's headers know ABI
 * 2; the rights of later ABIs are defined here and handled only when the
 * running kernel's ABI has them, so a newer kernel never refuses the
 * ruleset and an older one gets what it can enforce).  seccomp through
 * libseccomp: the list of system calls is by name, compiled to BPF for
 * the running architecture. */
#include "pxed/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "api/api.h"
#include "core/log.h"
#include "core/util.h"
#include "pxed/denied.h"

/* A sanitizer build (make asan): LeakSanitizer, at exit, lists the
 * threads in /proc and stops them with ptrace from a task it clones. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1                   /* si_code of a seccomp SIGSYS */
#endif

/* ---- Landlock ---- */

#define LL_FS_TRUNCATE (1ULL << 14)     /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)    /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)     /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)      /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; the size given to the kernel
 * says which fields are there */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;    /* ABI 4 */
	uint64_t scoped;                /* ABI 6 */
};

#define LL_FS_ABI1 ((1ULL << 13) - 1)   /* EXECUTE .. MAKE_SYM */
#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* what pxed does in its own directories: SQLite's database, journal,
 * -wal and -shm; uploads (a temporary file linked or renamed into place,
 * in the same or another directory: REFER), chunk directories made, old
 * files removed.  Not: devices, fifos, sockets, symbolic links, execution. */
#define LL_WRITE (LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_REFER | LL_FS_TRUNCATE)
/* the rights that apply to a file (the others only to directories) */
#define LL_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

struct ll_ruleset {
	int fd;
	uint64_t handled;
	char ro[1024], rw[1024];        /* the paths allowed, for the log */
};

static int
ll_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

/* What the kernel's ABI can forbid: everything it knows of. */
static size_t
ll_handled(int abi, bool tcp_connect, struct ll_ruleset_attr *attr)
{
	size_t size = sizeof attr->handled_access_fs;

	memset(attr, 0, sizeof *attr);
	attr->handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr->handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr->handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		/* no rule allows any: every listening socket is bound, and
		 * pxed opens no TCP connection -- but to PostgreSQL (state-url),
		 * whose host and port libpq may take from its service file or
		 * the environment: then connecting is not handled at all */
		attr->handled_access_net = LL_NET_BIND_TCP | (tcp_connect ? 0 : LL_NET_CONNECT_TCP);
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr->scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof *attr;
	}
	return size;
}

static void
ll_note(char *list, size_t size, const char *path)
{
	size_t len = strlen(list);

	if (len + 1 < size)
		snprintf(list + len, size - len, "%s%s", len > 0 ? ", " : "", path);
}

/* Allow access beneath path (a file: the file rights of access only).  A
 * path that is not there gets no rule (the daemon would not find it
 * either); an error adding one that is there fails the sandbox. */
static int
ll_allow(struct ll_ruleset *rs, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr rule = { 0 };
	struct stat st;
	int rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		log_debug("sandbox: %s: %s: no rule", path, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_FILE_RIGHTS;
	rule.allowed_access = access & rs->handled;
	rule.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rs->fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
		rc = -errno;
		log_error("sandbox: Landlock rule for %s: %s", path, strerror(-rc));
	}
	close(fd);
	if (rc == 0)
		ll_note(access & LANDLOCK_ACCESS_FS_WRITE_FILE ? rs->rw : rs->ro,
		    sizeof rs->rw, path);
	return rc;
}

/* The config file is read again at each reload, and editors and sed -i
 * replace it with a new file: its directory is allowed (read-only,
 * files only), unless that directory is shared with the rest of the
 * system (then the file alone: a reload after such an edit is refused,
 * and says why). */
static int
ll_allow_config(struct ll_ruleset *rs, const char *file)
{
	char dir[CONFIG_PATH_MAX];
	const char *slash = strrchr(file, '/');

	if (file[0] != '/' || slash == NULL || slash == file ||
	    (size_t)(slash - file) >= sizeof dir)
		return ll_allow(rs, file, LANDLOCK_ACCESS_FS_READ_FILE);
	memcpy(dir, file, (size_t)(slash - file));
	dir[slash - file] = '\0';
	if (strcmp(dir, "/etc") == 0 || strcmp(dir, "/usr/local/etc") == 0)
		return ll_allow(rs, file, LANDLOCK_ACCESS_FS_READ_FILE);
	return ll_allow(rs, dir, LANDLOCK_ACCESS_FS_READ_FILE);
}

/* Every path pxed opens once it serves (docs/ARCHITECTURE.md, Sandbox). */
static const char *const resolver_files[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
};

static int
ll_rules(struct ll_ruleset *rs, const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32];
	const char *name;
	int rc = 0;

	rc = rc ? rc : ll_allow(rs, cfg->root, LL_READ);
	rc = rc ? rc : ll_allow(rs, cfg->ui_dir, LL_READ);
	rc = rc ? rc : ll_allow(rs, cfg->clamav_db_dir, LL_READ);
	for (size_t i = 0; rc == 0 && cfg->memtest_dir[0] != '\0' &&
	    (name = api_memtest_file(i)) != NULL; i++) {
		snprintf(path, sizeof path, "%s/%s", cfg->memtest_dir, name);
		rc = ll_allow(rs, path, LANDLOCK_ACCESS_FS_READ_FILE);
	}
	if (rc == 0 && cfg->config_file[0] != '\0')
		rc = ll_allow_config(rs, cfg->config_file);
	/* jansson seeds its hash function from it; SQLite its random names */
	rc = rc ? rc : ll_allow(rs, "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE);
	rc = rc ? rc : ll_allow(rs, cfg->state_dir, LL_WRITE);
	rc = rc ? rc : ll_allow(rs, cfg->image_dir, LL_WRITE);   /* else in state-dir */
	rc = rc ? rc : ll_allow(rs, cfg->tftp_write, LL_WRITE);
	/* PostgreSQL by name: the resolver's files (libpq's own files, such as
	 * ~/.pgpass, are not read in the sandbox: the URL says it all) */
	for (size_t i = 0; rc == 0 && cfg->state_url[0] != '\0' && i < ARRAY_SIZE(resolver_files);
	    i++)
		rc = ll_allow(rs, resolver_files[i], LANDLOCK_ACCESS_FS_READ_FILE);
#ifdef SANITIZER_BUILD
	rc = rc ? rc : ll_allow(rs, "/proc", LL_READ);
#endif
	return rc;
}

static int
landlock_enter(const struct config *cfg)
{
	static struct ll_ruleset rs;
	struct ll_ruleset_attr attr;
	int abi = ll_abi(), rc;

	if (abi < 0) {
		log_warn("sandbox: Landlock is not available (%s): pxed runs without its"
		    " file system sandbox", abi == -EOPNOTSUPP ? "disabled at boot: lsm=" :
		    abi == -ENOSYS ? "not in this kernel" : strerror(-abi));
		return 0;
	}
	bool pg = cfg->state_url[0] != '\0';
	size_t size = ll_handled(abi, pg, &attr);
	rs.handled = attr.handled_access_fs;
	rs.fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs.fd < 0) {
		rc = -errno;
		log_error("sandbox: landlock_create_ruleset: %s", strerror(-rc));
		return rc;
	}
	rc = ll_rules(&rs, cfg);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, rs.fd, 0) != 0) {
		rc = -errno;
		log_error("sandbox: landlock_restrict_self: %s", strerror(-rc));
	}
	close(rs.fd);
	if (rc == 0)
		log_info("sandbox: Landlock ABI %d: read-only %s; read-write %s; nothing else,"
		    " no execution%s", abi, rs.ro, rs.rw, abi < 4 ? "" :
		    pg ? ", no TCP bind (connect: PostgreSQL)" : ", no TCP bind or connect");
	return rc;
}

/* ---- seccomp ---- */

static struct denied denied;

/* A call not on the list raises SIGSYS (SCMP_ACT_TRAP) instead of failing
 * quietly (SCMP_ACT_ERRNO): the handler counts it for the loop's report
 * and makes it fail with EPERM, as ERRNO would.  The kernel has not run
 * the call and rolled the return register back to the call's number:
 * it is set to -EPERM, which the C library turns into -1 and errno.
 * Async-signal-safe: one atomic add, no system call. */
static void
on_sigsys(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;

	(void)sig;
	if (info->si_code != SYS_SECCOMP)
		return;                 /* kill -SYS: no call to answer */
	denied_note(&denied, info->si_syscall);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#else
	(void)uc;
#endif
}

/* The system calls of pxed's threads once it serves: the loop (libuv:
 * TFTP, DHCP, timers, signals), DHCP's store worker (dhcp/store_worker.c:
 * SQLite or libpq), libmicrohttpd's threads (HTTP, the API,
 * GnuTLS), libuv's pool, multicast senders, SQLite, jansson, libcrypto,
 * glibc under them.  Found with strace -f of the daemon, from the filter
 * on, through twenty integration tests (TFTP, MTFTP, RFC 2090, HTTP,
 * HTTPS, DHCP, reloads, the API, imaging, multicast, Wake-on-LAN, boot
 * environments, JSON logs, bad input), and with the filter itself (a call
 * missing is logged).  The few no test makes are marked.  Not on it:
 * execve and execveat, fork (clone makes threads only, below), ptrace,
 * mount and namespaces, bpf, io_uring, keys, modules, symlink, mknod,
 * chown, set*id, ... */
static const char *const allowed[] = {
	/* memory; mremap: glibc's realloc of a large block (untested) */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* threads, time, signals; clock_gettime, gettimeofday and time when
	 * the vDSO cannot answer, tgkill for abort() (untested); sysinfo:
	 * glibc's qsort asks the memory's size before sorting a large array
	 * (an image's chunks: found by the filter in agentfs.sh) */
	"exit", "exit_group", "futex", "set_robust_list", "rseq", "getpid", "sched_yield",
	"clock_nanosleep", "clock_gettime", "gettimeofday", "time", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "restart_syscall", "tgkill", "prlimit64",
	"geteuid", "prctl", "getrandom", "sysinfo",
	/* files: Landlock says which.  Untested: lseek (stdio closing the
	 * config file mid-way: a reload refused at a line), access (SQLite's
	 * journal checks), readlink (SQLite: a state-dir through a symbolic
	 * link), fchmod (SQLite's new -wal and -shm under a umask such as the
	 * unit's 0027), fchown (SQLite running as root: user = root) */
	"openat", "openat2", "close", "read", "write", "pread64", "pwrite64", "preadv2",
	"lseek", "newfstatat", "access", "readlink", "getdents64", "fcntl", "fsync",
	"fdatasync", "ftruncate", "fadvise64", "unlink", "unlinkat", "renameat2", "linkat",
	"mkdirat", "fchmod", "fchown", "dup", "sendfile",
	/* waiting */
	"epoll_create1", "epoll_ctl", "epoll_wait", "ppoll", "eventfd2",
	/* sockets: the listening ones are bound already; new ones are TFTP
	 * transfers, multicast senders, Wake-on-LAN, netlink (getifaddrs);
	 * connect: syslog's socket again after syslogd restarted (untested).
	 * socket() and ioctl(): below */
	"bind", "connect", "accept4", "shutdown", "getsockname", "getsockopt",
	"setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
};

/* libpq, with state-url: Debian 12's waits for its socket with select
 * (found by state_pg.sh); pselect6 and poll, what other builds use
 * (untested) */
static const char *const allowed_postgresql[] = {
	"select", "pselect6", "poll",
};

#ifndef SANITIZER_BUILD
#define SANITIZER_NOTE ""
#else
#define SANITIZER_NOTE " (a sanitizer build: and what its runtime needs)"
/* The sanitizers' runtime: each thread's signal stack (sigaltstack), its
 * id and CPUs (gettid, sched_getaffinity), a report (open /proc/self/maps,
 * fstat, readlink /proc/self/exe); LeakSanitizer at exit: its tracer task
 * (a clone below) checks its parent (getppid), opens /proc/PID/task with
 * open and lists it with getdents (the x86-64 calls of its own system
 * call layer), stops each thread with ptrace and waits with wait4,
 * sleeps with nanosleep. */
static const char *const allowed_sanitizer[] = {
	"sigaltstack", "gettid", "sched_getaffinity", "open", "fstat", "getppid",
	"getdents", "ptrace", "wait4", "nanosleep",
};
#endif

static int
seccomp_allow(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;       /* not a call of this architecture */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc != 0) {
			log_error("sandbox: seccomp rule for %s: %s", names[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The calls allowed with some arguments only. */
static int
seccomp_allow_args(scmp_filter_ctx ctx)
{
	static const int families[] = { AF_INET, AF_INET6, AF_NETLINK, AF_UNIX };
	static const unsigned long ioctls[] = { FIONBIO, SIOCGIFNAME, SIOCGIFINDEX,
		SIOCGIFMTU };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(families); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)families[i]));
	/* ioctl: non-blocking (libuv), an interface's name, index and MTU
	 * (TFTP's block size, multicast); no terminal's (TIOCSTI into a
	 * terminal pxed was started from), no device's */
	for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(ioctls); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)ioctls[i]));
	/* Threads, not processes (no fork, no posix_spawn): glibc makes
	 * threads with clone3, whose flags a filter cannot read (they are in
	 * memory); told ENOSYS (expected: not reported) it falls back to
	 * clone, whose flags must have CLONE_THREAD. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
#ifdef SANITIZER_BUILD
	/* LeakSanitizer's tracer: memory shared, untraced, no thread (a
	 * fork shares no memory, a vfork is traced) */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_VM | CLONE_UNTRACED,
		    CLONE_VM | CLONE_UNTRACED));
#endif
	if (rc != 0)
		log_error("sandbox: seccomp rules for socket, ioctl, clone: %s", strerror(-rc));
	return rc;
}

static int
seccomp_enter(bool postgresql)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int rc;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return -errno;
#if defined(__x86_64__) || defined(__aarch64__)
	ctx = seccomp_init(SCMP_ACT_TRAP);
#else
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));      /* on_sigsys knows no registers */
#endif
	if (ctx == NULL)
		return -ENOMEM;
	/* another architecture's calls (int 0x80): no reason but an exploit */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_allow(ctx, allowed, ARRAY_SIZE(allowed));
	if (rc == 0 && postgresql)
		rc = seccomp_allow(ctx, allowed_postgresql, ARRAY_SIZE(allowed_postgresql));
#ifdef SANITIZER_BUILD
	if (rc == 0)
		rc = seccomp_allow(ctx, allowed_sanitizer, ARRAY_SIZE(allowed_sanitizer));
#endif
	if (rc == 0)
		rc = seccomp_allow_args(ctx);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		log_error("sandbox: seccomp filter not loaded: %s", strerror(-rc));
		return rc;
	}
	log_info("sandbox: seccomp: %zu system calls allowed%s; any other fails with EPERM"
	    " and is logged", ARRAY_SIZE(allowed) + 3, SANITIZER_NOTE);
	return 0;
}

/* Landlock binds the calling thread (and the threads it makes later), not
 * the others: none may run yet.  -1 when /proc cannot say. */
static int
threads_running(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	int n = -1;

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return n;
}

int
sandbox_enter(const struct config *cfg)
{
	int rc, threads = threads_running();

	if (!cfg->sandbox) {
		log_warn("sandbox = no: pxed runs without Landlock and seccomp");
		return 0;
	}
	if (threads > 1) {
		log_error("sandbox: %d threads run already: the sandbox would not bind them",
		    threads);
		return -EBUSY;
	}
	/* SQLite's temporary files (large sorts) beside its database: its
	 * default directories (/var/tmp, /tmp) are outside the sandbox */
	if (setenv("SQLITE_TMPDIR", cfg->state_dir, 1) != 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = -errno;
		log_error("sandbox: no_new_privs: %s", strerror(-rc));
		return rc;
	}
	rc = landlock_enter(cfg);
	return rc != 0 ? rc : seccomp_enter(cfg->state_url[0] != '\0');
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sandbox_report(bool flush)
{
	struct denied_report due[16];
	size_t n;

	do {
		n = denied_due(&denied, now_ms(), flush, due, ARRAY_SIZE(due));
		for (size_t i = 0; i < n; i++) {
			char *name = due[i].nr >= 0 ?
			    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, due[i].nr) : NULL;
			log_error("sandbox: denied system call %s (%d) x%u", name != NULL ? name :
			    "?", due[i].nr, due[i].times);
			free(name);
		}
	} while (n == ARRAY_SIZE(due));
}
