package explain

import (
	"fmt"
	"io"
)

// WriteEntity renders an entity's explanation as text.
func WriteEntity(w io.Writer, e *Entity) {
	fmt.Fprintf(w, "Entity:      %s\n", e.EntityKey)
	fmt.Fprintf(w, "Resolved ID: %s\n", e.ResolvedID)
	fmt.Fprintf(w, "Cluster:     %d %s\n", e.ClusterSize, plural(e.ClusterSize, "entity", "entities"))
	fmt.Fprintf(w, "Run:         %s\n", e.Run)
	for _, s := range e.Sources {
		fmt.Fprintf(w, "\n%s (%d)\n", s.TableID, s.Count)
		for _, m := range s.Members {
			switch {
			case m.EntityKey == e.EntityKey:
				fmt.Fprintf(w, "  %s (this entity)\n", m.EntityKey)
			case m.Hops < 0:
				fmt.Fprintf(w, "  %s (no stored link reaches it; run again to rebuild the outputs)\n", m.EntityKey)
			default:
				fmt.Fprintf(w, "  %s\n", m.Chain)
			}
		}
	}
	if e.Omitted > 0 {
		fmt.Fprintf(w, "\n... and %d more %s (raise --limit to list them)\n", e.Omitted, plural(e.Omitted, "member", "members"))
	}
}

// WritePair renders a pair's explanation as text.
func WritePair(w io.Writer, p *Pair) {
	ref := func(r Ref) string {
		return fmt.Sprintf("%s (cluster %s, %d %s)", r.EntityKey, r.ResolvedID, r.ClusterSize, plural(r.ClusterSize, "entity", "entities"))
	}
	fmt.Fprintf(w, "A:   %s\n", ref(p.A))
	fmt.Fprintf(w, "B:   %s\n", ref(p.B))
	fmt.Fprintf(w, "Run: %s\n\n", p.Run)
	if p.Linked {
		n := len(p.Chain.Steps)
		fmt.Fprintf(w, "LINKED in %d %s:\n  %s\n", n, plural(n, "step", "steps"), p.Chain)
		return
	}
	fmt.Fprintln(w, "NOT LINKED")
	if len(p.Reasons) > 0 {
		fmt.Fprintln(w, "Nearest reasons:")
		for _, r := range p.Reasons {
			fmt.Fprintf(w, "  - %s\n", r.Text)
		}
	}
	if p.Note != "" {
		fmt.Fprintf(w, "Note: %s\n", p.Note)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteSuggestions renders suggestions as text: per value its holders, signals and INSERT.
func WriteSuggestions(w io.Writer, s *Suggestions) {
	fmt.Fprintf(w, "Identifier values of run %s\n", s.Run)
	fmt.Fprintln(w, "Group size thresholds:")
	for _, t := range s.Types {
		fmt.Fprintf(w, "  %-12s %d groups, p99 %d, anomalous above %d\n", t.IdentifierType, t.Groups, t.P99, t.Threshold)
	}
	if len(s.Suggestions) == 0 {
		fmt.Fprintln(w, "\nNo identifier value looks generic.")
		return
	}
	for _, x := range s.Suggestions {
		fmt.Fprintf(w, "\n%s %s: %d %s\n", x.IdentifierType, x.Value, x.Entities, plural(int(x.Entities), "entity", "entities"))
		for _, g := range x.Signals {
			fmt.Fprintf(w, "  - %s\n", g.Text)
		}
		fmt.Fprintf(w, "  %s\n", x.Insert)
	}
	if s.Omitted > 0 {
		fmt.Fprintf(w, "\n... and %d more (raise --limit to list them)\n", s.Omitted)
	}
	fmt.Fprintln(w, "\nReview each value, run the INSERTs you agree with (`idr sql`), then run idr again.")
}
