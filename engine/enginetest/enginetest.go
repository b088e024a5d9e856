// Package enginetest is the conformance suite every engine must pass. It is an ordinary
// package (not a _test package) so that each engine's tests can run it against a fresh
// database of that engine:
//
//	func TestRandomFULL(t *testing.T) { enginetest.Random(t, open, 2000, seed) }
//
// Random generates small datasets (sources, rows and idr_meta configuration), runs them through
// schema.Init, the configuration and pipeline.Run in FULL mode, and compares what the run
// published in idr_out with an independent reference computed in plain Go (reference.go).
package enginetest

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/schema"
)

// Opener returns a fresh engine on an empty database (DuckDB: in memory) and registers its
// cleanup with t. Every call must return an independent database.
type Opener func(t testing.TB) engine.Engine

// maxFailures stops a run after this many failing datasets, each reported in full.
const maxFailures = 3

// maxWorkers caps how many engines run datasets side by side.
const maxWorkers = 4

// Random runs n random datasets of the stream seed (indexes 0..n-1) through schema.Init,
// configuration and pipeline.Run (mode FULL) and compares each run's outputs with the reference.
// Datasets run on min(GOMAXPROCS, 4) engines side by side (open is called once per engine),
// each engine reused from one dataset to the next: between datasets the source tables are
// dropped and the idr_meta tables emptied. A dataset depends only on (seed, index), never on
// the datasets run before it on the same engine.
func Random(t *testing.T, open Opener, n int, seed int64) {
	t.Helper()
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, max(n, 1))
	harnesses := make([]*harness, workers)
	for w := range harnesses {
		harnesses[w] = newHarness(t, open) // opened here: an Opener may call t.Fatal
	}
	var next, failures, done atomic.Int64
	var wg sync.WaitGroup
	for _, h := range harnesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failures.Load() < maxFailures {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := h.check(Generate(seed, int(i))); err != nil {
					t.Error(err)
					failures.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d datasets failed (stopped after %d failures; %d of %d datasets ran)", f, maxFailures, done.Load(), n)
	}
	if done.Load() != int64(n) {
		t.Fatalf("ran %d datasets, want %d", done.Load(), n)
	}
}

// RandomOne runs the single dataset index of the stream seed, to reproduce a failure.
func RandomOne(t *testing.T, open Opener, seed int64, index int) {
	t.Helper()
	if err := newHarness(t, open).check(Generate(seed, index)); err != nil {
		t.Fatal(err)
	}
}

// harness holds one engine reused across datasets: between datasets the source tables are
// dropped and every idr_meta and idr_out table emptied, so that a dataset starts from empty
// outputs (resolved ids follow the previous outputs) and depends on nothing run before it.
type harness struct {
	eng engine.Engine
	ctx context.Context
}

func newHarness(t *testing.T, open Opener) *harness {
	t.Helper()
	h := &harness{eng: open(t), ctx: context.Background()}
	if err := schema.Init(h.ctx, h.eng); err != nil {
		t.Fatalf("schema.Init: %v", err)
	}
	return h
}

func (h *harness) exec(stmts ...string) error {
	for _, s := range stmts {
		if err := h.eng.Exec(h.ctx, s); err != nil {
			return fmt.Errorf("%w\nstatement: %s", err, s)
		}
	}
	return nil
}

func (h *harness) reset() error {
	stmts := []string{"DROP SCHEMA IF EXISTS src CASCADE"}
	for _, t := range schema.Tables {
		stmts = append(stmts, "DELETE FROM "+t.FQN())
	}
	return h.exec(strings.Join(stmts, ";\n"))
}

