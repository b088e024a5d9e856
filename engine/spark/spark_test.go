package spark_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/engine/spark"
	"github.com/idr-dev/idr/engine/spark/sparktest"
	"github.com/idr-dev/idr/internal/demo"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/schema"
)

// Every test here shares one Spark Connect server, and so one catalog: tests run one at a time
// (none is parallel) and each starts from an empty catalog (fresh).
func TestMain(m *testing.M) { os.Exit(sparktest.Main(m)) }

// scratchSchemas are every database the tests create.
var scratchSchemas = []string{"idr_meta", "idr_work", "idr_out", "src", "crm", "ecom", "support", "cc_test"}

// fresh opens a session on an empty catalog.
func fresh(t testing.TB) *spark.Engine {
	t.Helper()
	e := sparktest.Open(t)
	for _, s := range scratchSchemas {
		mustExec(t, e, "DROP SCHEMA IF EXISTS "+s+" CASCADE")
	}
	return e
}

func mustExec(t testing.TB, e engine.Engine, stmt string) {
	t.Helper()
	if err := e.Exec(context.Background(), stmt); err != nil {
		t.Fatalf("%v\nstatement: %s", err, stmt)
	}
}

func mustQuery(t testing.TB, e engine.Engine, stmt string) *engine.Result {
	t.Helper()
	res, err := e.Query(context.Background(), stmt)
	if err != nil {
		t.Fatalf("%v\nstatement: %s", err, stmt)
	}
	return res
}

// rows renders a result as text lines, one per row, in the order given.
func rows(res *engine.Result) []string {
	out := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		parts := make([]string, len(r))
		for j, v := range r {
			switch x := v.(type) {
			case nil:
				parts[j] = "NULL"
			case time.Time:
				parts[j] = x.UTC().Format("2006-01-02 15:04:05.000000")
			default:
				if n, ok := engine.Int(v); ok {
					parts[j] = fmt.Sprint(n)
				} else {
					parts[j] = fmt.Sprint(v)
				}
			}
		}
		out[i] = strings.Join(parts, " | ")
	}
	return out
}

func TestQueryValues(t *testing.T) {
	e := sparktest.Open(t)
	res := mustQuery(t, e, "SELECT CAST(1 AS INT) AS i, CAST(2 AS BIGINT) AS b, 'it''s a\\b' AS s, TRUE AS f, "+
		"TIMESTAMP '2024-04-01 12:00:00' AS ts, DATE '2024-01-02' AS d, CAST(NULL AS STRING) AS n, 1.5D AS x")
	wantCols := []string{"i", "b", "s", "f", "ts", "d", "n", "x"}
	if !reflect.DeepEqual(res.Columns, wantCols) {
		t.Fatalf("columns %v, want %v", res.Columns, wantCols)
	}
	wantTypes := []string{"INT", "BIGINT", "STRING", "BOOLEAN", "TIMESTAMP", "DATE", "STRING", "DOUBLE"}
	if !reflect.DeepEqual(res.Types, wantTypes) {
		t.Fatalf("types %v, want %v", res.Types, wantTypes)
	}
	want := []any{int32(1), int64(2), `it's a\b`, true, time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), nil, 1.5}
	if !reflect.DeepEqual(res.Rows, [][]any{want}) {
		t.Fatalf("row %#v, want %#v", res.Rows, [][]any{want})
	}
	empty := mustQuery(t, e, "SELECT CAST(1 AS INT) AS i, 'x' AS s FROM range(0) LIMIT 0")
	if len(empty.Rows) != 0 || !reflect.DeepEqual(empty.Columns, []string{"i", "s"}) || !reflect.DeepEqual(empty.Types, []string{"INT", "STRING"}) {
		t.Fatalf("empty result: %+v", empty)
	}
}

// walkthroughSources is the walkthrough's Step 1 script with its VARCHAR columns as STRING,
// which Spark SQL requires (VARCHAR needs a length there); configuration runs verbatim.
func walkthroughSources() string {
	return strings.ReplaceAll(demo.SQL(demo.Sources), " VARCHAR", " STRING")
}

var pinnedNow = func() time.Time { return time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC) }

