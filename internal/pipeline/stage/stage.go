// Package stage holds what every pipeline stage shares: the run context a stage builds its
// SQL from, and the Step/Stage values a stage returns for the runner to execute. Stages are
// pure: they turn configuration into statements (SQL is data) and never touch an engine.
package stage

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/meta"
)

// Context is what a stage knows about the run it plans.
type Context struct {
	Cfg    *meta.Config
	D      dialect.Dialect
	RunID  string
	Mode   string // FULL or INCR
	DryRun bool
	Now    time.Time // one timestamp for every row the run writes
	// Incremental is true when an INCR run recomputes only the part of the graph its delta
	// touches; false for FULL (and for INCR runs that must recompute everything).
	Incremental bool
	// Cutoffs holds, per source table_id, the watermark from which rows are the delta of an
	// incremental run; a source without one is read whole.
	Cutoffs map[string]time.Time
}

// Step is one unit of work: a SQL statement, or a connected-components computation.
type Step struct {
	SQL        string
	Components *Components
}

// Components asks the engine to label the nodes of NodesTable (dense eid 0..n-1) by the
// smallest eid of their connected component over EdgesTable(l, r), into OutTable(eid, root).
type Components struct {
	NodesTable, EdgesTable, OutTable string
}

// Stage is a named, measured group of steps. RowsSQL returns one number: the rows the stage produced.
// Drop lists the work tables no later stage reads, which the runner drops after RowsSQL (see Release).
type Stage struct {
	Name    string
	Steps   []Step
	RowsSQL string
	Drop    []string
}

var workTable = regexp.MustCompile(`idr_work\.[A-Za-z0-9_]+`)

// Release sets each stage's Drop: the work tables whose last reader it is, unless the stage's
// own last statement naming the table drops it (as DuckDB's dialect.Numbered does). Tables named
// in keep are read after the stages, up to and including the last one, which drops nothing (it
// runs inside the publish transaction, and a DuckDB transaction writes one database).
func Release(stages []Stage, keep ...string) {
	last := map[string]int{}
	dropped := map[string]bool{} // the table's last mention is a statement dropping it
	for i, st := range stages {
		var texts []string
		for _, step := range st.Steps {
			texts = append(texts, step.SQL)
			if c := step.Components; c != nil {
				texts = append(texts, c.NodesTable+" "+c.EdgesTable+" "+c.OutTable)
			}
		}
		for _, text := range append(texts, st.RowsSQL) {
			drop := dropStatement.FindStringSubmatch(text)
			for _, t := range workTable.FindAllString(text, -1) {
				last[t] = i
				dropped[t] = drop != nil && drop[1] == t
			}
		}
	}
	for _, t := range keep {
		last[t], dropped[t] = len(stages)-1, false
	}
	for i := range stages {
		stages[i].Drop = nil
	}
	for _, t := range slices.Sorted(maps.Keys(last)) {
		if i := last[t]; i < len(stages)-1 && !dropped[t] {
			stages[i].Drop = append(stages[i].Drop, t)
		}
	}
}

// dropStatement is a statement that only drops one work table.
var dropStatement = regexp.MustCompile(`^\s*DROP TABLE (?:IF EXISTS )?(idr_work\.[A-Za-z0-9_]+)\s*;?\s*$`)

// SQL makes steps from statements.
func SQL(stmts ...string) []Step {
	out := make([]Step, len(stmts))
	for i, s := range stmts {
		out[i] = Step{SQL: s}
	}
	return out
}

// W names a work table.
func W(name string) string { return "idr_work." + name }

// O names an output table.
func O(name string) string { return "idr_out." + name }

// Lit quotes a string literal.
func Lit(s string) string { return dialect.Lit(s) }

// Now is the run timestamp as a literal.
func (c *Context) NowLit() string { return dialect.TimestampLit(c.Now) }

// Text casts an expression to the engine's text type.
func (c *Context) Text(expr string) string { return "CAST((" + expr + ") AS " + c.D.Type("TEXT") + ")" }

// EntityKey is the entity key expression of a source: table_id || ':' || CAST(key AS text);
// NULL when the key is NULL, so such rows can be counted and skipped.
func (c *Context) EntityKey(s meta.Source) string {
	return Lit(s.TableID+":") + " || " + c.Text(s.KeyExpr)
}

// PrevMembership is the current membership (entity_key, resolved_id) of the part of the graph
// the run recomputes: the whole idr_out view for FULL (read only before publish replaces the
// state under it), the affected clusters' members, copied by the scope stage, for an
// incremental run.
func (c *Context) PrevMembership() string {
	if c.Incremental {
		return W("prev_membership")
	}
	return O("identity_resolved_membership_current")
}

// Deleted is the soft-delete condition of a source's rows (FALSE when it has none).
func (c *Context) Deleted(s meta.Source) string {
	if s.DeletedExpr == "" {
		return "FALSE"
	}
	return "coalesce((" + s.DeletedExpr + "), FALSE)"
}

