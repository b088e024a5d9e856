package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idr-dev/idr/internal/generate"
)

func evaluateJSON(t *testing.T, db string) generate.Quality {
	t.Helper()
	var q generate.Quality
	out := mustIdr(t, "evaluate", "--db="+db, "--format=json")
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		t.Fatalf("evaluate --format=json: %v\n%s", err, out)
	}
	return q
}

// generate, run and evaluate, as a user would. The configuration the generator writes handles
// the junk (exclusions, max_group_size), so precision is high; what is missed is missed by
// design: people whose email changed with no phone or loyalty id to bridge the two, and records
// whose only identifiers are missing or junk. At this size recall is about 0.9 (see docs/generate.md).
func TestGenerateRunEvaluate(t *testing.T) {
	for _, sc := range generate.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "gen.duckdb")
			out := mustIdr(t, "generate", "--scenario="+sc.Name, "--rows=3000", "--seed=4", "--truth", "--db="+db)
			if !strings.Contains(out, "3000 rows") {
				t.Errorf("generate output: %s", out)
			}
			mustIdr(t, "run", "--db="+db)
			q := evaluateJSON(t, db)
			if q.Entities != 3000 || q.Missing != 0 || q.Extra != 0 {
				t.Errorf("entities %d, missing %d, extra %d", q.Entities, q.Missing, q.Extra)
			}
			if q.Precision < 0.95 || q.Recall < 0.85 || q.Recall > 0.99 {
				t.Errorf("precision %.4f, recall %.4f", q.Precision, q.Recall)
			}
			text := mustIdr(t, "evaluate", "--db="+db)
			for _, w := range []string{"precision", "recall", "f1", "true clusters", "pred clusters"} {
				if !strings.Contains(text, w) {
					t.Errorf("evaluate output lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestGenerateParquetOut(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "gen.duckdb"), filepath.Join(dir, "data")
	mustIdr(t, "generate", "--scenario=unification", "--rows=2000", "--truth", "--out="+out, "--db="+db)
	for _, f := range []string{"crm_customers", "ecom_orders", "support_tickets", "truth"} {
		if _, err := os.Stat(filepath.Join(out, f+".parquet")); err != nil {
			t.Error(err)
		}
	}
	mustIdr(t, "run", "--db="+db)
	if q := evaluateJSON(t, db); q.Entities != 2000 || q.Precision < 0.95 {
		t.Errorf("evaluate over Parquet views: %+v", q)
	}
	// The files are there: a second generate into them needs --force.
	code, _, errOut := idrCmd(t, "", "generate", "--scenario=unification", "--rows=2000", "--truth", "--out="+out, "--db="+filepath.Join(dir, "other.duckdb"))
	if code != 2 || !strings.Contains(errOut, "already exists") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	mustIdr(t, "generate", "--scenario=unification", "--rows=2000", "--truth", "--out="+out, "--db="+db, "--force", "--seed=9")
}

func TestGenerateBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.duckdb")
	for _, args := range [][]string{
		{"generate", "--scenario=nope", "--db=" + db},
		{"generate", "--scenario=retail", "--rows=10", "--db=" + db},
		{"generate", "--scenario=retail", "--seed=-2", "--db=" + db},
		{"generate", "--scenario=retail"},
	} {
		code, _, errOut := idrCmd(t, "", args...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("idr %v: exit %d, stderr %q", args, code, errOut)
		}
		if _, err := os.Stat(db); err == nil {
			t.Fatalf("idr %v created %s", args, db)
		}
	}
	mustIdr(t, "generate", "--scenario=retail", "--rows=1000", "--db="+db)
	before, _ := os.ReadFile(db)
	code, _, errOut := idrCmd(t, "", "generate", "--scenario=retail", "--rows=1000", "--db="+db)
	if after, _ := os.ReadFile(db); code != 2 || !strings.Contains(errOut, "--force") || string(after) != string(before) {
		t.Errorf("existing database: exit %d, stderr %q, changed %v", code, errOut, string(after) != string(before))
	}
	// No truth (generated without --truth), then no run yet.
	code, _, errOut = idrCmd(t, "", "evaluate", "--db="+db)
	if code != 2 || !strings.Contains(errOut, "--truth") {
		t.Errorf("evaluate without truth: exit %d, stderr %q", code, errOut)
	}
	mustIdr(t, "generate", "--scenario=retail", "--rows=1000", "--truth", "--force", "--db="+db)
	code, _, errOut = idrCmd(t, "", "evaluate", "--db="+db)
	if code != 2 || !strings.Contains(errOut, "idr run") {
		t.Errorf("evaluate before a run: exit %d, stderr %q", code, errOut)
	}
	code, _, _ = idrCmd(t, "", "evaluate", "--db="+db, "--format=xml")
	if code != 2 {
		t.Errorf("evaluate --format=xml: exit %d", code)
	}
}
