//go:build spark_report

// The Spark check of the report's queries runs only when asked for:
//
//	go test -tags=duckdb_arrow,spark_report -run Spark ./internal/htmlreport/
//
// It starts its own Spark Connect server, which costs minutes on a small machine, while
// engine/spark's own tests already prove the walkthrough's outputs equal on both engines.

package htmlreport

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/engine/spark/sparktest"
	"github.com/idr-dev/idr/internal/demo"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/schema"
)

func TestMain(m *testing.M) { os.Exit(sparktest.Main(m)) }

// runWalkthroughOn runs the walkthrough (sources, configuration, one FULL run) on an engine.
func runWalkthroughOn(t *testing.T, e engine.Engine, sources string) {
	t.Helper()
	ctx := context.Background()
	if err := schema.Init(ctx, e); err != nil {
		t.Fatalf("%s: init: %v", e.Name(), err)
	}
	for _, script := range []string{sources, demo.SQL(demo.Config)} {
		if err := e.Exec(ctx, script); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
	}
	now := func() time.Time { return time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC) }
	if _, err := pipeline.Run(ctx, e, pipeline.Options{Mode: pipeline.ModeFull, Now: now}); err != nil {
		t.Fatalf("%s: run: %v", e.Name(), err)
	}
}

// withoutRunFacts clears what differs from run to run (ids, times, durations, the engine's name).
func withoutRunFacts(d *Data) {
	d.Engine = ""
	clear := func(r *Run) {
		if r != nil {
			r.RunID, r.Started, r.Ended, r.Seconds = "", "", "", 0
		}
	}
	clear(d.Latest)
	clear(d.Committed)
	for i := range d.History {
		clear(&d.History[i])
	}
	for i := range d.Stages {
		d.Stages[i].MS = 0
	}
	for i := range d.Skipped {
		d.Skipped[i].RunID = ""
	}
}

// The report's queries are engine-neutral: on Spark, the walkthrough's report holds exactly
// what it holds on DuckDB.
func TestGatherSparkEqualsDuckDB(t *testing.T) {
	ctx := context.Background()
	sp := sparktest.Open(t)
	for _, s := range []string{"idr_meta", "idr_work", "idr_out", "crm", "ecom", "support"} {
		if err := sp.Exec(ctx, "DROP SCHEMA IF EXISTS "+s+" CASCADE"); err != nil {
			t.Fatal(err)
		}
	}
	// Spark SQL wants STRING where the walkthrough's DuckDB script says VARCHAR.
	runWalkthroughOn(t, sp, strings.ReplaceAll(demo.SQL(demo.Sources), " VARCHAR", " STRING"))
	dk, err := duckdb.Open(ctx, "", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dk.Close()
	runWalkthroughOn(t, dk, demo.SQL(demo.Sources))

	want := gather(t, dk, Options{Database: "walkthrough"})
	got := gather(t, sp, Options{Database: "walkthrough"})
	if got.Engine != "spark" || want.Totals.Clusters != 5 {
		t.Fatalf("engines %s/%s, %d clusters", got.Engine, want.Engine, want.Totals.Clusters)
	}
	withoutRunFacts(want)
	withoutRunFacts(got)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"latest run", got.Latest, want.Latest}, {"stages", got.Stages, want.Stages}, {"changes", got.Changes, want.Changes},
		{"totals", got.Totals, want.Totals}, {"size buckets", got.SizeBuckets, want.SizeBuckets},
		{"identifier buckets", got.IdentBuckets, want.IdentBuckets}, {"sources", got.Sources, want.Sources},
		{"identifier types", got.IdentifierTypes, want.IdentifierTypes}, {"rules", got.Rules, want.Rules},
		{"clusters", got.Clusters, want.Clusters}, {"graphs", got.Graphs, want.Graphs}, {"index", got.Index, want.Index},
		{"exclusions", got.Exclusions, want.Exclusions}, {"skipped", got.Skipped, want.Skipped},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s on Spark:\n%+v\non DuckDB:\n%+v", c.name, c.got, c.want)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report data differs between Spark and DuckDB")
	}
}
