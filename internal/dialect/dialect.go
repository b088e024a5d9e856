// Package dialect owns the few places where the SQL idr generates differs between engines:
// quoting, type names, normalizer functions and table replacement. Stages build SQL only
// through a Dialect, so the pipeline is written once for every engine.
package dialect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Normalizers are the built-in normalizer names a user can pick per identifier type
// (idr_meta.identifier_normalizer). Their SQL is dialect-specific, their meaning is not:
//
//	EMAIL  trim surrounding white space (space, tab, CR, LF), then lower-case
//	PHONE  digits only
//	TRIM   trim surrounding white space
//	LOWER  trim, then lower-case
//	UPPER  trim, then upper-case
//	NONE   the value as it is (cast to text)
var Normalizers = []string{"EMAIL", "PHONE", "TRIM", "LOWER", "UPPER", "NONE"}

// DefaultNormalizer is the normalizer of an identifier type with no row in idr_meta.identifier_normalizer.
func DefaultNormalizer(identifierType string) string {
	switch strings.ToUpper(identifierType) {
	case "EMAIL":
		return "EMAIL"
	case "PHONE":
		return "PHONE"
	default:
		return "TRIM"
	}
}

// IsNormalizer reports whether name is a built-in normalizer.
func IsNormalizer(name string) bool {
	for _, n := range Normalizers {
		if n == name {
			return true
		}
	}
	return false
}

// ContentHashType is the type of ContentHash in every dialect, and of the content hash in the
// incremental state (schema).
const ContentHashType = "DECIMAL(38,0)"

// Dialect is what a stage needs to know about the engine's SQL.
type Dialect interface {
	Name() string
	// Ident quotes one identifier part.
	Ident(name string) string
	// Type is the engine's name for a portable column type: TEXT, INTEGER, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP.
	Type(portable string) string
	// Normalize wraps a text expression in the SQL of a built-in normalizer.
	Normalize(normalizer, expr string) string
	// ReplaceTable returns the statement that creates or replaces table name with the query's rows.
	ReplaceTable(name, query string) string
	// StringAgg aggregates expr into one string separated by sep, ordered by orderBy.
	StringAgg(expr, sep, orderBy string) string
	// TryTimestamp casts expr to a timestamp, NULL where it does not parse.
	TryTimestamp(expr string) string
	// TryBigint casts text to a BIGINT, NULL where it is not a whole number.
	TryBigint(expr string) string
	// ContentHash is an aggregate over rows giving one numeric digest of the expressions' values
	// across the rows of a group, independent of row order, of type ContentHashType (which the
	// state stores). Only compared within one engine.
	ContentHash(exprs []string) string
	// DeleteMatching deletes the rows of table whose columns cols equal, in order, the columns
	// of a row of query; with no cols, every row of table when query returns any row.
	DeleteMatching(table string, cols []string, query string) string
	// SortKey is one expression that orders rows as keys compared in order would, for ArgMin.
	SortKey(keys []SortKey) string
	// ArgMin is an aggregate: the value of the row whose key (a SortKey expression) is
	// smallest. The key must tell apart the rows of a group.
	ArgMin(value, key string) string
	// EpochMicros is a timestamp as microseconds since 1970-01-01 UTC (a BIGINT).
	EpochMicros(ts string) string
	// Numbered returns the statements that create table name as the rows of the query "SELECT
	// cols FROM from", with a first column eid: 0, 1, 2... in the order of orderBy, which must
	// tell every row apart.
	Numbered(name, cols, from, orderBy string) []string
	// DropScratch is the statement that drops a scratch table no later stage reads, or "" where
	// the engine keeps scratch tables for the whole run.
	DropScratch(name string) string
	// WithRowID returns the query a scratch table is created from, so that RowID can name its
	// rows: unchanged where the engine has row ids of its own.
	WithRowID(query string) string
	// RowID is a BIGINT that tells apart the rows of a table created from WithRowID, read
	// through the table's alias (not dense, not ordered; stable while the table lives).
	RowID(alias string) string
}

// Lit quotes s as a SQL string literal; both engines use the standard doubled-quote escape.
func Lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TimestampLit is a timestamp literal in UTC with microseconds, understood by both engines.
func TimestampLit(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.000000") + "'"
}

// Int formats an integer literal.
func Int(n int64) string { return fmt.Sprint(n) }

// SortKey is a key of ArgMin: an integer expression, never NULL, whose values lie in [0, 2^Bits).
type SortKey struct {
	Expr string
	Bits int
}

