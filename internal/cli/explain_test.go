package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idr-dev/idr/internal/explain"
)

// explainJSON runs `idr explain --format=json` and decodes its output into v.
func explainJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := mustIdr(t, append([]string{"explain", "--format=json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("explain %v: output is not JSON: %v\n%s", args, err, out)
	}
}

// linkLabels renders a chain step's links as "TYPE value" strings.
func linkLabels(s explain.Step) []string {
	var out []string
	for _, l := range s.Links {
		out = append(out, l.IdentifierType+" "+l.Value)
	}
	return out
}

// The walkthrough's chains: O002 reaches C001 through EMAIL; T001 through EMAIL and PHONE; T002
// reaches C003 through EMAIL.
func TestExplainWalkthrough(t *testing.T) {
	db := committedWalkthrough(t)
	out := mustIdr(t, "explain", "--db="+db, "C001")
	for _, want := range []string{
		"Entity:      crm_customers:C001", "Resolved ID: crm_customers:C001", "Cluster:     4 entities",
		"crm_customers (1)\n  crm_customers:C001 (this entity)",
		"ecom_orders (2)\n  ecom_orders:O001 -[EMAIL john@acme.com]- crm_customers:C001\n  ecom_orders:O002 -[EMAIL john@acme.com]- crm_customers:C001",
		"support_tickets (1)\n  support_tickets:T001 -[EMAIL john@acme.com, PHONE 5551234567]- crm_customers:C001",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain C001 lacks %q:\n%s", want, out)
		}
	}

	var ent explain.Entity
	explainJSON(t, &ent, "--db="+db, "crm_customers:C003")
	if ent.ResolvedID != "crm_customers:C003" || ent.ClusterSize != 2 || len(ent.Sources) != 2 || ent.Run.DryRun {
		t.Fatalf("explain C003 = %+v", ent)
	}
	t002 := ent.Sources[1].Members[0]
	if ent.Sources[1].TableID != "support_tickets" || t002.EntityKey != "support_tickets:T002" || t002.Hops != 1 ||
		t002.Chain.String() != "support_tickets:T002 -[EMAIL bob@test.com]- crm_customers:C003" {
		t.Errorf("T002 in C003's cluster = %+v", t002)
	}

	for _, tc := range []struct {
		a, b  string
		links []string
	}{
		{"O002", "C001", []string{"EMAIL john@acme.com"}},
		{"support_tickets:T001", "crm_customers:C001", []string{"EMAIL john@acme.com", "PHONE 5551234567"}},
		{"T002", "C003", []string{"EMAIL bob@test.com"}},
	} {
		var p explain.Pair
		explainJSON(t, &p, "--db="+db, tc.a, tc.b)
		if !p.Linked || p.Chain == nil || len(p.Chain.Steps) != 1 || len(p.Reasons) != 0 {
			t.Errorf("explain %s %s = %+v, want linked in one step", tc.a, tc.b, p)
			continue
		}
		if got := linkLabels(p.Chain.Steps[0]); strings.Join(got, ";") != strings.Join(tc.links, ";") {
			t.Errorf("explain %s %s links = %v, want %v", tc.a, tc.b, got, tc.links)
		}
	}
	out = mustIdr(t, "explain", "--db="+db, "T002", "C003")
	if !strings.Contains(out, "LINKED in 1 step:\n  support_tickets:T002 -[EMAIL bob@test.com]- crm_customers:C003") {
		t.Errorf("explain T002 C003:\n%s", out)
	}

	// Clusters that share nothing: the reasons compare the two per rule.
	var p explain.Pair
	explainJSON(t, &p, "--db="+db, "O004", "T003")
	if p.Linked || len(p.Reasons) == 0 || p.Reasons[0].Kind != explain.ReasonMissingIdentifier ||
		p.Reasons[0].Text != "ecom_orders:O004 has no PHONE identifier (rule phone_exact); support_tickets:T003 has 5552223333" {
		t.Errorf("explain O004 T003 = %+v", p)
	}
}

