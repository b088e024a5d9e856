package spark_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/engine/enginetest"
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
	return &pipelineResult{eng: e, rounds: rep.Rounds, outputs: readOutputs(t, e)}
}

type pipelineResult struct {
	eng     engine.Engine
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
	"identifier": "SELECT entity_key, identifier_type, identifier_value_norm FROM " + schema.Identifiers + " i ORDER BY entity_key, identifier_type, identifier_value_norm",
	"attributes": "SELECT entity_key, attribute_name, attribute_value FROM " + schema.Attributes + " a ORDER BY entity_key, attribute_name",
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

// TestWalkthrough runs the walkthrough on DuckDB and on Spark and compares every published
// output row for row; then, on the Spark catalog it left, it uses the command line (status,
// the walkthrough's membership query, plan), and checks what a failed run leaves: a publish
// cancelled mid-way and one stopped as by a kill both leave the previous outputs, a second run
// is refused while one holds the lock, and the next run, incremental on both engines after the
// same new row, publishes the same outputs on both. The steps share one
// catalog because each Spark run costs a minute or more on the test machine.
func TestWalkthrough(t *testing.T) {
	want := runWalkthrough(t, openDuckDB(t))
	e := fresh(t)
	got := runWalkthrough(t, e)
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
	if t.Failed() {
		return
	}
	on := []string{"--engine=spark", "--remote=" + sparktest.Remote(t)}
	with := func(verb string, args ...string) []string { return append(append([]string{verb}, on...), args...) }

	t.Run("cli", func(t *testing.T) {
		status := mustIdr(t, with("status", "--format=csv")...)
		if lines := strings.Split(strings.TrimSpace(status), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "SUCCESS") {
			t.Errorf("status:\n%s", status)
		}
		members := mustIdr(t, with("sql", "--format=csv", "-c", demo.SQL(demo.Membership))...)
		if !strings.HasPrefix(members, "resolved_id,entity_count,entities\ncrm_customers:C001,4,") {
			t.Errorf("the walkthrough's membership query:\n%s", members)
		}
		plan := mustIdr(t, with("plan")...)
		for _, w := range []string{"-- stage extract", "CREATE TABLE idr_work.keyed_rows USING parquet AS", "trim(BOTH", "-- stage publish"} {
			if !strings.Contains(plan, w) {
				t.Errorf("plan lacks %q", w)
			}
		}
	})

	before := readOutputs(t, e)
	// A new CRM row that merges John's and Jane's clusters: the next run changes outputs.
	mustExec(t, e, "INSERT INTO crm.customers VALUES ('C004', 'jane@example.org', '5551234567', 'Jo', DATE '2024-01-04')")
	journal := func() string { return rows(mustQuery(t, e, "SELECT count(*) FROM idr_work.publish_journal"))[0] }

	t.Run("cancelled publish", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := pipeline.Run(ctx, e, pipeline.Options{Mode: pipeline.ModeFull, Now: pinnedNow, Hook: func(p string) {
			if p == "publish:5" { // membership, clusters and edges are already replaced
				cancel()
			}
		}})
		if err == nil || !strings.Contains(err.Error(), "interrupted during stage publish") {
			t.Fatalf("run error %v, want an interruption during publish", err)
		}
		if after := readOutputs(t, e); !reflect.DeepEqual(after, before) {
			t.Fatalf("outputs changed by a failed run:\nbefore %v\nafter  %v", before, after)
		}
		st := rows(mustQuery(t, e, "SELECT status, failed_stage FROM idr_out.run_history ORDER BY started_ts, run_id"))
		if want := []string{"SUCCESS | NULL", "FAILED | publish"}; !reflect.DeepEqual(st, want) {
			t.Fatalf("run_history %v, want %v", st, want)
		}
		if n := journal(); n != "0" {
			t.Fatalf("journal keeps %s rows after the restore", n)
		}
	})

	t.Run("killed publish", func(t *testing.T) {
		// A panic stops the run where it is, as a kill does: nothing after it runs, no restore.
		func() {
			defer func() {
				if r := recover(); r != "killed" {
					t.Fatalf("recovered %v, want the test's panic", r)
				}
			}()
			_, _ = pipeline.Run(context.Background(), e, pipeline.Options{Mode: pipeline.ModeFull, Now: pinnedNow, Hook: func(p string) {
				if p == "publish:5" {
					panic("killed")
				}
			}})
		}()
		if n := journal(); n == "0" {
			t.Fatal("no journal left by the interrupted publish")
		}
		if mid := readOutputs(t, e); reflect.DeepEqual(mid["membership"], before["membership"]) {
			t.Fatal("the interrupted publish changed nothing: the test does not interrupt it mid-way")
		}
		release, err := e.AcquireRunLock(context.Background()) // what the next run does first
		if err != nil {
			t.Fatal(err)
		}
		after := readOutputs(t, e)
		release()
		if !reflect.DeepEqual(after, before) {
			t.Fatalf("outputs not restored:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("run lock", func(t *testing.T) {
		// The command reaches the server as localhost, not 127.0.0.1, so this process's mutex
		// (one per URL) lets it through and the row in idr_work.run_lock refuses it, as it
		// refuses another process or machine.
		release, err := e.AcquireRunLock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		other := "--remote=" + strings.Replace(sparktest.Remote(t), "127.0.0.1", "localhost", 1)
		code, _, errOut := idr(t, "", "run", "--engine=spark", other, "--run-mode=FULL")
		release()
		oneLineError(t, "second run", code, errOut, 2, "already has an idr run in progress (held by ", "DELETE FROM idr_work.run_lock")
	})

	t.Run("next run, INCR on both engines", func(t *testing.T) {
		// The failed runs left Spark's outputs and state as DuckDB's are: an incremental run on
		// each, after the same new row, must publish the same merge.
		mustExec(t, want.eng, "INSERT INTO crm.customers VALUES ('C004', 'jane@example.org', '5551234567', 'Jo', DATE '2024-01-04')")
		for _, eng := range []engine.Engine{want.eng, e} {
			rep, err := pipeline.Run(context.Background(), eng, pipeline.Options{Mode: pipeline.ModeIncr, Now: pinnedNow})
			if err != nil {
				t.Fatalf("%s: INCR run: %v", eng.Name(), err)
			}
			if !rep.Incremental {
				t.Errorf("%s: the INCR run recomputed everything: %v", eng.Name(), rep.Warnings)
			}
		}
		duck, sp := readOutputs(t, want.eng), readOutputs(t, e)
		for _, n := range names {
			if !reflect.DeepEqual(sp[n], duck[n]) {
				t.Errorf("after INCR, %s differs:\nspark:\n  %s\nduckdb:\n  %s", n, strings.Join(sp[n], "\n  "), strings.Join(duck[n], "\n  "))
			}
		}
		if reflect.DeepEqual(sp["membership"], before["membership"]) || len(sp["clusters"]) != len(before["clusters"])-1 {
			t.Fatalf("the INCR run did not publish the merge: clusters %v", sp["clusters"])
		}
	})
}

// TestRandomFULL runs random datasets of the conformance suite (engine/enginetest) on Spark
// against the suite's reference, as engine/duckdb does with 2000. One engine at a time: every
// session shares the server's catalog.
func TestRandomFULL(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	enginetest.Random(t, func(t testing.TB) engine.Engine { return fresh(t) }, 2, 20250102)
}

// TestRandomHistory runs random histories of the conformance suite (engine/enginetest/history.go:
// inserts, identifier updates, soft deletes, late rows, configuration changes) with A on Spark
// running INCR after every batch and B on DuckDB running FULL: after every step both must publish
// the reference's membership, resolved ids, clusters, edges, golden profiles and cluster history,
// and the same resolved_id_lookup. Every Spark run costs tens of seconds here, so by default one
// history runs, chosen for having four incremental steps in six runs; IDR_SPARK_HISTORIES=N runs
// histories 0..N-1 of the stream instead.
func TestRandomHistory(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	indexes := []int{16}
	if v := os.Getenv("IDR_SPARK_HISTORIES"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("IDR_SPARK_HISTORIES=%q: want a positive number", v)
		}
		indexes = indexes[:0]
		for i := 0; i < n; i++ {
			indexes = append(indexes, i)
		}
	}
	for _, i := range indexes {
		t.Run(fmt.Sprintf("history_%d", i), func(t *testing.T) {
			enginetest.HistoryOneAcross(t, func(t testing.TB) engine.Engine { return fresh(t) }, openDuckDB, 20250301, i, pipeline.ModeIncr)
		})
	}
}
