package duckdb

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkComponents measures the components stage as the pipeline calls it: edges read from a
// DuckDB table in bulk, union-find in Go, labels appended back to a table.
func BenchmarkComponents(b *testing.B) {
	for _, size := range []struct{ nodes, edges int64 }{{1_000_000, 1_600_000}, {10_000_000, 16_000_000}} {
		b.Run(fmt.Sprintf("nodes=%d/edges=%d", size.nodes, size.edges), func(b *testing.B) {
			ctx := context.Background()
			e := openMemory(b, Options{})
			if err := e.Exec(ctx, fmt.Sprintf("CREATE TABLE edges AS SELECT CAST(hash(i) %% %d AS INTEGER) AS l, "+
				"CAST(hash(i * 7 + 1) %% %d AS INTEGER) AS r FROM range(%d) t(i)", size.nodes, size.nodes, size.edges)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				st, err := e.Components(ctx, "edges", size.nodes, "labels")
				if err != nil {
					b.Fatal(err)
				}
				if st.Nodes != size.nodes || st.Edges != size.edges || st.Components <= 0 {
					b.Fatalf("stats %+v", st)
				}
			}
			b.ReportMetric(float64(size.edges)*float64(b.N)/b.Elapsed().Seconds(), "edges/s")
		})
	}
}

// TestComponents checks the engine's components against a direct reading of the labels table.
func TestComponents(t *testing.T) {
	ctx := context.Background()
	e := openMemory(t, Options{})
	// Two chains, one star, two singletons, a self-loop and a duplicate edge: 0-1-2, 3-4, 5-{6,7}, 8, 9.
	if err := e.Exec(ctx, "CREATE SCHEMA w; CREATE TABLE w.edges AS SELECT * FROM (VALUES (1, 2), (0, 1), (4, 3), (5, 6), (7, 5), (8, 8), (1, 2)) t(l, r)"); err != nil {
		t.Fatal(err)
	}
	st, err := e.Components(ctx, "w.edges", 10, "w.labels")
	if err != nil {
		t.Fatal(err)
	}
	if st.Nodes != 10 || st.Edges != 7 || st.Components != 5 {
		t.Errorf("stats = %+v", st)
	}
	res, err := e.Query(ctx, "SELECT string_agg(CAST(root AS VARCHAR), ',' ORDER BY eid) FROM w.labels")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0]; got != "0,0,0,3,3,5,5,5,8,9" {
		t.Errorf("labels = %v", got)
	}
}
