// Package publish is the last stage of a committed run: it replaces the current outputs with
// the run's work tables (for an incremental run, only the part it recomputed), keeps the state
// incremental runs start from, and advances the watermarks. The runner executes it inside one
// transaction (engine.Atomic), together with the run_history, stage_metrics and metrics rows,
// so a committed run publishes all of it or none of it.
package publish

import (
	"strings"

	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage replaces idr_out's current tables and idr_meta.run_state.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	w, o := stage.W, stage.O
	ts := c.NowLit()
	run := stage.Lit(c.RunID)
	ids := make([]string, len(c.Cfg.Sources))
	for i, s := range c.Cfg.Sources {
		ids[i] = stage.Lit(s.TableID)
	}
	// swap replaces the rows of an output table that the run recomputed: all of them for FULL,
	// those matching scoped (a condition) for an incremental run.
	swap := func(table, scoped, query string) []string {
		del := "DELETE FROM " + o(table)
		if c.Incremental {
			del += " WHERE " + scoped
		}
		return []string{del, "INSERT INTO " + o(table) + " " + query}
	}
	inPrev := " IN (SELECT entity_key FROM " + w("prev_membership") + ")"
	inAffected := "resolved_id IN (SELECT resolved_id FROM " + w("affected_ids") + ")"
	inDelta := "entity_key IN (SELECT entity_key FROM " + w("delta_keys") + ")"
	var stmts []string
	stmts = append(stmts, swap("identity_resolved_membership_current", "entity_key"+inPrev, "SELECT entity_key, resolved_id, "+ts+" FROM "+w("membership"))...)
	stmts = append(stmts, swap("identity_clusters_current", inAffected, "SELECT resolved_id, cluster_size, "+ts+" FROM "+w("clusters"))...)
	// Edges never join two clusters, so the edges of the recomputed clusters are those leaving their entities.
	stmts = append(stmts, swap("identity_edges_current", "left_entity_key"+inPrev, "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, "+
		"identifier_value_norm, first_seen_ts, last_seen_ts FROM "+w("edges_out"))...)
	if c.Incremental {
		stmts = append(stmts, swap("golden_profile_current", inAffected, "SELECT g.*, "+ts+" AS updated_ts FROM "+w("golden")+" g")...)
	} else {
		// The golden profile's columns follow the configured attributes, so a FULL run rebuilds the table.
		stmts = append(stmts, d.ReplaceTable(o("golden_profile_current"), "SELECT g.*, "+ts+" AS updated_ts FROM "+w("golden")+" g"))
	}
	// Rule counts describe what the run recomputed; a run that recomputed nothing leaves them.
	recomputed := "EXISTS (SELECT 1 FROM " + w("entities") + ")"
	stmts = append(stmts, swap("rule_match_audit_current", recomputed, "SELECT "+run+", rule_id, identifier_type, identifiers, groups_total, groups_linked, "+
		"groups_skipped, values_excluded, edges_created, entities_linked, "+ts+" FROM "+w("rule_audit")+" WHERE "+recomputed)...)
	stmts = append(stmts, "INSERT INTO "+o("skipped_identifier_groups")+" SELECT "+run+", identifier_type, value_norm, group_size, max_group_size, "+
		"sample_entity_keys, 'group of ' || "+c.Text("group_size")+" || ' entities exceeds max_group_size ' || "+c.Text("max_group_size")+
		" || ' of rule ' || rule_id, "+ts+" FROM "+w("skipped_groups"))
	stmts = append(stmts, "INSERT INTO "+o("cluster_history")+" SELECT "+run+", change_type, resolved_id, related_ids, member_count, "+
		"previous_member_count, "+ts+" FROM "+w("cluster_changes"))
	stmts = append(stmts, d.ReplaceTable(w("lookup_next"), lookupNext(c)))
	stmts = append(stmts, "DELETE FROM "+o("resolved_id_lookup"),
		"INSERT INTO "+o("resolved_id_lookup")+" SELECT old_resolved_id, current_resolved_id, change_type, run_id, updated_ts FROM "+w("lookup_next"))

	// What incremental runs start from: every live entity, its identifiers and its attributes.
	stateAttrs := "SELECT e.entity_key, a.attribute_name, a.attribute_value FROM " + w("entity_attributes") + " a JOIN " + w("entities") +
		" e ON e.eid = a.eid WHERE a.attribute_name NOT IN ('email_primary', 'phone_primary')"
	if c.Incremental {
		stmts = append(stmts, swap("identity_entities_current", inDelta, "SELECT entity_key, table_id, watermark, row_count, content_hash FROM "+w("delta_entities"))...)
		stmts = append(stmts, swap("identity_identifiers_current", inDelta, "SELECT entity_key, identifier_type, value_norm FROM "+w("delta_identifiers"))...)
		stmts = append(stmts, swap("identity_attributes_current", inDelta, stateAttrs+" AND e."+inDelta)...)
	} else {
		stmts = append(stmts, swap("identity_entities_current", "", "SELECT entity_key, table_id, watermark, row_count, content_hash FROM "+w("entities"))...)
		stmts = append(stmts, swap("identity_identifiers_current", "", "SELECT e.entity_key, i.identifier_type, i.value_norm FROM "+w("identifiers")+
			" i JOIN "+w("entities")+" e ON e.eid = i.eid")...)
		stmts = append(stmts, swap("identity_attributes_current", "", stateAttrs)...)
	}
	// Watermarks advance to the latest row read; an incremental run never moves one back.
	watermarks := "SELECT table_id, watermark FROM " + w("keyed_rows")
	if c.Incremental {
		watermarks += " UNION ALL SELECT table_id, last_watermark_value FROM idr_meta.run_state WHERE table_id IN (" + strings.Join(ids, ", ") + ")"
	}
	stmts = append(stmts,
		d.ReplaceTable(w("run_state_next"), "SELECT table_id, max(watermark) AS watermark FROM ("+watermarks+") x GROUP BY table_id"),
		"DELETE FROM idr_meta.run_state WHERE table_id IN ("+strings.Join(ids, ", ")+")",
		"INSERT INTO idr_meta.run_state SELECT table_id, watermark, "+run+", "+ts+" FROM "+w("run_state_next"),
	)
	return stage.Stage{Name: "publish", Steps: stage.SQL(stmts...), RowsSQL: stage.Count(w("membership"))}
}

