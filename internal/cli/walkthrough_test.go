package cli

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/idr-dev/idr/internal/demo"
)

// The walkthrough's Step 6 table: entity_key -> proposed_resolved_id, all NEW.
var walkthroughMembership = map[string]string{
	"crm_customers:C001":   "crm_customers:C001",
	"ecom_orders:O001":     "crm_customers:C001",
	"ecom_orders:O002":     "crm_customers:C001",
	"support_tickets:T001": "crm_customers:C001",
	"crm_customers:C002":   "crm_customers:C002",
	"ecom_orders:O003":     "crm_customers:C002",
	"crm_customers:C003":   "crm_customers:C003",
	"support_tickets:T002": "crm_customers:C003",
	"ecom_orders:O004":     "ecom_orders:O004",
	"support_tickets:T003": "support_tickets:T003",
}

func sortedMembership() []string {
	var out []string
	for k, v := range walkthroughMembership {
		out = append(out, k+" | "+v)
	}
	sort.Strings(out)
	return out
}

// TestWalkthrough runs the user's walkthrough through the idr command line, its SQL verbatim.
func TestWalkthrough(t *testing.T) {
	db := walkthroughDB(t)

	// Step 5: dry run.
	out := mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	for _, want := range []string{"DRY RUN SUMMARY", "New Entities:       10", "Edges Would Create: 7",
		"Largest Cluster:    4 entities (crm_customers:C001)", "Cluster Rounds:     1", "REVIEW: SELECT * FROM idr_out.dry_run_results"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run summary lacks %q:\n%s", want, out)
		}
	}
	if got := query(t, db, "SELECT count(*) FROM idr_out.identity_resolved_membership_current"); got[0] != "0" {
		t.Fatalf("dry run wrote production membership: %v rows", got)
	}
	if got := query(t, db, "SELECT count(*) FROM idr_meta.run_state"); got[0] != "0" {
		t.Fatalf("dry run advanced watermarks")
	}
	if got := query(t, db, "SELECT status FROM idr_out.run_history"); !reflect.DeepEqual(got, []string{"DRY_RUN_COMPLETE"}) {
		t.Fatalf("run_history after dry run = %v", got)
	}
	got := query(t, db, "SELECT new_entities, moved_entities, unchanged_entities, edges_would_create, largest_cluster_size, largest_cluster_resolved_id FROM idr_out.dry_run_summary")
	if want := []string{"10 | 0 | 0 | 7 | 4 | crm_customers:C001"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("dry_run_summary = %v, want %v", got, want)
	}

	// Step 6: the review query, verbatim, returns the walkthrough's table.
	code, out, errOut := idrCmd(t, "", "sql", "--db="+db, "--format=csv", "-c", demo.SQL(demo.Review))
	if code != 0 {
		t.Fatalf("review query: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "entity_key,proposed_resolved_id,change_type" || len(lines) != 11 {
		t.Fatalf("review result:\n%s", out)
	}
	var review []string
	prev := ""
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[2] != "NEW" {
			t.Errorf("change_type of %s = %s, want NEW", f[0], f[2])
		}
		if f[1] < prev {
			t.Errorf("review not ordered by proposed_resolved_id: %s after %s", f[1], prev)
		}
		prev = f[1]
		review = append(review, f[0]+" | "+f[1])
	}
	sort.Strings(review)
	if !reflect.DeepEqual(review, sortedMembership()) {
		t.Fatalf("review = %v\nwant %v", review, sortedMembership())
	}

	// Step 7: commit.
	out = mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("committed run output:\n%s", out)
	}
	if got := query(t, db, "SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current ORDER BY entity_key"); !reflect.DeepEqual(got, sortedMembership()) {
		t.Fatalf("membership = %v\nwant %v", got, sortedMembership())
	}
	if got := query(t, db, "SELECT count(*) FROM idr_out.identity_edges_current"); got[0] != "7" {
		t.Errorf("edges = %v, want 7", got)
	}
	if got := query(t, db, "SELECT resolved_id, cluster_size FROM idr_out.identity_clusters_current ORDER BY resolved_id"); !reflect.DeepEqual(got, []string{
		"crm_customers:C001 | 4", "crm_customers:C002 | 2", "crm_customers:C003 | 2", "ecom_orders:O004 | 1", "support_tickets:T003 | 1"}) {
		t.Errorf("clusters = %v", got)
	}
	if got := query(t, db, "SELECT table_id, last_watermark_value FROM idr_meta.run_state ORDER BY table_id"); !reflect.DeepEqual(got, []string{
		"crm_customers | 2024-01-03 00:00:00", "ecom_orders | 2024-02-25 00:00:00", "support_tickets | 2024-03-03 00:00:00"}) {
		t.Errorf("run_state = %v", got)
	}

	// Step 8: the three queries, verbatim.
	code, out, errOut = idrCmd(t, "", "sql", "--db="+db, "--format=csv", "-c", demo.SQL(demo.Membership))
	if code != 0 {
		t.Fatalf("membership query: %s", errOut)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[1], "crm_customers:C001,4,") {
		t.Errorf("membership query:\n%s", out)
	}
	code, out, errOut = idrCmd(t, "", "sql", "--db="+db, "--format=csv", "-c", demo.SQL(demo.Golden))
	if code != 0 {
		t.Fatalf("golden query: %s", errOut)
	}
	for _, want := range []string{
		"crm_customers:C001,john@acme.com,5551234567,John,",
		"crm_customers:C003,bob@test.com,5550001111,Bob,",
		"crm_customers:C002,jane@example.org,5559876543,Jane,",
		"ecom_orders:O004,alice@new.com,,,",
		"support_tickets:T003,new@person.com,5552223333,,",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("golden profiles lack %q:\n%s", want, out)
		}
	}
	code, out, errOut = idrCmd(t, "", "sql", "--db="+db, "--format=csv", "-c", demo.SQL(demo.Customer360))
	if code != 0 {
		t.Fatalf("customer 360 query: %s", errOut)
	}
	for _, want := range []string{
		"crm_customers:C001,john@acme.com,5551234567,2,1",
		"crm_customers:C002,jane@example.org,5559876543,1,0",
		"crm_customers:C003,bob@test.com,5550001111,0,1",
		"ecom_orders:O004,alice@new.com,,1,0",
		"support_tickets:T003,new@person.com,5552223333,0,1",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("customer 360 lacks %q:\n%s", want, out)
		}
	}

	// A second FULL run over unchanged data changes no id, and a dry run then reports all UNCHANGED.
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if got := query(t, db, "SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current ORDER BY entity_key"); !reflect.DeepEqual(got, sortedMembership()) {
		t.Fatalf("membership after rerun = %v", got)
	}
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	if got := query(t, db, "SELECT change_type, count(*) FROM idr_out.dry_run_results GROUP BY 1"); !reflect.DeepEqual(got, []string{"UNCHANGED | 10"}) {
		t.Errorf("dry run after commit = %v", got)
	}
	// Audit and history tables are filled.
	if got := query(t, db, "SELECT rule_id, edges_created FROM idr_out.rule_match_audit_current ORDER BY rule_id"); !reflect.DeepEqual(got, []string{
		"email_exact | 5", "loyalty_exact | 1", "phone_exact | 1"}) {
		t.Errorf("rule audit = %v", got)
	}
	if got := query(t, db, "SELECT count(DISTINCT stage) FROM idr_out.stage_metrics"); got[0] != "9" {
		t.Errorf("stage_metrics stages = %v", got)
	}
	if got := query(t, db, "SELECT metric_value FROM idr_out.metrics_export WHERE metric_name = 'idr_edges' ORDER BY recorded_ts DESC LIMIT 1"); !reflect.DeepEqual(got, []string{"7"}) {
		t.Errorf("metrics_export idr_edges = %v", got)
	}
	out = mustIdr(t, "status", "--db="+db)
	if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "DRY_RUN_COMPLETE") {
		t.Errorf("status:\n%s", out)
	}
}

// TestDemo runs `idr demo` as `make demo` does.
func TestDemo(t *testing.T) {
	db := t.TempDir() + "/demo.duckdb"
	out := mustIdr(t, "demo", "--db="+db)
	for _, want := range []string{"New Entities:       10", "Edges Would Create: 7", "| john@acme.com", "| John", "(5 rows)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if code, _, errOut := idrCmd(t, "", "demo", "--db="+db); code != 2 || !strings.Contains(errOut, "--force") {
		t.Errorf("demo over an existing file: exit %d, %s", code, errOut)
	}
	mustIdr(t, "demo", "--db="+db, "--force")
}
