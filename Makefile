# Posthorn top-level Makefile.
#
#   make            build everything into build/ (SAN=1: build-san/ with ASan+UBSan)
#   make check      install missing Debian packages (as root), build, run all
#                   tests (unit, integration; normal and SAN; root and not; fuzz)
#   make run        build and start a private instance under ./run/
#   make stop       stop that instance
#   make install    install under $(DESTDIR)$(PREFIX) (config in /etc/posthorn)
#   make deb        build the Debian 12 package into build-deb/ (debian/, mk/deb.sh)
#   make check-deb  build it, then install, upgrade and purge it in a Debian 12
#                   container (test/deb/run.sh; not part of make check)
#   make bench      run the benchmarks in test/bench/ against Postfix
#
# Every program links the one static library built from lib/*/ (the
# layers of lib/: see docs/ARCHITECTURE.md and mk/check-layers.sh).

PREFIX	?= /usr/local
LIB_INC	:= $(patsubst %/,-I%,$(sort $(dir $(wildcard lib/*/*.h))))
# libpq-fe.h (Debian's libpq-dev), mysql.h (libmariadb-dev)
DB_INC	:= -I/usr/include/postgresql -I/usr/include/mariadb
SAN	?= 0
CC	?= gcc
WERROR	?= -Werror

ifeq ($(SAN),1)
BUILD	?= build-san
OPT	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD	?= build
OPT	:= -O2 -g
endif

DAEMON_DIR ?= $(PREFIX)/libexec/posthorn
CONFIG_DIR ?= /etc/posthorn

CFLAGS	+= -std=gnu11 $(OPT) -Wall -Wextra $(WERROR) -Wno-unused-parameter \
	   -Wformat=2 -Wshadow -Wstrict-prototypes $(LIB_INC) $(DB_INC) -MMD -MP \
	   -DDEF_CONFIG_DIR='"$(CONFIG_DIR)"' -DDEF_DAEMON_DIR='"$(DAEMON_DIR)"' \
	   -DDEF_COMMAND_DIR='"$(PREFIX)/sbin"'
LDFLAGS	+= $(filter -fsanitize=%,$(OPT))
LIBS	:= -lssl -lcrypto -lsasl2 -ldb -llmdb -lsqlite3 -lpq -lmariadb -lldap -llber -lpcre2-8 -lsodium -lcrypt -lresolv -pthread

LIB_SRC	:= $(wildcard lib/*/*.c)
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBA	:= $(BUILD)/libposthorn.a

# program name -> sources
SRC_master	:= $(wildcard master/master*.c)
SRC_postlogd	:= master/postlogd.c
SRC_anvil	:= master/anvil.c
SRC_proxymap	:= master/proxymap.c
SRC_spawn	:= master/spawn.c
SRC_smtpd	:= $(wildcard smtpd/*.c)
SRC_qmgr	:= $(wildcard qmgr/*.c)
SRC_local	:= $(wildcard local/*.c)
SRC_smtp	:= $(wildcard smtp/*.c)
SRC_showq	:= $(wildcard postqueue/showq*.c)
SRC_pickup	:= $(wildcard pickup/*.c)
SRC_pop3d	:= $(wildcard pop3d/*.c)
SRC_imapd	:= $(wildcard imapd/*.c)
SRC_posthorn	:= master/posthorn.c
SRC_postconf	:= $(wildcard master/postconf*.c)
SRC_sendmail	:= $(wildcard postqueue/sendmail*.c)
SRC_postqueue	:= $(wildcard postqueue/postqueue*.c)
SRC_postsuper	:= $(wildcard postqueue/postsuper*.c)
SRC_postcat	:= $(wildcard postqueue/postcat*.c)
SRC_postmap	:= postmap/postmap.c postmap/maptool.c
SRC_postalias	:= postmap/postalias.c postmap/maptool.c

LIBEXEC_PROGS	:= master smtpd qmgr local smtp showq pickup pop3d imapd postlogd anvil proxymap spawn
BIN_PROGS	:= posthorn postconf sendmail postqueue postsuper postcat postmap postalias
# programs whose sources exist (later issues add more)
LIBEXEC_BUILT	:= $(foreach p,$(LIBEXEC_PROGS),$(if $(SRC_$(p)),$(BUILD)/libexec/$(p)))
BIN_BUILT	:= $(foreach p,$(BIN_PROGS),$(if $(SRC_$(p)),$(BUILD)/bin/$(p)))

UNIT_SRC	:= $(wildcard test/unit/test_*.c)
UNIT_BIN	:= $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)

PYTEST	:= /usr/bin/python3 -m pytest
# Integration tests mostly wait (timers, timeouts, other processes): three
# pytest-xdist workers, one test file each at a time (module instances
# stay in one worker); free_port() gives each worker its own port range.
PYTEST_PAR = $(shell /usr/bin/python3 -c 'import xdist' 2>/dev/null && printf '%s' '-n 3 --dist loadfile')

.PHONY: all progs man deps check check-layers check-unit check-integration check-nonroot check-fuzz run stop install bench deb check-deb clean
all: progs $(UNIT_BIN)

# the programs alone: what install needs (the unit tests need libcmocka-dev)
progs: $(LIBEXEC_BUILT) $(BIN_BUILT) $(BUILD)/bin/mailq $(BUILD)/bin/newaliases

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define program
$(2)/$(1): $$(SRC_$(1):%.c=$(BUILD)/obj/%.o) $$(LIBA)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(SRC_$(1):%.c=$(BUILD)/obj/%.o) $$(LIBA) $$(LIBS)
endef
$(foreach p,$(LIBEXEC_PROGS),$(eval $(call program,$(p),$(BUILD)/libexec)))
$(foreach p,$(BIN_PROGS),$(eval $(call program,$(p),$(BUILD)/bin)))

$(BUILD)/bin/mailq $(BUILD)/bin/newaliases: $(BUILD)/bin/sendmail
	ln -sf sendmail $@

$(BUILD)/test/%: test/unit/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS) -lcmocka

# test_milter_libmilter drives a filter built on Sendmail's libmilter
# (libmilter-dev), a program of its own: test/unit/milter_libmilter.c
$(BUILD)/test/milter_libmilter: test/unit/milter_libmilter.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lmilter -pthread
$(BUILD)/test/test_milter_libmilter: $(BUILD)/test/milter_libmilter

-include $(shell find $(BUILD)/obj $(BUILD)/test -name '*.d' 2>/dev/null)

deps:
	@sh mk/deps.sh build test

# Under the sanitizers, the integration tests whose work is mostly done by
# other programs (OpenDKIM, rspamd, SpamAssassin, fail2ban, pflogsumm,
# Dovecot, Postfix's postconf for comparison) or that measure load and
# memory (which ASan changes) are left out: they run in the normal pass.
SAN_SKIP = $(foreach t,milter_opendkim milter_rspamd milter_spamass fail2ban \
	pflogsumm imap_dovecot postconf_master seed_config many_sessions \
	bigqueue commit_kill,--ignore=test/integration/test_$(t).py)

# Builds in check use every core (JOBS); the tests bring their own parallelism
JOBS	?= $(shell nproc 2>/dev/null || echo 2)

check: deps
	sh mk/check-layers.sh
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) SAN=1 all
	$(MAKE) -j$(JOBS) check-unit
	$(MAKE) -j$(JOBS) SAN=1 check-unit
	$(MAKE) check-integration
	$(MAKE) SAN=1 check-integration PYTEST_ARGS='$(SAN_SKIP) $(PYTEST_ARGS)'
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) check-nonroot; fi
	$(MAKE) check-fuzz

check-layers:
	sh mk/check-layers.sh

# A short run of every libFuzzer harness (test/fuzz/README.md); longer:
# sh test/fuzz/run.sh 600
check-fuzz:
	sh test/fuzz/run.sh 5

check-unit: $(UNIT_BIN)
	@sh mk/run-unit.sh $(UNIT_BIN)

check-integration: all
	POSTHORN_BUILD=$(CURDIR)/$(BUILD) $(PYTEST) -q -ra $(PYTEST_PAR) test/integration $(PYTEST_ARGS)

# As root, also run the integration tests as an unprivileged user: that is
# how developers and `make run` without root use Posthorn.
check-nonroot: all
	sh mk/check-nonroot.sh $(BUILD) $(PYTEST_PAR) $(PYTEST_ARGS)

run: deps all
	@sh mk/run.sh start $(CURDIR)/$(BUILD)

stop:
	@sh mk/run.sh stop $(CURDIR)/$(BUILD)

bench: deps all
	@sh mk/deps.sh bench
	@sh test/bench/bench_smtp.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_postmap.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_proxymap.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_relay.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_queue.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_sessions.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_pop3.sh $(CURDIR)/$(BUILD)
	@sh test/bench/bench_imap.sh $(CURDIR)/$(BUILD)

# MANDIR: manual pages ($(BUILD)/man/*.[158], made by the man target)
MANDIR	?= $(PREFIX)/share/man

# Manual pages into $(BUILD)/man; postconf(5) from postconf -d (mk/mkman.sh
# fails when a parameter has no description)
man: progs
	sh mk/mkman.sh $(BUILD)

install: progs man
	install -d $(DESTDIR)$(DAEMON_DIR) $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(CONFIG_DIR)
	install -m 755 $(LIBEXEC_BUILT) $(DESTDIR)$(DAEMON_DIR)/
	install -m 755 $(BIN_BUILT) $(DESTDIR)$(PREFIX)/sbin/
	ln -sf ../sbin/sendmail $(DESTDIR)$(PREFIX)/bin/mailq
	ln -sf ../sbin/sendmail $(DESTDIR)$(PREFIX)/bin/newaliases
	for f in main.cf master.cf; do \
	  [ -f $(DESTDIR)$(CONFIG_DIR)/$$f ] || install -m 644 conf/$$f $(DESTDIR)$(CONFIG_DIR)/$$f; done
	# manual pages: sections 1, 5 and 8
	@for s in 1 5 8; do \
	  for f in $(BUILD)/man/*.$$s; do [ -f "$$f" ] || continue; \
	    install -d $(DESTDIR)$(MANDIR)/man$$s; \
	    echo "install -m 644 $$f $(DESTDIR)$(MANDIR)/man$$s/"; \
	    install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done; done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then sh mk/mkuser.sh posthorn; fi

# The Debian package: built with dpkg-buildpackage in a copy of this tree
# (build-deb/src), so build/ and the tree stay as they are; the .deb lands
# in build-deb/.  check-deb installs, upgrades and purges it in a Debian 12
# container (debootstrap; systemd-nspawn when it can boot one, else chroot).
deb:
	@sh mk/deps.sh build deb
	sh mk/deb.sh -j $(JOBS) build-deb

check-deb:
	@sh mk/deps.sh build deb
	sh test/deb/run.sh

clean:
	rm -rf build build-san build-deb
