package duckdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	times := func(x, unit float64) int64 { return int64(x * unit) }
	for in, want := range map[string]int64{
		"11.2 GiB":  times(11.2, 1<<30),
		"488.2 KiB": times(488.2, 1<<10),
		"3GB":       3e9,
		"512 bytes": 512,
		"1.5 TiB":   times(1.5, 1<<40),
	} {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "-1", "unlimited", "12 parsecs"} {
		if got, ok := parseSize(bad); ok {
			t.Errorf("parseSize(%q) = %d, want no size", bad, got)
		}
	}
}

// The rule: disk when the scratch exceeds memory_limit plus half of the free space for temp
// files, with unknown free space counted as none. The two cases the constant was measured on
// (docs/benchmarks.md): retail at 10M rows ran in memory, at 100M rows it filled 58 GB free.
func TestWorkOnDiskRule(t *testing.T) {
	const gib = int64(1) << 30
	for _, c := range []struct {
		rows, limit, free int64
		disk              bool
	}{
		{10_000_000, 12 * gib, 58 * gib, false},
		{10_000_000, 3 * gib, 58 * gib, false}, // pages out 7 GB: faster in memory (72 s against 95 s on disk)
		{100_000_000, 12 * gib, 58 * gib, true},
		{10_000_000, 3 * gib, -1, true},
		{1_000, 1 * gib, -1, false},
	} {
		if got := workOnDisk(c.rows*ScratchBytesPerRow, c.limit, c.free); got != c.disk {
			t.Errorf("workOnDisk(%d rows, limit %d, free %d) = %v, want %v", c.rows, c.limit, c.free, got, c.disk)
		}
	}
}

// With no choice made (auto), PlaceWork moves idr_work to a file for an input too large for
// memory and temp space, back to memory for a small one, and counts nothing when the user chose.
func TestPlaceWork(t *testing.T) {
	ctx := context.Background()
	t.Setenv(WorkEnv, "")
	path := filepath.Join(t.TempDir(), "idr.duckdb")
	e, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	where := func() any {
		t.Helper()
		res, err := e.Query(ctx, "SELECT path FROM duckdb_databases() WHERE database_name = 'idr_work'")
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("idr_work: %v, %v", res, err)
		}
		return res.Rows[0][0]
	}
	rows := func(n int64) func(context.Context) (int64, error) {
		return func(context.Context) (int64, error) { return n, nil }
	}
	note, err := e.PlaceWork(ctx, rows(1000))
	if err != nil || note != "" || e.WorkOnDisk() || where() != nil {
		t.Fatalf("1000 rows: note %q, err %v, idr_work at %v; want it in memory", note, err, where())
	}
	huge := int64(1) << 40 // a petabyte of scratch
	note, err = e.PlaceWork(ctx, rows(huge))
	if err != nil || !e.WorkOnDisk() || where() != path+".idr_work" {
		t.Fatalf("%d rows: err %v, idr_work at %v; want it in %s.idr_work", huge, err, where(), path)
	}
	if !strings.Contains(note, "idr.duckdb.idr_work") || !strings.Contains(note, WorkEnv+"=memory") {
		t.Fatalf("note %q does not say where the scratch tables are and how to choose", note)
	}
	if err := e.Exec(ctx, "CREATE TABLE idr_work.scratch AS SELECT range AS n FROM range(1000)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PlaceWork(ctx, rows(1000)); err != nil || e.WorkOnDisk() || where() != nil {
		t.Fatalf("back to 1000 rows: err %v, idr_work at %v; want it in memory", err, where())
	}
	if _, err := os.Stat(path + ".idr_work"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the scratch file is still there once idr_work is back in memory: %v", err)
	}
	e.Close()

	// Without a temp_directory nothing can be paged out: what exceeds memory_limit goes to disk.
	small, err := Open(ctx, path, Options{Settings: map[string]string{"memory_limit": "64MB", "temp_directory": ""}})
	if err != nil {
		t.Fatal(err)
	}
	note, err = small.PlaceWork(ctx, rows(100_000))
	if err != nil || !small.WorkOnDisk() || !strings.Contains(note, "no temp_directory") {
		t.Fatalf("100000 rows, 64MB and no temp_directory: err %v, on disk %v, note %q; want on disk, saying why", err, small.WorkOnDisk(), note)
	}
	small.Close()

	// A choice made by the user stands, and the sources are not even counted.
	for _, work := range []string{WorkMemory, WorkDisk} {
		m, err := Open(ctx, path, Options{Work: work})
		if err != nil {
			t.Fatal(err)
		}
		counted := false
		_, err = m.PlaceWork(ctx, func(context.Context) (int64, error) { counted = true; return huge, nil })
		if err != nil || counted || m.WorkOnDisk() != (work == WorkDisk) {
			t.Fatalf("Work=%s: err %v, counted %v, on disk %v", work, err, counted, m.WorkOnDisk())
		}
		m.Close()
	}
}
