// Package pipeline runs identity resolution: it validates the configuration, plans the stages
// (extract, normalize, edges, cluster, golden, audit, then publish or dryrun), executes their
// SQL on an engine and records the run. The stages are written once for every engine.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/meta"
	"github.com/idr-dev/idr/internal/pipeline/audit"
	"github.com/idr-dev/idr/internal/pipeline/cluster"
	"github.com/idr-dev/idr/internal/pipeline/dryrun"
	"github.com/idr-dev/idr/internal/pipeline/edges"
	"github.com/idr-dev/idr/internal/pipeline/extract"
	"github.com/idr-dev/idr/internal/pipeline/golden"
	"github.com/idr-dev/idr/internal/pipeline/ids"
	"github.com/idr-dev/idr/internal/pipeline/normalize"
	"github.com/idr-dev/idr/internal/pipeline/publish"
	"github.com/idr-dev/idr/internal/pipeline/scope"
	"github.com/idr-dev/idr/internal/pipeline/stage"
	"github.com/idr-dev/idr/internal/report"
	"github.com/idr-dev/idr/internal/schema"
)

// Run modes.
const (
	ModeFull = "FULL"
	ModeIncr = "INCR"
)

// Run statuses in idr_out.run_history.
const (
	StatusRunning = "RUNNING"
	StatusSuccess = "SUCCESS"
	StatusDryRun  = "DRY_RUN_COMPLETE"
	StatusFailed  = "FAILED"
)

// Options say what to run.
type Options struct {
	Mode     string // FULL or INCR
	DryRun   bool
	MaxIters int // cap on engine rounds for iterative engines; union-find needs one
	Progress report.Progress
	// Now is the clock (tests pin it); nil means time.Now.
	Now func() time.Time
	// Hook, when set, is called at named points of a run ("before:STAGE", "publish:N" after the
	// N-th statement inside the publishing transaction). Tests use it to stop a run mid-way.
	Hook func(point string)
	// Trace, when set, receives each statement with its duration (idr run --trace).
	Trace io.Writer
}

// ParseMode checks a --run-mode value.
func ParseMode(mode string) (string, error) {
	switch m := strings.ToUpper(strings.TrimSpace(mode)); m {
	case ModeFull:
		return m, nil
	case ModeIncr:
		return m, nil
	default:
		return "", errs.Usage("use --run-mode=FULL or --run-mode=INCR", "unknown --run-mode %q", mode)
	}
}

// Plan returns the stages of a run, for execution or for printing (`idr plan`).
func Plan(c *stage.Context) []stage.Stage {
	stages := []stage.Stage{
		extract.Stage(c),
		normalize.Stage(c),
		scope.Stage(c),
		edges.Stage(c),
		cluster.Stage(c),
		ids.Stage(c),
		golden.Stage(c),
		audit.Stage(c),
	}
	if c.DryRun {
		stages = append(stages, dryrun.Stage(c))
	} else {
		stages = append(stages, publish.Stage(c))
	}
	stage.Release(stages, summaryTables...)
	return stages
}

// PlanRun validates the configuration, as a run would, and returns the stages the run would
// execute, without running or writing anything (`idr plan`).
func PlanRun(ctx context.Context, eng engine.Engine, opts Options) ([]stage.Stage, error) {
	mode, err := ParseMode(opts.Mode)
	if err != nil {
		return nil, err
	}
	if err := schema.Check(ctx, eng); err != nil {
		return nil, err
	}
	cfg, err := meta.Load(ctx, eng)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	c := &stage.Context{Cfg: cfg, D: eng.Dialect(), RunID: "planned_run", Mode: mode, DryRun: opts.DryRun, Now: now()}
	if mode == ModeIncr {
		if _, err := planIncremental(ctx, eng, c); err != nil {
			return nil, errs.Wrap(errs.KindRun, err, "", "cannot read the previous run's state")
		}
	}
	return Plan(c), nil
}

