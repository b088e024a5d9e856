package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A group over max_group_size links nothing, is recorded with sample keys and warned about;
// an excluded value links nothing and is counted.
func TestSkippedGroupsAndExclusions(t *testing.T) {
	db := walkthroughDB(t)
	mustIdr(t, "sql", "--db="+db, "-c", `
		UPDATE idr_meta.rule SET max_group_size = 3 WHERE rule_id = 'email_exact';
		INSERT INTO idr_meta.identifier_exclusion VALUES ('LOYALTY', 'LY1%', TRUE, 'test loyalty range'),
		  ('PHONE', '(555) 987-6543', FALSE, 'shared office line')`)
	code, out, errOut := idrCmd(t, "", "run", "--db="+db, "--run-mode=FULL")
	if code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	if !strings.Contains(errOut, `warning: skipped EMAIL group "john@acme.com": 4 entities exceed max_group_size 3`) {
		t.Errorf("no skipped-group warning on stderr:\n%s", errOut)
	}
	for _, want := range []string{"Excluded Values:    2", `LOYALTY "ly100"`, `PHONE "5559876543" on 1 entities (shared office line)`, "Skipped Groups:     1"} {
		if !strings.Contains(out, want) && !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	got := query(t, db, "SELECT identifier_type, identifier_value_norm, group_size, max_group_size, sample_entity_keys, reason FROM idr_out.skipped_identifier_groups")
	want := []string{"EMAIL | john@acme.com | 4 | 3 | crm_customers:C001, ecom_orders:O001, ecom_orders:O002, support_tickets:T001 | group of 4 entities exceeds max_group_size 3 of rule email_exact"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("skipped groups = %v\nwant %v", got, want)
	}
	// John's records now link only through the phone C001-T001; O001/O002 lost LY100 to the exclusion.
	got = query(t, db, "SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current WHERE entity_key IN ('crm_customers:C001', 'support_tickets:T001', 'ecom_orders:O001', 'ecom_orders:O002') ORDER BY 1")
	want = []string{"crm_customers:C001 | crm_customers:C001", "ecom_orders:O001 | ecom_orders:O001", "ecom_orders:O002 | ecom_orders:O002", "support_tickets:T001 | crm_customers:C001"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("membership = %v\nwant %v", got, want)
	}
	got = query(t, db, "SELECT rule_id, groups_skipped, values_excluded FROM idr_out.rule_match_audit_current ORDER BY rule_id")
	want = []string{"email_exact | 1 | 0", "loyalty_exact | 0 | 1", "phone_exact | 0 | 1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rule audit = %v\nwant %v", got, want)
	}
	if got := query(t, db, "SELECT groups_skipped, values_excluded FROM idr_out.run_history WHERE status = 'SUCCESS'"); got[0] != "1 | 2" {
		t.Errorf("run_history = %v", got)
	}
}

