package spark

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
)

// guarded are the databases whose tables Atomic restores on failure. idr_work holds scratch
// tables that every run rebuilds, so it needs no protection.
var guarded = []string{"idr_meta", "idr_out"}

// journal records, while Atomic's fn runs, the version each guarded table had before it. A row
// left there means a process died mid-way: the next Atomic or run lock restores those versions.
const journal = "idr_work.publish_journal"

// Atomic runs fn so that, if it fails or is cancelled, every idr_meta and idr_out table is
// as it was before: Spark has no multi-statement transactions, so Atomic records each table's
// Delta version (in idr_work.publish_journal, before fn's first statement) and, when fn fails,
// RESTOREs each table whose version moved. The guarantee is narrower than a transaction's:
//
//   - Each statement commits on its own (Delta commits per table), so a reader that looks
//     while fn runs, or between a failure and its restore, can see some outputs new and others
//     old. idr's own readers (run, plan, status) hold the run lock or read run_history.
//   - If the process dies during fn, the journal survives it, and the next Atomic or the next
//     AcquireRunLock (every `idr run`) restores the recorded versions before doing anything else.
//   - Only Delta tables in idr_meta and idr_out are restored; statements on other tables
//     (a user's source tables through `idr sql`) are not undone.
func (e *Engine) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := e.recover(ctx); err != nil {
		return err
	}
	versions, err := e.versions(ctx)
	if err != nil {
		return err
	}
	if len(versions) == 0 { // nothing to protect yet (a first `idr init`)
		return fn(ctx)
	}
	if err := e.writeJournal(ctx, versions); err != nil {
		return fmt.Errorf("recording table versions before publishing: %w", err)
	}
	err = fn(ctx)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		// A fresh context: a cancelled run (Ctrl-C) must still restore.
		bg, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if rbErr := e.restore(bg, versions); rbErr != nil {
			return fmt.Errorf("%w (and restoring the previous outputs failed: %v; the next idr run restores them)", err, rbErr)
		}
		if rbErr := e.Exec(bg, "DELETE FROM "+journal); rbErr != nil {
			return fmt.Errorf("%w (and clearing %s failed: %v)", err, journal, rbErr)
		}
		return err
	}
	return e.Exec(ctx, "DELETE FROM "+journal)
}

// versions reads the current Delta version of every table in the guarded databases.
func (e *Engine) versions(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, db := range guarded {
		res, err := e.Query(ctx, "SHOW TABLES IN "+db)
		if err != nil {
			if notFound(err) {
				continue
			}
			return nil, err
		}
		// Views (identity_edges_current, identity_resolved_membership_current) have no versions: they change only with `idr init`.
		views, err := e.Query(ctx, "SHOW VIEWS IN "+db)
		if err != nil {
			return nil, err
		}
		isView := map[string]bool{}
		for _, row := range views.Rows {
			name, _ := engine.Text(row[1])
			isView[strings.ToLower(name)] = true
		}
		for _, row := range res.Rows {
			name, _ := engine.Text(row[1])
			if temp, _ := row[2].(bool); temp || isView[strings.ToLower(name)] {
				continue
			}
			fqn := db + "." + name
			v, err := e.version(ctx, fqn)
			if err != nil {
				return nil, err
			}
			out[fqn] = v
		}
	}
	return out, nil
}

func (e *Engine) version(ctx context.Context, table string) (int64, error) {
	res, err := e.Query(ctx, "DESCRIBE HISTORY "+table+" LIMIT 1")
	if err != nil {
		return 0, fmt.Errorf("reading the Delta version of %s (idr's tables on Spark must be Delta tables): %w", table, err)
	}
	var v int64
	ok := len(res.Rows) == 1 && len(res.Columns) > 0 && res.Columns[0] == "version"
	if ok {
		v, ok = engine.Int(res.Rows[0][0])
	}
	if !ok {
		return 0, fmt.Errorf("table %s has no Delta history", table)
	}
	return v, nil
}

func (e *Engine) writeJournal(ctx context.Context, versions map[string]int64) error {
	if err := e.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+journal+" (table_name STRING, version BIGINT)"); err != nil {
		return err
	}
	if err := e.Exec(ctx, "DELETE FROM "+journal); err != nil {
		return err
	}
	names := make([]string, 0, len(versions))
	for t := range versions {
		names = append(names, t)
	}
	sort.Strings(names)
	rows := make([]string, len(names))
	for i, t := range names {
		rows[i] = fmt.Sprintf("(%s, %d)", dialect.Lit(t), versions[t])
	}
	return e.Exec(ctx, "INSERT INTO "+journal+" VALUES "+strings.Join(rows, ", "))
}

