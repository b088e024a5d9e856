// Package golden is the golden-profile stage. Each entity contributes the attributes of its
// latest row (by watermark) and its normalized EMAIL and PHONE identifiers; per cluster and
// attribute the winner is the lowest trust_rank source, then the most recent watermark, then
// the smallest entity key (of an entity's several identifiers of one type, the smallest value).
// NULL (and empty text) never wins.
package golden

import (
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"

	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/meta"
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Identifier-fed columns: column -> identifier type.
var identifierColumns = []struct{ Column, IdentifierType string }{
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

// Stage builds idr_work.entity_attributes(eid, attribute_name, attribute_value) and golden.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	var ctes, unions []string
	for si, s := range c.Cfg.Sources {
		var cols, order []string
		for _, sl := range c.Slots(s) {
			if sl.Attribute == "" {
				continue
			}
			cols = append(cols, sl.Col)
			order = append(order, sl.Col+" ASC NULLS LAST")
			unions = append(unions, fmt.Sprintf("SELECT eid, %s AS attribute_name, %s AS attribute_value FROM s%d WHERE %s IS NOT NULL",
				stage.Lit(sl.Attribute), sl.Col, si, sl.Col))
		}
		if len(cols) == 0 {
			continue
		}
		// The latest row of an entity gives all its attributes; ties on the watermark are broken by
		// the values themselves so that the choice does not depend on scan order. Entities of one
		// row (most) skip the window.
		list, src := strings.Join(cols, ", "), stage.W("rows")+" WHERE table_id = "+stage.Lit(s.TableID)
		ctes = append(ctes, fmt.Sprintf("s%d AS (SELECT eid, %s FROM %s AND row_count = 1 UNION ALL SELECT eid, %s FROM (SELECT eid, %s, "+
			"row_number() OVER (PARTITION BY eid ORDER BY watermark DESC NULLS LAST, %s) AS rn FROM %s AND row_count > 1) ranked WHERE rn = 1)",
			si, list, src, list, list, strings.Join(order, ", "), src))
	}
	if c.Incremental {
		// Entities that did not change keep the attributes their latest row gave them.
		unions = append(unions, "SELECT e.eid, a.attribute_name, a.attribute_value FROM "+stage.O("identity_attributes_current")+" a JOIN "+
			stage.W("entities")+" e ON e.entity_id = a.entity_id"+stage.UnchangedID("a"))
	}
	// An entity offers one value per attribute: its latest row gives one per attribute, and of
	// several identifiers of one type (several rows, or two columns of one type) the smallest.
	// Only identifiers marked multi can have others (normalize), so only those are grouped.
	for _, ic := range identifierColumns {
		from := " FROM " + stage.W("identifiers") + " WHERE identifier_type = " + stage.Lit(ic.IdentifierType)
		unions = append(unions, "SELECT eid, "+stage.Lit(ic.Column)+" AS attribute_name, value_norm AS attribute_value"+from+" AND NOT multi",
			"SELECT eid, "+stage.Lit(ic.Column)+" AS attribute_name, min(value_norm) AS attribute_value"+from+" AND multi GROUP BY eid")
	}
	attrsQuery := strings.Join(unions, " UNION ALL ")
	if len(ctes) > 0 {
		attrsQuery = "WITH " + strings.Join(ctes, ", ") + " " + attrsQuery
	}

	// One pass per cluster: for each column, the value of the entity that sorts first by
	// trust_rank (NULL last), watermark (latest first, NULL last) and eid (eids follow entity-key
	// order). The keys are non-negative integers: the trust_rank's position among the configured
	// ranks, 2^63 minus the watermark in microseconds (2^64 + 1 for NULL), and the eid.
	ranks := map[int64]bool{}
	for _, s := range c.Cfg.Sources {
		if s.TrustRank != nil {
			ranks[int64(*s.TrustRank)] = true
		}
	}
	trust := "0"
	if len(ranks) > 0 {
		trust = "CASE e.trust_rank"
		for i, r := range slices.Sorted(maps.Keys(ranks)) {
			trust += " WHEN " + stage.Int(r) + " THEN " + stage.Int(int64(i))
		}
		trust += " ELSE " + stage.Int(int64(len(ranks))) + " END"
	}
	keys := []dialect.SortKey{
		{Expr: trust, Bits: bits.Len(uint(len(ranks)))},
		{Expr: "CASE WHEN e.watermark IS NULL THEN 18446744073709551617 ELSE 9223372036854775808 - " + d.EpochMicros("e.watermark") + " END", Bits: 65},
		{Expr: "a.eid", Bits: 32},
	}
	// The key is computed once per row, not once per column's aggregate (at 10M entities, on
	// the same work tables: 3.31 s and 3.29 s against 3.75 s and 3.37 s).
	var picks, outCols []string
	for _, col := range Columns(c.Cfg)[1:] {
		picks = append(picks, d.ArgMin("a.attribute_value", "a.sort_key")+" FILTER (WHERE a.attribute_name = "+stage.Lit(col)+") AS "+d.Ident(col))
		outCols = append(outCols, "w."+d.Ident(col))
	}
	keyed := "SELECT m.root, a.attribute_name, a.attribute_value, " + d.SortKey(keys) + " AS sort_key FROM " + stage.W("entity_attributes") +
		" a JOIN " + stage.W("membership") + " m ON m.eid = a.eid JOIN " + stage.W("entities") + " e ON e.eid = a.eid"
	golden := "SELECT c.resolved_id, " + strings.Join(outCols, ", ") + " FROM " + stage.W("clusters") + " c LEFT JOIN (" +
		"SELECT a.root, " + strings.Join(picks, ", ") + " FROM (" + keyed + ") a GROUP BY a.root) w ON w.root = c.root"
	return stage.Stage{
		Name: "golden",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("entity_attributes"), attrsQuery),
			d.ReplaceTable(stage.W("golden"), golden),
		),
		RowsSQL: stage.Count(stage.W("golden")),
	}
}
