package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
)

// formatValue renders one value as text; NULL is shown as NULL in tables and empty in CSV.
func formatValue(v any, typ string) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case time.Time:
		switch typ {
		case "DATE":
			return x.Format("2006-01-02"), true
		case "TIME":
			return x.Format("15:04:05"), true
		}
		if x.Nanosecond() == 0 {
			return x.Format("2006-01-02 15:04:05"), true
		}
		return x.Format("2006-01-02 15:04:05.000000"), true
	case []byte:
		return string(x), true
	case float64:
		return fmt.Sprintf("%g", x), true
	default:
		return fmt.Sprint(x), true
	}
}

func typeOf(res *engine.Result, i int) string {
	if i < len(res.Types) {
		return res.Types[i]
	}
	return ""
}

// writeResult prints a result as an aligned table, CSV or JSON lines.
func writeResult(w io.Writer, res *engine.Result, format string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(res.Columns)
		for _, row := range res.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i], _ = formatValue(v, typeOf(res, i))
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		enc := json.NewEncoder(w)
		for _, row := range res.Rows {
			obj := make(map[string]any, len(row))
			for i, v := range row {
				if s, ok := formatValue(v, typeOf(res, i)); ok {
					switch v.(type) {
					case time.Time, []byte:
						obj[res.Columns[i]] = s
					default:
						obj[res.Columns[i]] = v
					}
				} else {
					obj[res.Columns[i]] = nil
				}
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	case "table", "":
		writeTable(w, res)
		return nil
	default:
		return errs.Usage("use --format=table, csv or json", "unknown --format %q", format)
	}
}

func writeTable(w io.Writer, res *engine.Result) {
	cells := make([][]string, len(res.Rows))
	width := make([]int, len(res.Columns))
	right := make([]bool, len(res.Columns))
	for i, c := range res.Columns {
		width[i] = utf8.RuneCountInString(c)
		switch typeOf(res, i) {
		case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL":
			right[i] = true
		}
	}
	for r, row := range res.Rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			s, ok := formatValue(v, typeOf(res, i))
			if !ok {
				s = "NULL"
			}
			s = strings.ReplaceAll(s, "\n", `\n`)
			cells[r][i] = s
			if n := utf8.RuneCountInString(s); n > width[i] {
				width[i] = n
			}
		}
	}
	line := func(vals []string, header bool) {
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(v))
			if right[i] && !header {
				b.WriteString(pad + v)
			} else {
				b.WriteString(v + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(res.Columns, true)
	seps := make([]string, len(width))
	for i, n := range width {
		seps[i] = strings.Repeat("-", n)
	}
	fmt.Fprintln(w, strings.Join(seps, "-+-"))
	for _, row := range cells {
		line(row, false)
	}
	n := len(res.Rows)
	if n == 1 {
		fmt.Fprintln(w, "(1 row)")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", n)
	}
}
