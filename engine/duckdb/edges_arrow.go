//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// readEdges reads two INTEGER columns as Arrow record batches: column-wise, no per-row scan.
func (e *Engine) readEdges(ctx context.Context, query string) (ls, rs []int32, err error) {
	err = e.raw(func(c driver.Conn) error {
		ar, err := duckdb.NewArrowFromConn(c)
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rdr.Release()
		for rdr.Next() {
			rec := rdr.RecordBatch()
			l, ok1 := rec.Column(0).(*array.Int32)
			r, ok2 := rec.Column(1).(*array.Int32)
			if !ok1 || !ok2 {
				return fmt.Errorf("edge columns must be INTEGER, got %s and %s", rec.Column(0).DataType(), rec.Column(1).DataType())
			}
			if l.NullN() > 0 || r.NullN() > 0 {
				return fmt.Errorf("edge table holds NULL ids")
			}
			ls = append(ls, l.Int32Values()...)
			rs = append(rs, r.Int32Values()...)
		}
		return rdr.Err()
	})
	return ls, rs, err
}