// WritePlan renders stages as a SQL script, one comment line per stage and per components step.
func WritePlan(w io.Writer, stages []stage.Stage) {
	for _, st := range stages {
		fmt.Fprintf(w, "-- stage %s\n", st.Name)
		for _, step := range st.Steps {
			if c := step.Components; c != nil {
				fmt.Fprintf(w, "-- components: label the nodes of %s over the edges %s into %s (engine: %s)\n",
					c.NodesTable, c.EdgesTable, c.OutTable, "union-find or log-round SQL")
				continue
			}
			fmt.Fprintf(w, "%s;\n", step.SQL)
		}
		if len(st.Drop) > 0 {
			fmt.Fprintf(w, "-- drop when done (engines that free scratch tables early): %s\n", strings.Join(st.Drop, ", "))
		}
		fmt.Fprintln(w)
	}
}

// planIncremental decides whether an INCR run can recompute only its delta's part of the graph,
// and sets the per-source cutoffs. It returns why not, when it cannot: no committed run yet, or a
// configuration other than the one the current outputs were made with.
func planIncremental(ctx context.Context, eng engine.Engine, c *stage.Context) (string, error) {
	res, err := eng.Query(ctx, "SELECT config_hash FROM idr_out.run_history WHERE status = '"+StatusSuccess+"' ORDER BY started_ts DESC, run_id DESC LIMIT 1")
	if err != nil {
		return "", err
	}
	switch {
	case len(res.Rows) == 0:
		return "no committed run yet", nil
	case toStr(res.Rows[0][0]) != c.Cfg.Fingerprint():
		return "the configuration changed since the last committed run", nil
	}
	// `idr init` empties state of an earlier layout (schema.Init): outputs without the state they
	// were made with. Entities without an id (kept by init with only their resolved id) cannot be
	// read by id either.
	res, err = eng.Query(ctx, "SELECT (SELECT count(*) FROM idr_out.identity_entities_current WHERE entity_id IS NULL), "+
		"(SELECT count(*) FROM idr_out.identity_entities_current), (SELECT count(*) FROM idr_out.identity_clusters_current)")
	if err != nil {
		return "", err
	}
	noID, _ := engine.Int(res.Rows[0][0])
	state, _ := engine.Int(res.Rows[0][1])
	outputs, _ := engine.Int(res.Rows[0][2])
	if noID > 0 || (state == 0 && outputs > 0) {
		return "the incremental state was written by an earlier version of idr", nil
	}
	res, err = eng.Query(ctx, "SELECT table_id, last_watermark_value FROM idr_meta.run_state WHERE last_watermark_value IS NOT NULL")
	if err != nil {
		return "", err
	}
	c.Cutoffs = map[string]time.Time{}
	for _, row := range res.Rows {
		wm, ok := row[1].(time.Time)
		if !ok {
			continue
		}
		if s, active := c.Cfg.Source(toStr(row[0])); active {
			c.Cutoffs[s.TableID] = wm.Add(-time.Duration(s.LookbackMinutes) * time.Minute)
		}
	}
	c.Incremental = true
	return "", nil
}

// sourceRows counts the rows of every active source, for engines that size a run's scratch
// space from it (engine.WorkPlacer).
func sourceRows(ctx context.Context, eng engine.Engine, cfg *meta.Config) (int64, error) {
	if len(cfg.Sources) == 0 {
		return 0, nil
	}
	parts := make([]string, len(cfg.Sources))
	for i, s := range cfg.Sources {
		parts[i] = "(SELECT count(*) FROM " + s.FQN + ")"
	}
	res, err := eng.Query(ctx, "SELECT "+strings.Join(parts, " + "))
	if err != nil {
		return 0, err
	}
	n, _ := engine.Int(res.Rows[0][0])
	return n, nil
}

var runSeq atomic.Uint64

func newRunID(now time.Time) string {
	return fmt.Sprintf("run_%s_%03d", now.UTC().Format("20060102T150405.000000"), runSeq.Add(1)%1000)
}

