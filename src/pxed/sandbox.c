/* The daemon's sandbox: pxed/sandbox.h.
 *
 * Landlock through its system calls (Debian 12's headers know ABI 2; the
 * newer rights are defined here and used only when the running kernel's
 * ABI has them).  seccomp through libseccomp, with SIGSYS as the action
 * for a call not on the list: the handler makes it fail with EPERM and
 * notes it, so a call the list misses is a logged error, not a dead
 * daemon. */
#include "pxed/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

/* A sanitizer build (make asan): LeakSanitizer needs /proc and ptrace. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/* ---- Landlock ---- */

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6 (its size tells the kernel
 * which fields are there) */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;    /* ABI 4 */
	uint64_t scoped;                /* ABI 6 */
};

#define LL_FS_ABI1 ((1ULL << 13) - 1)   /* EXECUTE .. MAKE_SYM */
#define LL_READ_DIR (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_READ_FILE LANDLOCK_ACCESS_FS_READ_FILE
#define LL_WRITE_DIR (LL_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)

static int
ll_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

/* What the kernel's ABI handles. */
static void
ll_handled(int abi, struct ll_ruleset_attr *attr, size_t *size)
{
	memset(attr, 0, sizeof *attr);
	attr->handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	*size = sizeof attr->handled_access_fs;
	if (abi >= 4) {
		attr->handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		*size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		attr->scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		*size = sizeof *attr;
	}
}

/* Allow access (within what is handled) beneath path; a file gets the
 * file rights of access only.  A path that is not there is skipped. */
static int
ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr rule = { 0 };
	struct stat st;
	int fd, rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		log_debug("sandbox: %s: %s: not in the ruleset", path, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_TRUNCATE;
	rule.allowed_access = access & handled;
	rule.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
		rc = -errno;
	close(fd);
	if (rc != 0)
		log_error("sandbox: landlock rule for %s: %s", path, strerror(-rc));
	return rc;
}

/* The image repository: image-dir, else state-dir/images. */
static void
image_dir(const struct config *cfg, char *out, size_t size)
{
	if (cfg->image_dir[0] != '\0')
		snprintf(out, size, "%s", cfg->image_dir);
	else
		snprintf(out, size, "%s/images", cfg->state_dir);
}

static int
ll_rules(int ruleset, const struct config *cfg, uint64_t handled)
{
	char images[CONFIG_PATH_MAX + 8];
	int rc = 0;

	image_dir(cfg, images, sizeof images);
	rc |= ll_allow(ruleset, cfg->root, LL_READ_DIR, handled);
	rc |= ll_allow(ruleset, cfg->ui_dir, LL_READ_DIR, handled);
	rc |= ll_allow(ruleset, cfg->config_file, LL_READ_FILE, handled);
	rc |= ll_allow(ruleset, cfg->api_token_file, LL_READ_FILE, handled);
	rc |= ll_allow(ruleset, cfg->state_dir, LL_WRITE_DIR, handled);
	rc |= ll_allow(ruleset, images, LL_WRITE_DIR, handled);
	rc |= ll_allow(ruleset, cfg->tftp_write, LL_WRITE_DIR, handled);
#ifdef SANITIZER_BUILD
	/* LeakSanitizer reads the process's maps and threads at exit */
	rc |= ll_allow(ruleset, "/proc", LL_READ_DIR, handled);
#endif
	return rc != 0 ? -EINVAL : 0;
}

static int
landlock_enter(const struct config *cfg)
{
	struct ll_ruleset_attr attr;
	size_t size;
	int abi = ll_abi(), ruleset, rc;

	if (abi < 0) {
		log_warn("sandbox: Landlock is not available in this kernel (%s): pxed runs"
		    " without its filesystem sandbox", abi == -ENOSYS ? "not built in" :
		    abi == -EOPNOTSUPP ? "disabled at boot (lsm=)" : strerror(-abi));
		return 0;
	}
	ll_handled(abi, &attr, &size);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0) {
		log_error("sandbox: landlock_create_ruleset: %s", strerror(errno));
		return -errno;
	}
	rc = ll_rules(ruleset, cfg, attr.handled_access_fs);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		rc = -errno;
		log_error("sandbox: landlock_restrict_self: %s", strerror(-rc));
	}
	close(ruleset);
	if (rc == 0)
		log_info("sandbox: Landlock ABI %d: %s read-only, %s read-write, nothing else%s",
		    abi, cfg->root, cfg->state_dir, abi >= 4 ? "; no TCP bind or connect" : "");
	return rc;
}

