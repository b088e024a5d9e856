// Package publish is the last stage of a committed run: it replaces the current outputs with
// the run's work tables (for an incremental run, only the part it recomputed), keeps the state
// incremental runs start from, and advances the watermarks. The runner executes it inside one
// transaction (engine.Atomic), together with the run_history, stage_metrics and metrics rows,
// so a committed run publishes all of it or none of it.
package publish

import (
	"strings"

	"github.com/idr-dev/idr/internal/pipeline/audit"
	"github.com/idr-dev/idr/internal/pipeline/golden"
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
	// scope is the rows of an output table an incremental run replaces: those whose columns cols
	// equal a row of the query keys (with no cols, all rows when keys has any).
	type scope struct {
		cols []string
		keys string
	}
	// swap replaces the rows of an output table that the run recomputed: all of them for FULL,
	// those in scoped for an incremental run.
	swap := func(table string, scoped scope, query string) []string {
		del := "DELETE FROM " + o(table)
		if c.Incremental {
			del = d.DeleteMatching(o(table), scoped.cols, scoped.keys)
		}
		return []string{del, "INSERT INTO " + o(table) + " " + query}
	}
	byKey := []string{"entity_key"}
	inAffected := scope{[]string{"resolved_id"}, "SELECT resolved_id FROM " + w("affected_ids")}
	// An incremental run writes only what changed in the part it recomputed: the state of the
	// entities that changed or whose id changed, and the edges of touched values (those of other
	// values are carried unchanged), so that it deletes and rewrites few rows of the large tables.
	// The entities' state holds the membership (each entity's resolved id): it comes first.
	var stmts []string
	if c.Incremental {
		// Entities of the delta (those without live rows leave) and those whose id changed (ids).
		rewritten := scope{byKey, "SELECT entity_key FROM " + w("delta_keys") + " UNION ALL SELECT entity_key FROM " + w("entities_in")}
		stmts = swap("identity_entities_current", rewritten, "SELECT entity_key, table_id, watermark, row_count, content_hash, entity_id, resolved_id, resolved_ts FROM "+
			w("entities_in"))
	} else {
		stmts = swap("identity_entities_current", scope{}, "SELECT e.entity_key, e.table_id, e.watermark, e.row_count, e.content_hash, e.eid, "+
			"k.resolved_id, "+ts+" FROM "+w("entities")+" e JOIN "+w("membership")+" m ON m.eid = e.eid JOIN "+w("clusters")+" k ON k.root = m.root")
	}
	stmts = append(stmts, swap("identity_clusters_current", inAffected, "SELECT resolved_id, cluster_size, "+ts+" FROM "+w("clusters"))...)
	stmts = append(stmts, swap("identity_edge_ids_current", scope{[]string{"identifier_type", "identifier_value_norm"}, "SELECT identifier_type, value_norm FROM " + w("touched")},
		audit.EdgesOut(c))...)
	if c.Incremental {
		stmts = append(stmts, swap("golden_profile_current", inAffected, "SELECT g.*, "+ts+" AS updated_ts FROM "+w("golden")+" g")...)
	} else {
		// The golden profile's columns follow the configured attributes, so a FULL run rebuilds the table.
		stmts = append(stmts, d.ReplaceTable(o("golden_profile_current"), "SELECT g.*, "+ts+" AS updated_ts FROM "+w("golden")+" g"))
	}
	// Rule counts describe what the run recomputed; a run that recomputed nothing leaves them.
	anyEntity := "SELECT 1 FROM " + w("entities")
	recomputed := "EXISTS (" + anyEntity + ")"
	stmts = append(stmts, swap("rule_match_audit_current", scope{nil, anyEntity}, "SELECT "+run+", rule_id, identifier_type, identifiers, groups_total, groups_linked, "+
		"groups_skipped, values_excluded, edges_created, entities_linked, "+ts+" FROM "+w("rule_audit")+" WHERE "+recomputed)...)
	stmts = append(stmts, "INSERT INTO "+o("skipped_identifier_groups")+" SELECT "+run+", identifier_type, value_norm, group_size, max_group_size, "+
		"sample_entity_keys, 'group of ' || "+c.Text("group_size")+" || ' entities exceeds max_group_size ' || "+c.Text("max_group_size")+
		" || ' of rule ' || rule_id, "+ts+" FROM "+w("skipped_groups"))
	stmts = append(stmts, "INSERT INTO "+o("cluster_history")+" SELECT "+run+", change_type, resolved_id, related_ids, member_count, "+
		"previous_member_count, "+ts+" FROM "+w("cluster_changes"))
	stmts = append(stmts, "DELETE FROM "+o("resolved_id_lookup"),
		"INSERT INTO "+o("resolved_id_lookup")+" SELECT old_resolved_id, current_resolved_id, change_type, run_id, updated_ts FROM "+w("lookup_next"))

	// What incremental runs start from: every live entity (above, with its resolved id), its
	// identifiers and its attributes, the last two by entity_id. A FULL run numbers the
	// entities afresh (entity_id = eid); an incremental run keeps the ids of the entities it read
	// before and gives new ones the next (extract).
	if c.Incremental {
		byID := scope{[]string{"entity_id"}, "SELECT entity_id FROM " + w("delta_keys") + " WHERE entity_id IS NOT NULL"}
		stmts = append(stmts, swap("identity_identifiers_current", byID, "SELECT e.entity_id, i.identifier_type, i.value_norm FROM "+w("delta_identifiers")+
			" i JOIN "+w("delta_entities")+" e ON e.entity_key = i.entity_key")...)
		stmts = append(stmts, swap("identity_attributes_current", byID, "SELECT e.entity_id, a.attribute_name, a.attribute_value FROM ("+golden.Attributes(c.Cfg)+") a JOIN "+
			w("entities")+" e ON e.eid = a.eid WHERE e.changed")...)
	} else {
		stmts = append(stmts, swap("identity_identifiers_current", scope{}, "SELECT eid, identifier_type, value_norm FROM "+w("identifiers"))...)
		stmts = append(stmts, swap("identity_attributes_current", scope{}, golden.Attributes(c.Cfg))...)
	}
	// Watermarks advance (extract computed run_state_next; ids computed lookup_next: work tables
	// are written before this transaction, which writes only the database's own tables).
	stmts = append(stmts,
		"DELETE FROM idr_meta.run_state WHERE table_id IN ("+strings.Join(ids, ", ")+")",
		"INSERT INTO idr_meta.run_state SELECT table_id, watermark, "+run+", "+ts+" FROM "+w("run_state_next"),
	)
	return stage.Stage{Name: "publish", Steps: stage.SQL(stmts...), RowsSQL: stage.Count(w("membership"))}
}