// Run validates the configuration and runs the pipeline. Configuration errors return before
// anything is written. After that, a failure or cancellation rolls back the publishing
// transaction and records FAILED with the stage and message in idr_out.run_history.
func Run(ctx context.Context, eng engine.Engine, opts Options) (*report.Run, error) {
	mode, err := ParseMode(opts.Mode)
	if err != nil {
		return nil, err
	}
	if opts.MaxIters < 0 {
		return nil, errs.Usage("pass a positive number, or leave it out", "--max-iters=%d is negative", opts.MaxIters)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	progress := opts.Progress
	if progress == nil {
		progress = report.Nop{}
	}
	hook := opts.Hook
	if hook == nil {
		hook = func(string) {}
	}
	release, err := eng.AcquireRunLock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := schema.Check(ctx, eng); err != nil {
		return nil, err
	}
	cfg, err := meta.Load(ctx, eng)
	if err != nil {
		return nil, err
	}

	started := now()
	c := &stage.Context{Cfg: cfg, D: eng.Dialect(), RunID: newRunID(started), Mode: mode, DryRun: opts.DryRun, Now: started}
	rep := &report.Run{RunID: c.RunID, Mode: mode, Engine: eng.Name(), DryRun: opts.DryRun, Started: started, Warnings: cfg.Warnings}
	if mode == ModeIncr {
		why, err := planIncremental(ctx, eng, c)
		if err != nil {
			return nil, errs.Wrap(errs.KindRun, err, "", "cannot read the previous run's state")
		}
		if why != "" {
			rep.Warnings = append(rep.Warnings, "INCR recomputes everything this time: "+why)
		}
		rep.Incremental = c.Incremental
	}
	if p, ok := eng.(engine.WorkPlacer); ok {
		note, err := p.PlaceWork(ctx, func(ctx context.Context) (int64, error) { return sourceRows(ctx, eng, cfg) })
		if err != nil {
			return nil, errs.Wrap(errs.KindRun, err, "", "cannot choose where the run's scratch tables live")
		}
		if note != "" {
			rep.Notes = append(rep.Notes, note)
			if n, ok := progress.(report.Noter); ok {
				n.Note(note)
			}
		}
	}
	r := &runner{eng: eng, c: c, rep: rep, progress: progress, hook: hook, now: now, trace: opts.Trace}
	if err := r.begin(ctx); err != nil {
		return nil, errs.Wrap(errs.KindRun, err, "", "cannot record the run in idr_out.run_history")
	}
	err = r.execute(ctx)
	rep.Ended = now()
	if err != nil {
		rep.Status = StatusFailed
		r.fail(err)
		return rep, r.wrapFailure(ctx, err)
	}
	return rep, nil
}

type runner struct {
	eng      engine.Engine
	c        *stage.Context
	rep      *report.Run
	progress report.Progress
	hook     func(string)
	now      func() time.Time
	current  string // stage in progress, for failures
	trace    io.Writer
}

func (r *runner) begin(ctx context.Context) error {
	// Holding the run lock, any RUNNING row is a run whose process died: say so.
	if err := r.eng.Exec(ctx, "UPDATE idr_out.run_history SET status = '"+StatusFailed+"', "+
		"error_message = 'the run ended without finishing (process killed or crashed); outputs were left as they were' "+
		"WHERE status = '"+StatusRunning+"'"); err != nil {
		return err
	}
	dry := "FALSE"
	if r.c.DryRun {
		dry = "TRUE"
	}
	return r.eng.Exec(ctx, "INSERT INTO idr_out.run_history (run_id, run_mode, status, dry_run, engine, started_ts) VALUES ("+
		stage.Lit(r.c.RunID)+", "+stage.Lit(r.c.Mode)+", '"+StatusRunning+"', "+dry+", "+stage.Lit(r.eng.Name())+", "+r.c.NowLit()+")")
}

func (r *runner) execute(ctx context.Context) error {
	stages := Plan(r.c)
	last := len(stages) - 1
	for _, st := range stages[:last] {
		if err := r.runStage(ctx, st, nil); err != nil {
			return err
		}
	}
	if err := r.collect(ctx); err != nil {
		return err
	}
	final := stages[last]
	return r.eng.Atomic(ctx, func(ctx context.Context) error {
		n := 0
		if err := r.runStage(ctx, final, func() { n++; r.hook(fmt.Sprintf("%s:%d", final.Name, n)) }); err != nil {
			return err
		}
		r.current = "record"
		r.rep.Ended = r.now()
		if r.c.DryRun {
			r.rep.Status = StatusDryRun
			if err := r.readDryRun(ctx); err != nil {
				return err
			}
		} else {
			r.rep.Status = StatusSuccess
		}
		for _, stmt := range r.recordStatements() {
			if err := r.eng.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		r.hook("commit")
		return ctx.Err()
	})
}

func (r *runner) runStage(ctx context.Context, st stage.Stage, afterStep func()) error {
	r.current = st.Name
	r.hook("before:" + st.Name)
	r.progress.StageStart(st.Name)
	start := r.now()
	for _, step := range st.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		stepStart := r.now()
		if step.Components != nil {
			n, err := r.count(ctx, "SELECT count(*) FROM "+step.Components.NodesTable)
			if err != nil {
				return err
			}
			stats, err := r.eng.Components(ctx, step.Components.EdgesTable, n, step.Components.OutTable)
			if err != nil {
				return err
			}
			r.rep.Rounds = stats.Rounds
		} else if err := r.eng.Exec(ctx, step.SQL); err != nil {
			return err
		}
		if r.trace != nil {
			what := step.SQL
			if step.Components != nil {
				what = "components " + step.Components.EdgesTable + " -> " + step.Components.OutTable
			}
			fmt.Fprintf(r.trace, "idr: trace %-10s %9s  %s\n", st.Name, r.now().Sub(stepStart).Round(time.Millisecond), what)
		}
		if afterStep != nil {
			afterStep()
		}
	}
	rows, err := r.count(ctx, st.RowsSQL)
	if err != nil {
		return err
	}
	for _, t := range st.Drop {
		if stmt := r.c.D.DropScratch(t); stmt != "" {
			if err := r.eng.Exec(ctx, stmt); err != nil {
				return err
			}
			if r.trace != nil {
				fmt.Fprintf(r.trace, "idr: trace %-10s %9s  %s\n", st.Name, "", stmt)
			}
		}
	}
	m := report.StageMetric{Seq: len(r.rep.Stages) + 1, Stage: st.Name, Rows: rows, Duration: r.now().Sub(start), Started: start}
	r.rep.Stages = append(r.rep.Stages, m)
	r.progress.StageDone(m)
	return nil
}

func (r *runner) count(ctx context.Context, q string) (int64, error) {
	res, err := r.eng.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return 0, fmt.Errorf("count query returned %d rows", len(res.Rows))
	}
	return toInt(res.Rows[0][0]), nil
}

