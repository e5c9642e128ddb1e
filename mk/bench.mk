# make bench: libhc against libcurl, side by side, on a loopback nginx (issue 7).
#   make bench                        >= 7 interleaved rounds; prints the table, rewrites the
#                                     generated part of BENCHMARKS.md and ctest/bench/ratios.png
#   make bench BENCH_ARGS='--rounds 9 --scale 2'
#   make bench BENCH_ARGS='--only "sync kept /small" --rounds 3'   (tuning: prints only)
#   make bench-cold                   one call's cost right after a sleep, from C and from Python
#                                     (no server; BENCHMARKS.md, item 17)
#   make bench-smoke                  every mode once, a few requests, and the 1 MiB body under
#                                     valgrind (part of make test)
#   make bench-pprof BENCH_PPROF='background 64'   pprof CPU and allocation profiles of hc's
#                                     side of modes, through the C driver (BENCH_PPROF_SCALE
#                                     multiplies the requests; files in build/pprof/out)
# The incumbent is ../shared/bench/curl_bench.c, compiled unmodified; curl_post_shim.c gives
# it a POST body through two -D renames. nginx, wrk, gnuplot and libcurl's headers are
# installed by bench-deps when missing (Debian packages).
BENCH := $(BUILD)/bench
BENCH_CURL_SRC := $(CURDIR)/../shared/bench/curl_bench.c
BENCH_RUN = python3 ctest/bench/run.py --hc $(BENCH)/hc_bench --curl $(BENCH)/curl_bench --lib $(CURDIR)/$(LIB) \
            --measure $(BENCH)/measure

.PHONY: bench bench-smoke bench-deps bench-cold bench-cold-smoke bench-pprof bench-pprof-smoke

bench-deps:
	@need=""; \
	command -v nginx >/dev/null || need="$$need nginx-light"; \
	command -v wrk >/dev/null || need="$$need wrk"; \
	command -v gnuplot >/dev/null || need="$$need gnuplot-nox"; \
	[ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || need="$$need libcurl4-openssl-dev"; \
	command -v openssl >/dev/null || need="$$need openssl"; \
	if [ -n "$$need" ]; then echo "bench: installing$$need"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q $$need >/dev/null; fi

# The programs that call libhc.
BENCH_CC := gcc -std=c99 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -Iinclude
$(BENCH)/hc_bench $(BENCH)/cold_call: $(BENCH)/%: ctest/bench/%.c include/hc.h $(LIB)
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $< $(LINK_HC)

$(BENCH)/measure: ctest/bench/measure.c
	@mkdir -p $(@D)
	gcc -std=c99 -Wall -Wextra -Werror -O2 -o $@ $<

$(BENCH)/curl_post_shim.o: ctest/bench/curl_post_shim.c
	@mkdir -p $(@D)
	gcc -std=c99 -Wall -Wextra -Werror -O2 -c -o $@ $<

$(BENCH)/curl_bench: $(BENCH_CURL_SRC) $(BENCH)/curl_post_shim.o
	gcc -O2 -Wall -Dcurl_easy_perform=bench_easy_perform -Dcurl_multi_add_handle=bench_multi_add_handle \
	    -o $@ $< $(BENCH)/curl_post_shim.o -lcurl

# run.py records the command in BENCHMARKS.md; BENCH_ARGS reaches it through the
# environment, as given (re-quoting it in the recipe would break its inner quotes).
bench: export BENCH_ARGS := $(BENCH_ARGS)
bench: bench-deps $(BENCH)/hc_bench $(BENCH)/curl_bench $(BENCH)/measure
	$(BENCH_RUN) $(BENCH_ARGS)

# Profiles through the C driver: hc_bench linked against a library built with -tags
# hcprofile (profile.go), which profiles itself when HC_PPROF names where to write. The
# shipped library is never built with it (a CPU profile installs a SIGPROF handler).
PPROF := $(BUILD)/pprof
BENCH_PPROF ?= background 64
BENCH_PPROF_SCALE ?= 10
$(PPROF)/libhc.so: GO_TAGS := -tags hcprofile
$(PPROF)/libhc.so: $(GO_SRC)
	@mkdir -p $(@D)
	$(BUILD_LIB)

$(PPROF)/hc_bench: ctest/bench/hc_bench.c include/hc.h $(PPROF)/libhc.so
	$(BENCH_CC) -o $@ $< -L$(PPROF) -lhc -Wl,-rpath,$(CURDIR)/$(PPROF) -lpthread

bench-pprof: bench-deps $(PPROF)/hc_bench $(BENCH)/curl_bench $(BENCH)/measure
	python3 ctest/bench/run.py --hc $(PPROF)/hc_bench --curl $(BENCH)/curl_bench \
	    --lib $(CURDIR)/$(PPROF)/libhc.so --measure $(BENCH)/measure \
	    --pprof "$(BENCH_PPROF)" --scale $(BENCH_PPROF_SCALE)

# In make test: one small profile of each kind of request (so that the tool keeps working:
# run.py fails when a profile is missing or does not show the engine), and proof that the
# shipped library has no profiler in it.
bench-pprof-smoke: BENCH_PPROF := sync kept /small,background 64
bench-pprof-smoke: BENCH_PPROF_SCALE := 0.2
bench-pprof-smoke: bench-pprof $(LIB)
	@if $(GO) tool nm $(LIB) | grep -q 'runtime/pprof\.StartCPUProfile'; then \
	  echo "bench-pprof-smoke: $(LIB) contains runtime/pprof (built with -tags hcprofile?)"; exit 1; fi
	@echo "bench-pprof-smoke: $(LIB) has no runtime/pprof"

BENCH_COLD_N ?= 3000
bench-cold: $(BENCH)/cold_call
	$(BENCH)/cold_call $(BENCH_COLD_N)
	HC_LIBRARY=$(CURDIR)/$(LIB) PYTHONPATH=$(CURDIR)/bindings/python python3 ctest/bench/cold_call.py $(BENCH_COLD_N)

bench-smoke: bench-deps $(BENCH)/hc_bench $(BENCH)/curl_bench $(BENCH)/measure
	timeout 600 $(BENCH_RUN) --smoke --valgrind "$(VALGRIND)"

# make test runs the smoke: both drivers against nginx once, the in-place body path
# (engine/bodyalloc.go, capi.c's hc__body_alloc) under valgrind, bench-cold's two
# programs with a few calls and bench-pprof on two small modes (so that they keep
# working; their figures are not checked).
test: bench-smoke bench-cold-smoke bench-pprof-smoke

bench-cold-smoke: BENCH_COLD_N := 100
bench-cold-smoke: bench-cold
