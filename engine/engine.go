// Package engine defines what the pipeline needs from a SQL engine. The pipeline is written
// once against this interface; each engine (engine/duckdb, later engine/spark) implements it
// and passes the shared conformance suite in engine/enginetest.
package engine

import (
	"context"

	"github.com/idr-dev/idr/internal/dialect"
)

// Result is a small, fully read query result (configuration, summaries, `idr sql` output).
// Data proportional to the input never travels through it.
type Result struct {
	Columns []string
	Types   []string // engine type names, e.g. VARCHAR, DATE
	Rows    [][]any
}

// ComponentsStats describes one connected-components computation.
type ComponentsStats struct {
	Nodes      int64
	Edges      int64
	Components int64
	Rounds     int // iterations an engine needed; 1 for in-process union-find
}

// Engine is a SQL engine holding idr_meta, idr_work and idr_out.
type Engine interface {
	// Name is the engine's short name ("duckdb").
	Name() string
	// Dialect is the SQL dialect stages must generate for this engine.
	Dialect() dialect.Dialect
	// Exec runs one statement.
	Exec(ctx context.Context, stmt string) error
	// Query runs one statement and reads its whole result.
	Query(ctx context.Context, stmt string) (*Result, error)
	// Columns lists a table's or view's column names; ok is false when it does not exist.
	Columns(ctx context.Context, table string) (cols []string, ok bool, err error)
	// Atomic runs fn so that the statements it executes through this engine commit together
	// or not at all; on error (or cancellation) nothing fn did is visible.
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
	// Components labels every node 0..nodes-1 with the smallest node id of its connected
	// component, given an undirected edge table edgesTable(l INTEGER, r INTEGER), and writes
	// outTable(eid INTEGER, root INTEGER) with one row per node.
	Components(ctx context.Context, edgesTable string, nodes int64, outTable string) (ComponentsStats, error)
	// AcquireRunLock refuses a second run on the same database while one runs; the returned
	// function releases it.
	AcquireRunLock(ctx context.Context) (release func(), err error)
	// Close releases the engine.
	Close() error
}

// WorkPlacer is implemented by engines that choose where a run's scratch tables (idr_work) live
// from the size of its input (DuckDB: in memory or in a file beside the database). The pipeline
// calls PlaceWork once per run, before its first stage.
type WorkPlacer interface {
	// PlaceWork calls sourceRows (the number of rows the run's sources hold) only when the
	// choice is the engine's to make, and returns a sentence for the run's report when the
	// scratch tables are not where they usually are ("" otherwise).
	PlaceWork(ctx context.Context, sourceRows func(context.Context) (int64, error)) (string, error)
}
