// Package report owns the run report: what a run did, stage by stage, and its text rendering
// for the terminal. The same struct is returned by the library API.
package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// StageMetric is one stage's outcome.
type StageMetric struct {
	Seq      int
	Stage    string
	Rows     int64
	Duration time.Duration
	Started  time.Time
}

// SourceStat is what extract read from one source.
type SourceStat struct {
	TableID     string
	RowsRead    int64
	NullKeyRows int64
	Entities    int64
}

// SharedKeyRows is the number of rows that folded into an entity another row already made.
func (s SourceStat) SharedKeyRows() int64 { return s.RowsRead - s.NullKeyRows - s.Entities }

// Group is an identifier value of note: a skipped group or an excluded value.
type Group struct {
	IdentifierType string
	Value          string
	Size           int64
	MaxGroupSize   int64
	Sample         string
	Reason         string
}

// DryRun is the dry-run comparison with the current outputs.
type DryRun struct {
	New, Moved, Unchanged, Removed, Merged, Split int64
}

// Run is the report of one run.
type Run struct {
	RunID  string
	Mode   string
	Engine string
	DryRun bool
	// Incremental is true when the run recomputed only its delta's part of the graph (INCR).
	Incremental bool
	Status      string
	Started     time.Time
	Ended       time.Time
	Stages      []StageMetric
	Sources     []SourceStat
	Warnings    []string
	Notes       []string // facts about how the run ran, e.g. its scratch tables on disk
	Skipped     []Group  // largest skipped groups (top 10)
	Excluded    []Group  // most frequent excluded values (top 10)
	Rounds      int
	Totals      Totals
	Changes     *DryRun
	DBPath      string
}

// Totals are the run's headline counts.
type Totals struct {
	RowsRead, NullKeyRows, Entities, Identifiers, ValuesExcluded, GroupsSkipped, Edges, Clusters, LargestClusterSize int64
	LargestClusterID                                                                                                 string
	// EntitiesRecomputed is the size of the part of the graph the run recomputed (all entities for FULL).
	EntitiesRecomputed int64
}

// Progress receives stage events while a run goes on.
type Progress interface {
	StageStart(name string)
	StageDone(m StageMetric)
}

// Noter is a Progress that also shows, as they happen, facts about a run that are not
// warnings (where its scratch tables live); they are in Run.Notes as well.
type Noter interface {
	Note(text string)
}

// Nop is a Progress that shows nothing.
type Nop struct{}

func (Nop) StageStart(string)     {}
func (Nop) StageDone(StageMetric) {}

const rule = "============================================================"

