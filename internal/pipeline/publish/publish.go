// Package publish is the last stage of a committed run: it replaces the current outputs with
// the run's work tables and advances the watermarks. The runner executes it inside one
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
	ts := c.NowLit()
	run := stage.Lit(c.RunID)
	ids := make([]string, len(c.Cfg.Sources))
	for i, s := range c.Cfg.Sources {
		ids[i] = stage.Lit(s.TableID)
	}
	replace := func(table, query string) []string {
		return []string{"DELETE FROM " + stage.O(table), "INSERT INTO " + stage.O(table) + " " + query}
	}
	var stmts []string
	stmts = append(stmts, replace("identity_resolved_membership_current", "SELECT entity_key, resolved_id, "+ts+" FROM "+stage.W("membership"))...)
	stmts = append(stmts, replace("identity_clusters_current", "SELECT resolved_id, cluster_size, "+ts+" FROM "+stage.W("clusters"))...)
	stmts = append(stmts, replace("identity_edges_current", "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm, first_seen_ts, last_seen_ts FROM "+stage.W("edges_out"))...)
	// The golden profile's columns follow the configured attributes, so the table is rebuilt.
	stmts = append(stmts, d.ReplaceTable(stage.O("golden_profile_current"), "SELECT g.*, "+ts+" AS updated_ts FROM "+stage.W("golden")+" g"))
	stmts = append(stmts, replace("rule_match_audit_current", "SELECT "+run+", rule_id, identifier_type, identifiers, groups_total, groups_linked, "+
		"groups_skipped, values_excluded, edges_created, entities_linked, "+ts+" FROM "+stage.W("rule_audit"))...)
	stmts = append(stmts, "INSERT INTO "+stage.O("skipped_identifier_groups")+" SELECT "+run+", identifier_type, value_norm, group_size, max_group_size, "+
		"sample_entity_keys, 'group of ' || "+c.Text("group_size")+" || ' entities exceeds max_group_size ' || "+c.Text("max_group_size")+
		" || ' of rule ' || rule_id, "+ts+" FROM "+stage.W("skipped_groups"))
	stmts = append(stmts, "INSERT INTO "+stage.O("cluster_history")+" SELECT "+run+", change_type, resolved_id, related_ids, member_count, "+
		"previous_member_count, "+ts+" FROM "+stage.W("cluster_changes"))
	stmts = append(stmts, d.ReplaceTable(stage.W("lookup_next"), lookupNext(c)))
	stmts = append(stmts, replace("resolved_id_lookup", "SELECT old_resolved_id, current_resolved_id, change_type, run_id, updated_ts FROM "+stage.W("lookup_next"))...)
	stmts = append(stmts,
		"DELETE FROM idr_meta.run_state WHERE table_id IN ("+strings.Join(ids, ", ")+")",
		"INSERT INTO idr_meta.run_state SELECT table_id, max(watermark), "+run+", "+ts+" FROM "+stage.W("entities")+" GROUP BY table_id",
	)
	return stage.Stage{Name: "publish", Steps: stage.SQL(stmts...), RowsSQL: stage.Count(stage.O("identity_resolved_membership_current"))}
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
