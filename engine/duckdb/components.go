package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/unionfind"
)

// Components reads the dense edge list in bulk, runs union-find in Go and appends one
// (eid, root) row per node. Union-find is exact at any chain length in one pass, which is
// why the embedded engine does not iterate label propagation in SQL.
func (e *Engine) Components(ctx context.Context, edgesTable string, nodes int64, outTable string) (engine.ComponentsStats, error) {
	st := engine.ComponentsStats{Nodes: nodes, Rounds: 1}
	if nodes > 1<<31-1 {
		return st, fmt.Errorf("components: %d nodes exceed the int32 id space of the embedded engine", nodes)
	}
	ls, rs, err := e.readEdges(ctx, "SELECT l, r FROM "+edgesTable)
	if err != nil {
		return st, fmt.Errorf("components: reading edges: %w", err)
	}
	st.Edges = int64(len(ls))
	if err := ctx.Err(); err != nil {
		return st, err
	}
	labels := unionfind.Components(int(nodes), ls, rs)
	ls, rs = nil, nil
	if err := e.Exec(ctx, "CREATE OR REPLACE TABLE "+outTable+" (eid INTEGER, root INTEGER)"); err != nil {
		return st, err
	}
	catalog, schema, table := qualify(outTable)
	err = e.raw(func(c driver.Conn) error {
		app, err := duckdb.NewAppender(c, catalog, schema, table)
		if err != nil {
			return err
		}
		for i, root := range labels {
			if int32(i) == root {
				st.Components++
			}
			if i&0xFFFF == 0 && ctx.Err() != nil {
				app.Close()
				return ctx.Err()
			}
			if err := app.AppendRow(int32(i), root); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return st, fmt.Errorf("components: writing labels: %w", err)
	}
	return st, nil
}

// qualify splits "schema.table" (unquoted, as idr names its own tables) into DuckDB's catalog,
// schema and table: idr_work.T is table T of the attached in-memory database idr_work.
func qualify(name string) (catalog, schema, table string) {
	schema, table, ok := strings.Cut(name, ".")
	switch {
	case !ok:
		return "", "", name
	case schema == WorkSchema:
		return WorkSchema, "main", table
	default:
		return "", schema, table
	}
}
