package duckdb_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/engine/enginetest"
)

// defaultSeed is the stream TestRandomFULL runs unless IDR_RANDOM_SEED says otherwise.
const defaultSeed = 20250102

// openMemory opens an empty in-memory database. One DuckDB thread per engine: the datasets are
// tiny, and enginetest.Random runs several engines side by side, so more threads only contend.
func openMemory(t testing.TB) engine.Engine {
	t.Helper()
	e, err := duckdb.Open(context.Background(), "", duckdb.Options{Settings: map[string]string{"threads": "1"}})
	if err != nil {
		t.Fatalf("open in-memory DuckDB: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

func envInt(t *testing.T, name string) (int64, bool) {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q is not an integer", name, s)
	}
	return n, true
}

// TestRandomFULL compares FULL runs over random datasets with the reference of enginetest.
// IDR_RANDOM_SEED picks another stream; IDR_RANDOM_INDEX runs one dataset of it (to reproduce
// a failure); IDR_RANDOM_N changes how many datasets run.
func TestRandomFULL(t *testing.T) {
	seed := int64(defaultSeed)
	if s, ok := envInt(t, "IDR_RANDOM_SEED"); ok {
		seed = s
	}
	if i, ok := envInt(t, "IDR_RANDOM_INDEX"); ok {
		t.Logf("seed %d, dataset %d", seed, i)
		enginetest.RandomOne(t, openMemory, seed, int(i))
		return
	}
	// A FULL run (preflight and stages) costs about 170 ms of CPU on the embedded engine, so
	// 2000 datasets take about 3 minutes on 2 cores; -short runs 200.
	n := 2000
	if testing.Short() {
		n = 200
	}
	if v, ok := envInt(t, "IDR_RANDOM_N"); ok {
		n = int(v)
	}
	t.Logf("seed %d, %d datasets (IDR_RANDOM_SEED=%d to rerun this stream)", seed, n, seed)
	enginetest.Random(t, openMemory, n, seed)
}