// Watermark is the watermark expression of a source as a timestamp (NULL without one).
func (c *Context) Watermark(s meta.Source) string {
	if s.WatermarkColumn == "" {
		return "CAST(NULL AS TIMESTAMP)"
	}
	return c.D.TryTimestamp("(" + s.WatermarkColumn + ")")
}

// Values renders rows of literals as a UNION ALL query with named columns; with no rows it is an
// empty query of the given column types, so stages never special-case empty configuration.
func (c *Context) Values(cols []string, types []string, rows [][]string) string {
	if len(rows) == 0 {
		parts := make([]string, len(cols))
		for i := range cols {
			parts[i] = "CAST(NULL AS " + c.D.Type(types[i]) + ") AS " + cols[i]
		}
		return "SELECT " + strings.Join(parts, ", ") + " WHERE 1 = 0"
	}
	sel := make([]string, len(rows))
	for r, row := range rows {
		parts := make([]string, len(cols))
		for i := range cols {
			parts[i] = "CAST(" + row[i] + " AS " + c.D.Type(types[i]) + ") AS " + cols[i]
		}
		sel[r] = "SELECT " + strings.Join(parts, ", ")
	}
	return strings.Join(sel, " UNION ALL ")
}

// Rules is the active rules as a query: rule_id, identifier_type, max_group_size.
func (c *Context) Rules() string {
	var rows [][]string
	for _, r := range c.Cfg.Rules {
		rows = append(rows, []string{Lit(r.ID), Lit(r.IdentifierType), Int(r.MaxGroupSize)})
	}
	return c.Values([]string{"rule_id", "identifier_type", "max_group_size"}, []string{"TEXT", "TEXT", "BIGINT"}, rows)
}

// UnchangedID is the join and condition that keep, in an incremental run, the rows of a state
// table keyed by entity_id (alias.entity_id) whose entity did not change in this run.
func UnchangedID(alias string) string {
	return " LEFT JOIN " + W("delta_keys") + " dk ON dk.entity_id = " + alias + ".entity_id WHERE dk.entity_id IS NULL"
}

// Count is the RowsSQL of a stage whose output is one table.
func Count(table string) string { return "SELECT count(*) FROM " + table }

// Int renders an integer literal.
func Int(n int64) string { return fmt.Sprint(n) }

// Slot is one value a source row carries through the pipeline: a (normalized) identifier or a
// golden-profile attribute, stored in column Col of idr_work.rows.
type Slot struct {
	Col            string // c0, c1, ...
	IdentifierType string // set for identifiers
	Attribute      string // set for attributes
	Expr           string // SQL over the source table, already normalized/trimmed, as text
}

// Slots lists the values each source row carries, identifiers first, then attributes in
// golden-profile column order. Every stage that reads idr_work.rows derives its columns from
// here, so extract, normalize and golden cannot disagree about which column holds what.
func (c *Context) Slots(s meta.Source) []Slot {
	var out []Slot
	add := func(sl Slot) {
		sl.Col = fmt.Sprintf("c%d", len(out))
		out = append(out, sl)
	}
	for _, m := range c.Cfg.Mappings {
		if m.TableID != s.TableID {
			continue
		}
		v := c.Text(m.Expr)
		if m.Normalize {
			v = c.D.Normalize(c.Cfg.Normalizer(m.IdentifierType), v)
		}
		add(Slot{IdentifierType: m.IdentifierType, Expr: v})
	}
	for _, name := range c.Cfg.AttrNames {
		for _, a := range c.Cfg.Attributes {
			if a.TableID == s.TableID && a.Name == name {
				add(Slot{Attribute: name, Expr: "NULLIF(trim(" + c.Text(a.Expr) + "), '')"})
			}
		}
	}
	return out
}

// RepeatsType says whether a source maps two columns to one identifier type, so that one row
// can give an entity two values of that type.
func (c *Context) RepeatsType(s meta.Source) bool {
	seen := map[string]bool{}
	for _, sl := range c.Slots(s) {
		if sl.IdentifierType != "" {
			if seen[sl.IdentifierType] {
				return true
			}
			seen[sl.IdentifierType] = true
		}
	}
	return false
}

// Multi is the condition, over an entity alias e of idr_work.entities, under which the entity may
// hold several values of one identifier type: it has several rows, or its source repeats a type.
func (c *Context) Multi(e string) string {
	cond := e + ".row_count > 1"
	var ids []string
	for _, s := range c.Cfg.Sources {
		if c.RepeatsType(s) {
			ids = append(ids, Lit(s.TableID))
		}
	}
	if len(ids) > 0 {
		cond = "(" + cond + " OR " + e + ".table_id IN (" + strings.Join(ids, ", ") + "))"
	}
	return cond
}

// SlotWidth is the number of value columns of idr_work.rows: the most slots of any source.
func (c *Context) SlotWidth() int {
	n := 0
	for _, s := range c.Cfg.Sources {
		if k := len(c.Slots(s)); k > n {
			n = k
		}
	}
	return n
}
