package enginetest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Identifier types the generator uses. Every identifier type it maps has an active rule.
var identifierTypes = []string{"EMAIL", "PHONE", "LOYALTY"}

// Dataset is one generated input: source tables with their rows, and the configuration that
// goes into idr_meta. It renders itself as SQL (Script) so a failure can be replayed by hand.
type Dataset struct {
	Seed  int64
	Index int

	Sources     []Source
	Rules       []Rule
	Exclusions  []Exclusion
	Normalizers []Normalizer
}

// Source is one source table (src.tN) and its registration.
type Source struct {
	TableID string // s1, s2, s3
	Table   string // src.t1, ...
	// KeyInt makes the key column k an INTEGER (its entity keys are the decimal rendering).
	KeyInt bool
	// Watermark: the DATE column wm is always present; it is registered as the watermark
	// column only when HasWatermark.
	HasWatermark bool
	// SourceRow says whether idr_meta.source has a row for this table; TrustRank nil with a
	// row means the row's trust_rank is NULL.
	SourceRow bool
	TrustRank *int64
	Columns   []Column
	Rows      []Row
}

// Column is one identifier column of a source and its idr_meta.identifier_mapping row.
type Column struct {
	Name           string // c1, c2, c3
	IdentifierType string
	BigInt         bool // column type BIGINT instead of VARCHAR
	Normalize      bool // requires_normalization
}

// Row is one source row. Values are the column values rendered as text (nil: NULL).
type Row struct {
	Key    *string // text of the key (decimal for INTEGER keys)
	Wm     *string // YYYY-MM-DD
	Values []*string
}

// Rule is one idr_meta.rule row.
type Rule struct {
	ID             string
	IdentifierType string
	Priority       int64
	Active         bool
	MaxGroupSize   int64
}

// Exclusion is one idr_meta.identifier_exclusion row.
type Exclusion struct {
	IdentifierType string
	Value          string
	IsPattern      bool
}

// Normalizer is one idr_meta.identifier_normalizer row.
type Normalizer struct {
	IdentifierType string
	Name           string
}

// newRand gives every (seed, dataset index) its own stream, so one dataset can be
// regenerated without generating the ones before it.
func newRand(seed int64, index int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(index)))
}

func ptr(s string) *string { return &s }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// Value pools: small, so that collisions (links) are frequent.
var (
	emailPool   = []string{"ann@x.io", "bob@x.io", "a_b@y.io", "ann@y.io", "noreply@x.io", "c%d@x.io"}
	phonePool   = []string{"5551234567", "5559876543", "5550000000", "5551112222"}
	loyaltyPool = []string{"L001", "l001", "L_01", "LX01", "A-7", "a-7", `B\7`}
	// Surrounding white space: the four trimmed characters, and (rarely) a vertical tab and a
	// form feed, which normalizers do not trim.
	spaces     = []string{" ", "  ", "\t", "\n", "\r", " \t", "\r\n"}
	rareSpaces = []string{"\v", "\f"}
	strKeys    = []string{"a", "b", "c", "A", "B", "10", "9", "a b", " a", "a ", "z", "-1", ""}
	intKeys    = []int64{-1, 0, 1, 2, 3, 7, 9, 10, 12, 100}
	dates      = []string{"2023-01-01", "2023-06-15", "2024-02-29", "2024-12-31"}
)

