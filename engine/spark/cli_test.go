package spark_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idr-dev/idr/engine/spark/sparktest"
	"github.com/idr-dev/idr/internal/cli"
	"github.com/idr-dev/idr/internal/demo"
)

// idr runs the idr command line in-process and returns its exit code, stdout and stderr.
func idr(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustIdr(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := idr(t, "", args...)
	if code != 0 {
		t.Fatalf("idr %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// oneLineError checks that a failed command printed exactly one line on stderr, with exit code
// want, containing every part of wants.
func oneLineError(t *testing.T, what string, code int, errOut string, want int, wants ...string) {
	t.Helper()
	if code != want {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, code, want, errOut)
	}
	if strings.Count(strings.TrimRight(errOut, "\n"), "\n") != 0 || !strings.HasPrefix(errOut, "idr: ") {
		t.Errorf("%s: stderr is not one idr: line: %q", what, errOut)
	}
	for _, w := range wants {
		if !strings.Contains(errOut, w) {
			t.Errorf("%s: stderr %q lacks %q", what, errOut, w)
		}
	}
}

// TestBadInput checks that bad input on Spark gets one clear line and exit code 2, with the
// same message as on DuckDB, and changes nothing.
func TestBadInput(t *testing.T) {
	remote := sparktest.Remote(t)
	code, _, errOut := idr(t, "", "status", "--engine=spark", "--remote=sc://127.0.0.1:1")
	oneLineError(t, "unreachable server", code, errOut, 2, "cannot reach the Spark Connect server at sc://127.0.0.1:1", "start a Spark Connect server")
	code, _, errOut = idr(t, "", "status", "--engine=spark", "--remote=http://127.0.0.1:1")
	oneLineError(t, "bad URL", code, errOut, 2, `bad Spark Connect URL "http://127.0.0.1:1"`)
	code, _, errOut = idr(t, "", "status", "--engine=spark", "--remote=sc://127.0.0.1:1/;token=secret")
	oneLineError(t, "token hidden", code, errOut, 2, ";token=…")
	if strings.Contains(errOut, "secret") {
		t.Errorf("error shows the token: %q", errOut)
	}
	code, _, errOut = idr(t, "", "run", "--engine=spark")
	oneLineError(t, "no --remote", code, errOut, 2, "--engine=spark needs --remote")

	cases := []struct {
		name, config string
		wants        []string
	}{
		{"missing table", "INSERT INTO idr_meta.source_table VALUES ('crm', 'crm.nope', 'PERSON', 'customer_id', NULL, 0, TRUE)",
			[]string{"source crm: table crm.nope does not exist", "fix table_fqn in idr_meta.source_table"}},
		{"bad expression", "INSERT INTO idr_meta.source_table VALUES ('crm', 'crm.customers', 'PERSON', 'no_such_column', NULL, 0, TRUE)",
			[]string{`source crm: entity_key_expr "no_such_column" does not bind against crm.customers`, "fix the expression in idr_meta"}},
	}
	rule := "INSERT INTO idr_meta.rule VALUES ('email_exact', 'EMAIL', 1, TRUE, 100);\n" +
		"INSERT INTO idr_meta.identifier_mapping VALUES ('crm', 'EMAIL', 'email', TRUE)"
	fresh(t)
	duck := "--db=" + filepath.Join(t.TempDir(), "bad.duckdb")
	for _, target := range [][]string{{"--engine=spark", "--remote=" + remote}, {duck}} {
		with := func(verb string, args ...string) []string { return append(append([]string{verb}, target...), args...) }
		src := walkthroughSources()
		if target[0] == duck {
			src = demo.SQL(demo.Sources)
		}
		mustIdr(t, with("init")...)
		mustIdr(t, with("sql", "-c", src+";\n"+rule)...)
		for _, c := range cases {
			mustIdr(t, with("sql", "-c", "DELETE FROM idr_meta.source_table;\n"+c.config)...)
			code, _, errOut := idr(t, "", with("run", "--run-mode=FULL")...)
			oneLineError(t, c.name+" on "+target[0], code, errOut, 2, c.wants...)
		}
		if got := mustIdr(t, with("sql", "--format=csv", "-c", "SELECT count(*) AS n FROM idr_out.run_history")...); got != "n\n0\n" {
			t.Errorf("%s: run_history after configuration errors:\n%s", target[0], got)
		}
	}
}
