# incus-fleet — two commands do everything on a fresh Debian 12 machine:
#   make demo   loopback Incus cluster + an HA stack, printing where replicas run
#   make test   everything the CI runs (installs and starts what it needs)

SHELL       := /bin/bash
# A failing command before `| tee` must fail the target.
.SHELLFLAGS := -o pipefail -c
GO          ?= go
BIN         := bin/incus-fleet
TESTBED_DIR ?= /tmp/incus-fleet-testbed
TESTBED     := testdata/testbed
# Sourcing the test bed's env file gives tests INCUS_SOCKET and friends.
WITH_TESTBED = set -a; source $(TESTBED_DIR)/env; set +a;
# Logs of the suites that run side by side, and pytest's temporary dirs.
TEST_LOGS ?= /tmp/incus-fleet-test-logs
# One venv per Salt version: $(SALT_VENV_PREFIX)-<version>.
SALT_VENV_PREFIX ?= /opt/incus-fleet/salt-venv
SALT_PINNED      ?= 3008.3
# Also tested; its venv has saltext-incus installed next to ours.
SALT_OTHER       ?= 3008.4
SALT_PYTEST       = $(WITH_TESTBED) INCUS_FLEET_REQUIRE_TESTBED=1 INCUS_FLEET_BIN=$(CURDIR)/$(BIN) \
	PYTHONDONTWRITEBYTECODE=1 $(SALT_VENV_PREFIX)-$(1)/bin/pytest -q -rs -p no:cacheprovider --basetemp=$(TEST_LOGS)/pytest-$(1)

.PHONY: all build test unit integration testbed-install testbed-up testbed-debian testbed-down demo demo-down bench fuzz lint clean salt-install salt-test salt-ssh-modules

all: build

build:
	$(GO) build -trimpath -ldflags='-s -w' -o $(BIN) ./cmd/incus-fleet

