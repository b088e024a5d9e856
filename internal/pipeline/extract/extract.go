// Package extract is the first stage and the only one that reads the sources. It reads each
// active source once, evaluating the entity key, the watermark, the soft-delete condition and
// every mapped identifier (normalized) and attribute into one row layout (see stage.Slots),
// and counts rows, NULL keys and deleted rows per source.
//
// A FULL run reads every row and gives each live entity a dense integer id (eid) in entity-key
// order, so that the smallest eid of a cluster is its smallest key and later stages join on
// integers. An incremental run reads the delta: every row of each entity that has a row at or
// after the source's cutoff watermark (or no watermark), so a changed entity is re-read whole;
// the scope stage then decides which part of the graph to recompute and numbers it.
package extract

import (
	"strings"

	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.sources, keyed_rows and source_stats; for FULL, entities and rows; for
// INCR, delta_keys, delta_entities and delta_rows.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	w := stage.W
	width := c.SlotWidth()
	var srcRows [][]string
	var parts, deltaKeys []string
	for _, s := range c.Cfg.Sources {
		rank := "NULL"
		if s.TrustRank != nil {
			rank = stage.Int(*s.TrustRank)
		}
		srcRows = append(srcRows, []string{stage.Lit(s.TableID), stage.Lit(s.SourceName), rank})
		cols := []string{stage.Lit(s.TableID) + " AS table_id", c.EntityKey(s) + " AS entity_key", c.Watermark(s) + " AS watermark",
			c.Deleted(s) + " AS deleted"}
		slots := c.Slots(s)
		for i := 0; i < width; i++ {
			v := "CAST(NULL AS " + d.Type("TEXT") + ")"
			if i < len(slots) {
				v = slots[i].Expr
			}
			cols = append(cols, v+" AS c"+stage.Int(int64(i)))
		}
		projection := "SELECT " + strings.Join(cols, ", ") + " FROM " + s.FQN
		cutoff, incremental := c.Cutoffs[s.TableID]
		if !c.Incremental || !incremental {
			parts = append(parts, projection)
			if c.Incremental {
				deltaKeys = append(deltaKeys, "SELECT DISTINCT "+c.EntityKey(s)+" AS entity_key FROM "+s.FQN)
			}
			continue
		}
		// The delta's keys: entities with a row at or after the cutoff, or without a watermark.
		keys := "SELECT DISTINCT " + c.EntityKey(s) + " AS entity_key FROM " + s.FQN + " WHERE " + c.Watermark(s) +
			" IS NULL OR " + c.Watermark(s) + " >= " + dialect.TimestampLit(cutoff)
		deltaKeys = append(deltaKeys, keys)
		// The filter is on the source's own columns, so only the delta's rows are projected
		// (normalized); filtering the projection would normalize every row first.
		parts = append(parts, projection+" WHERE "+c.EntityKey(s)+" IN ("+keys+")")
	}
	slotCols := ""
	for i := 0; i < width; i++ {
		slotCols += ", k.c" + stage.Int(int64(i))
	}
	sources := c.Values([]string{"table_id", "source_name", "trust_rank"}, []string{"TEXT", "TEXT", "BIGINT"}, srcRows)
	steps := stage.SQL(
		d.ReplaceTable(w("sources"), sources),
		d.ReplaceTable(w("keyed_rows"), strings.Join(parts, " UNION ALL ")),
		d.ReplaceTable(w("run_state_next"), runStateNext(c)),
	)
	// Per source: rows read, rows without a key, deleted rows, and the live entities among them,
	// counted from the grouped entities (a distinct count of keys over every row costs more).
	stats := func(grouped string) string {
		return d.ReplaceTable(w("source_stats"), "SELECT r.table_id, r.rows_read, r.null_key_rows, r.deleted_rows, coalesce(g.entities, 0) AS entities FROM "+
			"(SELECT table_id, count(*) AS rows_read, count(*) - count(entity_key) AS null_key_rows, sum(CASE WHEN deleted THEN 1 ELSE 0 END) AS deleted_rows FROM "+
			w("keyed_rows")+" GROUP BY table_id) r LEFT JOIN (SELECT table_id, count(*) AS entities FROM "+grouped+" GROUP BY table_id) g ON g.table_id = r.table_id")
	}
	// Live rows of one source sharing a key are one entity: its watermark is its latest row's, and
	// its content hash covers every value its rows carry, so an incremental run can tell a re-read
	// entity that did not change from one that did. The hash is a number in the work tables and
	// in the state: as text, grouping 10M rows took 0.3 s more, and writing them 1.4 s more.
	hashed := []string{"watermark"}
	for i := 0; i < width; i++ {
		hashed = append(hashed, "c"+stage.Int(int64(i)))
	}
	grouped := "SELECT entity_key, table_id, max(watermark) AS watermark, count(*) AS row_count, " + d.ContentHash(hashed) + " AS content_hash FROM " +
		w("keyed_rows") + " WHERE entity_key IS NOT NULL AND NOT deleted GROUP BY entity_key, table_id"
	if c.Incremental {
		// Candidates are the keys with a row in the delta. A candidate changed if it is new, gone
		// (no live row left) or hashes differently from the stored entity; the others drop out, so
		// re-reading rows at the cutoff changes nothing.
		// A changed entity keeps its entity_id (NULL for a new one; delta_entities gives those theirs).
		changed := "SELECT k.entity_key, s.entity_id FROM " + w("delta_candidates") + " k LEFT JOIN " + w("delta_grouped") + " g ON g.entity_key = k.entity_key " +
			"LEFT JOIN " + stage.O("identity_entities_current") + " s ON s.entity_key = k.entity_key " +
			"WHERE (g.entity_key IS NULL AND s.entity_key IS NOT NULL) OR (g.entity_key IS NOT NULL AND " +
			"(s.entity_key IS NULL OR s.content_hash IS NULL OR s.content_hash <> g.content_hash))"
		steps = append(steps, stage.SQL(
			d.ReplaceTable(w("delta_candidates"), "SELECT DISTINCT entity_key FROM ("+strings.Join(deltaKeys, " UNION ALL ")+") k WHERE entity_key IS NOT NULL"),
			d.ReplaceTable(w("delta_grouped"), grouped),
			d.ReplaceTable(w("delta_keys"), changed),
			d.ReplaceTable(w("delta_entities"), "SELECT g.*, coalesce(k.entity_id, n.last_id + row_number() OVER (PARTITION BY k.entity_id IS NULL ORDER BY g.entity_key)) AS entity_id FROM "+
				w("delta_grouped")+" g JOIN "+w("delta_keys")+" k ON k.entity_key = g.entity_key CROSS JOIN (SELECT coalesce(max(entity_id), -1) AS last_id FROM "+
				stage.O("identity_entities_current")+") n"),
			d.ReplaceTable(w("delta_rows"), "SELECT k.entity_key, k.table_id, k.watermark"+slotCols+" FROM "+w("keyed_rows")+" k JOIN "+
				w("delta_keys")+" dk ON dk.entity_key = k.entity_key WHERE NOT k.deleted"),
			stats(w("delta_grouped")),
		)...)
		return stage.Stage{Name: "extract", Steps: steps, RowsSQL: stage.Count(w("delta_keys"))}
	}
	// Grouping and numbering are two statements: at 100M rows DuckDB ran out of memory doing both
	// in one, and did each alone within the same memory_limit.
	steps = append(steps, stage.SQL(d.ReplaceTable(w("entities_grouped"), grouped))...)
	steps = append(steps, stage.SQL(d.Numbered(w("entities"), "g.entity_key, g.table_id, g.watermark, g.row_count, g.content_hash, s.trust_rank",
		w("entities_grouped")+" g LEFT JOIN "+w("sources")+" s ON s.table_id = g.table_id", "g.entity_key")...)...)
	steps = append(steps, stage.SQL(
		d.ReplaceTable(w("rows"), "SELECT e.eid, k.table_id, k.watermark, e.row_count"+slotCols+" FROM "+w("keyed_rows")+" k JOIN "+
			w("entities")+" e ON e.entity_key = k.entity_key WHERE NOT k.deleted"),
		stats(w("entities")),
	)...)
	return stage.Stage{Name: "extract", Steps: steps, RowsSQL: stage.Count(w("entities"))}
}

// runStateNext is each source's watermark after this run, which publish stores in
// idr_meta.run_state: the latest row read; an incremental run never moves one back.
func runStateNext(c *stage.Context) string {
	ids := make([]string, len(c.Cfg.Sources))
	for i, s := range c.Cfg.Sources {
		ids[i] = stage.Lit(s.TableID)
	}
	watermarks := "SELECT table_id, watermark FROM " + stage.W("keyed_rows")
	if c.Incremental {
		watermarks += " UNION ALL SELECT table_id, last_watermark_value FROM idr_meta.run_state WHERE table_id IN (" + strings.Join(ids, ", ") + ")"
	}
	return "SELECT table_id, max(watermark) AS watermark FROM (" + watermarks + ") x GROUP BY table_id"
}