// toInt reads a count or size (NULL, an empty aggregate, is 0); toStr reads text (NULL is "").
var (
	toInt = engine.IntOrZero
	toStr = engine.TextOrEmpty
)

// summaryTables are the work tables collect reads, which stay until the final stage.
var summaryTables = []string{stage.W("source_stats"), stage.W("entities"), stage.W("delta_keys"), stage.W("identifiers"),
	stage.W("identifiers_excluded"), stage.W("skipped_groups"), stage.W("clusters")}

// collect reads the run's headline numbers from the work tables before the final stage; the
// edge count is the edges stage's (idr_work.edges may be gone by then).
func (r *runner) collect(ctx context.Context) error {
	r.current = "summary"
	w := stage.W
	// Entities processed: every live entity for FULL, the changed ones for an incremental run.
	processed := w("entities")
	if r.c.Incremental {
		processed = w("delta_keys")
	}
	res, err := r.eng.Query(ctx, "SELECT "+
		"(SELECT coalesce(sum(rows_read), 0) FROM "+w("source_stats")+"), "+
		"(SELECT coalesce(sum(null_key_rows), 0) FROM "+w("source_stats")+"), "+
		"(SELECT count(*) FROM "+processed+"), "+
		"(SELECT count(*) FROM "+w("identifiers")+"), "+
		"(SELECT count(*) FROM (SELECT DISTINCT identifier_type, value_norm FROM "+w("identifiers_excluded")+") x), "+
		"(SELECT count(*) FROM "+w("skipped_groups")+"), "+
		"(SELECT count(*) FROM "+w("clusters")+"), "+
		"(SELECT coalesce(max(cluster_size), 0) FROM "+w("clusters")+"), "+
		"(SELECT min(resolved_id) FROM "+w("clusters")+" WHERE cluster_size = (SELECT max(cluster_size) FROM "+w("clusters")+")), "+
		"(SELECT count(*) FROM "+w("entities")+")")
	if err != nil {
		return err
	}
	v := res.Rows[0]
	r.rep.Totals = report.Totals{RowsRead: toInt(v[0]), NullKeyRows: toInt(v[1]), Entities: toInt(v[2]), Identifiers: toInt(v[3]),
		ValuesExcluded: toInt(v[4]), GroupsSkipped: toInt(v[5]), Clusters: toInt(v[6]),
		LargestClusterSize: toInt(v[7]), LargestClusterID: toStr(v[8]), EntitiesRecomputed: toInt(v[9])}
	for _, m := range r.rep.Stages {
		if m.Stage == "edges" {
			r.rep.Totals.Edges = m.Rows
		}
	}

	res, err = r.eng.Query(ctx, "SELECT table_id, rows_read, null_key_rows, entities FROM "+w("source_stats")+" ORDER BY table_id")
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		r.rep.Sources = append(r.rep.Sources, report.SourceStat{TableID: toStr(row[0]), RowsRead: toInt(row[1]), NullKeyRows: toInt(row[2]), Entities: toInt(row[3])})
	}
	res, err = r.eng.Query(ctx, "SELECT identifier_type, value_norm, group_size, max_group_size, sample_entity_keys FROM "+w("skipped_groups")+
		" ORDER BY group_size DESC, identifier_type, value_norm LIMIT 10")
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		r.rep.Skipped = append(r.rep.Skipped, report.Group{IdentifierType: toStr(row[0]), Value: toStr(row[1]), Size: toInt(row[2]), MaxGroupSize: toInt(row[3]), Sample: toStr(row[4])})
	}
	res, err = r.eng.Query(ctx, "SELECT identifier_type, value_norm, count(*) AS n, min(reason) FROM "+w("identifiers_excluded")+
		" GROUP BY identifier_type, value_norm ORDER BY n DESC, identifier_type, value_norm LIMIT 10")
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		r.rep.Excluded = append(r.rep.Excluded, report.Group{IdentifierType: toStr(row[0]), Value: toStr(row[1]), Size: toInt(row[2]), Reason: toStr(row[3])})
	}
	return nil
}

