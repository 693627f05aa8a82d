# pgbak: small programs that back PostgreSQL up into S3-compatible storage.
# One portable Makefile.  Everything is built under $(B) so that a sanitizer
# build (make SANITIZE=1 ...) never mixes with the normal one; objects go
# under $(B)/obj, as $(B)/pgbak-x is the program, not a directory.

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pgbak

CC ?= cc
CFLAGS ?= -O2 -g
PKGS = libcurl libcrypto zlib yaml-0.1 expat
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -lcrypto -lz -lyaml -lexpat)

ifeq ($(SANITIZE),1)
B = build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B = build
SANFLAGS =
endif

ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DPGBAK_VERSION='"$(VERSION)"' -Ilib -pthread $(SANFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS = -pthread $(SANFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lm

PROGS := $(patsubst %/main.c,%,$(wildcard pgbak-*/main.c))
LIB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard lib/*.c))
UNIT := $(patsubst %.c,$(B)/%.t,$(wildcard tests/unit/*.c))
MAN := $(wildcard man/*.[1-8])

all: $(addprefix $(B)/,$(PROGS))

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libpgbak.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

define prog_rule
$(B)/$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard $(1)/*.c)) $(B)/libpgbak.a
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(B)/tests/unit/%.t: $(B)/obj/tests/unit/%.o $(B)/libpgbak.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# pgbak-run's environment policy is its own, not the library's.
$(B)/tests/unit/env.t: $(B)/obj/pgbak-run/env.o
# ...and pgbak-restore's children follow it too.
$(B)/pgbak-restore: $(B)/obj/pgbak-run/env.o
$(B)/tests/unit/restore-sql.t: $(B)/obj/pgbak-restore/sql.o

unit: $(UNIT)

# Test-only drivers (tests/bin/*.c): programs the shell tests run, not TAP.
TESTBIN := $(patsubst %.c,$(B)/%,$(wildcard tests/bin/*.c))
$(B)/tests/bin/%: $(B)/obj/tests/bin/%.o $(B)/libpgbak.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
unit: $(TESTBIN)

# The whole suite: unit tests, program tests against a real PostgreSQL and
# a real Ceph RGW (started once by tests/run), and the man page lint.
check: all unit
	PGBAK_BUILD=$(abspath $(B)) tests/run $(TESTS)

# The slow fault tests (tests/faults/, issue #8): pgbak-run killed and
# under S3 faults end to end, 100 databases.  Minutes, not seconds, so
# apart from check.  TESTS=tests/faults/NNNN-x.t runs one.
check-faults: all
	PGBAK_BUILD=$(abspath $(B)) tests/run $(or $(TESTS),$(wildcard tests/faults/*.t))

# The programs under valgrind, through their own tests (those that start
# them with run(), tests/lib.sh).  Left out, and why (issue 13: CI within
# its budget as tests are added):
#   0001 0002 0010 0020 0030 0408: they run no program under valgrind;
#   0120 0130: matrices that start one program hundreds of times (0130 alone
#     235 valgrind starts), to check exit statuses and messages, not memory;
#   0202: round trips of up to 24 MiB through pgbak-put and pgbak-get, the
#     longest single test; the same code runs under valgrind in 0203, 0204
#     and 0205 on 11-12 MiB;
#   the C unit tests: 0110 runs conf and name under valgrind itself.
#   0250: the programs of 0201-0206 again, against moto (issue 16): about
#     70 starts, 35 CPU-s under valgrind; what it adds is moto's different
#     replies, whose parsing the sanitizer suite checks there.
# The sanitizer suite (make SANITIZE=1 check) still runs every one of them.
# A new test is in unless named here.  TESTS= runs those instead.
VALGRIND_SKIP = 0001-harness 0002-man 0010-help-man 0020-install 0030-systemd \
	0120-hostile-conf 0130-hostile-argv 0202-roundtrip 0250-moto 0408-run-signal
VALGRIND_TESTS = $(filter-out $(VALGRIND_SKIP:%=tests/%.t),$(sort $(wildcard tests/[0-9]*.t)))

check-valgrind: all unit
	PGBAK_BUILD=$(abspath $(B)) PGBAK_VALGRIND=1 tests/run $(or $(TESTS),$(VALGRIND_TESTS))

# The suite N times over (default 5), to show it is steady: idle, under
# load, pinned to one CPU (taskset -c 0 make check-repeat).  Each round is
# a fresh tests/run (its own PostgreSQL and RGW); the first round that fails
# ends it.  TESTS= as for check.
N = 5
check-repeat: all unit
	@n=$(N); k=0; pass=0; \
	while [ $$k -lt $$n ]; do \
		k=$$((k + 1)); \
		if PGBAK_BUILD=$(abspath $(B)) tests/run $(TESTS); then \
			echo "round $$k of $$n: PASS"; pass=$$((pass + 1)); \
		else \
			echo "round $$k of $$n: FAIL"; break; \
		fi; \
	done; \
	echo "check-repeat: $$pass of $$n rounds passed"; [ $$pass -eq $$n ]

lint-man:
	@if [ -n "$(MAN)" ]; then mandoc -Tlint -Wwarning $(MAN); fi

install: all
	mkdir -p $(DESTDIR)$(BINDIR)
	for p in $(PROGS); do install -m 755 $(B)/$$p $(DESTDIR)$(BINDIR)/$$p; done
	for m in $(MAN); do s=$${m##*.}; mkdir -p $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	mkdir -p $(DESTDIR)$(DOCDIR)/examples
	for f in examples/*; do [ -f "$$f" ] && install -m 644 $$f $(DESTDIR)$(DOCDIR)/examples/; done; true

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	for m in $(MAN); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

# Debian packages for the build, the tests (PostgreSQL server, Ceph RGW,
# awscli) and the demo.  Installs only what is missing; safe to re-run.
# Nothing from PyPI: moto (tests/0250) is not in Debian, so that test is
# skipped where moto is not already installed.
DEB_PKGS = gcc make pkg-config libc6-dev libcurl4-openssl-dev libssl-dev zlib1g-dev \
	libyaml-dev libexpat1-dev perl procps time mandoc gzip pigz python3 python3-boto3 \
	postgresql-15 postgresql-client-15 radosgw ceph-mon ceph-osd ceph-common awscli \
	curl iproute2 util-linux man-db systemd openssl age zstd
deps:
	@missing=; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || \
			missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; exit 0; fi; \
	sudo=; if [ "$$(id -u)" -ne 0 ]; then command -v sudo >/dev/null || \
		{ echo "deps: not root and no sudo; install:$$missing" >&2; exit 100; }; sudo=sudo; fi; \
	echo "deps: installing$$missing"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $$missing

demo: deps all
	tests/demo $(abspath $(B))

bench: all
	bench/run $(abspath $(B))

.PHONY: all unit check check-faults check-valgrind check-repeat lint-man install uninstall clean deps demo bench
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)

# libFuzzer harnesses (fuzz/README.md): clang only, and apart from the normal
# build, so that building with gcc never needs clang.  Each fuzz/NAME_fuzz.c
# is linked with lib/NAME.c and lib/log.c, all instrumented.
FUZZ_CC = clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/*_fuzz.c))

fuzz: $(FUZZ)

build/fuzz/%_fuzz: fuzz/%_fuzz.c fuzz/fuzz.h lib/%.c lib/%.h lib/log.c lib/log.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
		-DPGBAK_VERSION='"$(VERSION)"' -Ilib $(FUZZ_FLAGS) $(PKG_CFLAGS) \
		-o $@ $< lib/$*.c lib/log.c $(PKG_LIBS) -lm

.PHONY: fuzz

# The container image (issue 19: Dockerfile, contrib/image/).  podman
# builds it from a Debian 12 base that mmdebstrap makes from Debian's
# mirror (public image registries are not needed); make image-test runs
# it against the tests' PostgreSQL and RGW (tests/0040-image.t).
# Times on 2 loaded cores: image 165 s cold (the base made anew), 20 to
# 46 s after a source change, 2 s with nothing changed; image-test 15 to
# 35 s more.  From a fresh clone, never built: make -j2 image-test 3m52s.
IMAGE = localhost/pgbak:latest
IMAGE_BASE = localhost/pgbak-base:bookworm
IMAGE_DEB_PKGS = mmdebstrap podman runc
# deps' own rule, for these packages alone.
image-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS='$(IMAGE_DEB_PKGS)'

image: image-deps
	contrib/image/build $(IMAGE) $(IMAGE_BASE)

image-test: image all
	PGBAK_BUILD=$(abspath $(B)) PGBAK_IMAGE=$(IMAGE) tests/run tests/0040-image.t

# dockerfilelint from the npm registry, at the version package-lock.json
# pins, installed under contrib/image/node_modules the first time.
DOCKERFILELINT = contrib/image/node_modules/.bin/dockerfilelint
$(DOCKERFILELINT): contrib/image/package.json contrib/image/package-lock.json
	cd contrib/image && npm ci --no-audit --no-fund --loglevel=error
	touch $@
lint-docker: $(DOCKERFILELINT)
	$(DOCKERFILELINT) Dockerfile

.PHONY: image-deps image image-test lint-docker

# Where operators run it (issue 19): the Debian package and the Kubernetes
# manifests.
#
# make deb: dpkg-buildpackage -b in a copy of the tree (build/deb/pgbak),
# since debian/rules' clean step runs "make clean", which would take this
# tree's build/ with it; the .deb lands in build/deb/.  lintian must find
# no error and no warning.  debian/changelog's version must be VERSION.
# make deb-test: install that .deb here, use it, purge it (tests/pkg/deb.t;
# root, as CI is).  Both install what they need (deb-deps) as make deps does;
# postgresql-client and adduser are there so that the test installs and
# purges nothing but pgbak.
DEB_BUILD_PKGS = debhelper lintian dpkg-dev man-db perl adduser postgresql-client
DEB_FILE = build/deb/pgbak_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
deb-deps:
	@$(MAKE) -s deps DEB_PKGS="$(DEB_BUILD_PKGS)"
deb: deb-deps
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || \
		{ echo "deb: debian/changelog says $$v, the Makefile $(VERSION)" >&2; exit 1; }
	rm -rf build/deb && mkdir -p build/deb/pgbak
	tar -cf - --exclude=./build --exclude=./.git --exclude=node_modules \
		--exclude=./bench/cache --exclude=./bench/results.json . | tar -xf - -C build/deb/pgbak
	cd build/deb/pgbak && dpkg-buildpackage -b -us -uc -j2 >../build.log 2>&1 || \
		{ tail -n 50 ../build.log >&2; exit 1; }
	lintian --fail-on error,warning $(DEB_FILE)
	@echo "deb: $(DEB_FILE)"
deb-test: deb
	PGBAK_DEB=$(abspath $(DEB_FILE)) prove -e '' tests/pkg/deb.t

# make k8s-check: contrib/kubernetes against the Kubernetes schemas
# (kubernetes-models, from npm at the versions of its package-lock.json),
# the CronJob's rules, and its ConfigMap's settings through pgbak-run -n
# (tests/pkg/k8s.t, which also shows that broken manifests are refused).
# Node.js and npm from Debian where the machine has none (Debian 12's
# Node.js is 18; kubernetes-models asks for 22, and check.mjs was seen
# working on 20 and on that 18).
K8S_TEST = contrib/kubernetes/test
k8s-deps:
	@command -v npm >/dev/null || $(MAKE) -s deps DEB_PKGS="nodejs npm"
k8s-check: all k8s-deps
	cd $(K8S_TEST) && npm ci --no-audit --no-fund --loglevel=error
	PGBAK_BUILD=$(abspath $(B)) prove -e '' tests/pkg/k8s.t

.PHONY: deb-deps deb deb-test k8s-deps k8s-check
