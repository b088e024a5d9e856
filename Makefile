# idr: `make demo` builds idr and runs the walkthrough; `make test` runs every test.
GO      ?= go
BIN     := bin/idr
# duckdb_arrow enables the Arrow bulk path of duckdb-go, which the components stage reads edges through.
export GOFLAGS := $(GOFLAGS) -tags=duckdb_arrow

.PHONY: all build demo test test-deps bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/idr

demo: build
	@mkdir -p build
	./$(BIN) demo --db=build/demo.duckdb --force

# Test prerequisites (browsers, runtimes) are installed by scripts under scripts/, one line each.
test-deps:
	scripts/install-chromium.sh
	scripts/spark/install.sh >/dev/null

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

# make bench: the Go micro-benchmarks (printed), then idr bench, which generates the retail
# scenario at 1M and 10M records, runs FULL, INCR after a 1% change and FULL side by side, and
# replaces its section of docs/benchmarks.md. BENCH_ROWS=1000000,10000000,100000000 adds 100M.
BENCH_ROWS ?= 1000000,10000000
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./internal/unionfind/ ./engine/duckdb/
	./$(BIN) bench --scenario=retail --rows=$(BENCH_ROWS) --dir=build/bench --doc=docs/benchmarks.md

clean:
	rm -rf bin build
