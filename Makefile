# pxed build.  Plain make; two trees:
#   build/       optimised binaries (build/pxed, build/pxectl, tools, benches)
#   build/asan/  the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   build/torture/pxed  build/asan/'s pxed failing the Nth allocation (make torture)
# New sources are picked up by directory: src/<part>/*.c go into libpxed,
# tests/unit/test_*.c become unit tests, tests/tools/*.c and bench/*.c become
# one program each (bench/storm/*.c: one program, build/bench/storm),
# fuzz/fuzz_*.c become libFuzzer harnesses.

CC      ?= cc
CLANG   ?= clang
PKGS    := libuv libmicrohttpd jansson yajl sqlite3 libpq libzstd libcrypto libisal
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Filesystem readers (used-block maps), the registry hive editor (password
# reset, hostname) and the malware scanner are needed by pxe-agent, the unit
# tests, the test tools and the fuzzers, not by the daemon.
# libcap: pxed clears the capabilities it was started with (drop_privileges);
# libseccomp: its system call filter (src/pxed/sandbox.c).
PXED_LIBS := $(shell pkg-config --libs libcap libseccomp 2>/dev/null)
FS_PKGS := ext2fs libntfs-3g hivex libclamav
FS_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(FS_PKGS) 2>/dev/null))
FS_LIBS   := $(shell pkg-config --libs $(FS_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wundef -Wcast-qual \
	-Wimplicit-fallthrough -Wno-missing-field-initializers
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc -g -fno-common $(WARN) $(PKG_CFLAGS) \
	$(FS_CFLAGS)
REL_CFLAGS  := $(BASE_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
LDLIBS := $(PKG_LIBS) -lunistring -lpthread

LIB_SRC   := $(sort $(wildcard src/core/*.c src/files/*.c src/tftp/*.c src/http/*.c src/api/*.c \
	src/dhcp/*.c src/boot/*.c src/store/*.c src/image/*.c src/mcast/*.c))
PXED_SRC  := $(sort $(wildcard src/pxed/*.c))
CTL_SRC   := $(sort $(wildcard src/ctl/*.c))
AGENT_SRC := $(sort $(wildcard src/agent/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
STORM_SRC := $(sort $(wildcard bench/storm/*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
HDRS      := $(wildcard src/*/*.h)

.PHONY: all asan torture check demo bootenv fuzz fuzz-run deps clean unit man install deb
all: build/pxed build/pxectl build/pxe-agent $(TOOL_SRC:tests/tools/%.c=build/tools/%) \
	$(BENCH_SRC:bench/%.c=build/bench/%) build/bench/storm \
	$(UNIT_SRC:tests/unit/%.c=build/tests/%)
asan: build/asan/pxed build/asan/pxectl build/asan/pxe-agent $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)

# --- optimised tree ---
build/obj/%.o: %.c $(HDRS) | build
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@
build/libpxed.a: $(LIB_SRC:%.c=build/obj/%.o)
	@rm -f $@
	ar rcs $@ $^
build/pxed: $(PXED_SRC:%.c=build/obj/%.o) build/libpxed.a
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(PXED_LIBS)
build/pxectl: $(CTL_SRC:%.c=build/obj/%.o) build/libpxed.a
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcurl
build/pxe-agent: $(AGENT_SRC:%.c=build/obj/%.o) build/libpxed.a
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(FS_LIBS) -lcurl
build/tests/%: build/obj/tests/unit/%.o build/libpxed.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS) $(FS_LIBS) -lcmocka
build/tools/%: build/obj/tests/tools/%.o build/libpxed.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS) $(FS_LIBS)
build/bench/%: build/obj/bench/%.o build/libpxed.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS) $(FS_LIBS) -lcurl
$(STORM_SRC:%.c=build/obj/%.o): bench/storm/storm.h
build/bench/storm: $(STORM_SRC:%.c=build/obj/%.o) build/libpxed.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS) -lcurl

# --- sanitizer tree ---
build/asan/obj/%.o: %.c $(HDRS) | build
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@
build/asan/libpxed.a: $(LIB_SRC:%.c=build/asan/obj/%.o)
	@rm -f $@
	ar rcs $@ $^
