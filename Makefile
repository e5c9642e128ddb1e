# hc - build libhc.so and run its tests.
#   make          build/libhc.so
#   make demo     build, start a local server, run examples/demo.c against it
#   make test     everything: go vet, go test -race, C tests (+ valgrind), Python tests, oracle
#   make deps     install the tools the above need (apt-get; idempotent)
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BUILD := build
LIB := $(BUILD)/libhc.so
CT := $(BUILD)/ctest

GO_SRC := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './build/*' -not -path './ctest/*') \
          go.mod go.sum capi.c capi.h include/hc.h libhc.map
# Only the hc_* API is exported (libhc.map); -z nodelete makes dlclose() a no-op, because a
# Go runtime can never be unloaded (golang/go#11100).
GO_LDFLAGS := -extldflags '-Wl,--version-script=$(CURDIR)/libhc.map -Wl,-z,nodelete'

CFLAGS_T := -std=c99 -Wall -Wextra -Werror -O1 -g -D_GNU_SOURCE -Iinclude -Ibindings/c
LINK_HC := -L$(BUILD) -lhc -Wl,-rpath,$(CURDIR)/$(BUILD) -lpthread
VALGRIND := valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite --error-exitcode=99 \
            --suppressions=ctest/valgrind.supp
PYTEST_ENV := HC_LIBRARY=$(CURDIR)/$(LIB) PYTHONPATH=$(CURDIR)/bindings/python

.PHONY: all deps demo test vet gotest ctest valgrind cgocheck2 pytest oracle halon-oracle clean

all: $(LIB)

deps:
	@scripts/deps.sh

BUILD_LIB = CGO_CFLAGS="-O2 -g -DHC_GO_VERSION=$$($(GO) env GOVERSION)" \
	    $(GO) build $(GO_TAGS) -buildmode=c-shared -trimpath -ldflags "$(GO_LDFLAGS)" -o $@ . && \
	    rm -f $(@D)/libhc.h  # cgo's generated header is not the API: include/hc.h is

$(LIB): $(GO_SRC)
	@mkdir -p $(@D)
	$(BUILD_LIB)

# The same library with complete checking of Go pointers passed to C (cgo's doc,
# "Passing pointers"); the C and Python tests run against it too.
$(BUILD)/cgocheck2/libhc.so: $(GO_SRC)
	@mkdir -p $(@D)
	GOEXPERIMENT=cgocheck2 $(BUILD_LIB)

# ---- C programs -------------------------------------------------------------------------
C_TESTS := $(CT)/api_test $(CT)/bg_test $(CT)/fork_test $(CT)/dl_test $(CT)/signal_test $(CT)/hcinit \
           $(CT)/multi_runtime_test

$(CT)/api_test: ctest/api_test.c ctest/testserver.c ctest/check.h include/hc.h $(LIB)
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< ctest/testserver.c $(LINK_HC)

$(CT)/bg_test: ctest/bg_test.c ctest/testserver.c ctest/check.h include/hc.h $(LIB)
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< ctest/testserver.c $(LINK_HC)

$(CT)/fork_test: ctest/fork_test.c ctest/check.h include/hc.h $(LIB)
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< $(LINK_HC)

$(CT)/multi_runtime_test: ctest/multi_runtime_test.c ctest/check.h include/hc.h $(LIB) $(CT)/libotherruntime.so
	gcc $(CFLAGS_T) -o $@ $< $(LINK_HC) -ldl

$(CT)/libotherruntime.so: ctest/otherruntime/main.go
	@mkdir -p $(CT)
	$(GO) build -buildmode=c-shared -o $@ ./ctest/otherruntime && rm -f $(CT)/libotherruntime.h

$(CT)/hcinit: ctest/hcinit.c include/hc.h $(LIB)
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< $(LINK_HC)

# dl_test links nothing from libhc: it loads it through the bindings/c loader.
$(CT)/dl_test: ctest/dl_test.c ctest/check.h bindings/c/hc_dl.c bindings/c/hc_dl.h include/hc.h
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< bindings/c/hc_dl.c -ldl -lpthread

$(CT)/signal_test: ctest/signal_test.c ctest/check.h bindings/c/hc_dl.c bindings/c/hc_dl.h include/hc.h
	@mkdir -p $(CT)
	gcc $(CFLAGS_T) -o $@ $< bindings/c/hc_dl.c -ldl -lpthread

$(BUILD)/demo: examples/demo.c include/hc.h $(LIB)
	gcc $(CFLAGS_T) -o $@ $< $(LINK_HC)

