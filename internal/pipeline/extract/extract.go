// Package extract is the first stage: it reads every active source once for its entity keys
// and watermarks, counts rows and NULL keys per source, and assigns each entity a dense
// integer id (eid) in entity-key order, so the smallest eid of a cluster is its smallest key.
package extract

import (
	"strings"

	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.keyed_rows, source_stats and entities.
func Stage(c *stage.Context) stage.Stage {
	parts := make([]string, 0, len(c.Cfg.Sources))
	for _, s := range c.Cfg.Sources {
		parts = append(parts, "SELECT "+stage.Lit(s.TableID)+" AS table_id, "+c.EntityKey(s)+" AS entity_key, "+
			c.Watermark(s)+" AS watermark FROM "+s.FQN)
	}
	d := c.D
	return stage.Stage{
		Name: "extract",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("keyed_rows"), strings.Join(parts, " UNION ALL ")),
			d.ReplaceTable(stage.W("source_stats"), "SELECT table_id, count(*) AS rows_read, count(*) - count(entity_key) AS null_key_rows, "+
				"count(DISTINCT entity_key) AS entities FROM "+stage.W("keyed_rows")+" GROUP BY table_id"),
			// Rows of one source sharing a key are one entity: its watermark is the latest row's.
			d.ReplaceTable(stage.W("entities"), "SELECT CAST(row_number() OVER (ORDER BY entity_key) - 1 AS INTEGER) AS eid, entity_key, table_id, "+
				"max(watermark) AS watermark, count(*) AS row_count FROM "+stage.W("keyed_rows")+
				" WHERE entity_key IS NOT NULL GROUP BY entity_key, table_id"),
		),
		RowsSQL: stage.Count(stage.W("entities")),
	}
}
