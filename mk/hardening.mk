# Hardening (issue 8): host threads, sanitizers, every export under cgocheck2, the soak.
#   make stress       ctest/stress_test.c: 16 pthreads, 20 000 sync + background requests
#   make asan         the C tests built with -fsanitize=address,undefined, leak detection
#                     on, plus controls that must be reported (a leak, a heap overflow, UB)
#   make cgocheck2    (Makefile) also runs stress_test, which calls all 21 exports
#   make soak         200 000 mixed requests, 5 % faults; series, slope and docs/soak.png
#                     (not part of make test; SOAK_ARGS='-n 20000 -every 2000' for a short run)
# The hostile-server cases are Go tests (engine/hostile_test.go), run by make gotest.
.PHONY: stress asan cgocheck2-stress soak

$(CT)/stress_test: ctest/stress_test.c ctest/testserver.c ctest/testserver.h ctest/check.h include/hc.h $(LIB)
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< ctest/testserver.c $(LINK_HC)

stress: $(CT)/stress_test
	timeout 120 $(CT)/stress_test

# ---- AddressSanitizer + UndefinedBehaviorSanitizer -----------------------------------
# gcc's own runtimes (libasan, libubsan: dependencies of Debian's gcc). Only the test
# programs are instrumented; libhc's C code is the thin capi.c and cgo's wrappers, whose
# malloc'd result blocks ASan tracks through its malloc interceptor, so a block freed
# twice, used after hc_result_free or never freed is reported. Leak detection stays on,
# with nothing suppressed: the permanent hc_curlerror strings are referenced from a C
# global (capi.h: hc__curl_texts). UB aborts at once (-fno-sanitize-recover).
ASAN_DIR := $(CT)/asan
ASAN_CFLAGS := $(CFLAGS_T) -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_TESTS := api_test bg_test fork_test stress_test
# The tests that load libhc with bindings/c's loader, given its path, and the one that
# loads it beside another Go runtime.
ASAN_DL_TESTS := dl_test signal_test

$(ASAN_DIR)/%: ctest/%.c ctest/testserver.c ctest/check.h ctest/testserver.h include/hc.h $(LIB)
	@mkdir -p $(@D)
	gcc $(ASAN_CFLAGS) -o $@ $< ctest/testserver.c $(LINK_HC)

$(addprefix $(ASAN_DIR)/,$(ASAN_DL_TESTS)): $(ASAN_DIR)/%: ctest/%.c ctest/check.h bindings/c/hc_dl.c bindings/c/hc_dl.h include/hc.h
	@mkdir -p $(@D)
	gcc $(ASAN_CFLAGS) -o $@ $< bindings/c/hc_dl.c -ldl -lpthread

$(ASAN_DIR)/multi_runtime_test: ctest/multi_runtime_test.c ctest/check.h include/hc.h $(LIB) $(CT)/libotherruntime.so
	@mkdir -p $(@D)
	gcc $(ASAN_CFLAGS) -o $@ $< $(LINK_HC) -ldl

$(ASAN_DIR)/asan_control: ctest/asan_control.c include/hc.h $(LIB)
	@mkdir -p $(@D)
	gcc $(ASAN_CFLAGS) -o $@ $< $(LINK_HC)

asan: $(addprefix $(ASAN_DIR)/,$(ASAN_TESTS) $(ASAN_DL_TESTS) multi_runtime_test) $(ASAN_DIR)/asan_control
	@for t in $(ASAN_TESTS); do echo "asan: $$t"; \
	  $(ASAN_ENV) timeout 300 $(ASAN_DIR)/$$t || { echo "asan: $$t failed"; exit 1; }; done
	@for t in $(ASAN_DL_TESTS); do echo "asan: $$t"; \
	  $(ASAN_ENV) timeout 120 $(ASAN_DIR)/$$t $(CURDIR)/$(LIB) || { echo "asan: $$t failed"; exit 1; }; done
	@echo "asan: multi_runtime_test"; $(ASAN_ENV) timeout 60 $(ASAN_DIR)/multi_runtime_test $(CURDIR)/$(CT)/libotherruntime.so \
	  || { echo "asan: multi_runtime_test failed"; exit 1; }
	@# The controls: each must be caught, or the sanitizers are not really on.
	@for c in 'leak:LeakSanitizer: detected memory leaks' 'heap:heap-buffer-overflow|insufficient space for an object' \
	          'ub:signed integer overflow'; do m=$${c%%:*}; want=$${c#*:}; \
	  if $(ASAN_ENV) $(ASAN_DIR)/asan_control $$m >$(ASAN_DIR)/control-$$m.log 2>&1; then \
	    echo "asan: control '$$m' was not reported"; exit 1; fi; \
	  grep -qE "$$want" $(ASAN_DIR)/control-$$m.log \
	    || { echo "asan: control '$$m' failed without the sanitizer's report"; cat $(ASAN_DIR)/control-$$m.log; exit 1; }; \
	  echo "asan: control '$$m' reported, as it must be"; done

# ---- every export against the cgocheck2 build ---------------------------------------
cgocheck2: cgocheck2-stress

cgocheck2-stress: $(BUILD)/cgocheck2/libhc.so $(CT)/stress_test
	LD_LIBRARY_PATH=$(BUILD)/cgocheck2 timeout 300 $(CT)/stress_test

test: stress asan

# ---- soak (not in CI) -----------------------------------------------------------------
SOAK_DIR := $(BUILD)/soak
SOAK_ARGS ?=

$(SOAK_DIR)/soak: ctest/soak/main.go $(GO_SRC)
	@mkdir -p $(@D)
	$(GO) build -o $@ ./ctest/soak

soak: $(SOAK_DIR)/soak
	@command -v gnuplot >/dev/null || { echo "soak: installing gnuplot-nox"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q gnuplot-nox >/dev/null; }
	set -o pipefail; $(SOAK_DIR)/soak -out $(SOAK_DIR)/series.dat $(SOAK_ARGS) | tee $(SOAK_DIR)/soak.log
	@mkdir -p docs
	gnuplot -e "data='$(SOAK_DIR)/series.dat'; out='docs/soak.png'" ctest/soak/plot.gp
	@echo "soak: series in $(SOAK_DIR)/series.dat, log in $(SOAK_DIR)/soak.log, plot in docs/soak.png"
