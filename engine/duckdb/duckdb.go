// Package duckdb is the embedded engine: a DuckDB database file (or memory) opened in-process.
// Connected components run in Go (internal/unionfind) over dense integer ids, with edges read
// in bulk through Arrow and labels written back with the Appender.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
)

// Engine is the embedded DuckDB engine. All statements go through one connection, so a
// transaction opened by Atomic covers every statement issued until it ends.
type Engine struct {
	path string
	// workPath is the scratch database file attached as idr_work ("" when it is in memory).
	workPath string
	// workAuto is true when neither Options.Work nor IDR_DUCKDB_WORK chose where idr_work
	// lives: each run then chooses from the size of its input (PlaceWork).
	workAuto bool
	db       *sql.DB
	conn     *sql.Conn
	mu       sync.Mutex // serializes use of conn; DuckDB connections are not for concurrent use
}

var _ engine.Engine = (*Engine)(nil)

// Options tune how a database is opened.
type Options struct {
	// MustExist refuses to create a new database file (every command but init, demo and sql).
	MustExist bool
	// Settings are DuckDB settings applied on open (e.g. memory_limit, threads, temp_directory).
	Settings map[string]string
	// Work is where idr_work lives: WorkMemory, WorkDisk or WorkAuto; "" reads IDR_DUCKDB_WORK
	// (default WorkAuto).
	Work string
}

// Where a run's scratch tables (idr_work) live. WorkEnv names the environment variable that
// chooses one for every database idr opens.
const (
	WorkMemory = "memory" // an in-memory database: fastest while the scratch tables fit in memory_limit
	WorkDisk   = "disk"   // a scratch file beside the database (PATH.idr_work), removed on close: less memory, more time
	WorkAuto   = "auto"   // memory, unless a run's input is too large for memory and temp_directory's free space (PlaceWork)
	WorkEnv    = "IDR_DUCKDB_WORK"
)

// Open opens (or, unless MustExist, creates) the DuckDB database at path; "" or ":memory:" is in memory.
func Open(ctx context.Context, path string, opts Options) (*Engine, error) {
	mem := path == "" || path == ":memory:"
	if !mem {
		st, err := os.Stat(path)
		switch {
		case err == nil && st.IsDir():
			return nil, errs.Config("pass --db the path of a DuckDB file", "database %s is a directory", path)
		case errors.Is(err, os.ErrNotExist) && opts.MustExist:
			return nil, errs.Config("run `idr init --db="+path+"` first, or check the path", "database %s does not exist", path)
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return nil, errs.Wrap(errs.KindConfig, err, "check the path and its permissions", "cannot read database %s", path)
		}
	}
	work := opts.Work
	if work == "" {
		work = strings.ToLower(strings.TrimSpace(os.Getenv(WorkEnv)))
	}
	workPath, workAuto := "", false
	switch work {
	case "", WorkAuto:
		workAuto = !mem
	case WorkMemory:
	case WorkDisk:
		if !mem {
			workPath = workFile(path)
		}
	default:
		return nil, errs.Config("set it to auto, memory or disk", "%s=%q is not a place for idr_work", WorkEnv, work)
	}
	dsn := path
	if mem {
		dsn = ""
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, openError(path, err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	e := &Engine{path: path, workPath: workPath, workAuto: workAuto, db: db, conn: conn}
	if err := e.attachWork(ctx); err != nil {
		e.Close()
		return nil, openError(path, err)
	}
	env, err := SettingsFromEnv(os.Getenv(SettingsEnv))
	if err != nil {
		e.Close()
		return nil, err
	}
	settings := defaultSettings()
	maps.Copy(settings, env)
	maps.Copy(settings, opts.Settings)
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if err := e.Exec(ctx, "SET "+k+" = "+dialect.Lit(settings[k])); err != nil {
			e.Close()
			return nil, errs.Wrap(errs.KindConfig, err, "check the setting's name and value", "cannot apply DuckDB setting %s=%s", k, settings[k])
		}
	}
	// Entities are numbered in key order by an ordered insert (dialect.DuckDB.Numbered), which
	// keeps its order only while DuckDB preserves insertion order.
	if res, err := e.Query(ctx, "SELECT current_setting('preserve_insertion_order')"); err != nil || len(res.Rows) != 1 || res.Rows[0][0] != true {
		e.Close()
		return nil, errs.Config("remove preserve_insertion_order from "+SettingsEnv,
			"DuckDB setting preserve_insertion_order must stay true: idr numbers entities in key order by an ordered insert")
	}
	return e, nil
}

// SettingsEnv names the environment variable holding DuckDB settings for every database idr
// opens, as NAME=VALUE pairs separated by semicolons, e.g. "memory_limit=8GB;threads=4".
// Settings passed in Options win over it.
const SettingsEnv = "IDR_DUCKDB_SETTINGS"

// defaultSettings are idr's choices where DuckDB's defaults do not suit it:
//   - memory_limit is half of the machine's memory (DuckDB's own default is 80%), leaving the
//     rest for the components stage's arrays, which live outside DuckDB, and for the operating
//     system's cache;
//   - the compressed_materialization optimizer is off. In DuckDB 2.0.0 it narrows the sum of a
//     grouped, joined or subquery-filtered column to the type of the column's values before an
//     ORDER BY: the sum then fails with a conversion error or, cast, comes out wrong (-8008
//     instead of 182051000; TestSumBeforeOrderBy). The pipeline's own queries were not seen to
//     hit it, but `idr sql`, explain and the report run users' and ad-hoc queries over the same
//     connection. Turning it off cost nothing measurable at 10M rows (docs/benchmarks.md).
func defaultSettings() map[string]string {
	out := map[string]string{"disabled_optimizers": "compressed_materialization"}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := memTotal.FindSubmatch(b); m != nil {
			if kb, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil && kb > 0 {
				out["memory_limit"] = strconv.FormatInt(kb/2/1024, 10) + "MB"
			}
		}
	}
	return out
}

