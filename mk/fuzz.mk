# Fuzzing (issue 8): engine/fuzz_test.go, seed corpora in engine/testdata/fuzz/<Target>/.
#   make fuzz FUZZTIME=10m     fuzz each target for FUZZTIME, one after another, one worker
#                              (-parallel=1: the machine is shared); logs in build/fuzz/, the
#                              final exec count of each target printed at the end
#   make fuzz FUZZ_TARGETS='FuzzURL FuzzINI' FUZZTIME=30s
#   make fuzz-seeds            regenerate the oracle-* seeds from ../shared/oracle
# `make test` (go test) runs every seed already. A crash stops its target, leaves the input
# in engine/testdata/fuzz/<Target>/ (commit it: it becomes a regression test) and fails.
FUZZTIME ?= 10m
FUZZ_TARGETS ?= FuzzHTTPCon FuzzINI FuzzURL FuzzHeaderEntry FuzzBackgroundOptions FuzzSettings FuzzParseHead
FUZZ_LOGS := $(BUILD)/fuzz

.PHONY: fuzz fuzz-seeds

fuzz:
	@mkdir -p $(FUZZ_LOGS)
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZTIME)"; \
	  if ! (cd engine && $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -parallel=1 .) \
	       > $(FUZZ_LOGS)/$$t.log 2>&1; then fail=1; tail -n 30 $(FUZZ_LOGS)/$$t.log; fi; \
	  echo "  $$(grep -o 'elapsed: [^,]*, execs: [0-9]*' $(FUZZ_LOGS)/$$t.log | tail -n 1) -> $$(tail -n 1 $(FUZZ_LOGS)/$$t.log)"; \
	done; exit $$fail

fuzz-seeds:
	$(GO) run ./engine/testdata/fuzz/genseeds.go -oracle $(CURDIR)/../shared/oracle -out engine/testdata/fuzz
