package cli

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// outputs renders the outputs an INCR run must leave exactly as a FULL run would.
func outputs(t *testing.T, db string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current ORDER BY 1",
		"SELECT resolved_id, cluster_size FROM idr_out.identity_clusters_current ORDER BY 1",
		"SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm FROM idr_out.identity_edges_current ORDER BY 2, 3, 4",
		"SELECT * EXCLUDE (updated_ts) FROM idr_out.golden_profile_current ORDER BY 1",
	} {
		b.WriteString(strings.Join(query(t, db, q), "\n") + "\n--\n")
	}
	return b.String()
}

// The walkthrough continued incrementally: INCR gives what FULL gives after every change, and
// an INCR with no new data changes nothing at all.
func TestIncrementalWalkthrough(t *testing.T) {
	incr := committedWalkthrough(t)
	full := copyDB(t, incr)
	both := func(stmt string) {
		mustIdr(t, "sql", "--db="+incr, "-c", stmt)
		mustIdr(t, "sql", "--db="+full, "-c", stmt)
		mustIdr(t, "run", "--db="+incr, "--run-mode=INCR")
		mustIdr(t, "run", "--db="+full, "--run-mode=FULL")
		if a, b := outputs(t, incr), outputs(t, full); a != b {
			t.Fatalf("after %q INCR and FULL differ:\nINCR:\n%s\nFULL:\n%s", stmt, a, b)
		}
	}
	mustIdr(t, "sql", "--db="+incr, "-c", "INSERT INTO idr_meta.source_soft_delete VALUES ('ecom_orders', 'order_id = ''O003'' AND order_date > DATE ''2024-06-01''')")
	mustIdr(t, "sql", "--db="+full, "-c", "INSERT INTO idr_meta.source_soft_delete VALUES ('ecom_orders', 'order_id = ''O003'' AND order_date > DATE ''2024-06-01''')")
	// A configuration change: INCR recomputes everything and says so.
	code, _, errOut := idrCmd(t, "", "run", "--db="+incr, "--run-mode=INCR")
	if code != 0 || !strings.Contains(errOut, "INCR recomputes everything this time: the configuration changed") {
		t.Fatalf("INCR after a configuration change: exit %d, %s", code, errOut)
	}
	mustIdr(t, "run", "--db="+full, "--run-mode=FULL")

	// Merge: Jane's phone and Alice's email on a new ticket.
	both("INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')")
	if got := query(t, incr, "SELECT resolved_id FROM idr_out.identity_resolved_membership_current WHERE entity_key = 'ecom_orders:O004'"); got[0] != "crm_customers:C002" {
		t.Errorf("O004 after the merge: %v", got)
	}
	// Split: the ticket's email corrected.
	both("UPDATE support.tickets SET contact_email = 'jane@example.org', created_at = DATE '2024-03-05' WHERE ticket_id = 'T004'")
	// A late row inside the same day, a second row for an existing key, a soft delete.
	both("INSERT INTO ecom.orders VALUES ('O001', 'bob@test.com', NULL, DATE '2024-03-05')")
	both("UPDATE ecom.orders SET order_date = DATE '2024-07-01' WHERE order_id = 'O003'")
	if got := query(t, incr, "SELECT count(*) FROM idr_out.identity_resolved_membership_current WHERE entity_key = 'ecom_orders:O003'"); got[0] != "0" {
		t.Errorf("soft-deleted O003 is still resolved")
	}

	// No new data: nothing changes, not even a timestamp, and no change is recorded.
	before := snapshot(t, incr)
	mustIdr(t, "run", "--db="+incr, "--run-mode=INCR")
	after := snapshot(t, incr)
	cut := func(s string) string { return s[:strings.Index(s, "SELECT * FROM idr_out.metrics_export")] }
	if cut(after) != cut(before) {
		t.Errorf("INCR without new data changed outputs:\nbefore:\n%s\nafter:\n%s", cut(before), cut(after))
	}
	last := query(t, incr, "SELECT entities_processed, entities_recomputed FROM idr_out.run_history WHERE status = 'SUCCESS' ORDER BY started_ts DESC LIMIT 1")
	if !reflect.DeepEqual(last, []string{"0 | 0"}) {
		t.Errorf("INCR without new data processed %v", last)
	}
}

