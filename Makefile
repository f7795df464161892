# prov — the two commands a fresh machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/prov
PROV    := $(CURDIR)/$(BIN)
DEMO    := examples/local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/provhq/prov/internal/version.Version=$(VERSION)

.PHONY: all build demo demo-destroy test test-race bench chaos generate nickel-conformance fmt vet clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cli/prov

# The main job on the embedded default: pure-Go Nickel, the local provider, local state.
demo: build
	@echo "==> prov init";                 $(PROV) -chdir=$(DEMO) init
	@echo "==> prov plan";                 $(PROV) -chdir=$(DEMO) plan -out=demo.plan
	@echo "==> prov apply demo.plan";      $(PROV) -chdir=$(DEMO) apply demo.plan
	@echo "==> prov output";               $(PROV) -chdir=$(DEMO) output
	@echo "==> prov plan (again: nothing to do)"; $(PROV) -chdir=$(DEMO) plan -detailed-exitcode
	@echo
	@echo "The demo left its files under $(DEMO)/out and its state in $(DEMO)/prov.state.json."
	@echo "Remove them with: make demo-destroy   (or: $(BIN) -chdir=$(DEMO) destroy)"

demo-destroy: build
	$(PROV) -chdir=$(DEMO) destroy -auto-approve

# Unit, integration and end-to-end tests, plus fast smokes of the chaos harness and benchmarks.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-race:
	$(GO) test -race -count=1 -timeout 30m ./...

# Benchmarks, each printed as a table: the 1k/5k/10k fan-out plan/apply/destroy, plugin RPC latency and
# throughput, 10,000 operations at parallelism 1,000, prov beside terraform/tofu (when installed), and
# the Nickel evaluator on generated 1k/10k/20k-resource configurations. A benchmark that misses its
# target says MISSED and exits 1; the others still run, and make bench fails at the end.
BENCHES = ./bench/scale ./bench/pluginrpc ./bench/concurrency ./bench/sidebyside \
	"./internal/nickel/cmd/bench -n 1000,10000,20000"
bench: build
	@failed=""; for b in $(BENCHES); do echo "== go run $$b"; $(GO) run $$b || failed="$$failed $$b"; echo; done; \
	if [ -n "$$failed" ]; then echo "missed or failed:$$failed"; exit 1; fi

chaos: build
	$(GO) run ./bench/chaos -trials 50

generate:
	./internal/protocol/v1/generate.sh

nickel-conformance:
	$(GO) run ./internal/nickel/cmd/conformance

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