// Generate builds dataset index of the stream seed.
func Generate(seed int64, index int) *Dataset {
	r := newRand(seed, index)
	d := &Dataset{Seed: seed, Index: index}

	// Per dataset, a random sub-pool of each type, so that even few rows collide.
	pools := map[string][]string{
		"EMAIL":   subPool(r, emailPool, 2+r.IntN(3)),
		"PHONE":   subPool(r, phonePool, 1+r.IntN(3)),
		"LOYALTY": subPool(r, loyaltyPool, 2+r.IntN(3)),
	}

	mapped := map[string]bool{}
	nSources := 1 + r.IntN(3)
	for i := 0; i < nSources; i++ {
		s := Source{
			TableID:      fmt.Sprintf("s%d", i+1),
			Table:        fmt.Sprintf("src.t%d", i+1),
			KeyInt:       chance(r, 0.25),
			HasWatermark: !chance(r, 0.15),
			SourceRow:    !chance(r, 0.2),
		}
		if s.SourceRow && !chance(r, 0.1) {
			rank := int64(1 + r.IntN(3)) // ties are frequent
			s.TrustRank = &rank
		}
		nCols := 1 + r.IntN(3)
		for c := 0; c < nCols; c++ {
			col := Column{Name: fmt.Sprintf("c%d", c+1), IdentifierType: pick(r, identifierTypes), Normalize: !chance(r, 0.2)}
			if col.IdentifierType == "PHONE" && chance(r, 0.25) {
				col.BigInt = true
			}
			mapped[col.IdentifierType] = true
			s.Columns = append(s.Columns, col)
		}
		// Keys come from a small per-source pool, so rows often share an entity.
		var keyPool []string
		if s.KeyInt {
			for _, k := range subPool(r, intKeys, 1+r.IntN(6)) {
				keyPool = append(keyPool, strconv.FormatInt(k, 10))
			}
		} else {
			keyPool = subPool(r, strKeys, 1+r.IntN(8))
		}
		nRows := r.IntN(16)
		for j := 0; j < nRows; j++ {
			row := Row{}
			if !chance(r, 0.1) {
				row.Key = ptr(pick(r, keyPool))
			}
			if !chance(r, 0.2) {
				row.Wm = ptr(pick(r, dates))
			}
			for _, col := range s.Columns {
				row.Values = append(row.Values, genValue(r, col, pools[col.IdentifierType]))
			}
			s.Rows = append(s.Rows, row)
		}
		d.Sources = append(d.Sources, s)
	}

	// Rules: one active rule for every mapped type (the configuration requires it), sometimes
	// for an unmapped type too, and sometimes an inactive rule that must be ignored.
	for ti, typ := range identifierTypes {
		if !mapped[typ] && !chance(r, 0.5) {
			continue
		}
		id := "r_" + strings.ToLower(typ)
		d.Rules = append(d.Rules, Rule{ID: id, IdentifierType: typ, Priority: int64(r.IntN(5)), Active: true, MaxGroupSize: int64(1 + r.IntN(4))})
		if chance(r, 0.15) {
			d.Rules = append(d.Rules, Rule{ID: id + "_old", IdentifierType: typ, Priority: int64(ti), Active: false, MaxGroupSize: int64(1 + r.IntN(4))})
		}
	}
	r.Shuffle(len(d.Rules), func(i, j int) { d.Rules[i], d.Rules[j] = d.Rules[j], d.Rules[i] })

	// Normalizer overrides.
	if chance(r, 0.35) {
		d.Normalizers = append(d.Normalizers, Normalizer{"LOYALTY", pick(r, []string{"UPPER", "NONE", "LOWER", "TRIM", "PHONE"})})
	}
	if chance(r, 0.1) {
		d.Normalizers = append(d.Normalizers, Normalizer{"EMAIL", pick(r, []string{"NONE", "LOWER", "UPPER", "TRIM", "EMAIL"})})
	}
	if chance(r, 0.1) {
		d.Normalizers = append(d.Normalizers, Normalizer{"PHONE", pick(r, []string{"NONE", "TRIM", "PHONE"})})
	}

	// Exclusions: exact values (written raw; idr normalizes them with the type's normalizer) and
	// LIKE patterns derived from the pool, so that they often hit.
	nEx := r.IntN(4)
	for k := 0; k < nEx; k++ {
		typ := pick(r, identifierTypes)
		if chance(r, 0.5) {
			var v *string
			for v == nil || *v == "" {
				v = genValue(r, Column{IdentifierType: typ}, pools[typ])
			}
			d.Exclusions = append(d.Exclusions, Exclusion{IdentifierType: typ, Value: *v})
		} else {
			norm := normalizerFunc(d.normalizerName(typ))
			d.Exclusions = append(d.Exclusions, Exclusion{IdentifierType: typ, Value: genPattern(r, norm(pick(r, pools[typ]))), IsPattern: true})
		}
	}
	return d
}

