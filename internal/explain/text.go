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