// Two entities that share a value are not linked when the value's group is over max_group_size,
// or when the value is excluded; explain names the value and the cause.
func TestExplainNotLinked(t *testing.T) {
	t.Run("max_group_size", func(t *testing.T) {
		db := walkthroughDB(t)
		mustIdr(t, "sql", "--db="+db, "-c", "UPDATE idr_meta.rule SET max_group_size = 3 WHERE rule_id = 'email_exact'")
		// A dry run first: its own skipped groups give the reason.
		mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
		dry := query(t, db, "SELECT run_id FROM idr_out.dry_run_summary")[0]
		var p explain.Pair
		explainJSON(t, &p, "--db="+db, "--run-id="+dry, "O002", "T001")
		if p.Linked || len(p.Reasons) == 0 || p.Reasons[0].Kind != explain.ReasonSkippedGroup || p.Reasons[0].SkippedInRun != dry || p.Reasons[0].GroupSize != 4 {
			t.Fatalf("dry-run explain O002 T001 = %+v", p)
		}
		mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
		p = explain.Pair{}
		explainJSON(t, &p, "--db="+db, "O002", "T001")
		if p.Linked || len(p.Reasons) == 0 {
			t.Fatalf("explain O002 T001 = %+v, want not linked with a reason", p)
		}
		committed := query(t, db, "SELECT run_id FROM idr_out.run_history WHERE status = 'SUCCESS'")[0]
		r := p.Reasons[0]
		if r.Kind != explain.ReasonSkippedGroup || r.SkippedInRun != committed || r.IdentifierType != "EMAIL" || r.Value != "john@acme.com" || r.GroupSize != 4 ||
			r.MaxGroupSize != 3 || r.RuleID != "email_exact" || r.Hops != 0 || r.HolderA != "ecom_orders:O002" || r.HolderB != "support_tickets:T001" {
			t.Errorf("reason = %+v", r)
		}
		out := mustIdr(t, "explain", "--db="+db, "O002", "T001")
		if !strings.Contains(out, "NOT LINKED") || !strings.Contains(out, "share EMAIL john@acme.com, but its group was skipped") ||
			!strings.Contains(out, "group of 4 entities exceeds max_group_size 3 of rule email_exact") {
			t.Errorf("explain O002 T001:\n%s", out)
		}
	})
	t.Run("exclusion", func(t *testing.T) {
		db := walkthroughDB(t)
		mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO idr_meta.identifier_exclusion VALUES ('EMAIL', ' Bob@Test.com', FALSE, 'shared family mailbox')")
		mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
		var p explain.Pair
		explainJSON(t, &p, "--db="+db, "T002", "C003")
		if p.Linked || len(p.Reasons) != 1 {
			t.Fatalf("explain T002 C003 = %+v, want not linked with one reason", p)
		}
		r := p.Reasons[0]
		if r.Kind != explain.ReasonExcluded || r.Value != "bob@test.com" || r.Pattern != " Bob@Test.com" || r.ExclusionNote != "shared family mailbox" {
			t.Errorf("reason = %+v", r)
		}
		// A reason held by other members of the clusters: O001 and T001 share john's email, which
		// is excluded by a pattern, so the clusters {O001, O002} and {C001, T001} stay apart.
		mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO idr_meta.identifier_exclusion VALUES ('EMAIL', 'john@%', TRUE, 'test mailbox')")
		mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
		p = explain.Pair{}
		explainJSON(t, &p, "--db="+db, "O002", "C001")
		if p.Linked || len(p.Reasons) == 0 {
			t.Fatalf("explain O002 C001 = %+v", p)
		}
		if r := p.Reasons[0]; r.Kind != explain.ReasonExcluded || r.Value != "john@acme.com" || r.Pattern != "john@%" || r.Hops != 0 {
			t.Errorf("reason = %+v", r)
		}
	})
}

