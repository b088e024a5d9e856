//go:build !duckdb_arrow

package duckdb

import (
	"context"
)

// readEdges without the duckdb_arrow build tag scans rows through database/sql. It gives the
// same result, several times slower; `make` builds with -tags duckdb_arrow (see docs/architecture.md).
func (e *Engine) readEdges(ctx context.Context, query string) (ls, rs []int32, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rows, err := e.conn.QueryContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var l, r int32
	for rows.Next() {
		if err := rows.Scan(&l, &r); err != nil {
			return nil, nil, err
		}
		ls = append(ls, l)
		rs = append(rs, r)
	}
	return ls, rs, rows.Err()
}
