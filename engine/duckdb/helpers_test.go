package duckdb

import (
	"context"
	"testing"
)

// openMemory opens an in-memory engine with opts for one test or benchmark and closes it when
// that ends.
func openMemory(tb testing.TB, opts Options) *Engine {
	tb.Helper()
	e, err := Open(context.Background(), "", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}