build/asan/pxed: $(PXED_SRC:%.c=build/asan/obj/%.o) build/asan/libpxed.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS) $(PXED_LIBS)
build/asan/pxectl: $(CTL_SRC:%.c=build/asan/obj/%.o) build/asan/libpxed.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS) -lcurl
build/asan/pxe-agent: $(AGENT_SRC:%.c=build/asan/obj/%.o) build/asan/libpxed.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS) $(FS_LIBS) -lcurl
build/asan/tests/%: build/asan/obj/tests/unit/%.o build/asan/libpxed.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS) $(FS_LIBS) -lcmocka

# --- torture: allocation failure injection (tests/torture/alloc_fail.c,
# docs/TESTING.md); the sanitizer objects linked with every allocation
# function of pxed's own code wrapped, so PXED_FAIL_ALLOC=N fails the Nth
# allocation after start-up ---
TORTURE_WRAP := malloc calloc realloc reallocarray aligned_alloc strdup strndup asprintf vasprintf
torture: build/torture/pxed
build/torture/pxed: $(PXED_SRC:%.c=build/asan/obj/%.o) build/asan/obj/tests/torture/alloc_fail.o \
		build/asan/libpxed.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(TORTURE_WRAP:%=-Wl,--wrap=%) -o $@ $^ $(LDLIBS) $(PXED_LIBS)

# --- fuzzers (clang + libFuzzer); the library is built once with the
# fuzzer's coverage flags (fuzzer-no-link) and linked into each harness ---
FUZZ_BASE := $(BASE_CFLAGS) -O1 -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined
FUZZ_LIB_CFLAGS := $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined
fuzz: $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
build/fuzz/obj/%.o: %.c $(HDRS) | build
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_LIB_CFLAGS) -c $< -o $@
build/fuzz/libpxed.a: $(LIB_SRC:%.c=build/fuzz/obj/%.o)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/%: fuzz/%.c build/fuzz/libpxed.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< build/fuzz/libpxed.a $(LDLIBS) $(FS_LIBS)

# make fuzz-run [FUZZ_SECONDS=60 | FUZZ_RUNS=N] [FUZZ_JOBS=1] [FUZZ_ONLY="api sse"]:
# every harness for a while on a copy of its corpus (build/fuzz/corpus-NAME,
# kept between runs); findings in build/fuzz/crashes/NAME; a table of
# executions and findings per harness at the end (scripts/fuzz-run.sh).
fuzz-run: fuzz
	@scripts/fuzz-run.sh

build:
	@mkdir -p build

deps:
	@scripts/deps.sh

# make check: dependencies, both trees, every test; ends with "N passed, N failed".
check: deps
	$(MAKE) all asan torture fuzz
	$(MAKE) bootenv
	@tests/run-all.sh

demo: deps
	$(MAKE) all bootenv
	@scripts/demo.sh

# make bootenv: the imaging environment, build/bootenv/{vmlinuz,initrd,manifest}
# (docs/IMAGING.md).  Downloads Debian's kernel package once (apt-get download).
bootenv: build/pxe-agent
	scripts/bootenv.sh

# make install [PREFIX=/usr/local] [DESTDIR=]: programs, manual pages, the
# example config in /etc/pxed/, the systemd unit, bash completion, the
# console (ui/) and the imaging environment when built; without DESTDIR
# also the pxed user and /var/lib/pxed (scripts/install.sh, docs/INSTALL.md).
PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
INSTALL_BOOTENV ?= yes
install: build/pxed build/pxectl build/pxe-agent
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" \
	    UNITDIR="$(UNITDIR)" INSTALL_BOOTENV="$(INSTALL_BOOTENV)" scripts/install.sh

# make deb: build/deb/pxed_VERSION_ARCH.deb from debian/ (debhelper), with
# the optimised binaries of this tree.
deb:
	debian/rules build
	fakeroot debian/rules binary

clean:
	rm -rf build debian/pxed debian/.debhelper debian/debhelper-build-stamp \
	    debian/files debian/*.substvars debian/*.debhelper.log