// An INCR run killed mid-way leaves the outputs as they were; the next INCR gives what an
// uninterrupted one would have.
func TestKilledIncrementalRun(t *testing.T) {
	db := committedWalkthrough(t)
	mustIdr(t, "run", "--db="+db, "--run-mode=INCR") // the committed runs now carry the configuration's fingerprint
	ref := copyDB(t, db)
	change := "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')"
	mustIdr(t, "sql", "--db="+db, "-c", change)
	mustIdr(t, "sql", "--db="+ref, "-c", change)
	before := outputs(t, db)
	cmd := startPaused(t, "publish:4", "run", "--db="+db, "--run-mode=INCR")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if got := outputs(t, db); got != before {
		t.Fatalf("killed INCR changed outputs")
	}
	mustIdr(t, "run", "--db="+db, "--run-mode=INCR")
	mustIdr(t, "run", "--db="+ref, "--run-mode=INCR")
	if a, b := outputs(t, db), outputs(t, ref); a != b {
		t.Fatalf("INCR after a killed INCR differs from an uninterrupted one:\n%s\n%s", a, b)
	}
}

// membershipAsTable gives a database the layout of releases before the resolved ids were in
// the entities' state: the membership in a table identity_resolved_membership_current.
const membershipAsTable = `
		CREATE TABLE idr_out.membership_table AS SELECT * FROM idr_out.identity_resolved_membership_current;
		DROP VIEW idr_out.identity_resolved_membership_current;
		ALTER TABLE idr_out.membership_table RENAME TO identity_resolved_membership_current;
		ALTER TABLE idr_out.identity_entities_current DROP COLUMN resolved_ts;
		ALTER TABLE idr_out.identity_entities_current DROP COLUMN resolved_id;`

// edgesAsTable gives a database the layout of releases before identity_edge_ids_current: the
// links in a table identity_edges_current, in entity keys (and the membership in a table).
const edgesAsTable = membershipAsTable + `
		CREATE TABLE idr_out.edges_in_keys AS SELECT * FROM idr_out.identity_edges_current;
		DROP VIEW idr_out.identity_edges_current;
		DROP TABLE idr_out.identity_edge_ids_current;
		ALTER TABLE idr_out.edges_in_keys RENAME TO identity_edges_current;`

