// Package bench is idr's benchmark harness (idr bench, make bench): for each size it generates
// a scenario with its truth, runs FULL, changes a share of the records, runs INCR and FULL side by
// side on the changed data, checks that the two agree, and measures every run as its own process
// (wall time, peak RSS) together with the per-stage times the run recorded and the quality of its
// clusters against the truth. Markdown renders the results for docs/benchmarks.md.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/generate"
)

// Options say what to measure.
type Options struct {
	Exe      string   // the idr binary each measured step runs as (its own process)
	Env      []string // extra environment of those processes
	Dir      string   // where the databases go
	Scenario string
	Rows     []int64
	Seed     int64
	DeltaPct float64 // share of records the INCR run sees changed, in percent
	Keep     bool    // keep the databases
	Log      io.Writer
}

// Stage is one stage's time in a run, from idr_out.stage_metrics.
type Stage struct {
	Name string
	Rows int64
	Time time.Duration
}

// Process is one measured idr process.
type Process struct {
	Command string
	Wall    time.Duration
	MaxRSS  int64 // bytes
	Stages  []Stage
}

// Result is one size's measurements.
type Result struct {
	Scenario   string
	Rows       int64
	Generate   Process
	Full       Process // FULL over the generated data, from empty outputs
	Incr       Process // INCR after DeltaPct of the records changed
	FullAfter  Process // FULL over the same changed data, over existing outputs
	DeltaRows  int64   // records the change touched
	Recomputed int64   // entities the INCR run recomputed
	Entities   int64
	Edges      int64
	Clusters   int64
	Largest    int64
	Singletons int64
	IncrEqual  bool // INCR's membership equals FULL's on the same data
	Quality    generate.Quality
}

// Run measures every size in turn.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.DeltaPct <= 0 || o.DeltaPct > 100 {
		return nil, errs.Usage("pass --delta-pct between 0 and 100", "--delta-pct=%g is out of range", o.DeltaPct)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, errs.Wrap(errs.KindUsage, err, "pass --dir a directory idr can write", "cannot create %s", o.Dir)
	}
	var out []Result
	for _, n := range o.Rows {
		r, err := one(ctx, o, n)
		if err != nil {
			return out, err
		}
		out = append(out, *r)
	}
	return out, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, "idr bench: "+format+"\n", args...)
	}
}

func one(ctx context.Context, o Options, n int64) (*Result, error) {
	db := filepath.Join(o.Dir, fmt.Sprintf("bench-%s-%d.duckdb", o.Scenario, n))
	if !o.Keep {
		defer removeDB(db)
	}
	r := &Result{Scenario: o.Scenario, Rows: n}
	var err error
	o.logf("%s %d rows: generate", o.Scenario, n)
	if r.Generate, err = o.exec(ctx, "generate", "--scenario="+o.Scenario, fmt.Sprintf("--rows=%d", n),
		fmt.Sprintf("--seed=%d", o.Seed), "--truth", "--force", "--db="+db); err != nil {
		return nil, err
	}
	o.logf("%s %d rows: FULL", o.Scenario, n)
	if r.Full, err = o.run(ctx, db, "FULL"); err != nil {
		return nil, err
	}
	if err := o.query(ctx, db, func(eng engine.Engine) error {
		if err := stats(ctx, eng, r); err != nil {
			return err
		}
		q, err := generate.Evaluate(ctx, eng)
		if err != nil {
			return err
		}
		r.Quality = *q
		r.DeltaRows, err = change(ctx, eng, o.DeltaPct, o.Seed)
		return err
	}); err != nil {
		return nil, err
	}
	o.logf("%s %d rows: INCR after %d changed records", o.Scenario, n, r.DeltaRows)
	if r.Incr, err = o.run(ctx, db, "INCR"); err != nil {
		return nil, err
	}
	if err := o.query(ctx, db, func(eng engine.Engine) error {
		res, err := eng.Query(ctx, "SELECT entities_recomputed FROM idr_out.run_history WHERE status = 'SUCCESS' ORDER BY started_ts DESC LIMIT 1")
		if err != nil {
			return err
		}
		r.Recomputed, _ = engine.Int(res.Rows[0][0])
		return eng.Exec(ctx, "CREATE OR REPLACE TABLE idr_truth.bench_incr_membership AS SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current")
	}); err != nil {
		return nil, err
	}
	o.logf("%s %d rows: FULL over the same data", o.Scenario, n)
	if r.FullAfter, err = o.run(ctx, db, "FULL"); err != nil {
		return nil, err
	}
	err = o.query(ctx, db, func(eng engine.Engine) error {
		res, err := eng.Query(ctx, "SELECT count(*) FROM ((SELECT entity_key, resolved_id FROM idr_truth.bench_incr_membership EXCEPT ALL "+
			"SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current) UNION ALL (SELECT entity_key, resolved_id FROM "+
			"idr_out.identity_resolved_membership_current EXCEPT ALL SELECT entity_key, resolved_id FROM idr_truth.bench_incr_membership))")
		if err != nil {
			return err
		}
		diff, _ := engine.Int(res.Rows[0][0])
		r.IncrEqual = diff == 0
		return nil
	})
	return r, err
}

