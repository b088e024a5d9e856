// Package golden is the golden-profile stage. Each entity contributes the attributes of its
// latest row (by watermark) and its normalized EMAIL and PHONE identifiers; per cluster and
// attribute the winner is the lowest trust_rank source, then the most recent watermark, then
// the smallest entity key. NULL (and empty text) never wins.
package golden

import (
	"fmt"
	"strings"

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

// Stage builds idr_work.sources, entity_attributes(entity_key, attribute_name, attribute_value) and golden.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	var srcRows [][]string
	for _, s := range c.Cfg.Sources {
		rank := "NULL"
		if s.TrustRank != nil {
			rank = stage.Int(*s.TrustRank)
		}
		srcRows = append(srcRows, []string{stage.Lit(s.TableID), stage.Lit(s.SourceName), rank})
	}
	sources := c.Values([]string{"table_id", "source_name", "trust_rank"}, []string{"TEXT", "TEXT", "BIGINT"}, srcRows)

	var ctes, unions []string
	for si, s := range c.Cfg.Sources {
		var attrs []meta.Attribute
		for _, name := range c.Cfg.AttrNames {
			for _, a := range c.Cfg.Attributes {
				if a.TableID == s.TableID && a.Name == name {
					attrs = append(attrs, a)
				}
			}
		}
		if len(attrs) == 0 {
			continue
		}
		var sel, order []string
		for i, a := range attrs {
			col := fmt.Sprintf("a%d", i)
			sel = append(sel, "NULLIF(trim("+c.Text(a.Expr)+"), '') AS "+col)
			order = append(order, col+" ASC NULLS LAST")
			unions = append(unions, fmt.Sprintf("SELECT entity_key, %s AS attribute_name, %s AS attribute_value FROM s%d WHERE %s IS NOT NULL",
				stage.Lit(a.Name), col, si, col))
		}
		cols := make([]string, len(attrs))
		for i := range attrs {
			cols[i] = fmt.Sprintf("a%d", i)
		}
		// The latest row of an entity gives all its attributes; ties on the watermark are broken by
		// the values themselves so that the choice does not depend on scan order.
		ctes = append(ctes, fmt.Sprintf("s%d AS (SELECT entity_key, %s FROM (SELECT entity_key, %s, row_number() OVER (PARTITION BY entity_key ORDER BY watermark DESC NULLS LAST, %s) AS rn FROM (SELECT %s AS entity_key, %s AS watermark, %s FROM %s) raw WHERE entity_key IS NOT NULL) ranked WHERE rn = 1)",
			si, strings.Join(cols, ", "), strings.Join(cols, ", "), strings.Join(order, ", "), c.EntityKey(s), c.Watermark(s), strings.Join(sel, ", "), s.FQN))
	}
	for _, ic := range identifierColumns {
		unions = append(unions, "SELECT e.entity_key, "+stage.Lit(ic.Column)+" AS attribute_name, i.value_norm AS attribute_value FROM "+
			stage.W("identifiers")+" i JOIN "+stage.W("entities")+" e ON e.eid = i.eid WHERE i.identifier_type = "+stage.Lit(ic.IdentifierType))
	}
	attrsQuery := strings.Join(unions, " UNION ALL ")
	if len(ctes) > 0 {
		attrsQuery = "WITH " + strings.Join(ctes, ", ") + " " + attrsQuery
	}

	var pivots []string
	var outCols []string
	for _, col := range Columns(c.Cfg)[1:] {
		pivots = append(pivots, "max(CASE WHEN attribute_name = "+stage.Lit(col)+" THEN attribute_value END) AS "+d.Ident(col))
		outCols = append(outCols, "w."+d.Ident(col))
	}
	golden := "SELECT c.resolved_id, " + strings.Join(outCols, ", ") + " FROM " + stage.W("clusters") + " c LEFT JOIN (" +
		"SELECT resolved_id, " + strings.Join(pivots, ", ") + " FROM (" +
		"SELECT m.resolved_id, a.attribute_name, a.attribute_value, row_number() OVER (PARTITION BY m.resolved_id, a.attribute_name " +
		"ORDER BY s.trust_rank ASC NULLS LAST, e.watermark DESC NULLS LAST, a.entity_key ASC, a.attribute_value ASC) AS rn FROM " +
		stage.W("entity_attributes") + " a JOIN " + stage.W("membership") + " m ON m.entity_key = a.entity_key JOIN " +
		stage.W("entities") + " e ON e.eid = m.eid LEFT JOIN " + stage.W("sources") + " s ON s.table_id = e.table_id) ranked " +
		"WHERE rn = 1 GROUP BY resolved_id) w ON w.resolved_id = c.resolved_id"
	return stage.Stage{
		Name: "golden",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("sources"), sources),
			d.ReplaceTable(stage.W("entity_attributes"), attrsQuery),
			d.ReplaceTable(stage.W("golden"), golden),
		),
		RowsSQL: stage.Count(stage.W("golden")),
	}
}