// A database whose incremental state was written before entities had ids (identifiers and
// attributes keyed by entity_key, no entity_id, the content hash as text; the links in a table
// in entity keys): a run asks for `idr init`; init rebuilds the state tables; the first INCR
// then recomputes everything and says why, and the next one is incremental again. Both give
// what FULL gives.
func TestStateFromEarlierVersion(t *testing.T) {
	db := committedWalkthrough(t)
	full := copyDB(t, db)
	mustIdr(t, "sql", "--db="+db, "-c", edgesAsTable+`
		CREATE OR REPLACE TABLE idr_out.identity_identifiers_current AS SELECT e.entity_key, i.identifier_type, i.identifier_value_norm
		  FROM idr_out.identity_identifiers_current i JOIN idr_out.identity_entities_current e ON e.entity_id = i.entity_id;
		CREATE OR REPLACE TABLE idr_out.identity_attributes_current AS SELECT e.entity_key, a.attribute_name, a.attribute_value
		  FROM idr_out.identity_attributes_current a JOIN idr_out.identity_entities_current e ON e.entity_id = a.entity_id;
		ALTER TABLE idr_out.identity_entities_current DROP COLUMN entity_id;
		ALTER TABLE idr_out.identity_entities_current ALTER content_hash TYPE VARCHAR`)
	expectRefused(t, db, 2, []string{"idr_out.identity_entities_current lacks column entity_id", "idr init"}, "run", "--db="+db, "--run-mode=INCR")

	mustIdr(t, "init", "--db="+db)
	for table, want := range map[string]string{
		"identity_identifiers_current": "entity_id BIGINT,identifier_type,identifier_value_norm",
		"identity_attributes_current":  "entity_id BIGINT,attribute_name,attribute_value",
		"identity_entities_current":    "entity_key,table_id,watermark TIMESTAMP,row_count BIGINT,content_hash DECIMAL(38,0),entity_id BIGINT,resolved_id,resolved_ts TIMESTAMP",
	} {
		got := query(t, db, "SELECT string_agg(column_name || CASE WHEN data_type = 'VARCHAR' THEN '' ELSE ' ' || data_type END, ',' ORDER BY ordinal_position) "+
			"FROM information_schema.columns WHERE table_schema = 'idr_out' AND table_name = '"+table+"'")
		if got[0] != want {
			t.Errorf("after init, %s has columns %s, want %s", table, got[0], want)
		}
	}

	change := func(stmt string, wantFull bool) {
		t.Helper()
		mustIdr(t, "sql", "--db="+db, "-c", stmt)
		mustIdr(t, "sql", "--db="+full, "-c", stmt)
		code, _, errOut := idrCmd(t, "", "run", "--db="+db, "--run-mode=INCR")
		if got := strings.Contains(errOut, "INCR recomputes everything this time: the incremental state was written by an earlier version of idr"); code != 0 || got != wantFull {
			t.Fatalf("INCR after %q: exit %d, recomputed everything: %v, want %v\n%s", stmt, code, got, wantFull, errOut)
		}
		mustIdr(t, "run", "--db="+full, "--run-mode=FULL")
		if a, b := outputs(t, db), outputs(t, full); a != b {
			t.Fatalf("after %q INCR and FULL differ:\nINCR:\n%s\nFULL:\n%s", stmt, a, b)
		}
	}
	change("INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')", true)
	change("UPDATE support.tickets SET contact_email = 'jane@example.org', created_at = DATE '2024-03-05' WHERE ticket_id = 'T004'", false)
	want := query(t, db, "SELECT count(*) FROM idr_out.identity_resolved_membership_current")[0]
	if got := query(t, db, "SELECT count(*), count(entity_id), count(DISTINCT entity_id) FROM idr_out.identity_entities_current"); got[0] != want+" | "+want+" | "+want {
		t.Errorf("entities, with an id, distinct ids after two runs: %s, want %s of each", got[0], want)
	}
}