func sortKeyExprs(keys []SortKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Expr
	}
	return out
}

// DuckDB is the dialect of the embedded engine.
type DuckDB struct{}

var _ Dialect = DuckDB{}

func (DuckDB) Name() string { return "duckdb" }

func (DuckDB) Ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (DuckDB) Type(portable string) string {
	if portable == "TEXT" {
		return "VARCHAR"
	}
	return portable
}

// trimSet is the white space normalizers trim: space, tab, line feed, carriage return.
const trimSet = "' ' || chr(9) || chr(10) || chr(13)"

func (DuckDB) Normalize(normalizer, expr string) string {
	return normalize(normalizer, expr, "trim("+expr+", "+trimSet+")", "regexp_replace("+expr+", '[^0-9]', '', 'g')")
}

// normalize is the meaning of the built-in normalizers, given an engine's SQL for trimming
// the white space set and for keeping only digits.
func normalize(normalizer, expr, trim, digits string) string {
	switch normalizer {
	case "EMAIL", "LOWER":
		return "lower(" + trim + ")"
	case "UPPER":
		return "upper(" + trim + ")"
	case "PHONE":
		return digits
	case "TRIM":
		return trim
	default:
		return expr
	}
}

func (DuckDB) ReplaceTable(name, query string) string {
	return "CREATE OR REPLACE TABLE " + name + " AS " + query
}

func (DuckDB) StringAgg(expr, sep, orderBy string) string {
	return "string_agg(" + expr + ", " + Lit(sep) + " ORDER BY " + orderBy + ")"
}

func (DuckDB) TryTimestamp(expr string) string { return "TRY_CAST(" + expr + " AS TIMESTAMP)" }

func (DuckDB) TryBigint(expr string) string { return "TRY_CAST(" + expr + " AS BIGINT)" }

func (DuckDB) ContentHash(exprs []string) string {
	return "CAST(sum(hash(" + strings.Join(exprs, ", ") + ")) AS " + ContentHashType + ")"
}

func (DuckDB) DeleteMatching(table string, cols []string, query string) string {
	switch len(cols) {
	case 0:
		return "DELETE FROM " + table + " WHERE EXISTS (" + query + ")"
	case 1:
		return "DELETE FROM " + table + " WHERE " + cols[0] + " IN (" + query + ")"
	}
	keys, on := matchKeys(table, cols)
	return "DELETE FROM " + table + " USING (SELECT DISTINCT * FROM (" + query + ") q(" + keys + ")) s WHERE " + on
}

// matchKeys names the columns of DeleteMatching's query k0, k1... and pairs them with the
// columns of target: "target.c0 = s.k0 AND target.c1 = s.k1".
func matchKeys(target string, cols []string) (keys, on string) {
	ks := make([]string, len(cols))
	eq := make([]string, len(cols))
	for i, c := range cols {
		ks[i] = fmt.Sprintf("k%d", i)
		eq[i] = target + "." + c + " = s." + ks[i]
	}
	return strings.Join(ks, ", "), strings.Join(eq, " AND ")
}

// SortKey packs the keys into one HUGEINT when they fit: DuckDB compares a row of keys through
// a generic sort key per row. The golden profile's aggregate at 10M entities took 5.6-8.5 s
// with a row of keys (which also held the value), 4.1-5.3 s packed.
func (DuckDB) SortKey(keys []SortKey) string {
	bits := 0
	for _, k := range keys {
		bits += k.Bits
	}
	if bits > 126 {
		return "row(" + strings.Join(sortKeyExprs(keys), ", ") + ")"
	}
	var parts []string
	for _, k := range keys {
		bits -= k.Bits
		parts = append(parts, "(CAST("+k.Expr+" AS HUGEINT) << "+strconv.Itoa(bits)+")")
	}
	return strings.Join(parts, " + ")
}

func (DuckDB) ArgMin(value, key string) string { return "arg_min(" + value + ", " + key + ")" }

func (DuckDB) EpochMicros(ts string) string { return "epoch_us(" + ts + ")" }

// Numbered sorts into a scratch table and numbers its rows by rowid: DuckDB's window operator
// sorts the whole row a second time, and took 3.7 s against 2.3 s for this at 10M entities.
// An ORDER BY insert keeps its order only with preserve_insertion_order (DuckDB's default),
// which the engine refuses to have turned off.
func (d DuckDB) Numbered(name, cols, from, orderBy string) []string {
	sorted := name + "_sorted"
	return []string{
		d.ReplaceTable(sorted, "SELECT "+cols+" FROM "+from+" ORDER BY "+orderBy),
		d.ReplaceTable(name, "SELECT CAST(rowid AS INTEGER) AS eid, * FROM "+sorted),
		"DROP TABLE " + sorted,
	}
}