$(BUILD)/epoll: examples/epoll.c include/hc.h $(LIB)
	gcc $(CFLAGS_T) -o $@ $< $(LINK_HC)

# ---- Tests ------------------------------------------------------------------------------
test: deps vet gotest ctest valgrind cgocheck2 pytest oracle halon-oracle

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 ./...

ctest: $(LIB) $(C_TESTS) $(BUILD)/epoll
	ctest/symbols.sh $(LIB) libhc.map include/hc.h
	gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -o $(CT)/header_c ctest/header_test.c $(LINK_HC)
	g++ -x c++ -std=c++11 -Wall -Wextra -Werror -Iinclude -o $(CT)/header_cxx ctest/header_test.c $(LINK_HC)
	$(CT)/header_c && $(CT)/header_cxx
	timeout 120 $(CT)/api_test
	timeout 120 $(CT)/bg_test
	timeout 60 $(CT)/fork_test
	timeout 60 $(CT)/dl_test $(CURDIR)/$(LIB)
	timeout 60 $(CT)/signal_test $(CURDIR)/$(LIB)
	timeout 60 $(CT)/multi_runtime_test $(CURDIR)/$(CT)/libotherruntime.so
	timeout 120 examples/run_demo.sh $(CURDIR)/$(BUILD)/epoll

# stress_test's 16 host threads make Go switch stacks so often that memcheck's definedness
# tracking loses Go's memory and taints the bytes copied out of it (see ctest/valgrind.supp):
# there it checks invalid accesses and leaks only. Run 50 times slower, its requests get a
# longer timeout, and fork_test's children and bg_test's waits more time (memcheck can also
# hold the Go collector for seconds around a large allocation: 4 of 16 runs of bg_test).
# Its test server runs a thread per connection, and pool c (no max_total) keeps up to 64
# idle ones besides those in use: more threads than memcheck's default 500 at times.
valgrind: $(LIB) $(CT)/api_test $(CT)/bg_test $(CT)/fork_test $(CT)/stress_test
	timeout 600 $(VALGRIND) $(CT)/api_test
	HC_TEST_SLOWDOWN=10 timeout 600 $(VALGRIND) $(CT)/bg_test
	HC_TEST_SLOWDOWN=20 timeout 300 $(VALGRIND) $(CT)/fork_test
	HC_STRESS_TOTAL=8000 HC_STRESS_TIMEOUT=300 timeout 600 $(VALGRIND) --undef-value-errors=no --max-threads=2000 $(CT)/stress_test

cgocheck2: $(BUILD)/cgocheck2/libhc.so $(CT)/api_test $(CT)/bg_test $(CT)/hcinit
	LD_LIBRARY_PATH=$(BUILD)/cgocheck2 timeout 120 $(CT)/api_test
	LD_LIBRARY_PATH=$(BUILD)/cgocheck2 timeout 120 $(CT)/bg_test
	LD_LIBRARY_PATH=$(BUILD)/cgocheck2 HC_LIBRARY=$(CURDIR)/$(BUILD)/cgocheck2/libhc.so PYTHONPATH=$(CURDIR)/bindings/python \
	    HC_CTEST_BIN=$(CURDIR)/$(CT) timeout 600 python3 -m unittest discover -s bindings/python/tests -t bindings/python

pytest: $(LIB) $(CT)/hcinit
	$(PYTEST_ENV) HC_CTEST_BIN=$(CURDIR)/$(CT) timeout 600 python3 -m unittest discover -s bindings/python/tests -t bindings/python -v

oracle: $(LIB)
	$(PYTEST_ENV) timeout 1200 python3 ctest/oracle/replay.py $(ORACLE_ARGS)

# The Halon http-background oracle, run through ctest/halon/adapter (libhc's background API).
HALON_ORACLE := $(CURDIR)/../shared/oracle/halon
halon-oracle: $(LIB)
	$(PYTEST_ENV) timeout 900 $(HALON_ORACLE)/run.sh --emu $(CURDIR)/ctest/halon/adapter \
	    --out $(CURDIR)/$(BUILD)/halon-hc.json $(HALON_ARGS)
	python3 ctest/halon/compare.py --oracle $(HALON_ORACLE) --got $(BUILD)/halon-hc.json $(HALON_ARGS_COMPARE)

demo: deps $(BUILD)/demo
	examples/run_demo.sh $(CURDIR)/$(BUILD)/demo

clean:
	rm -rf $(BUILD)

# Further targets, one file per concern (Kamailio module, benchmarks, fuzzing, hardening).
include $(sort $(wildcard mk/*.mk))