// A database of the release before identity_edge_ids_current (entities with ids, the links in a
// table in entity keys): a run asks for `idr init`; init moves the links, with their
// first_seen_ts, into identity_edge_ids_current and makes identity_edges_current a view giving
// the same rows; the next INCR is incremental and gives what FULL gives.
func TestEdgesFromEarlierVersion(t *testing.T) {
	db := committedWalkthrough(t)
	mustIdr(t, "run", "--db="+db, "--run-mode=INCR") // the committed runs now carry the configuration's fingerprint
	full := copyDB(t, db)
	const edges = "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm, first_seen_ts, last_seen_ts FROM idr_out.identity_edges_current ORDER BY ALL"
	want := query(t, db, edges)
	if len(want) < 2 {
		t.Fatalf("the walkthrough has %d links", len(want))
	}
	mustIdr(t, "sql", "--db="+db, "-c", edgesAsTable)
	expectRefused(t, db, 2, []string{"idr_out.identity_entities_current lacks column resolved_id", "idr init"}, "run", "--db="+db, "--run-mode=INCR")
	mustIdr(t, "init", "--db="+db)
	if got := query(t, db, edges); !reflect.DeepEqual(got, want) {
		t.Fatalf("links after init:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := query(t, db, "SELECT table_type FROM information_schema.tables WHERE table_schema = 'idr_out' AND table_name = 'identity_edges_current'"); !reflect.DeepEqual(got, []string{"VIEW"}) {
		t.Errorf("after init, identity_edges_current is %v, want a view", got)
	}
	mustIdr(t, "init", "--db="+db) // again: changes nothing
	if got := query(t, db, edges); !reflect.DeepEqual(got, want) {
		t.Fatalf("links after a second init:\n%s", strings.Join(got, "\n"))
	}
	stmt := "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')"
	mustIdr(t, "sql", "--db="+db, "-c", stmt)
	mustIdr(t, "sql", "--db="+full, "-c", stmt)
	code, _, errOut := idrCmd(t, "", "run", "--db="+db, "--run-mode=INCR")
	if code != 0 || strings.Contains(errOut, "recomputes everything") {
		t.Fatalf("INCR after init: exit %d\n%s", code, errOut)
	}
	mustIdr(t, "run", "--db="+full, "--run-mode=FULL")
	if a, b := outputs(t, db), outputs(t, full); a != b {
		t.Fatalf("INCR after init and FULL differ:\nINCR:\n%s\nFULL:\n%s", a, b)
	}
}

// A database of the release before the resolved ids were in the entities' state (the
// membership in a table of its own): a run asks for `idr init`; init moves every entity's
// resolved id, with the time it got it, into its state, and makes
// identity_resolved_membership_current a view giving the same rows; the next INCR is
// incremental and gives what FULL gives. When an entity of the state is missing from the
// membership, init keeps every id but no state, and the next INCR recomputes everything.
func TestMembershipFromEarlierVersion(t *testing.T) {
	const membership = "SELECT entity_key, resolved_id, updated_ts FROM idr_out.identity_resolved_membership_current ORDER BY ALL"
	for _, incomplete := range []bool{false, true} {
		db := committedWalkthrough(t)
		mustIdr(t, "run", "--db="+db, "--run-mode=INCR") // the committed runs now carry the configuration's fingerprint
		full := copyDB(t, db)
		want := query(t, db, membership)
		if len(want) < 2 {
			t.Fatalf("the walkthrough has %d entities", len(want))
		}
		mustIdr(t, "sql", "--db="+db, "-c", membershipAsTable)
		if incomplete {
			mustIdr(t, "sql", "--db="+db, "-c", "DELETE FROM idr_out.identity_resolved_membership_current WHERE entity_key = "+
				"(SELECT min(entity_key) FROM idr_out.identity_resolved_membership_current)")
			want = want[1:]
		}
		expectRefused(t, db, 2, []string{"idr_out.identity_entities_current lacks column resolved_id", "idr init"}, "run", "--db="+db, "--run-mode=INCR")
		for i := 0; i < 2; i++ { // a second init changes nothing
			mustIdr(t, "init", "--db="+db)
			if got := query(t, db, membership); !reflect.DeepEqual(got, want) {
				t.Fatalf("incomplete=%v: membership after init %d:\n%s\nwant:\n%s", incomplete, i+1, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		if got := query(t, db, "SELECT table_type FROM information_schema.tables WHERE table_schema = 'idr_out' AND table_name = 'identity_resolved_membership_current'"); !reflect.DeepEqual(got, []string{"VIEW"}) {
			t.Errorf("after init, identity_resolved_membership_current is %v, want a view", got)
		}
		state := query(t, db, "SELECT count(entity_id), (SELECT count(*) FROM idr_out.identity_identifiers_current) FROM idr_out.identity_entities_current")[0]
		if kept := state != "0 | 0"; kept == incomplete {
			t.Errorf("incomplete=%v: entities with an id, identifiers after init: %s", incomplete, state)
		}
		stmt := "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')"
		mustIdr(t, "sql", "--db="+db, "-c", stmt)
		mustIdr(t, "sql", "--db="+full, "-c", stmt)
		code, _, errOut := idrCmd(t, "", "run", "--db="+db, "--run-mode=INCR")
		if code != 0 || strings.Contains(errOut, "INCR recomputes everything this time: the incremental state was written by an earlier version of idr") != incomplete {
			t.Fatalf("incomplete=%v: INCR after init: exit %d\n%s", incomplete, code, errOut)
		}
		mustIdr(t, "run", "--db="+full, "--run-mode=FULL")
		if a, b := outputs(t, db), outputs(t, full); a != b {
			t.Fatalf("incomplete=%v: INCR after init and FULL differ:\nINCR:\n%s\nFULL:\n%s", incomplete, a, b)
		}
	}
}
