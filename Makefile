# txmail - one non-recursive Makefile.
#
#   make            build everything (build/bin, build/obj)
#   make deps       install the Debian packages of scripts/debian-packages.txt
#   make run        deps + build + local stack up + send a demo message
#   make test       deps + build + unit, integration and fuzz tests against real services
#   make unit       unit tests only
#   make bench      benchmarks (never part of make test)
#   make ASAN=1 ... the same with AddressSanitizer + UBSan (build-asan/)
#
# Each directory contributes a module.mk fragment that appends to PROGRAMS,
# LIBS and UNIT_TESTS; see lib/util/module.mk for the pattern.

CC       ?= cc
WERROR   ?= -Werror
ifeq ($(ASAN),1)
B        := build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1 -g
FORTIFY  :=
else
B        := build
SANFLAGS :=
OPT      := -O2 -g
FORTIFY  := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
# hardening (tests/scripts/hardening_test.sh checks the binaries): stack
# protector, fortified libc calls, PIE, full RELRO, non-executable stack
HARDEN_CFLAGS  := $(FORTIFY) -fstack-protector-strong -fPIE -fstack-clash-protection
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack

PKGS     := librabbitmq libmariadb jansson openssl libcurl libzip libmicrohttpd \
            libevent libevent_openssl libcares libidn2 gmime-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral $(WERROR)
CFLAGS   := -std=gnu11 $(OPT) $(WARN) $(SANFLAGS) $(HARDEN_CFLAGS) -D_GNU_SOURCE -pthread \
            -Ilib -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := $(SANFLAGS) $(HARDEN_LDFLAGS) -pthread -Wl,--as-needed $(EXTRA_LDFLAGS)
LDLIBS   := $(PKG_LIBS) -lm

PROGRAMS   :=
UNIT_TESTS :=
LIBUTIL_SRC   :=
LIBGLOBAL_SRC :=

.PHONY: all deps run test unit integration bench clean stack-up stack-down fuzz
all:

include lib/util/module.mk lib/global/module.mk
include $(sort $(wildcard lib/global/*/module.mk)) $(sort $(wildcard producers/*/module.mk workers/*/module.mk admin/*/module.mk tests/*/module.mk bench/module.mk))

LIBUTIL   := $(B)/lib/libtxutil.a
LIBGLOBAL := $(B)/lib/libtxglobal.a
obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

$(LIBUTIL): $(call obj,$(LIBUTIL_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
$(LIBGLOBAL): $(call obj,$(LIBGLOBAL_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# every object depends on the compiler flags: a changed flag rebuilds all
FLAGS_STAMP := $(B)/flags.$(shell echo '$(CC) $(CFLAGS) $(LDFLAGS)' | md5sum | cut -c1-12)
$(FLAGS_STAMP):
	@mkdir -p $(B) && rm -f $(B)/flags.* && touch $@

$(B)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# prog_rule NAME SOURCES [EXTRA_LIBS] - link build/bin/NAME
define prog_rule
$(B)/bin/$(1): $(call obj,$(2)) $(LIBGLOBAL) $(LIBUTIL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $(3)
all: $(B)/bin/$(1)
endef
$(foreach p,$(PROGRAMS),$(eval $(call prog_rule,$(p),$($(p)_SRC),$($(p)_LIBS))))

# unit tests: NAME_test built from NAME_test.c + extra sources
define unit_rule
$(B)/test/$(1): $(call obj,$(2)) $(LIBGLOBAL) $(LIBUTIL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $(3)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t),$($(t)_SRC),$($(t)_LIBS))))
UNIT_BINS := $(addprefix $(B)/test/,$(UNIT_TESTS))

all: $(UNIT_BINS)

deps:
	@scripts/deps

unit: all
	@tests/run-unit $(B)

integration: all
	@tests/run-integration $(B)

# test and run install what is missing first, then build in a second make:
# this one read pkg-config's flags before the packages were there
test: deps
	@$(MAKE) --no-print-directory all
	@tests/run-all $(B)

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/txmail-stack up && scripts/txmail-demo

stack-up: all
	@scripts/txmail-stack up
stack-down:
	@scripts/txmail-stack down

bench: all
	@bench/run

fuzz:
	@tests/fuzz/run

clean:
	rm -rf build build-asan

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
