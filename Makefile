# calcspec: plain GNU make.  `make demo` and `make check` are the two
# commands of the README; both install missing Debian packages first.

VERSION   := 0.7.0
SOVERSION := 0
PREFIX    ?= /usr/local
DESTDIR   ?=
LIBDIR    ?= $(PREFIX)/lib
# Python package (src/python/calcspec): PREFIX/lib/python3.X/dist-packages,
# which Debian's /usr/bin/python3 searches for PREFIX /usr and /usr/local.
PYVER     := $(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)
PYDIR     ?= $(PREFIX)/lib/python$(PYVER)/dist-packages
DATADIR   ?= $(PREFIX)/share/calcspec
BUILD     ?= build
CC        ?= cc
# -O3: vectorises element-wise loops, which keeps IEEE results (no
# reassociation or contraction without -ffast-math / -ffp-contract in C11
# mode): the same bits, classify ~7 % less CPU than -O2 (session 25)
CFLAGS    ?= -O3 -g
SHARED    ?= $(abspath ../shared)

# Debian packages needed to build and test (checked by `make deps`).
DEB_PKGS := gcc make pkg-config libfftw3-dev liblapacke-dev libopenblas-dev \
            libxml2-dev libjansson-dev libcmocka-dev \
            libzip-dev nettle-dev libgsl-dev libyajl-dev libcairo2-dev \
            poppler-utils python3 python3-numpy parallel
