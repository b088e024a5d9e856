package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// committedWalkthrough is a walkthrough database after one committed run, so that a test can
// prove a failed run leaves real outputs exactly as they were.
func committedWalkthrough(t *testing.T) string {
	t.Helper()
	db := walkthroughDB(t)
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	return db
}

// expectRefused runs idr and checks: exit code, one line on stderr containing every fragment,
// no panic trace, and no change to anything a run writes.
func expectRefused(t *testing.T, db string, wantCode int, fragments []string, args ...string) {
	t.Helper()
	var before string
	if db != "" {
		before = snapshot(t, db)
	}
	code, _, errOut := idrCmd(t, "", args...)
	if code != wantCode {
		t.Errorf("exit code = %d, want %d; stderr: %s", code, wantCode, errOut)
	}
	// Statement status lines of `idr sql` may come first; the error itself is the one last line.
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasSuffix(errOut, "\n") || !strings.HasPrefix(last, "idr: ") || strings.Count(errOut, "idr: ") != 1 {
		t.Errorf("want one error line starting with 'idr: ', got %q", errOut)
	}
	for _, f := range fragments {
		if !strings.Contains(errOut, f) {
			t.Errorf("error %q lacks %q", strings.TrimSpace(errOut), f)
		}
	}
	if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
		t.Errorf("stack trace in error: %s", errOut)
	}
	if db != "" {
		if after := snapshot(t, db); after != before {
			t.Errorf("refused command changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}
}

func TestBadConfiguration(t *testing.T) {
	cases := []struct {
		name  string
		setup string // SQL applied to a committed walkthrough database
		want  []string
	}{
		{"no active source", "UPDATE idr_meta.source_table SET is_active = FALSE",
			[]string{"no active source", "is_active = TRUE"}},
		{"missing source table", "UPDATE idr_meta.source_table SET table_fqn = 'crm.customerz' WHERE table_id = 'crm_customers'",
			[]string{"crm_customers", "crm.customerz", "does not exist"}},
		{"expression does not bind", "UPDATE idr_meta.identifier_mapping SET identifier_value_expr = 'emial' WHERE table_id = 'crm_customers' AND identifier_type = 'EMAIL'",
			[]string{"crm_customers", `"emial"`, "does not bind", "emial"}},
		{"entity key does not bind", "UPDATE idr_meta.source_table SET entity_key_expr = 'nope(customer_id)' WHERE table_id = 'crm_customers'",
			[]string{"crm_customers", "entity_key_expr", "nope"}},
		{"watermark that is not a time", "UPDATE idr_meta.source_table SET watermark_column = 'true' WHERE table_id = 'crm_customers'",
			[]string{"crm_customers", "watermark_column \"true\" has type BOOLEAN"}},
		{"LIKE pattern ending in escape", `INSERT INTO idr_meta.identifier_exclusion VALUES ('LOYALTY', 'LY\', TRUE, 'bad')`,
			[]string{"identifier_exclusion row 4", "ends with the escape character"}},
		{"mapping for unknown table", "INSERT INTO idr_meta.identifier_mapping VALUES ('crm_cust', 'EMAIL', 'email', TRUE)",
			[]string{"identifier_mapping", "unknown table_id \"crm_cust\""}},
		{"duplicate rule id", "INSERT INTO idr_meta.rule VALUES ('email_exact', 'EMAIL2', 9, TRUE, 10)",
			[]string{"duplicate rule_id \"email_exact\""}},
		{"max_group_size zero", "UPDATE idr_meta.rule SET max_group_size = 0 WHERE rule_id = 'phone_exact'",
			[]string{"phone_exact", "max_group_size"}},
		{"max_group_size negative", "UPDATE idr_meta.rule SET max_group_size = -5 WHERE rule_id = 'phone_exact'",
			[]string{"phone_exact", "max_group_size is -5"}},
		{"mapping without active rule", "UPDATE idr_meta.rule SET is_active = FALSE WHERE rule_id = 'loyalty_exact'",
			[]string{"LOYALTY has no active rule", "ecom_orders"}},
		{"second statement in table_fqn", "UPDATE idr_meta.source_table SET table_fqn = 'crm.customers; DROP TABLE crm.customers' WHERE table_id = 'crm_customers'",
			[]string{"crm_customers", "not a table name"}},
		{"second statement in expression", "UPDATE idr_meta.identifier_mapping SET identifier_value_expr = 'email); DROP TABLE crm.customers; --' WHERE identifier_type = 'EMAIL' AND table_id = 'crm_customers'",
			[]string{"crm_customers", "identifier_value_expr"}},
		{"semicolon in key expression", "UPDATE idr_meta.source_table SET entity_key_expr = 'customer_id; DELETE FROM crm.customers' WHERE table_id = 'crm_customers'",
			[]string{"crm_customers", "';'"}},
		{"unknown normalizer", "INSERT INTO idr_meta.identifier_normalizer VALUES ('EMAIL', 'SOUNDEX')",
			[]string{"identifier_normalizer", "SOUNDEX"}},
		{"two active rules for a type", "INSERT INTO idr_meta.rule VALUES ('email_again', 'EMAIL', 5, TRUE, 10)",
			[]string{"EMAIL", "email_exact"}},
		{"duplicate source registration", "INSERT INTO idr_meta.source_table VALUES ('crm_customers', 'crm.customers', 'PERSON', 'customer_id', 'created_at', 0, TRUE)",
			[]string{"crm_customers", "registered twice"}},
	}
	base := committedWalkthrough(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := copyDB(t, base)
			mustIdr(t, "sql", "--db="+db, "-c", tc.setup)
			expectRefused(t, db, 2, tc.want, "run", "--db="+db, "--run-mode=FULL")
			// The dry run refuses the same way.
			expectRefused(t, db, 2, tc.want, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
		})
	}
	// The second-statement configuration did not drop the table.
	if got := query(t, base, "SELECT count(*) FROM crm.customers"); got[0] != "3" {
		t.Fatalf("crm.customers rows = %v", got)
	}
}

func copyDB(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.duckdb")
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(src + ".wal"); err == nil {
		if err := os.WriteFile(dst+".wal", wal, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestBadDatabaseAndUsage(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.duckdb")
	if err := os.WriteFile(garbage, []byte("this is not a database file, just some text that is long enough"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectRefused(t, "", 2, []string{"cannot open database", garbage}, "run", "--db="+garbage, "--run-mode=FULL")
	expectRefused(t, "", 2, []string{"cannot open database", garbage}, "sql", "--db="+garbage, "-c", "SELECT 1")

	missing := filepath.Join(dir, "missing.duckdb")
	expectRefused(t, "", 2, []string{missing, "does not exist", "idr init"}, "run", "--db="+missing, "--run-mode=FULL")
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("run created %s", missing)
	}

	empty := filepath.Join(dir, "empty.duckdb")
	mustIdr(t, "sql", "--db="+empty, "-c", "CREATE TABLE x (a INTEGER)")
	expectRefused(t, "", 2, []string{"idr_meta.source_table does not exist", "idr init"}, "run", "--db="+empty, "--run-mode=FULL")
	if got := query(t, empty, "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'idr%'"); got[0] != "0" {
		t.Errorf("refused run created idr schemas: %v", got)
	}

	db := committedWalkthrough(t)
	expectRefused(t, db, 2, []string{"unknown --run-mode \"FOO\""}, "run", "--db="+db, "--run-mode=FOO")
	expectRefused(t, db, 2, []string{"unknown flag"}, "run", "--db="+db, "--bogus")
	expectRefused(t, db, 2, []string{"no database given"}, "run", "--run-mode=FULL")
	expectRefused(t, db, 2, []string{"unknown command"}, "rnu")
	// A failing statement in a script keeps none of the script's changes.
	expectRefused(t, db, 2, []string{"statement 2", "nothing from this script was kept"}, "sql", "--db="+db, "-c",
		"DELETE FROM idr_out.identity_clusters_current; SELECT * FROM no_such_table")
}

// Non-text identifier and key columns are cast, rows with NULL keys are counted and skipped, and
// rows sharing a key are one entity.
func TestCastsAndNullKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "idr.duckdb")
	mustIdr(t, "init", "--db="+db)
	mustIdr(t, "sql", "--db="+db, "-c", `
		CREATE SCHEMA s;
		CREATE TABLE s.a (id INTEGER, phone BIGINT, email VARCHAR, updated DATE);
		INSERT INTO s.a VALUES (1, 5551234567, 'x@y.com', DATE '2024-01-01'), (1, NULL, 'second@y.com', DATE '2024-01-02'),
		  (NULL, 5551234567, 'null@y.com', DATE '2024-01-01'), (2, 5551234567, NULL, NULL), (3, NULL, '  ', NULL);
		INSERT INTO idr_meta.source_table VALUES ('a', 's.a', 'PERSON', 'id', 'updated', 0, TRUE);
		INSERT INTO idr_meta.rule VALUES ('phone', 'PHONE', 1, TRUE, 10), ('email', 'EMAIL', 2, TRUE, 10);
		INSERT INTO idr_meta.identifier_mapping VALUES ('a', 'PHONE', 'phone', TRUE), ('a', 'EMAIL', 'email', TRUE);`)
	out := mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if !strings.Contains(out, "1 rows with a NULL key skipped") || !strings.Contains(out, "1 rows merged into an entity sharing their key") {
		t.Errorf("run summary does not report NULL keys and shared keys:\n%s", out)
	}
	if got := query(t, db, "SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current ORDER BY 1"); strings.Join(got, ";") != "a:1 | a:1;a:2 | a:1;a:3 | a:3" {
		t.Errorf("membership = %v", got)
	}
	if got := query(t, db, "SELECT rows_read, rows_null_key, entities_processed FROM idr_out.run_history WHERE status = 'SUCCESS'"); strings.Join(got, ";") != "5 | 1 | 3" {
		t.Errorf("run_history counts = %v", got)
	}
	// Entity a:1 has two emails (both rows); its latest row's date is its watermark.
	if got := query(t, db, "SELECT email_primary, phone_primary FROM idr_out.golden_profile_current WHERE resolved_id = 'a:1'"); strings.Join(got, ";") != "second@y.com | 5551234567" {
		t.Errorf("golden a:1 = %v", got)
	}
}