// DropScratch frees an idr_work table as soon as the run is done with it: idr_work lives in
// memory, and every table dropped leaves memory_limit to the stages still to come.
func (DuckDB) DropScratch(name string) string { return "DROP TABLE IF EXISTS " + name }

// WithRowID leaves the query: a DuckDB table has a rowid of its own, which numbering the rows
// in the query would not beat (row_number() OVER () numbered 100M groups on one thread, 11 s).
func (DuckDB) WithRowID(query string) string { return query }

func (DuckDB) RowID(alias string) string { return alias + ".rowid" }

// Spark is the dialect of Spark SQL (engine/spark). String literals are written the standard
// way here too (Lit); the Spark engine re-escapes them into Spark's backslash form.
type Spark struct{}

var _ Dialect = Spark{}

func (Spark) Name() string { return "spark" }

func (Spark) Ident(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func (Spark) Type(portable string) string {
	switch portable {
	case "TEXT":
		return "STRING"
	case "INTEGER":
		return "INT"
	}
	return portable
}

func (Spark) Normalize(normalizer, expr string) string {
	return normalize(normalizer, expr, "trim(BOTH "+trimSet+" FROM "+expr+")", "regexp_replace("+expr+", '[^0-9]', '')")
}

// ReplaceTable writes idr_work's scratch tables as plain Parquet (dropped, then created: a
// fraction of the cost of a Delta commit, and nothing needs their history); every other table
// stays in the catalog's default format (Delta), whose versions the engine restores on failure.
func (Spark) ReplaceTable(name, query string) string {
	if strings.HasPrefix(name, "idr_work.") {
		return "DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name + " USING parquet AS " + query
	}
	return "CREATE OR REPLACE TABLE " + name + " AS " + query
}

func (Spark) StringAgg(expr, sep, orderBy string) string {
	return "string_agg(" + expr + ", " + Lit(sep) + ") WITHIN GROUP (ORDER BY " + orderBy + ")"
}

func (Spark) TryTimestamp(expr string) string { return "try_cast(" + expr + " AS TIMESTAMP)" }

func (Spark) TryBigint(expr string) string { return "try_cast(" + expr + " AS BIGINT)" }

// ContentHash sums 64-bit hashes as DECIMAL(38,0): Spark's ANSI mode fails on BIGINT overflow.
func (Spark) ContentHash(exprs []string) string {
	return "sum(CAST(xxhash64(" + strings.Join(exprs, ", ") + ") AS " + ContentHashType + "))"
}

// DeleteMatching is a MERGE: Delta's DELETE takes no subquery in its condition.
func (Spark) DeleteMatching(table string, cols []string, query string) string {
	if len(cols) == 0 {
		return "MERGE INTO " + table + " t USING (SELECT 1 AS k FROM (" + query + ") q LIMIT 1) s ON TRUE WHEN MATCHED THEN DELETE"
	}
	keys, on := matchKeys("t", cols)
	return "MERGE INTO " + table + " t USING (SELECT DISTINCT " + keys + " FROM (" + query + ") q(" + keys + ")) s ON " + on + " WHEN MATCHED THEN DELETE"
}

func (Spark) SortKey(keys []SortKey) string {
	return "struct(" + strings.Join(sortKeyExprs(keys), ", ") + ")"
}

func (Spark) ArgMin(value, key string) string { return "min_by(" + value + ", " + key + ")" }

func (Spark) EpochMicros(ts string) string { return "unix_micros(" + ts + ")" }

func (s Spark) Numbered(name, cols, from, orderBy string) []string {
	return []string{s.ReplaceTable(name, "SELECT CAST(row_number() OVER (ORDER BY "+orderBy+") - 1 AS INTEGER) AS eid, "+cols+" FROM "+from)}
}

// DropScratch keeps Spark's scratch tables: they are Parquet files on the cluster's storage, not
// memory, each drop is a round trip, and the next run replaces them.
func (Spark) DropScratch(string) string { return "" }

// WithRowID adds a column row_id, numbered within each partition without moving the rows to
// one (row_number() OVER () would).
func (Spark) WithRowID(query string) string {
	return "SELECT monotonically_increasing_id() AS row_id, x.* FROM (" + query + ") x"
}

func (Spark) RowID(alias string) string { return alias + ".row_id" }
