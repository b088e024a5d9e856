package duckdb_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/engine/enginetest"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/report"
)

// inflated reports every source row as a billion, so that the engine's own rule puts idr_work
// on disk; it remembers what the pipeline counted.
type inflated struct {
	*duckdb.Engine
	counted int64
	calls   int
}

func (f *inflated) PlaceWork(ctx context.Context, rows func(context.Context) (int64, error)) (string, error) {
	f.calls++
	return f.Engine.PlaceWork(ctx, func(ctx context.Context) (int64, error) {
		n, err := rows(ctx)
		f.counted = n
		return n * 1_000_000_000, err
	})
}

// A run asks the engine where its scratch tables go, with the number of rows its sources
// hold, and a run whose idr_work was moved to disk gives the reference's outputs.
func TestRunPlacesWork(t *testing.T) {
	t.Setenv(duckdb.WorkEnv, "")
	var spy *inflated
	open := func(t testing.TB) engine.Engine {
		e, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "idr.duckdb"), duckdb.Options{Settings: map[string]string{"threads": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		spy = &inflated{Engine: e}
		return spy
	}
	enginetest.RandomOne(t, open, defaultSeed, 0)
	if spy.calls != 1 || !spy.WorkOnDisk() {
		t.Fatalf("PlaceWork called %d times, idr_work on disk: %v; want once, on disk", spy.calls, spy.WorkOnDisk())
	}
	res, err := spy.Query(context.Background(), "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'src'")
	if err != nil || len(res.Rows) == 0 {
		t.Fatalf("source tables: %v, %v", res, err)
	}
	var want int64
	for _, r := range res.Rows {
		c, err := spy.Query(context.Background(), "SELECT count(*) FROM src."+r[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := engine.Int(c.Rows[0][0])
		want += n
	}
	if spy.counted != want {
		t.Fatalf("the pipeline counted %d source rows, the sources hold %d", spy.counted, want)
	}
	// The run says where its scratch tables are, in its report and before its first stage.
	var seen noted
	rep, err := pipeline.Run(context.Background(), spy, pipeline.Options{Mode: pipeline.ModeFull, Progress: &seen})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "idr.duckdb.idr_work") || len(seen.events) < 2 ||
		seen.events[0] != "note: "+rep.Notes[0] || seen.events[1] != "start extract" {
		t.Fatalf("notes %q, progress %q; want the note on the scratch file first", rep.Notes, seen.events)
	}
}

// noted records what a run shows as it goes.
type noted struct{ events []string }

func (n *noted) StageStart(name string)       { n.events = append(n.events, "start "+name) }
func (n *noted) StageDone(report.StageMetric) {}
func (n *noted) Note(text string)             { n.events = append(n.events, "note: "+text) }
