package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idr-dev/idr/internal/errs"
)

func TestSettingsFromEnv(t *testing.T) {
	got, err := SettingsFromEnv(" memory_limit = 2GB ;threads=1;")
	if err != nil || len(got) != 2 || got["memory_limit"] != "2GB" || got["threads"] != "1" {
		t.Fatalf("SettingsFromEnv = %v, %v", got, err)
	}
	for _, bad := range []string{"memory_limit", "=2GB", "a b=1", "x'=1"} {
		if _, err := SettingsFromEnv(bad); errs.KindOf(err) != errs.KindConfig || !strings.Contains(err.Error(), SettingsEnv) {
			t.Errorf("SettingsFromEnv(%q) = %v, want a configuration error naming %s", bad, err, SettingsEnv)
		}
	}
}

// Settings from the environment reach DuckDB, and options override them; a setting DuckDB
// refuses is a configuration error naming it.
func TestOpenAppliesSettings(t *testing.T) {
	ctx := context.Background()
	t.Setenv(SettingsEnv, "threads=1;memory_limit=1GB")
	e := openMemory(t, Options{Settings: map[string]string{"threads": "2"}})
	res, err := e.Query(ctx, "SELECT current_setting('threads'), current_setting('memory_limit')")
	if err != nil {
		t.Fatal(err)
	}
	if th, _ := res.Rows[0][0].(int64); th != 2 || !strings.Contains(res.Rows[0][1].(string), "GiB") && !strings.Contains(res.Rows[0][1].(string), "MiB") {
		t.Fatalf("threads, memory_limit = %v, want 2 and about 1GB", res.Rows[0])
	}
	// Without settings, memory_limit is idr's default: half of the machine's memory.
	t.Setenv(SettingsEnv, "")
	d := openMemory(t, Options{})
	if want := defaultSettings()["memory_limit"]; want != "" {
		// DuckDB prints the limit in its own units: compare with what it prints for want.
		got, err := d.Query(ctx, "SELECT current_setting('memory_limit')")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Exec(ctx, "SET memory_limit = '"+want+"'"); err != nil {
			t.Fatal(err)
		}
		again, err := d.Query(ctx, "SELECT current_setting('memory_limit')")
		if err != nil || got.Rows[0][0] != again.Rows[0][0] {
			t.Fatalf("memory_limit = %v, want %s (%v, %v)", got.Rows[0][0], want, again.Rows, err)
		}
	}
	t.Setenv(SettingsEnv, "no_such_setting=1")
	if _, err := Open(ctx, "", Options{}); errs.KindOf(err) != errs.KindConfig || !strings.Contains(err.Error(), "no_such_setting") {
		t.Fatalf("Open with an unknown setting: %v", err)
	}
	// Numbering entities in key order needs insertion order kept (dialect.DuckDB.Numbered).
	t.Setenv(SettingsEnv, "preserve_insertion_order=false")
	if _, err := Open(ctx, "", Options{}); errs.KindOf(err) != errs.KindConfig || !strings.Contains(err.Error(), "preserve_insertion_order must stay true") {
		t.Fatalf("Open with preserve_insertion_order=false: %v", err)
	}
}