// lookupNext is idr_out.resolved_id_lookup after this run: every id that was retired or split,
// pointing at the current ids holding the entities it had (NULL when none is left). Rows that
// pointed at an id that changed in this run are re-pointed at that id's successors; an id that
// a cluster takes again (a split undoing a merge) is current again and leaves the lookup.
func lookupNext(c *stage.Context) string {
	w, o := stage.W, stage.O
	ts := c.NowLit()
	run := stage.Lit(c.RunID)
	changed := "(SELECT resolved_id AS old_id, max(change_type) AS change_type FROM " + w("cluster_changes") +
		" WHERE change_type IN ('SPLIT', 'RETIRED') GROUP BY resolved_id)"
	return "SELECT old_resolved_id, current_resolved_id, max(change_type) AS change_type, max(run_id) AS run_id, max(updated_ts) AS updated_ts FROM (" +
		// Rows whose target did not change stay.
		"SELECT l.old_resolved_id, l.current_resolved_id, l.change_type, l.run_id, l.updated_ts FROM " + o("resolved_id_lookup") + " l LEFT JOIN " +
		changed + " x ON x.old_id = l.current_resolved_id WHERE x.old_id IS NULL" +
		// Rows whose target changed follow it to its successors.
		" UNION ALL SELECT l.old_resolved_id, s.new_id, x.change_type, " + run + ", " + ts + " FROM " + o("resolved_id_lookup") + " l JOIN " +
		changed + " x ON x.old_id = l.current_resolved_id LEFT JOIN " + w("id_successors") + " s ON s.old_id = x.old_id" +
		// Ids that changed in this run point at their successors.
		" UNION ALL SELECT x.old_id, s.new_id, x.change_type, " + run + ", " + ts + " FROM " + changed + " x LEFT JOIN " +
		w("id_successors") + " s ON s.old_id = x.old_id" +
		") t LEFT JOIN (SELECT resolved_id FROM " + w("cluster_ids") + " WHERE NOT kept_id) f ON f.resolved_id = t.old_resolved_id " +
		"WHERE f.resolved_id IS NULL GROUP BY old_resolved_id, current_resolved_id"
}
