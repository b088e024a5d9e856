// Package extract is the first stage and the only one that reads the sources. It reads each
// active source once, evaluating the entity key, the watermark and every mapped identifier
// (normalized) and attribute into one row layout (idr_work.rows, see stage.Slots); counts rows
// and NULL keys per source; and gives each entity a dense integer id (eid) in entity-key order,
// so that the smallest eid of a cluster is its smallest key and later stages join on integers.
package extract

import (
	"strings"

	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.sources, keyed_rows, source_stats, entities and rows.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	width := c.SlotWidth()
	var srcRows [][]string
	parts := make([]string, 0, len(c.Cfg.Sources))
	for _, s := range c.Cfg.Sources {
		rank := "NULL"
		if s.TrustRank != nil {
			rank = stage.Int(*s.TrustRank)
		}
		srcRows = append(srcRows, []string{stage.Lit(s.TableID), stage.Lit(s.SourceName), rank})
		cols := []string{stage.Lit(s.TableID) + " AS table_id", c.EntityKey(s) + " AS entity_key", c.Watermark(s) + " AS watermark"}
		slots := c.Slots(s)
		for i := 0; i < width; i++ {
			v := "CAST(NULL AS " + d.Type("TEXT") + ")"
			if i < len(slots) {
				v = slots[i].Expr
			}
			cols = append(cols, v+" AS c"+stage.Int(int64(i)))
		}
		parts = append(parts, "SELECT "+strings.Join(cols, ", ")+" FROM "+s.FQN)
	}
	slotCols := ""
	for i := 0; i < width; i++ {
		slotCols += ", k.c" + stage.Int(int64(i))
	}
	sources := c.Values([]string{"table_id", "source_name", "trust_rank"}, []string{"TEXT", "TEXT", "BIGINT"}, srcRows)
	return stage.Stage{
		Name: "extract",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("sources"), sources),
			d.ReplaceTable(stage.W("keyed_rows"), strings.Join(parts, " UNION ALL ")),
			d.ReplaceTable(stage.W("source_stats"), "SELECT table_id, count(*) AS rows_read, count(*) - count(entity_key) AS null_key_rows, "+
				"count(DISTINCT entity_key) AS entities FROM "+stage.W("keyed_rows")+" GROUP BY table_id"),
			// Rows of one source sharing a key are one entity: its watermark is its latest row's.
			d.ReplaceTable(stage.W("entities"), "SELECT CAST(row_number() OVER (ORDER BY g.entity_key) - 1 AS INTEGER) AS eid, g.entity_key, g.table_id, "+
				"g.watermark, g.row_count, s.trust_rank FROM (SELECT entity_key, table_id, max(watermark) AS watermark, count(*) AS row_count FROM "+
				stage.W("keyed_rows")+" WHERE entity_key IS NOT NULL GROUP BY entity_key, table_id) g LEFT JOIN "+stage.W("sources")+
				" s ON s.table_id = g.table_id"),
			d.ReplaceTable(stage.W("rows"), "SELECT e.eid, k.table_id, k.watermark"+slotCols+" FROM "+stage.W("keyed_rows")+" k JOIN "+
				stage.W("entities")+" e ON e.entity_key = k.entity_key"),
		),
		RowsSQL: stage.Count(stage.W("entities")),
	}
}
