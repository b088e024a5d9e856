package duckdb_test

import (
	"os"
	"strings"
	"testing"

	"github.com/idr-dev/idr/engine/enginetest"
)

// TestRandomHistories applies random histories of source changes (inserts, identifier updates,
// soft deletes and un-deletes, late rows inside the lookback, configuration changes) to two
// databases; after every batch one runs incrementally and the other FULL, and both must publish
// the reference outputs with stable ids. IDR_HISTORY_SEED picks another stream,
// IDR_HISTORY_INDEX runs one history of it (to reproduce a failure), IDR_HISTORY_N changes how
// many run, and IDR_HISTORY_MODE=FULL runs the "incremental" side in FULL mode too.
func TestRandomHistories(t *testing.T) {
	seed := int64(20250301)
	if s, ok := envInt(t, "IDR_HISTORY_SEED"); ok {
		seed = s
	}
	mode := "INCR"
	if m := strings.ToUpper(strings.TrimSpace(os.Getenv("IDR_HISTORY_MODE"))); m != "" {
		mode = m
	}
	if i, ok := envInt(t, "IDR_HISTORY_INDEX"); ok {
		t.Logf("seed %d, history %d, mode %s", seed, i, mode)
		enginetest.HistoryOne(t, openMemory, seed, int(i), mode)
		return
	}
	n := 60
	if testing.Short() {
		n = 15
	}
	if v, ok := envInt(t, "IDR_HISTORY_N"); ok {
		n = int(v)
	}
	t.Logf("seed %d, %d histories, mode %s (IDR_HISTORY_SEED=%d to rerun this stream)", seed, n, mode, seed)
	enginetest.History(t, openMemory, n, seed, mode)
}
