package cli

import (
	"reflect"
	"strings"
	"testing"
)

// The walkthrough continued: a support ticket carrying Jane's phone and Alice's email merges two
// clusters, and the larger one's id survives; correcting that email splits the cluster again,
// and the part that leaves gets a new id. History and the id lookup record both.
func TestWalkthroughMergeAndSplit(t *testing.T) {
	db := committedWalkthrough(t)
	members := func() []string {
		return query(t, db, "SELECT resolved_id, string_agg(entity_key, ',' ORDER BY entity_key) FROM idr_out.identity_resolved_membership_current GROUP BY resolved_id ORDER BY resolved_id")
	}
	before := members()

	// Merge: T004 links Jane's cluster (C002, O003) through her phone and Alice's (O004) through her email.
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')")
	out := mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	if !strings.Contains(out, "Merged Clusters:    1") {
		t.Errorf("dry run does not report the merge:\n%s", out)
	}
	if got := query(t, db, "SELECT entity_key, change_type, current_resolved_id, proposed_resolved_id FROM idr_out.dry_run_results WHERE change_type <> 'UNCHANGED' ORDER BY entity_key"); !reflect.DeepEqual(got, []string{
		"crm_customers:C002 | MERGED | crm_customers:C002 | crm_customers:C002",
		"ecom_orders:O003 | MERGED | crm_customers:C002 | crm_customers:C002",
		"ecom_orders:O004 | MERGED | ecom_orders:O004 | crm_customers:C002",
		"support_tickets:T004 | NEW | NULL | crm_customers:C002",
	}) {
		t.Errorf("dry-run results = %v", got)
	}
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	want := []string{
		"crm_customers:C001 | crm_customers:C001,ecom_orders:O001,ecom_orders:O002,support_tickets:T001",
		"crm_customers:C002 | crm_customers:C002,ecom_orders:O003,ecom_orders:O004,support_tickets:T004",
		"crm_customers:C003 | crm_customers:C003,support_tickets:T002",
		"support_tickets:T003 | support_tickets:T003",
	}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after merge: %v\nwant %v\n(before: %v)", got, want, before)
	}
	history := func() []string {
		return query(t, db, "SELECT change_type, resolved_id, related_ids, member_count, previous_member_count FROM idr_out.cluster_history "+
			"WHERE run_id = (SELECT max(run_id) FROM idr_out.run_history WHERE status = 'SUCCESS') ORDER BY change_type, resolved_id")
	}
	if got := history(); !reflect.DeepEqual(got, []string{
		"MERGED | crm_customers:C002 | crm_customers:C002, ecom_orders:O004 | 4 | 3",
		"RETIRED | ecom_orders:O004 | crm_customers:C002 | NULL | 1",
	}) {
		t.Errorf("history after merge = %v", got)
	}
	if got := query(t, db, "SELECT old_resolved_id, current_resolved_id, change_type FROM idr_out.resolved_id_lookup ORDER BY 1, 2"); !reflect.DeepEqual(got, []string{
		"ecom_orders:O004 | crm_customers:C002 | RETIRED",
	}) {
		t.Errorf("lookup after merge = %v", got)
	}

	// Split: correcting T004's email leaves O004 on its own again.
	mustIdr(t, "sql", "--db="+db, "-c", "UPDATE support.tickets SET contact_email = 'jane@example.org' WHERE ticket_id = 'T004'")
	out = mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	if !strings.Contains(out, "Split Clusters:     1") {
		t.Errorf("dry run does not report the split:\n%s", out)
	}
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	// O004 is on its own again and takes back its own key, which is current again and so leaves the lookup.
	want = []string{
		"crm_customers:C001 | crm_customers:C001,ecom_orders:O001,ecom_orders:O002,support_tickets:T001",
		"crm_customers:C002 | crm_customers:C002,ecom_orders:O003,support_tickets:T004",
		"crm_customers:C003 | crm_customers:C003,support_tickets:T002",
		"ecom_orders:O004 | ecom_orders:O004",
		"support_tickets:T003 | support_tickets:T003",
	}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after split: %v\nwant %v", got, want)
	}
	if got := history(); !reflect.DeepEqual(got, []string{"SPLIT | crm_customers:C002 | crm_customers:C002, ecom_orders:O004 | NULL | 4"}) {
		t.Errorf("history after split = %v", got)
	}
	if got := query(t, db, "SELECT old_resolved_id, current_resolved_id, change_type FROM idr_out.resolved_id_lookup ORDER BY 1, 2"); !reflect.DeepEqual(got, []string{
		"crm_customers:C002 | crm_customers:C002 | SPLIT",
		"crm_customers:C002 | ecom_orders:O004 | SPLIT",
	}) {
		t.Errorf("lookup after split = %v", got)
	}
	// Every current id is unique, and a FULL rerun over unchanged data changes no id.
	before = members()
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if got := members(); !reflect.DeepEqual(got, before) {
		t.Errorf("rerun changed ids: %v -> %v", before, got)
	}
	if got := history(); len(got) != 0 {
		t.Errorf("rerun over unchanged data logged changes: %v", got)
	}
}

// A FULL run over unchanged data republishes every edge with the first_seen_ts it had and a
// later last_seen_ts; an edge new in a run is first seen then.
func TestEdgesKeepFirstSeen(t *testing.T) {
	db := committedWalkthrough(t)
	const edges = "SELECT rule_id, left_entity_key, right_entity_key, identifier_value_norm, CAST(first_seen_ts AS VARCHAR) FROM idr_out.identity_edges_current ORDER BY 1, 2, 3, 4"
	before := query(t, db, edges)
	if len(before) == 0 {
		t.Fatal("the walkthrough has no edges")
	}
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if got := query(t, db, edges); !reflect.DeepEqual(got, before) {
		t.Errorf("edges after a FULL rerun = %v\nwant %v", got, before)
	}
	if got := query(t, db, "SELECT count(*) FROM idr_out.identity_edges_current WHERE last_seen_ts <= first_seen_ts"); !reflect.DeepEqual(got, []string{"0"}) {
		t.Errorf("edges whose last_seen_ts did not move: %v", got)
	}
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')")
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if got := query(t, db, "SELECT count(*) FROM idr_out.identity_edges_current WHERE first_seen_ts = last_seen_ts"); reflect.DeepEqual(got, []string{"0"}) {
		t.Error("no edge is first seen in the run that added T004")
	}
	after := query(t, db, edges)
	kept := 0
	for _, e := range after {
		for _, b := range before {
			if e == b {
				kept++
			}
		}
	}
	if kept == 0 {
		t.Errorf("no edge kept its first_seen_ts after T004 was added: before %v, after %v", before, after)
	}
}