// check runs one dataset and returns an error describing every difference with the
// reference, the way to reproduce it and the dataset itself; nil when the dataset passes.
func (h *harness) check(d *Dataset) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("dataset %d of seed %d: %s\nreproduce with: IDR_RANDOM_SEED=%d IDR_RANDOM_INDEX=%d go test -tags=duckdb_arrow -run TestRandomFULL ./engine/duckdb/\n"+
			"dataset (run after `idr init`, then `idr run`):\n%s",
			d.Index, d.Seed, fmt.Sprintf(format, args...), d.Seed, d.Index, d.Script())
	}
	if err := h.reset(); err != nil {
		return fail("resetting the database: %v", err)
	}
	if err := h.exec(strings.Join(d.SourceSQL(), ";\n"), strings.Join(d.ConfigSQL(), ";\n")); err != nil {
		return fail("loading the dataset: %v", err)
	}
	rep, err := pipeline.Run(h.ctx, h.eng, pipeline.Options{Mode: pipeline.ModeFull})
	if err != nil {
		return fail("pipeline.Run: %v", err)
	}
	if rep.Status != pipeline.StatusSuccess {
		return fail("run status %s, want %s", rep.Status, pipeline.StatusSuccess)
	}
	want := Reference(d)
	got, err := h.read(rep.RunID)
	if err != nil {
		return fail("reading outputs: %v", err)
	}
	tot := rep.Totals
	got.RowsRead, got.NullKeyRows, got.Entities, got.ValuesExcluded = tot.RowsRead, tot.NullKeyRows, tot.Entities, tot.ValuesExcluded
	diffs := compare(want, got)
	if tot.Edges != int64(len(want.Edges)) {
		diffs = append(diffs, fmt.Sprintf("run totals: edges %d, want %d", tot.Edges, len(want.Edges)))
	}
	if tot.Clusters != int64(len(want.Clusters)) {
		diffs = append(diffs, fmt.Sprintf("run totals: clusters %d, want %d", tot.Clusters, len(want.Clusters)))
	}
	if tot.GroupsSkipped != int64(len(want.Skipped)) {
		diffs = append(diffs, fmt.Sprintf("run totals: groups skipped %d, want %d", tot.GroupsSkipped, len(want.Skipped)))
	}
	// The rule audit counts, per rule, the edges of its identifier type and the entities they link.
	type counts struct{ edges, linked int64 }
	byType := map[string]*counts{}
	ends := map[string]map[string]bool{}
	for _, e := range want.Edges {
		if byType[e.IdentifierType] == nil {
			byType[e.IdentifierType], ends[e.IdentifierType] = &counts{}, map[string]bool{}
		}
		byType[e.IdentifierType].edges++
		ends[e.IdentifierType][e.Left], ends[e.IdentifierType][e.Right] = true, true
	}
	err = queryRows(h.ctx, h.eng, "SELECT rule_id, identifier_type, edges_created, entities_linked FROM idr_out.rule_match_audit_current", func(r []any) error {
		w := counts{}
		if c := byType[text(r[1])]; c != nil {
			w = counts{c.edges, int64(len(ends[text(r[1])]))}
		}
		if got := (counts{integer(r[2]), integer(r[3])}); got != w {
			diffs = append(diffs, fmt.Sprintf("rule audit %s: edges_created %d, entities_linked %d; want %d, %d", text(r[0]), got.edges, got.linked, w.edges, w.linked))
		}
		return nil
	})
	if err != nil {
		return fail("reading the rule audit: %v", err)
	}
	if len(diffs) > 0 {
		return fail("outputs differ from the reference:\n  %s", strings.Join(diffs, "\n  "))
	}
	return nil
}

// read collects the run's published outputs.
func (h *harness) read(runID string) (*Outcome, error) {
	g, err := readGraph(h.ctx, h.eng, runID)
	if err != nil {
		return nil, err
	}
	o := &Outcome{Membership: g.Membership, Clusters: g.Clusters, Edges: g.Edges, Skipped: g.Skipped, Golden: map[string]GoldenRow{}}
	err = queryRows(h.ctx, h.eng, "SELECT resolved_id, email_primary, phone_primary FROM idr_out.golden_profile_current", func(r []any) error {
		k := text(r[0])
		if _, dup := o.Golden[k]; dup {
			return fmt.Errorf("golden profile resolved_id %q appears twice", k)
		}
		o.Golden[k] = GoldenRow{Email: nullableText(r[1]), Phone: nullableText(r[2])}
		return nil
	})
	return o, err
}

// graph is what both suites read the same way from a run's outputs: membership, clusters,
// edges and the run's skipped groups.
type graph struct {
	Membership map[string]string // entity_key -> resolved_id
	Clusters   map[string]int64  // resolved_id -> cluster_size
	Edges      []Edge
	Skipped    []SkippedGroup
}