func subPool[T any](r *rand.Rand, pool []T, n int) []T {
	idx := r.Perm(len(pool))
	if n > len(pool) {
		n = len(pool)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = pool[idx[i]]
	}
	return out
}

// genValue returns a column value as text (nil: NULL).
func genValue(r *rand.Rand, col Column, pool []string) *string {
	if col.BigInt {
		if chance(r, 0.15) {
			return nil
		}
		return ptr(pick(r, pool)) // the digits themselves: a BIGINT renders as its digits
	}
	switch x := r.Float64(); {
	case x < 0.07:
		return nil
	case x < 0.11:
		return ptr("")
	case x < 0.15:
		return ptr(pick(r, spaces))
	}
	base := pick(r, pool)
	var v string
	switch col.IdentifierType {
	case "EMAIL":
		v = base
		if chance(r, 0.4) {
			v = randomCase(r, v)
		}
	case "PHONE":
		d := base
		v = pick(r, []string{
			d,
			d[:3] + "-" + d[3:6] + "-" + d[6:],
			"(" + d[:3] + ") " + d[3:6] + " " + d[6:],
			d[:3] + "." + d[3:6] + "." + d[6:],
			"+1 " + d[:3] + " " + d[3:6] + " " + d[6:],
			"n/a",
		})
	default:
		v = base
	}
	if chance(r, 0.3) {
		v = pick(r, spaces) + v
	}
	if chance(r, 0.3) {
		v += pick(r, spaces)
	}
	if chance(r, 0.03) {
		v = pick(r, rareSpaces) + v
	}
	return &v
}