// Configured attributes become golden-profile columns; the winner follows trust_rank, then the
// latest watermark, and NULL never wins.
func TestGoldenAttributes(t *testing.T) {
	db := walkthroughDB(t)
	mustIdr(t, "sql", "--db="+db, "-c", `
		ALTER TABLE crm.customers ADD COLUMN last_name VARCHAR;
		UPDATE crm.customers SET last_name = 'Doe' WHERE customer_id = 'C001';
		INSERT INTO idr_meta.entity_attribute_mapping VALUES
		  ('ecom_orders', 'loyalty_tier', 'CASE WHEN loyalty_id IS NOT NULL THEN ''member'' END'),
		  ('support_tickets', 'last_contact', 'CAST(created_at AS VARCHAR)'),
		  ('ecom_orders', 'last_contact', 'CAST(order_date AS VARCHAR)'),
		  ('support_tickets', 'first_name', 'NULL')`)
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	got := query(t, db, "SELECT resolved_id, first_name, last_name, loyalty_tier, last_contact FROM idr_out.golden_profile_current ORDER BY resolved_id")
	want := []string{
		"crm_customers:C001 | John | Doe | member | 2024-02-15", // e-commerce (rank 2) beats support (rank 3); O002 is its latest order
		"crm_customers:C002 | Jane | NULL | member | 2024-02-20",
		"crm_customers:C003 | Bob | NULL | NULL | 2024-03-02",
		"ecom_orders:O004 | NULL | NULL | NULL | 2024-02-25",
		"support_tickets:T003 | NULL | NULL | NULL | 2024-03-03",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("golden = %v\nwant %v", got, want)
	}
	if got := query(t, db, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'idr_out' AND table_name = 'golden_profile_current' ORDER BY ordinal_position"); strings.Join(got, ",") != "resolved_id,email_primary,phone_primary,first_name,last_name,loyalty_tier,last_contact,updated_ts" {
		t.Errorf("golden columns = %v", got)
	}
	// A reserved name is refused.
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO idr_meta.entity_attribute_mapping VALUES ('crm_customers', 'email_primary', 'email')")
	expectRefused(t, db, 2, []string{"email_primary", "cannot be a golden profile column"}, "run", "--db="+db)
}

// idr sql reads statements from -c, -f and standard input, and prints CSV and JSON.
func TestSQLInputsAndFormats(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.duckdb")
	file := filepath.Join(t.TempDir(), "s.sql")
	if err := os.WriteFile(file, []byte("CREATE TABLE t (a INTEGER, b VARCHAR);\nINSERT INTO t VALUES (1, 'x;y'), (2, NULL);"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustIdr(t, "sql", "--db="+db, "-f", file)
	code, out, errOut := idrCmd(t, "SELECT a, b FROM t ORDER BY a;", "sql", "--db="+db, "--format=json")
	if code != 0 || out != "{\"a\":1,\"b\":\"x;y\"}\n{\"a\":2,\"b\":null}\n" {
		t.Errorf("json from stdin: exit %d %q %s", code, out, errOut)
	}
	if out := mustIdr(t, "sql", "--db="+db, "--format=csv", "-c", "SELECT * FROM t ORDER BY a"); out != "a,b\n1,x;y\n2,\n" {
		t.Errorf("csv = %q", out)
	}
	if out := mustIdr(t, "sql", "--db="+db, "-c", "SELECT * FROM t ORDER BY a"); !strings.Contains(out, "2 | NULL") || !strings.Contains(out, "(2 rows)") {
		t.Errorf("table = %q", out)
	}
	expectRefused(t, "", 2, []string{"both -c and -f"}, "sql", "--db="+db, "-c", "SELECT 1", "-f", file)
	expectRefused(t, "", 2, []string{"unknown --format"}, "sql", "--db="+db, "--format=xml", "-c", "SELECT 1")
}

// idr plan prints the SQL of a run and writes nothing.
func TestPlan(t *testing.T) {
	db := committedWalkthrough(t)
	before := snapshot(t, db)
	out := mustIdr(t, "plan", "--db="+db)
	for _, want := range []string{"-- stage extract", "-- components: label the nodes of idr_work.entities", "-- stage publish", "INSERT INTO idr_out.identity_entities_current"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	if out := mustIdr(t, "plan", "--db="+db, "--dry-run"); !strings.Contains(out, "-- stage dryrun") || strings.Contains(out, "-- stage publish") {
		t.Errorf("dry-run plan:\n%s", out)
	}
	mustIdr(t, "run", "--db="+db, "--run-mode=INCR")
	before = snapshot(t, db)
	if out := mustIdr(t, "plan", "--db="+db, "--run-mode=INCR"); !strings.Contains(out, "-- stage scope") || !strings.Contains(out, "idr_work.delta_keys") {
		t.Errorf("INCR plan does not plan an incremental run:\n%s", out)
	}
	if after := snapshot(t, db); after != before {
		t.Errorf("plan changed the database")
	}
}