func (r *runner) readDryRun(ctx context.Context) error {
	res, err := r.eng.Query(ctx, "SELECT new_entities, moved_entities, unchanged_entities, removed_entities, merged_clusters, split_clusters FROM "+
		stage.O("dry_run_summary")+" WHERE run_id = "+stage.Lit(r.c.RunID))
	if err != nil {
		return err
	}
	if len(res.Rows) != 1 {
		return fmt.Errorf("dry run summary has %d rows for run %s", len(res.Rows), r.c.RunID)
	}
	v := res.Rows[0]
	r.rep.Changes = &report.DryRun{New: toInt(v[0]), Moved: toInt(v[1]), Unchanged: toInt(v[2]), Removed: toInt(v[3]), Merged: toInt(v[4]), Split: toInt(v[5])}
	return nil
}

// recordStatements finish the run's run_history row and, for committed runs, write
// stage_metrics and metrics_export, inside the same transaction as the outputs.
func (r *runner) recordStatements() []string {
	t := r.rep.Totals
	dur := r.rep.Ended.Sub(r.rep.Started).Seconds()
	stmts := []string{fmt.Sprintf("UPDATE idr_out.run_history SET status = %s, ended_ts = %s, duration_seconds = %f, rows_read = %d, rows_null_key = %d, "+
		"entities_processed = %d, identifiers = %d, values_excluded = %d, groups_skipped = %d, edges_created = %d, clusters = %d, "+
		"largest_cluster_size = %d, largest_cluster_resolved_id = %s, entities_recomputed = %d, config_hash = %s, run_mode = %s WHERE run_id = %s",
		stage.Lit(r.rep.Status), tsLit(r.rep.Ended), dur, t.RowsRead, t.NullKeyRows, t.Entities, t.Identifiers, t.ValuesExcluded,
		t.GroupsSkipped, t.Edges, t.Clusters, t.LargestClusterSize, nullableLit(t.LargestClusterID), t.EntitiesRecomputed,
		stage.Lit(r.c.Cfg.Fingerprint()), stage.Lit(r.rep.Mode), stage.Lit(r.c.RunID))}
	if r.c.DryRun {
		return stmts
	}
	stmts = append(stmts, r.stageMetricStatements()...)
	var rows []string
	add := func(name string, v float64, labels string) {
		rows = append(rows, fmt.Sprintf("(%s, %s, %g, %s, %s)", stage.Lit(r.c.RunID), stage.Lit(name), v, stage.Lit(labels), tsLit(r.rep.Ended)))
	}
	add("idr_run_duration_seconds", dur, "")
	add("idr_rows_read", float64(t.RowsRead), "")
	add("idr_rows_null_key", float64(t.NullKeyRows), "")
	add("idr_entities", float64(t.Entities), "")
	add("idr_identifiers", float64(t.Identifiers), "")
	add("idr_values_excluded", float64(t.ValuesExcluded), "")
	add("idr_groups_skipped", float64(t.GroupsSkipped), "")
	add("idr_edges", float64(t.Edges), "")
	add("idr_clusters", float64(t.Clusters), "")
	add("idr_largest_cluster_size", float64(t.LargestClusterSize), "")
	for _, s := range r.rep.Sources {
		add("idr_source_rows_read", float64(s.RowsRead), "table_id="+s.TableID)
		add("idr_source_entities", float64(s.Entities), "table_id="+s.TableID)
	}
	for _, m := range r.rep.Stages {
		add("idr_stage_duration_seconds", m.Duration.Seconds(), "stage="+m.Stage)
		add("idr_stage_rows", float64(m.Rows), "stage="+m.Stage)
	}
	return append(stmts, "INSERT INTO idr_out.metrics_export VALUES "+strings.Join(rows, ", "))
}