PKGS     := fftw3 lapacke openblas libxml-2.0 jansson libzip nettle gsl
CLI_PKGS := yajl cairo fontconfig  # the command-line tool only (stream's request
                        # parser; plot, report and map draw with cairo)

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(CLI_PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CS_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
             -Iinclude -Isrc -fPIC -fvisibility=hidden $(PKG_CFLAGS) $(SAN)
LDLIBS     = $(PKG_LIBS) -lm -lpthread
CLI_LIBS   = $(shell pkg-config --libs $(CLI_PKGS))

LIB_SRC  := $(sort $(wildcard src/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:src/cli/%.c=$(BUILD)/obj/cli/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

STATIC   := $(BUILD)/libcalcspec.a
SONAME   := libcalcspec.so.$(SOVERSION)
SHLIB    := $(BUILD)/libcalcspec.so.$(VERSION)
BIN      := $(BUILD)/calcspec

.PHONY: all deps check test demo bench install uninstall asan clean FORCE \
        fuzz fuzz-deps fuzz-bins leakcheck leakcheck-deps
.DEFAULT_GOAL := all

all: $(STATIC) $(SHLIB) $(BIN)

# Install what is missing with apt-get when root; otherwise print the exact
# command.  A no-op when everything is present.  $(1): the package list.
define install_debs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "calcspec: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends$$missing >/dev/null || exit 1; \
	else \
	  echo "calcspec: missing Debian packages; run: sudo apt-get install$$missing" >&2; \
	  exit 1; fi
endef

deps:
	$(call install_debs,$(DEB_PKGS))

$(BUILD)/obj/%.o: src/%.c include/calcspec.h src/internal.h src/readers.def $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CS_CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: src/cli/%.c include/calcspec.h $(wildcard src/cli/*.h src/cli/*.def)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CS_CFLAGS) -c $< -o $@

# The default models are trained at build time: a bootstrap calcspec
# (stage0, no models) generates the SYNTHETIC reference library with fixed
# seeds (spectra/generate.sh reference, into build/gen/reference; never
# committed) and trains it, then build/gen/default_models.c embeds the
# model texts.  Raman gets one model per standard window, widest first: a
# spectrum that does not cover one is classified with the next (README
# "Classifier": 380-1800 full range with room below whitlockite's 405 for
# axis drift, 400-1800 for spectra that start at 400, 700-1800 fibre probes,
# 400-1200 processed RRUFF-like files, 850-1100 the diagnostic core).
GEN        := $(BUILD)/gen
MODEL_OBJ  := $(BUILD)/obj/gen/default_models.o
STAGE0     := $(BUILD)/stage0/calcspec
REF_DIR    := $(GEN)/reference
REF_STAMP  := $(REF_DIR)/.complete
RAMAN_WINDOWS := 380-1800 400-1800 700-1800 400-1200 850-1100
RAMAN_MODELS  := $(RAMAN_WINDOWS:%=$(GEN)/model_raman_%.txt)

# The default carbonate calibrations (spectra/calibration/carbonate_*.txt,
# fitted on SYNTHETIC standards, see spectra/calibration/README.md) are
# compiled into the library the same way; a missing file embeds none.
CAL_TXT := $(wildcard spectra/calibration/carbonate_raman.txt spectra/calibration/carbonate_ftir.txt)
LIB_OBJ += $(BUILD)/obj/gen/default_calibration.o
$(GEN)/default_calibration.c: $(CAL_TXT) Makefile
	@mkdir -p $(@D)
	@{ echo '/* generated from spectra/calibration: do not edit */'; \
	  echo '#include "internal.h"'; echo '#include <string.h>'; \
	  for t in raman ftir; do f=spectra/calibration/carbonate_$$t.txt; \
	    echo "static const char cal_$$t[] ="; \
	    if [ -f $$f ]; then sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $$f; else echo '""'; fi; \
	    echo ';'; done; \
	  echo 'const char *csi_default_calibration(cs_technique t, size_t *len) {'; \
	  echo '  const char *s = t == CS_TECH_RAMAN ? cal_raman : t == CS_TECH_FTIR ? cal_ftir : NULL;'; \
	  echo '  *len = s ? strlen(s) : 0;'; echo '  return s && *s ? s : NULL;'; echo '}'; } > $@

$(GEN)/no_models.c: Makefile
	@mkdir -p $(@D)
	@printf '%s\n' '/* generated: bootstrap build without embedded models */' \
	  '#include "internal.h"' \
	  'const char *csi_default_model(cs_technique t, size_t i, size_t *len) {' \
	  '  (void)t; (void)i; *len = 0; return NULL; }' > $@

$(BUILD)/obj/gen/%.o: $(GEN)/%.c include/calcspec.h src/internal.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CS_CFLAGS) -c $< -o $@

$(STAGE0): $(CLI_OBJ) $(LIB_OBJ) $(BUILD)/obj/gen/no_models.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(CLI_LIBS) $(LDLIBS)

$(REF_STAMP): $(STAGE0) spectra/generate.sh
	@rm -rf $(REF_DIR)
	sh spectra/generate.sh $(STAGE0) $(GEN) reference
	@touch $@

$(GEN)/model_raman_%.txt: $(REF_STAMP)
	$(STAGE0) -q train --range $(subst -,:,$*) -o $@ $(REF_DIR)/raman
$(GEN)/model_ftir.txt: $(REF_STAMP)
	$(STAGE0) -q train -o $@ $(REF_DIR)/ftir

# Each model line becomes a C string literal (the texts hold no quotes or
# backslashes, but escape them anyway).
$(GEN)/default_models.c: $(RAMAN_MODELS) $(GEN)/model_ftir.txt
	@{ echo '/* generated by calcspec train from build/gen/reference: do not edit */'; \
	  echo '#include "internal.h"'; echo '#include <string.h>'; \
	  i=0; for f in $(RAMAN_MODELS); do echo "static const char raman$$i[] ="; \
	    sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $$f; echo ';'; i=$$((i + 1)); done; \
	  echo 'static const char ftir0[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $(GEN)/model_ftir.txt; echo ';'; \
	  printf 'static const char *const raman[] = {'; \
	  i=0; for f in $(RAMAN_MODELS); do printf 'raman%s, ' $$i; i=$$((i + 1)); done; echo 'NULL};'; \
	  echo 'static const char *const ftir[] = {ftir0, NULL};'; \
	  echo 'const char *csi_default_model(cs_technique t, size_t i, size_t *len) {'; \
	  echo '  const char *const *v = t == CS_TECH_RAMAN ? raman : t == CS_TECH_FTIR ? ftir : NULL;'; \
	  echo '  *len = 0;'; \
	  echo '  for (size_t k = 0; v && k < i; k++)'; echo '    if (!v[k]) return NULL;'; \
	  echo '  if (!v || !v[i]) return NULL;'; \
	  echo '  *len = strlen(v[i]);'; echo '  return v[i];'; echo '}'; } > $@

$(STATIC): $(LIB_OBJ) $(MODEL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHLIB): $(LIB_OBJ) $(MODEL_OBJ)
	$(CC) $(CFLAGS) $(SAN) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)
	ln -sf libcalcspec.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libcalcspec.so

$(BIN): $(CLI_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(CLI_OBJ) $(STATIC) $(CLI_LIBS) $(LDLIBS)

# Unit tests: one cmocka program per tests/test_*.c, linked statically so
# they can reach internal (csi_) functions too.
$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CS_CFLAGS) -Itests -o $@ $< $(STATIC) \
	  $(shell pkg-config --cflags --libs cmocka) $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory test

# The test run itself (no dependency step): unit tests, then CLI tests.
test: all $(TESTS)
	@CALCSPEC_SHARED="$(SHARED)" CALCSPEC="$(abspath $(BIN))" \
	  CALCSPEC_REFERENCE="$(abspath $(REF_DIR))" sh tests/run.sh $(TESTS)

# LeakSanitizer runs at the exit of every test process; exit code 23 for a
# leak makes it a failure even where a test expects exit 1.
asan: deps
	@LSAN_OPTIONS="exitcode=23 $${LSAN_OPTIONS:-}" $(MAKE) --no-print-directory \
	  BUILD=build/asan CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

# Fuzzing (tests/fuzz, README "Tests"): one libFuzzer target per reader in
# src/readers.def (read_NAME, plus read_any: content sniffing) and per text
# parser (tests/fuzz/fuzz_NAME.c), built with clang in build/fuzz, seeded
# by tests/fuzz/seeds.sh and run FUZZ_SECONDS each by tests/fuzz/run.sh,
# which fails on any finding.
FUZZ_DEB_PKGS := clang libclang-rt-dev
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_DIR      := build/fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=undefined
READER_NAMES  := $(shell sed -n 's/^CS_READER(\([A-Za-z0-9_]*\)).*/\1/p' src/readers.def)
FUZZ_PARSERS  := $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_read.c,\
                   $(sort $(wildcard tests/fuzz/fuzz_*.c))))
