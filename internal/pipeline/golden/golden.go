// Package golden is the golden-profile stage. Each entity contributes the attributes of its
// latest row (by watermark) and its normalized EMAIL and PHONE identifiers; per cluster and
// attribute the winner is the lowest trust_rank source, then the most recent watermark, then
// the smallest entity key (of an entity's several identifiers of one type, the smallest value).
// NULL (and empty text) never wins.
package golden

import (
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/meta"
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// identifierColumn is a golden column fed by an identifier type.
type identifierColumn struct{ Column, IdentifierType string }

// Identifier-fed columns: column -> identifier type.
var identifierColumns = []identifierColumn{
	{"email_primary", "EMAIL"},
	{"phone_primary", "PHONE"},
}

// Columns is the golden profile's columns before updated_ts.
func Columns(cfg *meta.Config) []string {
	cols := []string{"resolved_id"}
	for _, ic := range identifierColumns {
		cols = append(cols, ic.Column)
	}
	return append(cols, cfg.AttrNames...)
}

// Stage builds idr_work.entity_attributes (eid, sort_key, v0, v1, ...: one value column per golden
// column after resolved_id) and golden.
//
// entity_attributes holds at most one value per entity and column, and one row per entity where
// it can: an entity of one row takes all its values from that row (its identifiers as normalize
// keeps them: not empty, not excluded), so the golden aggregate reads about one row per entity
// instead of one per entity and attribute, and needs no join to the entities for its sort key.
// Sparse rows (one value set) come from the identifiers of entities that may hold several of a
// type (the smallest wins) and, in an incremental run, from the state of the entities that did
// not change.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	cols := Columns(c.Cfg)[1:]
	nIdent := len(identifierColumns)
	null := "CAST(NULL AS " + d.Type("TEXT") + ")"
	// wide renders a row's value columns: vals[i] for column i, NULL where unset.
	wide := func(vals map[int]string) string {
		out := make([]string, len(cols))
		for i := range cols {
			v, ok := vals[i]
			if !ok {
				v = null
			}
			out[i] = v + " AS v" + strconv.Itoa(i)
		}
		return strings.Join(out, ", ")
	}
	// The sort key: for each column, the value of the entity that sorts first by trust_rank (NULL
	// last), watermark (latest first, NULL last) and eid (eids follow entity-key order). The
	// keys are non-negative integers: the trust_rank's position among the configured ranks, 2^63
	// minus the watermark in microseconds (2^64 + 1 for NULL), and the eid.
	ranks := map[int64]bool{}
	for _, s := range c.Cfg.Sources {
		if s.TrustRank != nil {
			ranks[int64(*s.TrustRank)] = true
		}
	}
	order := slices.Sorted(maps.Keys(ranks))
	position := func(rank *int64) int64 {
		if rank != nil {
			if i, ok := slices.BinarySearch(order, *rank); ok {
				return int64(i)
			}
		}
		return int64(len(order))
	}
	trust := "0"
	if len(order) > 0 {
		trust = "CASE e.trust_rank"
		for i, r := range order {
			trust += " WHEN " + stage.Int(r) + " THEN " + stage.Int(int64(i))
		}
		trust += " ELSE " + stage.Int(int64(len(order))) + " END"
	}
	sortKey := func(trust, alias string) string {
		return d.SortKey([]dialect.SortKey{
			{Expr: trust, Bits: bits.Len(uint(len(order)))},
			{Expr: "CASE WHEN " + alias + ".watermark IS NULL THEN 18446744073709551617 ELSE 9223372036854775808 - " + d.EpochMicros(alias+".watermark") + " END", Bits: 65},
			{Expr: alias + ".eid", Bits: 32},
		})
	}

	var parts []string
	key := "eid" // how identifiers_excluded names an entity (an incremental run's normalize works by key)
	if c.Incremental {
		key = "entity_key"
	}
	src := stage.W("rows")
	for _, s := range c.Cfg.Sources {
		attrs := map[int]string{}
		idents := map[int]string{}
		var joins []string
		var attrCols, attrOrder []string
		repeats := c.RepeatsType(s)
		for _, sl := range c.Slots(s) {
			if sl.Attribute != "" {
				i := nIdent + slices.Index(c.Cfg.AttrNames, sl.Attribute)
				attrs[i] = "r." + sl.Col
				attrCols = append(attrCols, sl.Col)
				attrOrder = append(attrOrder, sl.Col+" ASC NULLS LAST")
				continue
			}
			i := slices.IndexFunc(identifierColumns, func(ic identifierColumn) bool { return ic.IdentifierType == sl.IdentifierType })
			if i < 0 || repeats {
				continue // a source repeating a type marks its identifiers multi: they come below
			}
			v := "NULLIF(r." + sl.Col + ", '')"
			if len(c.Cfg.Exclusions) > 0 {
				x := "x" + strconv.Itoa(i)
				joins = append(joins, " LEFT JOIN "+stage.W("identifiers_excluded")+" "+x+" ON "+x+"."+key+" = r."+key+" AND "+x+".identifier_type = "+
					stage.Lit(sl.IdentifierType)+" AND "+x+".value_norm = r."+sl.Col)
				v = "CASE WHEN " + x + "." + key + " IS NULL THEN " + v + " END"
			}
			idents[i] = v
		}
		if len(attrs)+len(idents) == 0 {
			continue
		}
		trustLit := stage.Int(position(s.TrustRank))
		where := " WHERE r.table_id = " + stage.Lit(s.TableID)
		// An entity of one row (most): its row gives every value.
		one := maps.Clone(attrs)
		maps.Copy(one, idents)
		parts = append(parts, "SELECT r.eid, "+sortKey(trustLit, "r")+" AS sort_key, "+wide(one)+" FROM "+src+" r"+strings.Join(joins, "")+where+" AND r.row_count = 1")
		// An entity of several rows: its latest row gives the attributes; ties on the watermark are
		// broken by the values themselves so that the choice does not depend on scan order. Its
		// identifiers are multi.
		if len(attrs) > 0 {
			list := strings.Join(attrCols, ", ")
			parts = append(parts, "SELECT r.eid, "+sortKey(trustLit, "r")+" AS sort_key, "+wide(attrs)+" FROM (SELECT eid, watermark, "+list+
				", row_number() OVER (PARTITION BY eid ORDER BY watermark DESC NULLS LAST, "+strings.Join(attrOrder, ", ")+") AS rn FROM "+src+
				" WHERE table_id = "+stage.Lit(s.TableID)+" AND row_count > 1) r WHERE r.rn = 1")
		}
	}
	// Identifiers the rows above do not give: of several of one type (only multi ones can be
	// several), the smallest; in an incremental run also those of the entities that did not change.
	identVals := map[int]string{}
	var types []string
	for i, ic := range identifierColumns {
		identVals[i] = "CASE WHEN i.identifier_type = " + stage.Lit(ic.IdentifierType) + " THEN i.value_norm END"
		types = append(types, stage.Lit(ic.IdentifierType))
	}
	ofTypes := "identifier_type IN (" + strings.Join(types, ", ") + ")"
	parts = append(parts, "SELECT i.eid, "+sortKey(trust, "e")+" AS sort_key, "+wide(identVals)+" FROM (SELECT eid, identifier_type, min(value_norm) AS value_norm FROM "+
		stage.W("identifiers")+" WHERE multi AND "+ofTypes+" GROUP BY eid, identifier_type) i JOIN "+stage.W("entities")+" e ON e.eid = i.eid")
	if c.Incremental {
		parts = append(parts, "SELECT i.eid, "+sortKey(trust, "e")+" AS sort_key, "+wide(identVals)+" FROM "+stage.W("identifiers")+" i JOIN "+
			stage.W("entities")+" e ON e.eid = i.eid WHERE NOT i.multi AND NOT e.changed AND i."+ofTypes)
		// Entities that did not change keep the attributes their latest row gave them.
		attrVals := map[int]string{}
		var names []string
		for j, name := range c.Cfg.AttrNames {
			attrVals[nIdent+j] = "CASE WHEN a.attribute_name = " + stage.Lit(name) + " THEN a.attribute_value END"
			names = append(names, stage.Lit(name))
		}
		parts = append(parts, "SELECT e.eid, "+sortKey(trust, "e")+" AS sort_key, "+wide(attrVals)+" FROM "+stage.O("identity_attributes_current")+" a JOIN "+
			stage.W("entities")+" e ON e.entity_id = a.entity_id WHERE NOT e.changed AND a.attribute_name IN ("+strings.Join(names, ", ")+")")
	}
	attrsQuery := strings.Join(parts, " UNION ALL ")

	// One pass per cluster: for each column, the value that sorts first.
	var picks, outCols []string
	for i, col := range cols {
		v := "a.v" + strconv.Itoa(i)
		picks = append(picks, d.ArgMin(v, "a.sort_key")+" FILTER (WHERE "+v+" IS NOT NULL) AS "+d.Ident(col))
		outCols = append(outCols, "w."+d.Ident(col))
	}
	golden := "SELECT c.resolved_id, " + strings.Join(outCols, ", ") + " FROM " + stage.W("clusters") + " c LEFT JOIN (" +
		"SELECT m.root, " + strings.Join(picks, ", ") + " FROM " + stage.W("entity_attributes") + " a JOIN " + stage.W("membership") +
		" m ON m.eid = a.eid GROUP BY m.root) w ON w.root = c.root"
	return stage.Stage{
		Name: "golden",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("entity_attributes"), attrsQuery),
			d.ReplaceTable(stage.W("golden"), golden),
		),
		RowsSQL: stage.Count(stage.W("golden")),
	}
}

// Attributes is idr_work.entity_attributes in the shape of the attributes' state: (eid,
// attribute_name, attribute_value), one row per entity and attribute with a value (identifier
// columns excluded: incremental runs take those from the identifiers' state).
func Attributes(cfg *meta.Config) string {
	var parts []string
	for j, name := range cfg.AttrNames {
		v := "v" + strconv.Itoa(len(identifierColumns)+j)
		parts = append(parts, "SELECT eid, "+stage.Lit(name)+" AS attribute_name, "+v+" AS attribute_value FROM "+stage.W("entity_attributes")+" WHERE "+v+" IS NOT NULL")
	}
	return strings.Join(parts, " UNION ALL ")
}