// queryRows runs stmt and hands each row to row; errors name the statement.
func queryRows(ctx context.Context, eng engine.Engine, stmt string, row func([]any) error) error {
	res, err := eng.Query(ctx, stmt)
	if err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	for _, r := range res.Rows {
		if err := row(r); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// readGraph reads the graph outputs, refusing a key that appears twice.
func readGraph(ctx context.Context, eng engine.Engine, runID string) (graph, error) {
	g := graph{Membership: map[string]string{}, Clusters: map[string]int64{}}
	err := queryRows(ctx, eng, "SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current", func(r []any) error {
		k := text(r[0])
		if _, dup := g.Membership[k]; dup {
			return fmt.Errorf("entity_key %q appears twice", k)
		}
		g.Membership[k] = text(r[1])
		return nil
	})
	if err != nil {
		return g, err
	}
	err = queryRows(ctx, eng, "SELECT resolved_id, cluster_size FROM idr_out.identity_clusters_current", func(r []any) error {
		k := text(r[0])
		if _, dup := g.Clusters[k]; dup {
			return fmt.Errorf("resolved_id %q appears twice (ids must be unique)", k)
		}
		g.Clusters[k] = integer(r[1])
		return nil
	})
	if err != nil {
		return g, err
	}
	err = queryRows(ctx, eng, "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm FROM idr_out.identity_edges_current", func(r []any) error {
		g.Edges = append(g.Edges, Edge{RuleID: text(r[0]), Left: text(r[1]), Right: text(r[2]), IdentifierType: text(r[3]), Value: text(r[4])})
		return nil
	})
	if err != nil {
		return g, err
	}
	err = queryRows(ctx, eng, "SELECT identifier_type, identifier_value_norm, group_size, max_group_size, sample_entity_keys FROM idr_out.skipped_identifier_groups WHERE run_id = "+
		quote(runID), func(r []any) error {
		g.Skipped = append(g.Skipped, SkippedGroup{IdentifierType: text(r[0]), Value: text(r[1]), GroupSize: integer(r[2]), MaxGroupSize: integer(r[3]), SampleKeys: text(r[4])})
		return nil
	})
	return g, err
}

func quote(s string) string { return dialect.Lit(s) }

func text(v any) string {
	if s, ok := engine.Text(v); ok {
		return s
	}
	return "<NULL>"
}

func nullableText(v any) *string {
	if v == nil {
		return nil
	}
	s := text(v)
	return &s
}

func integer(v any) int64 {
	if n, ok := engine.Int(v); ok {
		return n
	}
	return -1 << 63 // never equals a reference count
}

func showNullable(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// compare lists the differences between the reference (want) and the engine (got).
func compare(want, got *Outcome) []string {
	var diffs []string
	diffs = append(diffs, diffSets("identity_resolved_membership_current (entity_key -> resolved_id)",
		mapLines(want.Membership, func(k, v string) string { return fmt.Sprintf("%q -> %q", k, v) }),
		mapLines(got.Membership, func(k, v string) string { return fmt.Sprintf("%q -> %q", k, v) }))...)
	diffs = append(diffs, diffSets("identity_clusters_current (resolved_id, cluster_size)",
		mapLines(want.Clusters, func(k string, v int64) string { return fmt.Sprintf("%q size %d", k, v) }),
		mapLines(got.Clusters, func(k string, v int64) string { return fmt.Sprintf("%q size %d", k, v) }))...)
	if len(want.Edges) != len(got.Edges) {
		diffs = append(diffs, fmt.Sprintf("identity_edges_current: %d rows, want %d", len(got.Edges), len(want.Edges)))
	}
	edge := func(e Edge) string {
		return fmt.Sprintf("%s %s %q: %q -> %q", e.RuleID, e.IdentifierType, e.Value, e.Left, e.Right)
	}
	diffs = append(diffs, diffSets("identity_edges_current (rule, type, value: left -> right)", lines(want.Edges, edge), lines(got.Edges, edge))...)
	skipped := func(g SkippedGroup) string {
		return fmt.Sprintf("%s %q size %d", g.IdentifierType, g.Value, g.GroupSize)
	}
	diffs = append(diffs, diffSets("skipped_identifier_groups of the run (type, value, group_size)", lines(want.Skipped, skipped), lines(got.Skipped, skipped))...)
	skippedDetail := func(g SkippedGroup) string {
		return fmt.Sprintf("%s %q max_group_size %d sample_entity_keys %q", g.IdentifierType, g.Value, g.MaxGroupSize, g.SampleKeys)
	}
	diffs = append(diffs, diffSets("skipped_identifier_groups of the run (max_group_size, sample_entity_keys)", lines(want.Skipped, skippedDetail), lines(got.Skipped, skippedDetail))...)
	golden := func(k string, g GoldenRow) string {
		return fmt.Sprintf("%q email_primary %s phone_primary %s", k, showNullable(g.Email), showNullable(g.Phone))
	}
	diffs = append(diffs, diffSets("golden_profile_current (resolved_id, email_primary, phone_primary)",
		mapLines(want.Golden, golden), mapLines(got.Golden, golden))...)
	for _, c := range []struct {
		name      string
		want, got int64
	}{
		{"rows read", want.RowsRead, got.RowsRead},
		{"rows with NULL key", want.NullKeyRows, got.NullKeyRows},
		{"entities", want.Entities, got.Entities},
		{"values excluded", want.ValuesExcluded, got.ValuesExcluded},
	} {
		if c.want != c.got {
			diffs = append(diffs, fmt.Sprintf("run totals: %s %d, want %d", c.name, c.got, c.want))
		}
	}
	return diffs
}

func lines[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func mapLines[V any](m map[string]V, f func(string, V) string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, f(k, v))
	}
	return out
}

// diffSets compares two multisets of lines and describes what is missing and what is extra.
func diffSets(what string, want, got []string) []string {
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	var missing, extra []string
	for l, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, l)
		}
		for ; n < 0; n++ {
			extra = append(extra, l)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", what)
	for _, l := range missing {
		b.WriteString("\n      missing:    " + l)
	}
	for _, l := range extra {
		b.WriteString("\n      unexpected: " + l)
	}
	return []string{b.String()}
}