/* ---- seccomp ---- */

static atomic_uint denied_count;
static atomic_int denied_last;

static void
on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	atomic_fetch_add(&denied_count, 1);
	atomic_store(&denied_last, info->si_syscall);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#else
	(void)uc;
#endif
}

/* The system calls of pxed's threads once it serves (the loop, the HTTP
 * threads, libuv's pool, multicast senders, SQLite, OpenSSL, GnuTLS),
 * found with strace -f over the integration tests.  Not on it: exec,
 * fork (threads only), ptrace, mount, module and key calls, bpf, ... */
static const char *const allowed[] = {
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mlock", "munlock",
	/* threads, time, signals */
	"clone", "clone3", "exit", "exit_group", "futex", "set_robust_list", "get_robust_list",
	"rseq", "set_tid_address", "gettid", "getpid", "getppid", "sched_yield",
	"sched_getaffinity", "sched_setaffinity", "nanosleep", "clock_nanosleep",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "tkill", "kill",
	"restart_syscall", "getrusage", "prlimit64", "getrlimit", "uname", "sysinfo",
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
	"prctl", "getcpu", "getrandom", "membarrier",
	/* files (Landlock says which) */
	"openat", "openat2", "open", "close", "close_range", "read", "write", "readv", "writev",
	"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2", "lseek", "fstat",
	"newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs", "access", "faccessat",
	"faccessat2", "readlink", "readlinkat", "getdents64", "fcntl", "flock", "fsync",
	"fdatasync", "ftruncate", "fallocate", "fadvise64", "unlink", "unlinkat", "rename",
	"renameat", "renameat2", "link", "linkat", "mkdir", "mkdirat", "rmdir", "chmod",
	"fchmod", "fchmodat", "umask", "getcwd", "dup", "dup2", "dup3", "pipe", "pipe2",
	"sendfile", "splice", "copy_file_range", "ioctl", "memfd_create",
	/* events */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "poll", "ppoll", "select", "pselect6", "eventfd", "eventfd2",
	"timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd", "signalfd4",
	/* sockets (bound before the sandbox; new ones: TFTP transfers, multicast,
	 * netlink for the interfaces, syslog) */
	"socket", "socketpair", "bind", "connect", "listen", "accept", "accept4", "shutdown",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom",
	"sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
};

#ifdef SANITIZER_BUILD
/* LeakSanitizer stops the world with ptrace from a helper thread at exit. */
static const char *const allowed_sanitizer[] = {
	"ptrace", "wait4", "waitid", "process_vm_readv", "personality",
};
#endif

static int
seccomp_add(scmp_filter_ctx ctx, const char *const *names, size_t n)
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

static int
seccomp_enter(void)
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
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
#endif
	if (ctx == NULL)
		return -ENOMEM;
	rc = seccomp_add(ctx, allowed, ARRAY_SIZE(allowed));
#ifdef SANITIZER_BUILD
	if (rc == 0)
		rc = seccomp_add(ctx, allowed_sanitizer, ARRAY_SIZE(allowed_sanitizer));
	if (rc == 0)
		log_info("sandbox: sanitizer build: /proc readable and ptrace allowed"
		    " (LeakSanitizer at exit)");
#endif
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		log_error("sandbox: seccomp filter not loaded: %s", strerror(-rc));
	else
		log_info("sandbox: seccomp: %zu system calls allowed, any other fails with EPERM"
		    " and is logged", ARRAY_SIZE(allowed));
	return rc;
}

int
sandbox_enter(const struct config *cfg)
{
	int rc;

	if (!cfg->sandbox) {
		log_warn("sandbox = no: pxed runs without Landlock and seccomp");
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("sandbox: no_new_privs: %s", strerror(errno));
		return -errno;
	}
	rc = landlock_enter(cfg);
	if (rc == 0)
		rc = seccomp_enter();
	return rc;
}

void
sandbox_report(void)
{
	static unsigned reported;
	unsigned n = atomic_load(&denied_count);

	if (n == reported)
		return;
	int nr = atomic_load(&denied_last);
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	log_error("sandbox: %u system call(s) refused (EPERM) since the last report, the last"
	    " %s (%d): not on pxed's seccomp list", n - reported, name != NULL ? name : "?", nr);
	free(name);
	reported = n;
}
