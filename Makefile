# idr: `make demo` builds idr and runs the walkthrough; `make test` runs every test.
GO      ?= go
BIN     := bin/idr
# duckdb_arrow enables the Arrow bulk path of duckdb-go, which the components stage reads edges through.
export GOFLAGS := $(GOFLAGS) -tags=duckdb_arrow

.PHONY: all build demo test bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/idr

demo: build
	@mkdir -p build
	./$(BIN) demo --db=build/demo.duckdb --force

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./internal/unionfind/ ./engine/duckdb/ ./internal/pipeline/

clean:
	rm -rf bin build
