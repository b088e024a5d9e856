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
	$(GO) test -count=1 -timeout 30m ./...

# Benchmarks write nothing by themselves: docs/benchmarks.md records measured figures with the
# command of each. IDR_BENCH_ENTITIES=10000000 runs the INCR/FULL benchmark at 10M entities.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./internal/unionfind/ ./engine/duckdb/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m .

clean:
	rm -rf bin build
