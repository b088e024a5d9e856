package sqltext

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	script := `-- Register
INSERT INTO t VALUES
  ('a;b', 'it''s', 1),      -- Highest; priority
  ("x;y", 2);
/* block; comment */ SELECT 1;;
-- trailing comment only
`
	got, err := Split(script)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-- Register\nINSERT INTO t VALUES\n  ('a;b', 'it''s', 1),      -- Highest; priority\n  (\"x;y\", 2)",
		"/* block; comment */ SELECT 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Split = %#v\nwant %#v", got, want)
	}
	if _, err := Split("SELECT 'unterminated"); err == nil {
		t.Error("unterminated quote accepted")
	}
	if _, err := Split("SELECT 1 /* open"); err == nil {
		t.Error("unterminated comment accepted")
	}
}

func TestFirstKeyword(t *testing.T) {
	for in, want := range map[string]string{
		"-- c\n  select 1":      "SELECT",
		"(SELECT 1) UNION ALL":  "SELECT",
		"/* x */ WITH a AS (1)": "WITH",
		"insert into x":         "INSERT",
		"":                      "",
	} {
		if got := FirstKeyword(in); got != want {
			t.Errorf("FirstKeyword(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckExpression(t *testing.T) {
	ok := []string{"email", "lower(email)", "coalesce(a, 'x;y')", `"weird;col"`, "a || '--' || b", "CASE WHEN a THEN (b) ELSE c END"}
	for _, e := range ok {
		if err := CheckExpression(e); err != nil {
			t.Errorf("CheckExpression(%q) = %v, want ok", e, err)
		}
	}
	bad := map[string]string{
		"":                               "empty",
		"email; DROP TABLE x":            "';'",
		"email) FROM x; DROP TABLE y --": "unmatched ')'",
		"email -- hidden":                "comment",
		"email /* hidden */":             "comment",
		"lower(email":                    "unmatched '('",
		"email), (phone":                 "unmatched ')'",
		"'open":                          "unterminated",
	}
	for e, want := range bad {
		err := CheckExpression(e)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckExpression(%q) = %v, want error containing %q", e, err, want)
		}
	}
}

func TestCheckTableName(t *testing.T) {
	for _, n := range []string{"t", "crm.customers", "cat.crm.customers", `"My Schema"."My Table"`, "`a`.`b`", "s_1.t$2"} {
		if err := CheckTableName(n); err != nil {
			t.Errorf("CheckTableName(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"", "crm.customers; DROP TABLE x", "a.b.c.d", "read_parquet('x')", "(SELECT 1)", "a b", "crm.", `"a"b"`} {
		if err := CheckTableName(n); err == nil {
			t.Errorf("CheckTableName(%q) accepted", n)
		}
	}
}

// FuzzCheckExpression checks the property the pipeline relies on: an accepted expression, wrapped
// in parentheses, has no statement separator outside quotes, so it cannot end the statement.
func FuzzCheckExpression(f *testing.F) {
	for _, s := range []string{"email", "a;b", "'x;'", "lower(a)", "a)--", `"q""x"`, "/*", "(('a'))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if CheckExpression(expr) != nil {
			return
		}
		stmts, err := Split("SELECT (" + expr + ") FROM t")
		if err != nil {
			t.Fatalf("accepted %q but the wrapped statement does not lex: %v", expr, err)
		}
		if len(stmts) != 1 {
			t.Fatalf("accepted %q but it splits into %d statements", expr, len(stmts))
		}
		if StripComments(stmts[0]) != stmts[0] {
			t.Fatalf("accepted %q but the statement holds a comment", expr)
		}
	})
}

// FuzzSplit checks that splitting never loses a non-comment byte outside separators.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 2", "INSERT 'a;b'; -- c\nx", "/* ; */ y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmts, err := Split(s)
		if err != nil {
			return
		}
		for _, st := range stmts {
			if strings.TrimSpace(st) == "" {
				t.Fatalf("empty statement from %q", s)
			}
			if !strings.Contains(s, st) {
				t.Fatalf("statement %q is not a piece of %q", st, s)
			}
		}
	})
}