// restore puts back every table whose version moved since versions were read.
func (e *Engine) restore(ctx context.Context, versions map[string]int64) error {
	names := make([]string, 0, len(versions))
	for t := range versions {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		now, err := e.version(ctx, t)
		if err != nil {
			return err
		}
		if now == versions[t] {
			continue
		}
		if err := e.Exec(ctx, fmt.Sprintf("RESTORE TABLE %s TO VERSION AS OF %d", t, versions[t])); err != nil {
			return fmt.Errorf("restoring %s to version %d: %w", t, versions[t], err)
		}
	}
	return nil
}

// recover restores what a process that died inside Atomic left half-published.
func (e *Engine) recover(ctx context.Context) error {
	res, err := e.Query(ctx, "SELECT table_name, version FROM "+journal)
	if err != nil {
		if notFound(err) {
			return nil
		}
		return err
	}
	if len(res.Rows) == 0 {
		return nil
	}
	versions := map[string]int64{}
	for _, row := range res.Rows {
		t, _ := engine.Text(row[0])
		v, _ := engine.Int(row[1])
		versions[t] = v
	}
	if err := e.restore(ctx, versions); err != nil {
		return fmt.Errorf("restoring the outputs of an interrupted run: %w", err)
	}
	return e.Exec(ctx, "DELETE FROM "+journal)
}

// lockTable holds at most one row: the run in progress on this catalog.
const lockTable = "idr_work.run_lock"

var (
	runLocksMu sync.Mutex
	runLocks   = map[string]*sync.Mutex{}
)

// AcquireRunLock refuses a second run on the same Spark catalog. Across processes (and
// machines) the lock is a row in idr_work.run_lock, taken with a Delta MERGE: when two runs
// race, Delta's optimistic concurrency lets one MERGE commit and fails the other (or the other
// sees the row), so at most one run holds it. Within one process a mutex per URL does the same
// without a round trip. A run that is killed leaves its row behind; the error a later run gets
// says so and how to remove it. Holding the lock, it restores what an interrupted run left.
func (e *Engine) AcquireRunLock(ctx context.Context) (func(), error) {
	runLocksMu.Lock()
	m, ok := runLocks[e.remote]
	if !ok {
		m = &sync.Mutex{}
		runLocks[e.remote] = m
	}
	runLocksMu.Unlock()
	busy := func(detail string) error {
		return &errs.Error{Kind: errs.KindBusy,
			Msg: fmt.Sprintf("the Spark catalog at %s already has an idr run in progress (%s)", e.remote, detail),
			Hint: "wait for it to finish; if that run was killed, remove its lock with " +
				"`idr sql --engine=spark --remote=... -c \"DELETE FROM " + lockTable + "\"`"}
	}
	if !m.TryLock() {
		return nil, busy("in this process")
	}
	if _, ok, err := e.Columns(ctx, "idr_out.run_history"); err != nil || !ok {
		m.Unlock()
		if err != nil {
			return nil, err
		}
		return nil, errs.Config("run `idr init --engine=spark --remote=...` first", "the Spark catalog at %s has no idr tables", e.remote)
	}
	token := newToken()
	holder := fmt.Sprintf("%s pid %d", hostName(), os.Getpid())
	err := e.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+lockTable+" (lock_name STRING, owner STRING, holder STRING, acquired_ts TIMESTAMP)")
	if err == nil {
		err = e.Exec(ctx, "MERGE INTO "+lockTable+" t USING (SELECT 'run' AS lock_name, "+dialect.Lit(token)+" AS owner, "+dialect.Lit(holder)+
			" AS holder, current_timestamp() AS acquired_ts) s ON t.lock_name = s.lock_name WHEN NOT MATCHED THEN INSERT *")
	}
	if err != nil {
		m.Unlock()
		var se *Error
		if errors.As(err, &se) && strings.Contains(se.Class, "CONCURRENT") {
			return nil, busy("another run took the lock at the same moment")
		}
		return nil, fmt.Errorf("taking the run lock in %s: %w", lockTable, err)
	}
	res, err := e.Query(ctx, "SELECT owner, holder, CAST(acquired_ts AS STRING) FROM "+lockTable+" WHERE lock_name = 'run'")
	if err != nil {
		m.Unlock()
		return nil, fmt.Errorf("reading the run lock in %s: %w", lockTable, err)
	}
	if len(res.Rows) != 1 {
		m.Unlock()
		return nil, fmt.Errorf("run lock %s has %d rows, expected 1", lockTable, len(res.Rows))
	}
	if owner, _ := engine.Text(res.Rows[0][0]); owner != token {
		m.Unlock()
		h, _ := engine.Text(res.Rows[0][1])
		ts, _ := engine.Text(res.Rows[0][2])
		return nil, busy("held by " + h + " since " + ts + " UTC")
	}
	release := func() {
		bg, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = e.Exec(bg, "DELETE FROM "+lockTable+" WHERE owner = "+dialect.Lit(token))
		m.Unlock()
	}
	if err := e.recover(ctx); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