lint:
	@test -z "$$(gofmt -l cmd internal schemas)" || { gofmt -l cmd internal schemas; echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...

testbed-install:
	bash $(TESTBED)/install.sh

testbed-up: testbed-install
	TESTBED_DIR=$(TESTBED_DIR) bash $(TESTBED)/up.sh

# The Debian 12 image (alias debian-app) of the example application, built
# from Debian's packages; cached by its recipe's hash outside TESTBED_DIR, so
# only a fresh machine pays the build (about 2-3 minutes).
testbed-debian: testbed-up
	TESTBED_DIR=$(TESTBED_DIR) bash $(TESTBED)/debian-image.sh

testbed-down:
	TESTBED_DIR=$(TESTBED_DIR) bash $(TESTBED)/down.sh

# Unit tests and testscript tests that need no cluster.
unit:
	$(GO) test -count=1 ./...

# The whole suite against the real loopback cluster; skipping is an error.
# The integration package kills, crashes and evacuates members, so it runs
# alone, after every other package that uses the test bed. Its parallel
# subtests (the crash points, each on a stack of its own) run two at a time
# whatever the machine's size: more load makes timings, not coverage.
INTEGRATION := ./internal/integration
INTEGRATION_PARALLEL ?= 2
#
# Before it, everything that leaves the members alone runs side by side (on
# 2 cores most of it waits on processes and on Incus): the Salt suites of
# both versions, the other Go packages and the fuzz targets; each writes a
# log of its own, printed whole when all are done, in a fixed order.
test: lint testbed-up testbed-debian build salt-install
	@rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS)
	@pids=""; \
	( $(call SALT_PYTEST,$(SALT_PINNED)) salt/tests --ignore=salt/tests/test_salt_master.py --ignore=salt/tests/test_salt_maintenance.py ) > $(TEST_LOGS)/1-salt-$(SALT_PINNED).log 2>&1 & pids="$$pids $$!"; \
	( $(call SALT_PYTEST,$(SALT_OTHER)) salt/tests --ignore=salt/tests/test_salt_call.py ) > $(TEST_LOGS)/2-salt-$(SALT_OTHER).log 2>&1 & pids="$$pids $$!"; \
	( $(WITH_TESTBED) INCUS_FLEET_REQUIRE_TESTBED=1 $(GO) test -count=1 -timeout 10m $$($(GO) list ./... | grep -v '/internal/integration$$') ) > $(TEST_LOGS)/3-go.log 2>&1 & pids="$$pids $$!"; \
	( $(MAKE) --no-print-directory fuzz FUZZTIME=5s ) > $(TEST_LOGS)/4-fuzz.log 2>&1 & pids="$$pids $$!"; \
	failed=0; for p in $$pids; do wait $$p || failed=1; done; \
	for f in $(TEST_LOGS)/*.log; do echo "=== $$(basename $$f .log)"; cat $$f; done; \
	exit $$failed
	$(WITH_TESTBED) INCUS_FLEET_REQUIRE_TESTBED=1 $(GO) test -count=1 -parallel $(INTEGRATION_PARALLEL) -timeout 50m $(INTEGRATION)

# The Salt extension (salt/): install.sh makes one venv per Salt version
# (Salt, pytest-salt-factories and `pip install ./salt`; saltext-incus too
# in the $(SALT_OTHER) one). The pinned Salt runs the unit, names and formula
# tests and salt-call against the test bed; $(SALT_OTHER), with saltext-incus
# installed, runs the unit, names and formula tests and the real
# salt-master + 3 minions walk-through.
salt-install:
	SALT_VENV_PREFIX=$(SALT_VENV_PREFIX) SALT_VERSIONS="$(SALT_PINNED) $(SALT_OTHER)" \
		SALTEXT_INCUS_IN=$(SALT_OTHER) bash testdata/salt/install.sh

salt-test: testbed-up build salt-install
	$(call SALT_PYTEST,$(SALT_PINNED)) salt/tests --ignore=salt/tests/test_salt_master.py --ignore=salt/tests/test_salt_maintenance.py
	$(call SALT_PYTEST,$(SALT_OTHER)) salt/tests --ignore=salt/tests/test_salt_call.py

# salt-ssh ships no extensions: self-contained _modules/_states generated
# from the package into salt/ (a file root), for `salt-ssh ... saltutil.sync_all`.
salt-ssh-modules:
	PYTHONPATH=salt/src python3 -m saltext.incus_fleet.ssh salt

# The HA busybox stack, then the example application on the Debian image
# (testdata/examples/counter: proxy -> api x3 -> redis with its data).
demo: testbed-up testbed-debian build
	$(WITH_TESTBED) BIN=$(BIN) bash testdata/demo/demo.sh
	$(WITH_TESTBED) BIN=$(BIN) bash testdata/examples/counter/demo.sh

demo-down:
	$(WITH_TESTBED) ./$(BIN) stack rm --name demo || true
	$(WITH_TESTBED) ./$(BIN) stack rm --name counter --volumes || true

# Benchmarks with their baselines in the same run; the table (ratios) goes
# to testdata/bench/results.md and the terminal.
bench: testbed-up build
	$(GO) test -run '^$$' -bench 'Plan' -benchmem ./internal/planner/ | tee bench.txt
	$(WITH_TESTBED) $(GO) test -run '^$$' -bench . -benchtime 3x -timeout 20m ./internal/integration/ | tee -a bench.txt
	echo "fact binary_bytes $$(stat -c %s $(BIN))" | tee -a bench.txt
	echo "fact modules $$($(GO) list -m all | wc -l)" | tee -a bench.txt
	! $(GO) list -m all | grep -q '^github.com/lxc/incus'
	python3 testdata/bench/report.py bench.txt | tee testdata/bench/results.md

# Each fuzz target for a bounded time (make test runs them for 5 s each);
# a crasher lands in the package's testdata/fuzz and stays as a regression.
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./internal/constraint/
	$(GO) test -run '^$$' -fuzz FuzzLoadInline -fuzztime $(FUZZTIME) ./internal/composeload/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./internal/protocol/
	$(GO) test -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZTIME) ./internal/bundle/

clean:
	rm -rf bin bench.txt
