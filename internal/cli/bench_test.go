package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// idr bench at a tiny size, end to end, so the harness cannot rot: it generates, runs FULL,
// changes records, runs INCR and FULL, and writes its section of a Markdown file, keeping what
// the file had around it.
func TestBenchWritesItsSection(t *testing.T) {
	t.Setenv(asCLIEnv, "1") // the measured steps run this test binary as idr
	dir := t.TempDir()
	doc := filepath.Join(dir, "benchmarks.md")
	if err := os.WriteFile(doc, []byte("# Benchmarks\n\nhand-written text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second run replaces the section it wrote
		mustIdr(t, "bench", "--scenario=unification", "--rows=3000", "--delta-pct=5", "--dir="+filepath.Join(dir, "db"), "--doc="+doc)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "# Benchmarks\n\nhand-written text\n") || strings.Count(s, "idr bench: begin") != 1 || strings.Count(s, "idr bench: end") != 1 {
		t.Fatalf("the section was not put in place once:\n%s", s)
	}
	for _, re := range []string{
		`\| unification \| 3000 \| generate \| \d+\.\d\d s \| \d+\.\d\d GiB \|`,
		`\| unification \| 3000 \| FULL, empty outputs \| \d+\.\d\d s \| \d+\.\d\d GiB \| \| 3000 \|`,
		`\| unification \| 3000 \| INCR, [1-9]\d* records changed \| \d+\.\d\d s \| \d+\.\d\d GiB \| \d+\.\d% \(INCR = FULL: yes\) \| [1-9]\d* \|`,
		`\| unification \| 3000 \| 3000 \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ \| (0\.9\d+|1\.0000) \| 0\.[89]\d+ \| 0\.9\d+ \|`,
		`\| unification \| 3000 \| INCR \|.* \d+\.\d\d \(\d+\) \|`,
		`idr bench .*--rows=3000 --scenario=unification`,
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("the section lacks %s:\n%s", re, s)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "db")); len(entries) != 0 {
		t.Errorf("bench left %d files behind without --keep", len(entries))
	}
	if code, _, errOut := idrCmd(t, "", "bench", "--rows=10,x"); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("bad --rows: exit %d, %q", code, errOut)
	}
}
