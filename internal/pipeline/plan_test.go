package pipeline_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/internal/demo"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/schema"
	"github.com/idr-dev/idr/internal/sqltext"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestPlanGolden pins the SQL each dialect generates for the walkthrough's configuration, so
// that any change to generated SQL shows up in review as a diff of testdata/plan/*.sql.
func TestPlanGolden(t *testing.T) {
	ctx := context.Background()
	eng, err := duckdb.Open(ctx, "", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := schema.Init(ctx, eng); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{demo.Sources, demo.Config} {
		stmts, err := sqltext.Split(demo.SQL(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if err := eng.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	at := time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		file   string
		dryRun bool
	}{{"duckdb_full.sql", false}, {"duckdb_full_dryrun.sql", true}} {
		stages, err := pipeline.PlanRun(ctx, eng, pipeline.Options{Mode: "FULL", DryRun: tc.dryRun, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		pipeline.WritePlan(&got, stages)
		path := filepath.Join("testdata", "plan", tc.file)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/pipeline/ -run TestPlanGolden -update)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("generated SQL differs from %s; if intended, rerun with -update and review the diff.\ngot:\n%s", path, got.String())
		}
	}
}