FUZZ_TARGETS  := $(addprefix read_,$(READER_NAMES) any) $(FUZZ_PARSERS)
FUZZ_CLI_OBJ   = $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_OBJ))
FUZZ_LINK      = $(CC) $(CFLAGS) $(CS_CFLAGS) -fsanitize=fuzzer -Isrc/cli -Itests/fuzz

fuzz-deps:
	$(call install_debs,$(FUZZ_DEB_PKGS))

fuzz: deps fuzz-deps
	@$(MAKE) --no-print-directory all \
	  $(filter $(foreach r,$(READER_NAMES),$(BUILD)/tests/test_$(r)),$(TESTS))
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-bins
	@sh tests/fuzz/seeds.sh $(BUILD) $(FUZZ_DIR) "$(SHARED)" $(FUZZ_TARGETS)
	@sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-bins: $(addprefix $(BUILD)/bin/,$(FUZZ_TARGETS))

$(BUILD)/bin/read_%: tests/fuzz/fuzz_read.c tests/fuzz/fuzz.h $(STATIC)
	@mkdir -p $(@D)
	$(FUZZ_LINK) -DFUZZ_READER='"$(patsubst any,,$*)"' -o $@ $< $(STATIC) $(LDLIBS)

$(BUILD)/bin/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(STATIC) $(FUZZ_CLI_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_LINK) -o $@ $< $(FUZZ_CLI_OBJ) $(STATIC) $(CLI_LIBS) $(LDLIBS)

# Leak check (README "Tests"): every unit test and the CLI tests under
# valgrind; fails on any definite/indirect leak or memory error.
# LEAK_TESTS narrows the unit tests (default all), CLI_TESTS the CLI tests.
LEAK_TESTS ?= $(TESTS)
leakcheck-deps:
	$(call install_debs,valgrind)

leakcheck: deps leakcheck-deps
	@$(MAKE) --no-print-directory all $(LEAK_TESTS)
	@CALCSPEC_SHARED="$(SHARED)" CALCSPEC="$(abspath $(BIN))" \
	  sh tests/leakcheck.sh $(LEAK_TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh $(BIN)

# Benchmarks (not timed tests): every tests/bench_*.c, run in name order;
# tests/bench_*.py run too when python3 has what they import.
# tests/bench_peer.sh: side by side with the Python stack (CALCSPEC_BENCH_N).
BENCH_SRC := $(sort $(wildcard tests/bench_*.c))
BENCHES   := $(BENCH_SRC:tests/%.c=$(BUILD)/bench/%)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCHES)
	@for b in $(BENCHES); do CALCSPEC_SHARED="$(SHARED)" CALCSPEC="$(abspath $(BIN))" $$b || exit 1; done
	@CALCSPEC_SHARED="$(SHARED)" CALCSPEC="$(abspath $(BIN))" sh tests/bench_peer.sh
	@if [ -x /usr/bin/python3 ]; then CALCSPEC="$(abspath $(BIN))" \
	  CALCSPEC_LIB="$(abspath $(SHLIB))" PYTHONPATH=src/python /usr/bin/python3 tests/bench_python.py; \
	else echo "bench_python: skipped (/usr/bin/python3 absent)"; fi

