package bench

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/idr-dev/idr/internal/errs"
)

// Begin and End delimit the part of docs/benchmarks.md that idr bench writes.
const (
	Begin = "<!-- idr bench: begin (written by `idr bench --doc`; edit outside these lines) -->"
	End   = "<!-- idr bench: end -->"
)

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func gib(b int64) string { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }

// Markdown renders results as the tables docs/benchmarks.md holds.
func Markdown(m Machine, when time.Time, command string, rs []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s, %d cores, %s memory (%s, %s, DuckDB %s) with\n\n```sh\n%s\n```\n\n",
		when.UTC().Format("2006-01-02"), m.CPU, m.Cores, m.Memory, m.OS, m.Go, m.DuckDB, command)
	b.WriteString("Each run is its own `idr` process: wall time and peak RSS are that process's. INCR runs after " +
		"the change described below, FULL (over the same data) right after it; INCR = FULL says whether the two " +
		"published the same membership.\n\n")
	b.WriteString("| scenario | rows | run | wall | peak RSS | INCR/FULL | entities recomputed |\n|---|---:|---|---:|---:|---:|---:|\n")
	for _, r := range rs {
		ratio := fmt.Sprintf("%.1f%%", 100*r.Incr.Wall.Seconds()/r.FullAfter.Wall.Seconds())
		eq := "no"
		if r.IncrEqual {
			eq = "yes"
		}
		fmt.Fprintf(&b, "| %s | %d | generate | %s | %s | | |\n", r.Scenario, r.Rows, secs(r.Generate.Wall), gib(r.Generate.MaxRSS))
		fmt.Fprintf(&b, "| %s | %d | FULL, empty outputs | %s | %s | | %d |\n", r.Scenario, r.Rows, secs(r.Full.Wall), gib(r.Full.MaxRSS), r.Entities)
		fmt.Fprintf(&b, "| %s | %d | INCR, %d records changed | %s | %s | %s (INCR = FULL: %s) | %d |\n", r.Scenario, r.Rows, r.DeltaRows,
			secs(r.Incr.Wall), gib(r.Incr.MaxRSS), ratio, eq, r.Recomputed)
		fmt.Fprintf(&b, "| %s | %d | FULL, same data | %s | %s | | %d |\n", r.Scenario, r.Rows, secs(r.FullAfter.Wall), gib(r.FullAfter.MaxRSS), r.Entities)
	}
	b.WriteString("\nResult and quality of the first FULL run against the generator's truth (pairwise):\n\n")
	b.WriteString("| scenario | rows | entities | edges | clusters | largest | singletons | true people | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		q := r.Quality
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %.4f | %.4f | %.4f |\n", r.Scenario, r.Rows, r.Entities, r.Edges,
			r.Clusters, r.Largest, r.Singletons, q.TrueClusters, q.Precision, q.Recall, q.F1)
	}
	b.WriteString("\nTime per stage (seconds; rows out in parentheses):\n\n")
	var names []string
	for _, r := range rs {
		for _, p := range []Process{r.Full, r.Incr} {
			for _, s := range p.Stages {
				if !contains(names, s.Name) {
					names = append(names, s.Name)
				}
			}
		}
	}
	b.WriteString("| scenario | rows | run |")
	for _, n := range names {
		b.WriteString(" " + n + " |")
	}
	b.WriteString("\n|---|---:|---|" + strings.Repeat("---:|", len(names)) + "\n")
	for _, r := range rs {
		for _, run := range []struct {
			name string
			p    Process
		}{{"FULL", r.Full}, {"INCR", r.Incr}, {"FULL, same data", r.FullAfter}} {
			fmt.Fprintf(&b, "| %s | %d | %s |", r.Scenario, r.Rows, run.name)
			for _, n := range names {
				cell := ""
				for _, s := range run.p.Stages {
					if s.Name == n {
						cell = fmt.Sprintf("%.2f (%d)", s.Time.Seconds(), s.Rows)
					}
				}
				b.WriteString(" " + cell + " |")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// WriteDoc replaces the part of the file at path between Begin and End with section (appending
// both markers when the file has none).
func WriteDoc(path, section string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return errs.Wrap(errs.KindUsage, err, "pass --doc a Markdown file idr can write", "cannot read %s", path)
	}
	s := string(b)
	block := Begin + "\n" + section + End
	i, j := strings.Index(s, Begin), strings.Index(s, End)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + block + s[j+len(End):]
	case i < 0 && j < 0:
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			s = strings.TrimRight(s, "\n") + "\n\n"
		}
		s += block + "\n"
	default:
		return errs.Usage("fix the markers by hand", "%s has one idr bench marker without the other", path)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return errs.Wrap(errs.KindUsage, err, "pass --doc a Markdown file idr can write", "cannot write %s", path)
	}
	return nil
}