// WriteText renders the run summary (for a dry run, the walkthrough's summary box and the review queries).
func WriteText(w io.Writer, r *Run) {
	t := r.Totals
	if r.DryRun {
		fmt.Fprintln(w, rule)
		fmt.Fprintln(w, "DRY RUN SUMMARY")
		fmt.Fprintln(w, rule)
		fmt.Fprintf(w, "Run:                %s (%s, %s)\n", r.RunID, r.Mode, r.Engine)
		if c := r.Changes; c != nil {
			fmt.Fprintf(w, "New Entities:       %d\n", c.New)
			fmt.Fprintf(w, "Moved Entities:     %d\n", c.Moved)
			fmt.Fprintf(w, "Unchanged Entities: %d\n", c.Unchanged)
			if c.Removed > 0 {
				fmt.Fprintf(w, "Removed Entities:   %d\n", c.Removed)
			}
			if c.Merged > 0 || c.Split > 0 {
				fmt.Fprintf(w, "Merged Clusters:    %d\n", c.Merged)
				fmt.Fprintf(w, "Split Clusters:     %d\n", c.Split)
			}
		}
		fmt.Fprintf(w, "Edges Would Create: %d\n", t.Edges)
		fmt.Fprintf(w, "Largest Cluster:    %d entities (%s)\n", t.LargestClusterSize, t.LargestClusterID)
		writeRounds(w, r)
		writeNotes(w, r)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "REVIEW: SELECT * FROM idr_out.dry_run_results ORDER BY proposed_resolved_id, entity_key")
		fmt.Fprintln(w, "        SELECT * FROM idr_out.dry_run_results WHERE change_type <> 'UNCHANGED'")
		fmt.Fprintf(w, "        SELECT * FROM idr_out.dry_run_summary WHERE run_id = '%s'\n", r.RunID)
		fmt.Fprintln(w, rule)
		return
	}
	fmt.Fprintln(w, rule)
	fmt.Fprintf(w, "RUN %s  %s  %s\n", r.RunID, r.Mode, r.Status)
	fmt.Fprintln(w, rule)
	fmt.Fprintf(w, "Rows Read:          %d\n", t.RowsRead)
	fmt.Fprintf(w, "Entities:           %d\n", t.Entities)
	fmt.Fprintf(w, "Identifiers:        %d\n", t.Identifiers)
	fmt.Fprintf(w, "Edges:              %d\n", t.Edges)
	fmt.Fprintf(w, "Clusters:           %d\n", t.Clusters)
	fmt.Fprintf(w, "Largest Cluster:    %d entities (%s)\n", t.LargestClusterSize, t.LargestClusterID)
	fmt.Fprintf(w, "Duration:           %s\n", r.Ended.Sub(r.Started).Round(time.Millisecond))
	writeRounds(w, r)
	writeNotes(w, r)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "QUERY: SELECT * FROM idr_out.identity_resolved_membership_current")
	fmt.Fprintln(w, "       SELECT * FROM idr_out.golden_profile_current")
	fmt.Fprintln(w, rule)
}

// writeRounds prints how many rounds connected components took: 1 for DuckDB's union-find, the
// number of large-star/small-star steps on Spark (none when the run recomputed nothing).
func writeRounds(w io.Writer, r *Run) {
	if r.Rounds > 0 {
		fmt.Fprintf(w, "Cluster Rounds:     %d\n", r.Rounds)
	}
}

func writeNotes(w io.Writer, r *Run) {
	t := r.Totals
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note:               %s\n", n)
	}
	for _, s := range r.Sources {
		if s.NullKeyRows > 0 || s.SharedKeyRows() > 0 {
			fmt.Fprintf(w, "Source %s: %d rows, %d entities, %d rows with a NULL key skipped, %d rows merged into an entity sharing their key\n",
				s.TableID, s.RowsRead, s.Entities, s.NullKeyRows, s.SharedKeyRows())
		}
	}
	if t.ValuesExcluded > 0 {
		fmt.Fprintf(w, "Excluded Values:    %d\n", t.ValuesExcluded)
		for _, g := range r.Excluded {
			fmt.Fprintf(w, "  %s %q on %d entities (%s)\n", g.IdentifierType, g.Value, g.Size, g.Reason)
		}
	}
	if t.GroupsSkipped > 0 {
		fmt.Fprintf(w, "Skipped Groups:     %d (larger than max_group_size; see idr_out.skipped_identifier_groups)\n", t.GroupsSkipped)
		for _, g := range r.Skipped {
			fmt.Fprintf(w, "  %s %q: %d entities > %d (e.g. %s)\n", g.IdentifierType, g.Value, g.Size, g.MaxGroupSize, g.Sample)
		}
	}
}

// WriteStages renders per-stage rows and durations, one line per stage.
func WriteStages(w io.Writer, stages []StageMetric) {
	for _, m := range stages {
		fmt.Fprintf(w, "  %-10s %12d rows %10s\n", m.Stage, m.Rows, m.Duration.Round(time.Millisecond))
	}
}

// StageLine is the one-line progress message for a finished stage.
func StageLine(m StageMetric) string {
	return fmt.Sprintf("stage %-10s %12d rows  %s", m.Stage, m.Rows, strings.TrimSpace(m.Duration.Round(time.Millisecond).String()))
}
