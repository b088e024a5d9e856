package enginetest

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
)

func TestZZTiming(t *testing.T) {
	for _, procs := range []int{1, 2} {
		for _, threads := range []string{"", "1"} {
			st := map[string]string{}
			if threads != "" { st["threads"] = threads }
			open := func(t testing.TB) engine.Engine {
				e, err := duckdb.Open(context.Background(), "", duckdb.Options{Settings: st})
				if err != nil { t.Fatal(err) }
				t.Cleanup(func() { e.Close() })
				return e
			}
			old := runtime.GOMAXPROCS(procs)
			a := time.Now()
			Random(t, open, 80, 7)
			t.Logf("workers=%d threads=%q: %v per dataset", procs, threads, time.Since(a)/80)
			runtime.GOMAXPROCS(old)
		}
	}
}