func runWalkthrough(t *testing.T, e engine.Engine) *pipelineResult {
	t.Helper()
	ctx := context.Background()
	if err := schema.Init(ctx, e); err != nil {
		t.Fatalf("%s: init: %v", e.Name(), err)
	}
	mustExec(t, e, walkthroughSources())
	mustExec(t, e, demo.SQL(demo.Config))
	opts := pipeline.Options{Mode: pipeline.ModeFull, Now: pinnedNow}
	if os.Getenv("IDR_TRACE") != "" {
		opts.Trace = os.Stderr
	}
	rep, err := pipeline.Run(ctx, e, opts)
	if err != nil {
		t.Fatalf("%s: run: %v", e.Name(), err)
	}
	return &pipelineResult{rounds: rep.Rounds, outputs: readOutputs(t, e)}
}

type pipelineResult struct {
	rounds  int
	outputs map[string][]string
}

// outputQueries read every published output that does not name the run, in a total order.
var outputQueries = map[string]string{
	"membership": "SELECT entity_key, resolved_id, updated_ts FROM idr_out.identity_resolved_membership_current ORDER BY entity_key",
	"clusters":   "SELECT resolved_id, cluster_size, updated_ts FROM idr_out.identity_clusters_current ORDER BY resolved_id",
	"edges": "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm, first_seen_ts, last_seen_ts " +
		"FROM idr_out.identity_edges_current ORDER BY rule_id, left_entity_key, right_entity_key, identifier_value_norm",
	"golden":     "SELECT resolved_id, email_primary, phone_primary, first_name, last_name, updated_ts FROM idr_out.golden_profile_current ORDER BY resolved_id",
	"history":    "SELECT change_type, resolved_id, related_ids, member_count, previous_member_count, created_ts FROM idr_out.cluster_history ORDER BY resolved_id, change_type",
	"lookup":     "SELECT old_resolved_id, current_resolved_id, change_type FROM idr_out.resolved_id_lookup ORDER BY old_resolved_id",
	"audit":      "SELECT rule_id, identifier_type, identifiers, groups_total, groups_linked, groups_skipped, values_excluded, edges_created, entities_linked FROM idr_out.rule_match_audit_current ORDER BY rule_id",
	"entities":   "SELECT entity_key, table_id, watermark, row_count FROM idr_out.identity_entities_current ORDER BY entity_key",
	"identifier": "SELECT entity_key, identifier_type, identifier_value_norm FROM idr_out.identity_identifiers_current ORDER BY entity_key, identifier_type, identifier_value_norm",
	"attributes": "SELECT entity_key, attribute_name, attribute_value FROM idr_out.identity_attributes_current ORDER BY entity_key, attribute_name",
	"run_state":  "SELECT table_id, last_watermark_value, last_run_ts FROM idr_meta.run_state ORDER BY table_id",
}

func readOutputs(t *testing.T, e engine.Engine) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, q := range outputQueries {
		out[name] = rows(mustQuery(t, e, q))
	}
	return out
}

func openDuckDB(t testing.TB) engine.Engine {
	t.Helper()
	e, err := duckdb.Open(context.Background(), "", duckdb.Options{Settings: map[string]string{"threads": "1"}})
	if err != nil {
		t.Fatalf("open in-memory DuckDB: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestWalkthroughEquivalence runs the walkthrough on DuckDB and on Spark and compares every
// published output row for row.
func TestWalkthroughEquivalence(t *testing.T) {
	want := runWalkthrough(t, openDuckDB(t))
	got := runWalkthrough(t, fresh(t))
	if len(want.outputs["membership"]) != 10 || len(want.outputs["edges"]) != 7 {
		t.Fatalf("DuckDB walkthrough: %d members, %d edges; want 10 and 7", len(want.outputs["membership"]), len(want.outputs["edges"]))
	}
	names := make([]string, 0, len(outputQueries))
	for n := range outputQueries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !reflect.DeepEqual(got.outputs[n], want.outputs[n]) {
			t.Errorf("%s differs:\nspark:\n  %s\nduckdb:\n  %s", n, strings.Join(got.outputs[n], "\n  "), strings.Join(want.outputs[n], "\n  "))
		}
	}
	if got.rounds < 1 {
		t.Errorf("spark reported %d components rounds", got.rounds)
	}
}