// A dry run keeps its links: --run-id explains the chain it proposes.
func TestExplainDryRun(t *testing.T) {
	db := committedWalkthrough(t)
	committed := query(t, db, "SELECT run_id FROM idr_out.run_history WHERE status = 'SUCCESS'")[0]
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')")
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	dry := query(t, db, "SELECT run_id FROM idr_out.dry_run_summary")[0]

	var p explain.Pair
	explainJSON(t, &p, "--db="+db, "--run-id="+dry, "O004", "C002")
	if !p.Linked || !p.Run.DryRun || p.Run.ID != dry || p.A.ResolvedID != "crm_customers:C002" || p.A.ClusterSize != 4 {
		t.Fatalf("dry-run explain O004 C002 = %+v", p)
	}
	if got := p.Chain.String(); got != "ecom_orders:O004 -[EMAIL alice@new.com]- support_tickets:T004 -[PHONE 5559876543]- crm_customers:C002" {
		t.Errorf("dry-run chain = %s", got)
	}
	// The committed run has not linked them yet.
	p = explain.Pair{}
	explainJSON(t, &p, "--db="+db, "O004", "C002")
	if p.Linked || p.Run.ID != committed || p.A.ResolvedID != "ecom_orders:O004" {
		t.Errorf("committed explain O004 C002 = %+v", p)
	}
	if out := mustIdr(t, "explain", "--db="+db, "--run-id="+dry, "T004"); !strings.Contains(out, "(dry run, FULL)") ||
		!strings.Contains(out, "crm_customers:C002 -[PHONE 5559876543]- support_tickets:T004") {
		t.Errorf("dry-run explain T004:\n%s", out)
	}

	// An incremental dry run lists only the clusters it recomputes; the others keep their
	// committed links.
	mustIdr(t, "run", "--db="+db, "--run-mode=INCR", "--dry-run")
	incr := query(t, db, "SELECT run_id FROM idr_out.dry_run_results LIMIT 1")[0]
	if got := query(t, db, "SELECT count(*) FROM idr_out.dry_run_results"); got[0] != "4" {
		t.Fatalf("incremental dry run recomputed %s entities, want 4", got[0])
	}
	for pair, want := range map[[2]string]string{
		{"O004", "C002"}: "ecom_orders:O004 -[EMAIL alice@new.com]- support_tickets:T004 -[PHONE 5559876543]- crm_customers:C002",
		{"O002", "C001"}: "ecom_orders:O002 -[EMAIL john@acme.com]- crm_customers:C001",
	} {
		p = explain.Pair{}
		explainJSON(t, &p, "--db="+db, "--run-id="+incr, pair[0], pair[1])
		if !p.Linked || p.Run.Mode != "INCR" || p.Chain.String() != want {
			t.Errorf("incremental dry-run explain %v = %+v, want %s", pair, p, want)
		}
	}

	// Only the latest dry run and the latest committed run are kept.
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	expectRefused(t, db, 2, []string{"dry run " + dry + " is not the latest dry run"}, "explain", "--db="+db, "--run-id="+dry, "O004")
	expectRefused(t, db, 2, []string{"run " + committed + " is not the latest committed run"}, "explain", "--db="+db, "--run-id="+committed, "O004")
	// A dry run that kept no links (made before dry_run_edges existed) is refused, not explained wrongly.
	latest := query(t, db, "SELECT run_id FROM idr_out.dry_run_results LIMIT 1")[0]
	mustIdr(t, "sql", "--db="+db, "-c", "DELETE FROM idr_out.dry_run_edges")
	expectRefused(t, db, 2, []string{"dry run " + latest + " kept no links", "run the dry run again"}, "explain", "--db="+db, "--run-id="+latest, "O004")
}

func TestExplainBadInput(t *testing.T) {
	db := committedWalkthrough(t)
	expectRefused(t, db, 2, []string{`unknown entity key "C999"`, "table_id:key"}, "explain", "--db="+db, "C999")
	expectRefused(t, db, 2, []string{`unknown entity key "crm_customers:C999"`}, "explain", "--db="+db, "C001", "crm_customers:C999")
	expectRefused(t, db, 2, []string{`unknown run id "run_nope"`, "idr status"}, "explain", "--db="+db, "--run-id=run_nope", "C001")
	expectRefused(t, db, 2, []string{`unknown --format "xml"`}, "explain", "--db="+db, "--format=xml", "C001")
	expectRefused(t, db, 2, []string{"one or two entity keys, got 3"}, "explain", "--db="+db, "C001", "C002", "C003")
	expectRefused(t, db, 2, []string{"one or two entity keys, got 0"}, "explain", "--db="+db)
	expectRefused(t, db, 2, []string{"same entity"}, "explain", "--db="+db, "C001", "crm_customers:C001")
	expectRefused(t, "", 2, []string{"no database given"}, "explain", "C001")

	// A bare key two sources have is ambiguous; the full key is not.
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO idr_meta.source_table VALUES ('crm_copy', 'crm.customers', 'PERSON', 'customer_id', 'created_at', 0, TRUE)")
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	expectRefused(t, db, 2, []string{`ambiguous key "C002"`, "crm_copy:C002, crm_customers:C002", "full entity key"}, "explain", "--db="+db, "C002")
	if out := mustIdr(t, "explain", "--db="+db, "crm_copy:C002"); !strings.Contains(out, "Resolved ID: crm_copy:C002") {
		t.Errorf("explain crm_copy:C002:\n%s", out)
	}

	// No committed run yet.
	fresh := walkthroughDB(t)
	expectRefused(t, fresh, 2, []string{"no committed run"}, "explain", "--db="+fresh, "C001")
}