$(BUILD)/bench/%: tests/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) -O2 -g $(CS_CFLAGS) -Itests -o $@ $< $(STATIC) $(LDLIBS)

# Regenerated on every install: it records PREFIX/LIBDIR of that install.
$(BUILD)/calcspec.pc: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$${prefix}/include' '' \
	  'Name: calcspec' 'Description: Raman/FTIR spectra of breast microcalcifications' \
	  'Version: $(VERSION)' 'Requires.private: fftw3 lapacke openblas libxml-2.0 jansson libzip nettle gsl' \
	  'Libs: -L$${libdir} -lcalcspec' 'Libs.private: -lm -lpthread' \
	  'Cflags: -I$${includedir}' > $@

FORCE:

install: all $(BUILD)/calcspec.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/calcspec
	install -m 644 include/calcspec.h $(DESTDIR)$(PREFIX)/include/calcspec.h
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libcalcspec.a
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/libcalcspec.so.$(VERSION)
	ln -sf libcalcspec.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcalcspec.so
	install -m 644 $(BUILD)/calcspec.pc $(DESTDIR)$(LIBDIR)/pkgconfig/calcspec.pc
	sed -e "s|/usr/local/share/calcspec|$(DATADIR)|g" -e "s|PREFIX/share/calcspec|$(DATADIR)|g" \
	  src/cli/calcspec.1 > $(DESTDIR)$(PREFIX)/share/man/man1/calcspec.1
	install -d $(DESTDIR)$(PYDIR)/calcspec
	sed -e "s|^_LIBDIR = None.*|_LIBDIR = \"$(LIBDIR)\"|" \
	  -e "s|^_BINDIR = None.*|_BINDIR = \"$(PREFIX)/bin\"|" src/python/calcspec/__init__.py \
	  > $(DESTDIR)$(PYDIR)/calcspec/__init__.py
	@# data as plain files: README, the SYNTHETIC example cores, the default
	@# models (the texts embedded in the library) and calibrations
	install -d $(DESTDIR)$(DATADIR)/models $(DESTDIR)$(DATADIR)/calibration
	install -m 644 README.md $(DESTDIR)$(DATADIR)/README.md
	install -m 644 $(RAMAN_MODELS) $(GEN)/model_ftir.txt $(DESTDIR)$(DATADIR)/models/
	install -m 644 spectra/calibration/carbonate_raman.txt spectra/calibration/carbonate_ftir.txt \
	  spectra/calibration/README.md $(DESTDIR)$(DATADIR)/calibration/
	cd spectra && find examples -type f | while read f; do \
	  install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/$$f" || exit 1; done
	install -m 755 src/python/acquire_example.py $(DESTDIR)$(DATADIR)/examples/acquire_example.py

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/calcspec $(DESTDIR)$(PREFIX)/include/calcspec.h \
	  $(DESTDIR)$(LIBDIR)/libcalcspec.a $(DESTDIR)$(LIBDIR)/libcalcspec.so.$(VERSION) \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libcalcspec.so \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/calcspec.pc $(DESTDIR)$(PREFIX)/share/man/man1/calcspec.1 \
	  $(DESTDIR)$(PYDIR)/calcspec/__init__.py
	rm -rf $(DESTDIR)$(PYDIR)/calcspec/__pycache__ $(DESTDIR)$(DATADIR)
	-rmdir $(DESTDIR)$(PYDIR)/calcspec 2>/dev/null

clean:
	rm -rf $(BUILD) build

# Regenerate the synthetic example cores (spectra/examples, byte-identical
# for the fixed seeds in spectra/generate.sh); the reference library is
# made by the build (build/gen/reference), not committed.
.PHONY: spectra
spectra: $(BIN)
	sh spectra/generate.sh $(BIN) spectra examples
