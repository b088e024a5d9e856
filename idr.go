// Package idr is the library behind the idr command: deterministic identity resolution over
// tables described in idr_meta, with outputs in idr_out.
//
//	c, err := idr.Open(ctx, idr.Options{DB: "idr.duckdb"})
//	defer c.Close()
//	rep, err := c.Run(ctx, idr.RunOptions{Mode: "FULL"})
package idr

import (
	"context"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/engine/spark"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/pipeline/stage"
	"github.com/idr-dev/idr/internal/report"
	"github.com/idr-dev/idr/internal/schema"
)

// Options say which database to open.
type Options struct {
	// DB is the DuckDB database file ("" or ":memory:" for an in-memory database).
	DB string
	// MustExist refuses to create a database file that is not there.
	MustExist bool
	// Settings are engine settings applied on open (DuckDB: memory_limit, threads, temp_directory...;
	// Spark: Spark SQL session settings).
	Settings map[string]string
	// Engine is "duckdb" (the default: DB is a file) or "spark" (Remote is a Spark Connect URL).
	Engine string
	// Remote is the Spark Connect URL, sc://HOST:PORT[;token=TOKEN], for Engine "spark".
	Remote string
}

// RunOptions say what to run; see pipeline.Options.
type RunOptions = pipeline.Options

// Stage is one planned stage: its name and steps (SQL statements, or a components computation).
type Stage = stage.Stage

// Report is what a run did.
type Report = report.Run

// Client is an open idr database.
type Client struct {
	eng engine.Engine
}

// Open opens the embedded DuckDB engine on opts.DB, or with Engine "spark" a Spark Connect
// session on opts.Remote.
func Open(ctx context.Context, opts Options) (*Client, error) {
	switch opts.Engine {
	case "", "duckdb":
	case "spark":
		eng, err := spark.Open(ctx, opts.Remote, spark.Options{Settings: opts.Settings})
		if err != nil {
			return nil, err
		}
		return &Client{eng: eng}, nil
	default:
		return nil, errs.Usage("use --engine=duckdb or --engine=spark", "unknown engine %q", opts.Engine)
	}
	eng, err := duckdb.Open(ctx, opts.DB, duckdb.Options{MustExist: opts.MustExist, Settings: opts.Settings})
	if err != nil {
		return nil, err
	}
	return &Client{eng: eng}, nil
}

// Engine is the engine the client runs on (for SQL through the same connection).
func (c *Client) Engine() engine.Engine { return c.eng }

// Init creates the idr_meta, idr_work and idr_out schemas and tables that are missing.
func (c *Client) Init(ctx context.Context) error { return schema.Init(ctx, c.eng) }

// Run runs identity resolution once.
func (c *Client) Run(ctx context.Context, opts RunOptions) (*Report, error) {
	return pipeline.Run(ctx, c.eng, opts)
}

// Plan validates the configuration and returns the stages (SQL) a run would execute.
func (c *Client) Plan(ctx context.Context, opts RunOptions) ([]Stage, error) {
	return pipeline.PlanRun(ctx, c.eng, opts)
}

// Close releases the database.
func (c *Client) Close() error { return c.eng.Close() }