// Numbered gives eid 0, 1, 2... in key order, the same as row_number() over the key, on a
// table large enough for DuckDB to sort and insert it in parallel pieces.
func TestNumberedFollowsKeyOrder(t *testing.T) {
	ctx := context.Background()
	e := openMemory(t, Options{Settings: map[string]string{"threads": "4"}})
	if err := e.Exec(ctx, "CREATE TABLE idr_work.keys AS SELECT 'k' || CAST(hash(range) AS VARCHAR) AS k, range AS n FROM range(3000000)"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range e.Dialect().Numbered("idr_work.numbered", "k, n", "idr_work.keys", "k") {
		if err := e.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Query(ctx, "SELECT count(*), count(*) FILTER (WHERE a.eid = b.rn) FROM idr_work.numbered a "+
		"JOIN (SELECT k, row_number() OVER (ORDER BY k) - 1 AS rn FROM idr_work.keys) b ON a.k = b.k")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.Rows[0][0].(int64); n != 3000000 || res.Rows[0][1] != res.Rows[0][0] {
		t.Fatalf("rows, rows numbered in key order = %v, want 3000000 both", res.Rows[0])
	}
}

// With IDR_DUCKDB_WORK=disk, idr_work is a scratch file beside the database: a stale one is
// replaced on open, it holds the run's scratch tables while open, and it is removed on close.
// The database file itself never holds them. An unknown value is a configuration error.
func TestWorkOnDisk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idr.duckdb")
	work := path + ".idr_work"
	if err := os.WriteFile(work, []byte("left by a killed run"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(WorkEnv, "disk")
	e, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Exec(ctx, "CREATE TABLE idr_work.scratch AS SELECT range AS n FROM range(100000)"); err != nil {
		t.Fatal(err)
	}
	res, err := e.Query(ctx, "SELECT path FROM duckdb_databases() WHERE database_name = 'idr_work'")
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != work {
		t.Fatalf("idr_work is attached from %v (%v), want %s", res.Rows, err, work)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(work); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the scratch file is still there after close: %v", err)
	}
	// The next open (in memory, the default) finds no scratch table in the database file.
	t.Setenv(WorkEnv, "")
	m, err := Open(ctx, path, Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, ok, err := m.Columns(ctx, "idr_work.scratch"); ok || err != nil {
		t.Fatalf("idr_work.scratch outlived its run (%v)", err)
	}
	if _, err := Open(ctx, path, Options{Work: "tape"}); errs.KindOf(err) != errs.KindConfig || !strings.Contains(err.Error(), WorkEnv) {
		t.Fatalf("Work=tape: %v, want a configuration error naming %s", err, WorkEnv)
	}
}

// Running out of memory says which of idr's settings to change, on one line. (No temp_directory:
// DuckDB would page the table out instead.)
func TestOutOfMemoryNamesSettings(t *testing.T) {
	ctx := context.Background()
	e := openMemory(t, Options{Settings: map[string]string{"memory_limit": "8MB", "threads": "1", "temp_directory": ""}})
	err := e.Exec(ctx, "CREATE TABLE idr_work.big AS SELECT range AS n, repeat('x', 200) || range AS s FROM range(2000000)")
	if err == nil {
		t.Fatal("a 400 MB table fitted in an 8 MB memory_limit")
	}
	msg := err.Error()
	if !strings.Contains(msg, "Out of Memory Error") || !strings.Contains(msg, WorkEnv+"=disk") || !strings.Contains(msg, SettingsEnv) ||
		strings.Contains(msg, "\n") || strings.Contains(msg, "Possible solutions") {
		t.Fatalf("out-of-memory error: %q", msg)
	}
}

// DuckDB 2.0.0's compressed_materialization optimizer narrows a grouped sum to its input's
// type before an ORDER BY when the rows come through a join or a scalar-subquery filter, and
// the sum fails (or, cast, wraps around). idr turns the optimizer off; with it on, this query
// fails with "Type INT128 with value 182051000 can't be cast ... INT16".
func TestSumBeforeOrderBy(t *testing.T) {
	ctx := context.Background()
	e := openMemory(t, Options{})
	for _, stmt := range []string{
		"CREATE TABLE t (run_id VARCHAR, ct VARCHAR, mc BIGINT)",
		"INSERT INTO t SELECT 'a', 'NEW', 1 + i % 519 FROM range(2000000) r(i)",
		"INSERT INTO t SELECT 'b', 'MERGED', 2 + i % 11000 FROM range(34000) r(i)",
		"CREATE TABLE h AS SELECT * FROM (VALUES ('a'), ('b')) v(run_id)",
	} {
		if err := e.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"SELECT ct, sum(mc) FROM t WHERE run_id = (SELECT max(run_id) FROM h) GROUP BY ct ORDER BY ct",
		"SELECT ct, CAST(sum(mc) AS BIGINT) FROM t JOIN (SELECT max(run_id) AS r FROM h) x ON x.r = t.run_id GROUP BY ct ORDER BY ct",
	} {
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][1]) != "182051000" {
			t.Errorf("%s = %v, want [[MERGED 182051000]]", q, res.Rows)
		}
	}
}