var memTotal = regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`)

// SettingsFromEnv parses the value of IDR_DUCKDB_SETTINGS.
func SettingsFromEnv(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(v, ";") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " ;'\"") {
			return nil, errs.Config("write NAME=VALUE pairs separated by semicolons, e.g. memory_limit=8GB;threads=4",
				"%s: %q is not a DuckDB setting NAME=VALUE", SettingsEnv, kv)
		}
		out[k] = strings.TrimSpace(val)
	}
	return out, nil
}

// WorkSchema is where a run's scratch tables live (stage.W names them idr_work.NAME).
const WorkSchema = "idr_work"

// attachWork makes idr_work an in-memory database attached beside the file: a run's scratch
// tables are rebuilt by every run and never outlive it, so they are kept out of the database
// file. Writing them to the file cost more than half of a FULL run's CPU (compression, WAL and
// checkpoints of tables nobody reads again). Beyond memory_limit DuckDB pages them out to its
// temp_directory. With WorkDisk, idr_work is a scratch file beside the database instead: slower,
// and the process stays much smaller (docs/operations.md). Databases made by earlier versions
// hold an idr_work schema of old scratch tables; it is dropped, as two things named idr_work
// would make every name ambiguous.
func (e *Engine) attachWork(ctx context.Context) error {
	res, err := e.Query(ctx, "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = "+dialect.Lit(WorkSchema))
	if err != nil {
		return err
	}
	if n, _ := engine.Int(res.Rows[0][0]); n > 0 {
		if err := e.Exec(ctx, "DROP SCHEMA "+WorkSchema+" CASCADE"); err != nil {
			return err
		}
	}
	return e.attachScratch(ctx)
}

// attachScratch attaches idr_work in memory, or from e.workPath when set. A scratch file left
// by a run that was killed holds nothing anyone needs, so it is replaced.
func (e *Engine) attachScratch(ctx context.Context) error {
	if e.workPath == "" {
		return e.Exec(ctx, "ATTACH ':memory:' AS "+WorkSchema)
	}
	removeWork(e.workPath)
	return e.Exec(ctx, "ATTACH "+dialect.Lit(e.workPath)+" AS "+WorkSchema)
}

// removeWork deletes a scratch database file and its write-ahead log.
func removeWork(path string) {
	for _, p := range []string{path, path + ".wal"} {
		_ = os.Remove(p)
	}
}

// OwnsWorkSchema tells schema.Init not to create idr_work: the engine attaches it on open.
func (e *Engine) OwnsWorkSchema() bool { return true }

var lockPID = regexp.MustCompile(`PID (\d+)`)

// openError turns DuckDB's open failures into one-line errors that say what to do.
func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock"):
		who := "another process"
		if m := lockPID.FindStringSubmatch(msg); m != nil {
			who = "process " + m[1]
		}
		return &errs.Error{Kind: errs.KindBusy, Cause: err,
			Msg:  fmt.Sprintf("database %s is in use by %s (another idr run or client holds it)", path, who),
			Hint: "wait for it to finish, then try again"}
	case strings.Contains(msg, "not a valid DuckDB database file") || strings.Contains(msg, "Serialization") ||
		strings.Contains(msg, "IO Error") || strings.Contains(msg, "version"):
		return errs.Wrap(errs.KindConfig, err, "pass --db a DuckDB database file", "cannot open database %s", path)
	default:
		return errs.Wrap(errs.KindConfig, err, "check the path and that it is a DuckDB database file", "cannot open database %s", path)
	}
}

func (e *Engine) Name() string             { return "duckdb" }
func (e *Engine) Dialect() dialect.Dialect { return dialect.DuckDB{} }
func (e *Engine) Path() string             { return e.path }

func (e *Engine) Exec(ctx context.Context, stmt string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.conn.ExecContext(ctx, stmt)
	return memoryError(err)
}

// memoryError says what to do when DuckDB runs out of memory: its own advice (threads,
// insertion order, memory_limit, a web page) names none of idr's settings, and most often the
// scratch tables in memory are what no longer fit.
func memoryError(err error) error {
	if err == nil || !strings.Contains(err.Error(), "Out of Memory Error") {
		return err
	}
	return &outOfMemory{err}
}

type outOfMemory struct{ err error }

func (o *outOfMemory) Error() string {
	// DuckDB's first line says what failed; the rest is its advice.
	msg, _, _ := strings.Cut(o.err.Error(), "\n")
	msg, _, _ = strings.Cut(msg, " Possible solutions")
	return strings.TrimSpace(msg) + "; set " + WorkEnv + "=disk to keep the run's scratch tables on disk, or give DuckDB more memory with " +
		SettingsEnv + "=memory_limit=... (docs/operations.md)"
}

func (o *outOfMemory) Unwrap() error { return o.err }

func (e *Engine) Query(ctx context.Context, stmt string) (*engine.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rows, err := e.conn.QueryContext(ctx, stmt)
	if err != nil {
		return nil, memoryError(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &engine.Result{Columns: cols}
	if types, err := rows.ColumnTypes(); err == nil {
		for _, t := range types {
			res.Types = append(res.Types, t.DatabaseTypeName())
		}
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

func (e *Engine) Columns(ctx context.Context, table string) ([]string, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rows, err := e.conn.QueryContext(ctx, "SELECT * FROM "+table+" LIMIT 0")
	if err != nil {
		var de *duckdb.Error
		if errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog {
			return nil, false, nil
		}
		return nil, false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	return cols, err == nil, err
}

// Atomic wraps fn in one DuckDB transaction. Rollback uses a fresh context so that a
// cancelled run (Ctrl-C) still rolls back cleanly.
func (e *Engine) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := e.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(ctx); err != nil {
		if rbErr := e.Exec(context.Background(), "ROLLBACK"); rbErr != nil {
			return fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = e.Exec(context.Background(), "ROLLBACK")
		return err
	}
	if err := e.Exec(ctx, "COMMIT"); err != nil {
		_ = e.Exec(context.Background(), "ROLLBACK")
		return err
	}
	return nil
}

// raw runs fn with the driver connection, for the Arrow and Appender APIs.
func (e *Engine) raw(fn func(c driver.Conn) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn.Raw(func(dc any) error { return fn(dc.(driver.Conn)) })
}

var (
	runLocksMu sync.Mutex
	runLocks   = map[string]*sync.Mutex{}
)

// AcquireRunLock refuses a second run on the same database from this process. Other processes
// are already kept out by DuckDB's file lock, which Open turns into a KindBusy error.
func (e *Engine) AcquireRunLock(ctx context.Context) (func(), error) {
	key := e.path
	if abs, err := filepath.Abs(e.path); err == nil && e.path != "" {
		key = abs
	}
	if e.path == "" || e.path == ":memory:" {
		key = fmt.Sprintf("memory:%p", e)
	}
	runLocksMu.Lock()
	m, ok := runLocks[key]
	if !ok {
		m = &sync.Mutex{}
		runLocks[key] = m
	}
	runLocksMu.Unlock()
	if !m.TryLock() {
		return nil, &errs.Error{Kind: errs.KindBusy,
			Msg:  fmt.Sprintf("database %s already has an idr run in progress", e.path),
			Hint: "wait for it to finish, then try again"}
	}
	return m.Unlock, nil
}

func (e *Engine) Close() error {
	var first error
	if e.conn != nil {
		first = e.conn.Close()
	}
	if err := e.db.Close(); err != nil && first == nil {
		first = err
	}
	if e.workPath != "" {
		removeWork(e.workPath)
	}
	return first
}
