# incus-fleet — two commands do everything on a fresh Debian 12 machine:
#   make demo   loopback Incus cluster + an HA stack, printing where replicas run
#   make test   everything the CI runs (installs and starts what it needs)

SHELL       := /bin/bash
GO          ?= go
BIN         := bin/incus-fleet
TESTBED_DIR ?= /tmp/incus-fleet-testbed
TESTBED     := testdata/testbed
# Sourcing the test bed's env file gives tests INCUS_SOCKET and friends.
WITH_TESTBED = set -a; source $(TESTBED_DIR)/env; set +a;

.PHONY: all build test unit integration testbed-install testbed-up testbed-down demo demo-down bench fuzz lint clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/incus-fleet

lint:
	@test -z "$$(gofmt -l cmd internal schemas)" || { gofmt -l cmd internal schemas; echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...

testbed-install:
	bash $(TESTBED)/install.sh

testbed-up: testbed-install
	TESTBED_DIR=$(TESTBED_DIR) bash $(TESTBED)/up.sh

testbed-down:
	TESTBED_DIR=$(TESTBED_DIR) bash $(TESTBED)/down.sh

# Unit tests and testscript tests that need no cluster.
unit:
	$(GO) test -count=1 ./...

# The whole suite against the real loopback cluster; skipping is an error.
test: lint testbed-up build
	$(WITH_TESTBED) INCUS_FLEET_REQUIRE_TESTBED=1 $(GO) test -count=1 -timeout 15m ./...

demo: testbed-up build
	$(WITH_TESTBED) BIN=$(BIN) bash testdata/demo/demo.sh

demo-down:
	$(WITH_TESTBED) ./$(BIN) stack rm --name demo || true

bench: testbed-up build
	$(WITH_TESTBED) $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 10m ./... | tee bench.txt

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./internal/constraint/
	$(GO) test -run '^$$' -fuzz FuzzLoadInline -fuzztime 20s ./internal/composeload/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 20s ./internal/protocol/

clean:
	rm -rf bin bench.txt