func randomCase(r *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && chance(r, 0.5) {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// genPattern derives a LIKE pattern (escape '\') from a normalized value: some characters
// become '_', a prefix or suffix may become '%', and literal % _ \ are escaped.
func genPattern(r *rand.Rand, v string) string {
	if chance(r, 0.1) {
		return "%"
	}
	if v == "" {
		return "%"
	}
	start, end := 0, len(v)
	prefix, suffix := "", ""
	if chance(r, 0.35) {
		start = r.IntN(len(v) + 1)
		prefix = "%"
	}
	if chance(r, 0.35) && start < len(v) {
		end = start + r.IntN(len(v)-start+1)
		suffix = "%"
	}
	var b strings.Builder
	b.WriteString(prefix)
	for i := start; i < end; i++ {
		c := v[i]
		switch {
		case chance(r, 0.12):
			b.WriteByte('_')
		case c == '%' || c == '_' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(suffix)
	if b.Len() == 0 {
		return "%"
	}
	return b.String()
}

// normalizerName is the normalizer of an identifier type in this dataset.
func (d *Dataset) normalizerName(typ string) string {
	for _, n := range d.Normalizers {
		if n.IdentifierType == typ {
			return n.Name
		}
	}
	switch typ {
	case "EMAIL":
		return "EMAIL"
	case "PHONE":
		return "PHONE"
	}
	return "TRIM"
}

// sqlString renders s as a SQL string expression; control characters become chr(n) so the
// script stays on one line per row and shows them plainly.
func sqlString(s string) string {
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, "'"+strings.ReplaceAll(cur.String(), "'", "''")+"'")
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			flush()
			parts = append(parts, fmt.Sprintf("chr(%d)", c))
			continue
		}
		cur.WriteByte(c)
	}
	flush()
	if len(parts) == 0 {
		return "''"
	}
	if len(parts) == 1 && strings.HasPrefix(parts[0], "'") {
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

func sqlNullable(s *string, render func(string) string) string {
	if s == nil {
		return "NULL"
	}
	return render(*s)
}

func sqlBool(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// SourceSQL is the statements that create and fill the source tables.
func (d *Dataset) SourceSQL() []string {
	stmts := []string{"CREATE SCHEMA IF NOT EXISTS src"}
	for _, s := range d.Sources {
		keyType := "STRING" // STRING: a text type name both DuckDB and Spark SQL know
		if s.KeyInt {
			keyType = "INTEGER"
		}
		cols := []string{"k " + keyType, "wm DATE"}
		for _, c := range s.Columns {
			typ := "STRING"
			if c.BigInt {
				typ = "BIGINT"
			}
			cols = append(cols, c.Name+" "+typ)
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (%s)", s.Table, strings.Join(cols, ", ")))
		if len(s.Rows) == 0 {
			continue
		}
		rows := make([]string, len(s.Rows))
		for i, row := range s.Rows {
			key := sqlString
			if s.KeyInt {
				key = func(v string) string { return v }
			}
			vals := []string{sqlNullable(row.Key, key), sqlNullable(row.Wm, func(v string) string { return "DATE '" + v + "'" })}
			for ci, c := range s.Columns {
				render := sqlString
				if c.BigInt {
					render = func(v string) string { return v }
				}
				vals = append(vals, sqlNullable(row.Values[ci], render))
			}
			rows[i] = "(" + strings.Join(vals, ", ") + ")"
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s VALUES\n  %s", s.Table, strings.Join(rows, ",\n  ")))
	}
	return stmts
}

// ConfigSQL is the statements that write the configuration into idr_meta.
func (d *Dataset) ConfigSQL() []string {
	var stmts []string
	values := func(table string, rows []string) {
		if len(rows) > 0 {
			stmts = append(stmts, "INSERT INTO idr_meta."+table+" VALUES\n  "+strings.Join(rows, ",\n  "))
		}
	}
	var st, src, mp []string
	for _, s := range d.Sources {
		wm := "NULL"
		if s.HasWatermark {
			wm = "'wm'"
		}
		st = append(st, fmt.Sprintf("(%s, %s, 'PERSON', 'k', %s, 0, TRUE)", sqlString(s.TableID), sqlString(s.Table), wm))
		if s.SourceRow {
			rank := "NULL"
			if s.TrustRank != nil {
				rank = strconv.FormatInt(*s.TrustRank, 10)
			}
			src = append(src, fmt.Sprintf("(%s, %s, %s, TRUE)", sqlString(s.TableID), sqlString(strings.ToUpper(s.TableID)), rank))
		}
		for _, c := range s.Columns {
			mp = append(mp, fmt.Sprintf("(%s, %s, %s, %s)", sqlString(s.TableID), sqlString(c.IdentifierType), sqlString(c.Name), sqlBool(c.Normalize)))
		}
	}
	var rules, ex, norms []string
	for _, r := range d.Rules {
		rules = append(rules, fmt.Sprintf("(%s, %s, %d, %s, %d)", sqlString(r.ID), sqlString(r.IdentifierType), r.Priority, sqlBool(r.Active), r.MaxGroupSize))
	}
	for i, x := range d.Exclusions {
		ex = append(ex, fmt.Sprintf("(%s, %s, %s, 'x%d')", sqlString(x.IdentifierType), sqlString(x.Value), sqlBool(x.IsPattern), i+1))
	}
	for _, n := range d.Normalizers {
		norms = append(norms, fmt.Sprintf("(%s, %s)", sqlString(n.IdentifierType), sqlString(n.Name)))
	}
	values("source_table", st)
	values("source", src)
	values("rule", rules)
	values("identifier_exclusion", ex)
	values("identifier_mapping", mp)
	values("identifier_normalizer", norms)
	return stmts
}

// Script is the whole dataset as SQL, to run after `idr init` (then `idr run`).
func (d *Dataset) Script() string {
	return strings.Join(append(d.SourceSQL(), d.ConfigSQL()...), ";\n") + ";\n"
}