func (r *runner) stageMetricStatements() []string {
	if len(r.rep.Stages) == 0 {
		return nil
	}
	rows := make([]string, len(r.rep.Stages))
	for i, m := range r.rep.Stages {
		rows[i] = fmt.Sprintf("(%s, %d, %s, %d, %d, %s)", stage.Lit(r.c.RunID), m.Seq, stage.Lit(m.Stage), m.Rows, m.Duration.Milliseconds(), tsLit(m.Started))
	}
	return []string{"INSERT INTO idr_out.stage_metrics VALUES " + strings.Join(rows, ", ")}
}

func tsLit(t time.Time) string { return dialect.TimestampLit(t) }

func nullableLit(s string) string {
	if s == "" {
		return "NULL"
	}
	return stage.Lit(s)
}

// fail records a failed run outside any transaction, with a fresh context so that Ctrl-C
// (a cancelled ctx) is still recorded. Stage metrics of the stages that ran are kept.
func (r *runner) fail(cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg := errs.OneLine(cause.Error())
	if errors.Is(cause, context.Canceled) {
		msg = "interrupted (cancelled) before commit; outputs were left as they were"
	}
	dur := r.rep.Ended.Sub(r.rep.Started).Seconds()
	_ = r.eng.Exec(ctx, fmt.Sprintf("UPDATE idr_out.run_history SET status = '%s', ended_ts = %s, duration_seconds = %f, failed_stage = %s, error_message = %s WHERE run_id = %s",
		StatusFailed, tsLit(r.rep.Ended), dur, stage.Lit(r.current), stage.Lit(msg), stage.Lit(r.c.RunID)))
	for _, stmt := range r.stageMetricStatements() {
		_ = r.eng.Exec(ctx, stmt)
	}
}

func (r *runner) wrapFailure(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return errs.Wrap(errs.KindRun, nil, "previous outputs are unchanged; run again when ready",
			"run %s interrupted during stage %s", r.c.RunID, r.current)
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return errs.Wrap(errs.KindRun, err, "previous outputs are unchanged; see idr_out.run_history", "run %s failed in stage %s", r.c.RunID, r.current)
}