// run runs one idr run in its own process and reads the stage times it recorded.
func (o Options) run(ctx context.Context, db, mode string) (Process, error) {
	p, err := o.exec(ctx, "run", "--db="+db, "--run-mode="+mode)
	if err != nil {
		return p, err
	}
	err = o.query(ctx, db, func(eng engine.Engine) error {
		res, err := eng.Query(ctx, "SELECT stage, rows_out, duration_ms FROM idr_out.stage_metrics WHERE run_id = "+
			"(SELECT run_id FROM idr_out.run_history WHERE status = 'SUCCESS' ORDER BY started_ts DESC LIMIT 1) ORDER BY seq")
		if err != nil {
			return err
		}
		for _, row := range res.Rows {
			rows, _ := engine.Int(row[1])
			ms, _ := engine.Int(row[2])
			p.Stages = append(p.Stages, Stage{Name: text(row[0]), Rows: rows, Time: time.Duration(ms) * time.Millisecond})
		}
		return nil
	})
	return p, err
}

// exec runs the idr binary with args, measuring its wall time and peak RSS.
func (o Options) exec(ctx context.Context, args ...string) (Process, error) {
	p := Process{Command: "idr " + strings.Join(args, " ")}
	cmd := exec.CommandContext(ctx, o.Exe, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	p.Wall = time.Since(start)
	if st := cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			p.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return p, errs.Run("", "bench: `%s` failed: %v: %s", p.Command, err, msg)
	}
	return p, nil
}

// query opens the database in this process between measured steps.
func (o Options) query(ctx context.Context, db string, fn func(engine.Engine) error) error {
	c, err := idr.Open(ctx, idr.Options{DB: db, MustExist: true})
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c.Engine())
}

// stats reads the totals of the latest run.
func stats(ctx context.Context, eng engine.Engine, r *Result) error {
	res, err := eng.Query(ctx, "SELECT (SELECT count(*) FROM idr_out.identity_resolved_membership_current), "+
		"(SELECT count(*) FROM idr_out.identity_edges_current), (SELECT count(*) FROM idr_out.identity_clusters_current), "+
		"(SELECT coalesce(max(cluster_size), 0) FROM idr_out.identity_clusters_current), "+
		"(SELECT count(*) FROM idr_out.identity_clusters_current WHERE cluster_size = 1)")
	if err != nil {
		return err
	}
	v := res.Rows[0]
	for i, dst := range []*int64{&r.Entities, &r.Edges, &r.Clusters, &r.Largest, &r.Singletons} {
		*dst, _ = engine.Int(v[i])
	}
	return nil
}

var plainColumn = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// change updates pct percent of every source's records the way a day of business does: each
// picked record gets a newer watermark and, where the source maps an EMAIL from a plain column,
// the email of another record of that source (which can merge two clusters and split another).
// It returns the records changed.
func change(ctx context.Context, eng engine.Engine, pct float64, seed int64) (int64, error) {
	res, err := eng.Query(ctx, "SELECT s.table_fqn, s.entity_key_expr, s.watermark_column, "+
		"(SELECT min(m.identifier_value_expr) FROM idr_meta.identifier_mapping m WHERE m.table_id = s.table_id AND m.identifier_type = 'EMAIL') "+
		"FROM idr_meta.source_table s WHERE s.is_active ORDER BY s.table_id")
	if err != nil {
		return 0, err
	}
	pick := func(key string) string {
		return fmt.Sprintf("hash(CAST((%s) AS VARCHAR) || '%d:bench-delta') %% 1000000 < %d", key, seed, int64(pct*10000))
	}
	var total int64
	for _, row := range res.Rows {
		fqn, key, wm, email := text(row[0]), text(row[1]), text(row[2]), text(row[3])
		if wm == "" || !plainColumn.MatchString(wm) {
			return 0, errs.Config("", "bench: source %s has no plain watermark column to change", fqn)
		}
		typ, err := eng.Query(ctx, "SELECT "+wm+" FROM "+fqn+" LIMIT 0")
		if err != nil || len(typ.Types) != 1 {
			return 0, fmt.Errorf("bench: reading the type of %s.%s: %v", fqn, wm, err)
		}
		set := dialect.DuckDB{}.Ident(wm) + " = CAST((SELECT max(" + wm + ") FROM " + fqn + ") + INTERVAL 1 DAY AS " + typ.Types[0] + ")"
		from := ""
		if plainColumn.MatchString(email) {
			set += ", " + email + " = o.v"
			from = " FROM (SELECT CAST((" + key + ") AS VARCHAR) AS k, lead(" + email + ", 1009, " + email + ") OVER (ORDER BY " + key +
				") AS v FROM " + fqn + ") o WHERE o.k = CAST((" + key + ") AS VARCHAR) AND "
		} else {
			from = " WHERE "
		}
		r, err := eng.Query(ctx, "UPDATE "+fqn+" SET "+set+from+pick(key)+" RETURNING 1")
		if err != nil {
			return 0, fmt.Errorf("bench: changing %s: %w", fqn, err)
		}
		total += int64(len(r.Rows))
	}
	if total == 0 {
		return 0, errors.New("bench: the change picked no record; use more rows or a larger --delta-pct")
	}
	return total, nil
}

var text = engine.TextOrEmpty

func removeDB(db string) {
	for _, suffix := range []string{"", ".wal", ".tmp"} {
		_ = os.RemoveAll(db + suffix)
	}
}

// Machine describes where the figures were measured.
type Machine struct {
	CPU    string
	Cores  int
	Memory string
	OS     string
	Go     string
	DuckDB string
}

// ThisMachine reads the machine's description.
func ThisMachine(ctx context.Context) Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Memory: "unknown", OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if s := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); s != nil {
			m.CPU = strings.TrimSpace(string(s[1]))
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if s := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(b); s != nil {
			fmt.Sscan(string(s[1]), &kb)
			m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if c, err := idr.Open(ctx, idr.Options{}); err == nil {
		if res, err := c.Engine().Query(ctx, "SELECT version()"); err == nil {
			m.DuckDB = text(res.Rows[0][0])
		}
		c.Close()
	}
	return m
}
