# The Kamailio http_client module on libhc (examples/kamailio), and its proof: the oracle's
# scenarios run through the real kamailio 5.6.3 daemon with this module loaded.
#   make kamailio-module   build/kamailio/http_client.so (+ libhc.so beside it)
#   make kamailio-test     shared/oracle/run.sh --module ... and compare.py against 5.6.3
#   make kamailio-soak     2 workers, 1000 SIP requests (see examples/kamailio/soak.py)
KAM_DIR := $(BUILD)/kamailio
KAM_MOD := $(CURDIR)/$(KAM_DIR)/http_client.so
KAM_SRC := $(BUILD)/kamailio-src/kamailio-5.6.3/src
ORACLE_DIR := $(CURDIR)/../shared/oracle

.PHONY: kamailio-module kamailio-test kamailio-soak kamailio-deps

# Debian's kamailio 5.6.3 (the oracle's run.sh installs it too) and the RPC client.
kamailio-deps:
	@command -v kamailio >/dev/null && command -v kamcmd >/dev/null || { apt-get update -q >/dev/null; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q kamailio kamailio-utils-modules >/dev/null; }

$(KAM_SRC)/core/sr_module.h:
	examples/kamailio/fetch_source.sh $(BUILD)/kamailio-src

$(KAM_MOD): $(KAM_SRC)/core/sr_module.h $(wildcard examples/kamailio/*.[ch]) examples/kamailio/module.map \
            examples/kamailio/Makefile bindings/c/hc_dl.c bindings/c/hc_dl.h include/hc.h
	$(MAKE) -s -C examples/kamailio KSRC=$(CURDIR)/$(KAM_SRC) OUT=$(CURDIR)/$(KAM_DIR)

# The module loads the libhc.so in its own directory by default.
$(KAM_DIR)/libhc.so: $(LIB)
	@mkdir -p $(@D)
	cp $(LIB) $@

kamailio-module: $(KAM_MOD) $(KAM_DIR)/libhc.so

# A second module that uses bind_http_client, for kamailio-soak.
$(KAM_DIR)/bindtest.so: $(KAM_SRC)/core/sr_module.h examples/kamailio/test/bindtest.c examples/kamailio/Makefile
	$(MAKE) -s -C examples/kamailio KSRC=$(CURDIR)/$(KAM_SRC) OUT=$(CURDIR)/$(KAM_DIR) $(CURDIR)/$@

kamailio-test: kamailio-module
	timeout 900 $(ORACLE_DIR)/run.sh --module $(KAM_MOD) --out $(CURDIR)/$(KAM_DIR)/oracle.json
	python3 $(ORACLE_DIR)/compare.py $(ORACLE_DIR)/results/kamailio-5.6.3.json $(KAM_DIR)/oracle.json

kamailio-soak: kamailio-module $(KAM_DIR)/bindtest.so kamailio-deps
	timeout 600 python3 examples/kamailio/soak.py --module $(KAM_MOD) --bindtest $(CURDIR)/$(KAM_DIR)/bindtest.so \
	    --out $(KAM_DIR)/soak.json

test: kamailio-test kamailio-soak
