package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/demo"
)

// idrCmd runs the idr command line in-process and returns its exit code and output.
func idrCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// mustIdr runs idr and fails the test unless it exits 0.
func mustIdr(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := idrCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("idr %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// query opens the database and returns the rows of q, each row's values joined by " | ".
func query(t *testing.T, db, q string) []string {
	t.Helper()
	c, err := idr.Open(context.Background(), idr.Options{DB: db, MustExist: true})
	if err != nil {
		t.Fatalf("open %s: %v", db, err)
	}
	defer c.Close()
	res, err := c.Engine().Query(context.Background(), q)
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	out := make([]string, len(res.Rows))
	for i, row := range res.Rows {
		parts := make([]string, len(row))
		for j, v := range row {
			s, ok := formatValue(v, typeOf(res, j))
			if !ok {
				s = "NULL"
			}
			parts[j] = s
		}
		out[i] = strings.Join(parts, " | ")
	}
	return out
}

// walkthroughDB creates a database holding the walkthrough's sources and configuration (Steps 1-4).
func walkthroughDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "idr.duckdb")
	mustIdr(t, "init", "--db="+db)
	mustIdr(t, "sql", "--db="+db, "-c", demo.SQL(demo.Sources))
	mustIdr(t, "sql", "--db="+db, "-c", demo.SQL(demo.Config))
	return db
}

// snapshot renders everything a run may change, so tests can prove that nothing changed.
func snapshot(t *testing.T, db string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT * FROM idr_out.identity_resolved_membership_current",
		"SELECT * FROM idr_out.identity_clusters_current",
		"SELECT * FROM idr_out.identity_edges_current",
		"SELECT * FROM idr_out.golden_profile_current",
		"SELECT * FROM idr_out.rule_match_audit_current",
		"SELECT * FROM idr_out.skipped_identifier_groups",
		"SELECT * FROM idr_out.dry_run_results",
		"SELECT * FROM idr_out.dry_run_summary",
		"SELECT * FROM idr_out.metrics_export",
		"SELECT * FROM idr_meta.run_state",
		"SELECT * FROM idr_out.stage_metrics",
		"SELECT run_id, status FROM idr_out.run_history",
	} {
		rows := query(t, db, q)
		sort.Strings(rows)
		fmt.Fprintf(&b, "%s\n%s\n", q, strings.Join(rows, "\n"))
	}
	return b.String()
}
