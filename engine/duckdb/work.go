package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/idr-dev/idr/engine"
)

var _ engine.WorkPlacer = (*Engine)(nil)

// ScratchBytesPerRow is what PlaceWork expects a run to need in scratch tables, live at once,
// per source row. Measured on the retail scenario (five identifier types, docs/benchmarks.md):
// at 10M rows a FULL run in memory peaked at 8.4 GB; at 100M rows it had 62 GB in temp files
// beside a 12 GB memory_limit when the disk filled, before its last two stages.
const ScratchBytesPerRow = 1024

// workFile is the scratch database file of the database at path (WorkDisk).
func workFile(path string) string { return path + ".idr_work" }

// PlaceWork chooses, before a run, where its scratch tables live, when neither Options.Work nor
// IDR_DUCKDB_WORK chose it (WorkAuto). In memory, DuckDB pages what exceeds memory_limit out to
// temp_directory uncompressed; a run too large for that fills the disk and fails (retail at
// 100M rows did, after 15 minutes). So idr_work goes to a file beside the database when the
// input's expected scratch (ScratchBytesPerRow per source row) is more than memory_limit plus
// half of the free space where temp_directory is; otherwise it stays in (or returns to) memory,
// which is faster wherever it fits. sourceRows is only called when the choice is the engine's.
// It returns a sentence for the run's report when idr_work is on disk, "" otherwise.
func (e *Engine) PlaceWork(ctx context.Context, sourceRows func(context.Context) (int64, error)) (string, error) {
	if !e.workAuto {
		return "", nil
	}
	rows, err := sourceRows(ctx)
	if err != nil {
		return "", err
	}
	res, err := e.Query(ctx, "SELECT current_setting('memory_limit'), current_setting('temp_directory')")
	if err != nil {
		return "", err
	}
	limitText, _ := engine.Text(res.Rows[0][0])
	tempDir, _ := engine.Text(res.Rows[0][1])
	limit, ok := parseSize(limitText)
	if !ok {
		// No limit idr can read (DuckDB's own accounting): keep the default, memory.
		return "", e.moveWork(ctx, false)
	}
	// With temp_directory unset DuckDB writes no temp files, so memory_limit is all there is.
	free := int64(0)
	if tempDir != "" {
		free = freeBytes(tempDir)
	}
	need := rows * ScratchBytesPerRow
	disk := workOnDisk(need, limit, free)
	if err := e.moveWork(ctx, disk); err != nil {
		return "", err
	}
	if !disk {
		return "", nil
	}
	temp := "no temp_directory to page out to"
	if tempDir != "" {
		temp = "half the free space where temp_directory is (" + humanBytes(free/2) + " of " + humanBytes(free) + ")"
	}
	return fmt.Sprintf("the run's scratch tables are in %s, not in memory: %d source rows need about %s of them, "+
		"more than memory_limit (%s) and %s; %s=memory or %s=disk chooses for every run (docs/operations.md)",
		filepath.Base(workFile(e.path)), rows, humanBytes(need), limitText, temp, WorkEnv, WorkEnv), nil
}

// workOnDisk is PlaceWork's rule: scratch of need bytes goes to disk when it exceeds the memory
// limit plus half of the free space for DuckDB's temp files (free < 0: unknown, counted as none).
func workOnDisk(need, limit, free int64) bool {
	if free < 0 {
		free = 0
	}
	return need > limit+free/2
}

// moveWork re-attaches idr_work in a file (disk) or in memory, unless it already is there.
// Between runs idr_work holds nothing anyone needs.
func (e *Engine) moveWork(ctx context.Context, disk bool) error {
	if disk == (e.workPath != "") {
		return nil
	}
	if err := e.Exec(ctx, "DETACH "+WorkSchema); err != nil {
		return err
	}
	if e.workPath != "" {
		removeWork(e.workPath)
		e.workPath = ""
	}
	if disk {
		e.workPath = workFile(e.path)
	}
	return e.attachScratch(ctx)
}

// WorkOnDisk reports whether idr_work is a file beside the database.
func (e *Engine) WorkOnDisk() bool { return e.workPath != "" }

var sizeText = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?i?B|bytes)?\s*$`)

// parseSize reads a size as DuckDB prints it ("11.2 GiB", "488.2 KiB", "512 bytes"); SI units
// (KB, MB...) are powers of 1000, binary ones (KiB, MiB...) powers of 1024.
func parseSize(s string) (int64, bool) {
	m := sizeText.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	unit := m[2]
	base := 1000.0
	if strings.Contains(unit, "i") {
		base = 1024
	}
	mult := 1.0
	if unit != "" && unit != "bytes" && unit != "B" {
		for range strings.Index("KMGTP", unit[:1]) + 1 {
			mult *= base
		}
	}
	return int64(n * mult), true
}

// freeBytes is the space free to an unprivileged writer on the file system holding path (or its
// nearest existing parent); -1 when it cannot be read.
func freeBytes(path string) int64 {
	dir := filepath.Clean(path)
	for {
		if _, err := os.Stat(dir); err == nil {
			return statFree(dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return -1
		}
		dir = parent
	}
}

// humanBytes prints a size in GiB, MiB or KiB with one decimal.
func humanBytes(n int64) string {
	const k = 1024.0
	v := float64(n)
	switch {
	case v >= k*k*k:
		return strconv.FormatFloat(v/(k*k*k), 'f', 1, 64) + " GiB"
	case v >= k*k:
		return strconv.FormatFloat(v/(k*k), 'f', 1, 64) + " MiB"
	default:
		return strconv.FormatFloat(v/k, 'f', 1, 64) + " KiB"
	}
}
