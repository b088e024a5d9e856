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
	stmts = append(stmts,
		"DELETE FROM idr_meta.run_state WHERE table_id IN ("+strings.Join(ids, ", ")+")",
		"INSERT INTO idr_meta.run_state SELECT table_id, max(watermark), "+run+", "+ts+" FROM "+stage.W("entities")+" GROUP BY table_id",
	)
	return stage.Stage{Name: "publish", Steps: stage.SQL(stmts...), RowsSQL: stage.Count(stage.O("identity_resolved_membership_current"))}
}
