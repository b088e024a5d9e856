// Package scope decides which part of the identity graph a run recomputes, and lays it out as
// the later stages expect it (idr_work.entities with dense eids, identifiers, rows).
//
// A FULL run recomputes everything: the previous membership is all of it. An incremental run
// recomputes only what its delta can change, and no more is needed for the result to equal a
// FULL run's:
//
//   - touched values: every (type, value) a changed entity gained or lost (one it holds both
//     before and after has the same holders as before), except those over every rule's
//     max_group_size both before and after, which link nobody either way;
//   - affected clusters: the current clusters of every entity holding a touched value, and of
//     every changed entity;
//   - nodes: all members of the affected clusters that did not change, plus the changed
//     entities that still have live rows (those with none leave the outputs).
//
// Edges on untouched values lie inside one current cluster and stay valid, so they are carried
// over; groups of touched values are recounted over every holder, so a group that grows past
// max_group_size stops linking. No edge joins a node to an entity outside the nodes, so
// connected components over the nodes are exact.
package scope

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds, for incremental runs, idr_work.touched, affected_ids(resolved_id),
// prev_membership (the affected clusters' entities, as in identity_entities_current), entities,
// rows, identifiers, carried_edges and prev_edges (the previous edges of touched values).
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	w, o := stage.W, stage.O
	current := o("identity_entities_current")
	if !c.Incremental {
		// FULL recomputes everything extract laid out; the previous membership is all of it.
		return stage.Stage{Name: "scope", RowsSQL: stage.Count(w("entities"))}
	}
	state := o("identity_identifiers_current")
	// A value a changed entity holds both before and after keeps its holders, so its group and
	// edges stay as they are: only the values gained or lost change, by net holders (both sides
	// are distinct per entity, so those are the rows counted once).
	valueChanges := "SELECT identifier_type, value_norm, sum(CASE WHEN side = 1 THEN 1 ELSE -1 END) AS net FROM (SELECT entity_key, identifier_type, " +
		"value_norm, max(side) AS side FROM (SELECT entity_key, identifier_type, value_norm, 1 AS side FROM " + w("delta_identifiers") +
		" UNION ALL SELECT dk.entity_key, s.identifier_type, s.identifier_value_norm, 0 FROM " + state + " s JOIN " + w("delta_keys") +
		" dk ON dk.entity_id = s.entity_id) t GROUP BY entity_key, identifier_type, value_norm HAVING count(*) = 1) x GROUP BY identifier_type, value_norm"
	// A changed value is touched unless it links under no rule both before and after: a group
	// over max_group_size that stays over it (a junk value shared by thousands, typically) links
	// nobody either way, and touching it would pull every holder's cluster into the recompute.
	touched := "SELECT DISTINCT v.identifier_type, v.value_norm FROM " + w("value_changes") + " v LEFT JOIN (SELECT s.identifier_type, s.identifier_value_norm, " +
		"count(*) AS n FROM " + state + " s JOIN " + w("value_changes") + " v ON v.identifier_type = s.identifier_type AND v.value_norm = s.identifier_value_norm " +
		"GROUP BY s.identifier_type, s.identifier_value_norm) b ON b.identifier_type = v.identifier_type AND b.identifier_value_norm = v.value_norm " +
		"JOIN (" + c.Rules() + ") r ON r.identifier_type = v.identifier_type " +
		"WHERE coalesce(b.n, 0) <= r.max_group_size OR coalesce(b.n, 0) + v.net <= r.max_group_size"
	// The entities' state holds their resolved ids: holders and affected clusters are found by
	// entity_id, without joining keys (an entity new in this run has no cluster yet).
	holders := "SELECT s.entity_id FROM " + state + " s JOIN " + w("touched") +
		" t ON t.identifier_type = s.identifier_type AND t.value_norm = s.identifier_value_norm UNION SELECT entity_id FROM " + w("delta_keys") +
		" WHERE entity_id IS NOT NULL"
	affected := "SELECT DISTINCT e.resolved_id FROM " + current + " e JOIN (" + holders + ") h ON h.entity_id = e.entity_id"
	prev := "SELECT e.* FROM " + current + " e JOIN " + w("affected_ids") + " a ON a.resolved_id = e.resolved_id"
	// prev_id and prev_ts are the entity's current resolved id and when it got it (NULL for a new
	// entity): the ids stage compares ids by eid, and publish rewrites the state of the entities
	// that changed or whose id changed (changed: the entity is in the delta).
	nodes := "SELECT p.entity_key, p.table_id, p.watermark, p.row_count, p.content_hash, p.entity_id, p.resolved_id AS prev_id, p.resolved_ts AS prev_ts, " +
		"FALSE AS changed FROM " + w("prev_membership") + " p" + stage.UnchangedID("p") +
		" UNION ALL SELECT d.entity_key, d.table_id, d.watermark, d.row_count, d.content_hash, d.entity_id, p.resolved_id, p.resolved_ts, TRUE FROM " +
		w("delta_entities") + " d LEFT JOIN " + w("prev_membership") + " p ON p.entity_id = d.entity_id"
	entities := d.Numbered(w("entities"), "n.entity_key, n.table_id, n.watermark, n.row_count, n.content_hash, s.trust_rank, n.entity_id, n.prev_id, n.prev_ts, n.changed",
		"("+nodes+") n LEFT JOIN "+w("sources")+" s ON s.table_id = n.table_id", "n.entity_key")
	// multi as normalize sets it: an entity of several rows, or of a source repeating a type.
	multi := c.Multi("e")
	identifiers := "SELECT e.eid, s.identifier_type, s.identifier_value_norm AS value_norm, " + multi + " AS multi FROM " + state + " s JOIN " +
		w("entities") + " e ON e.entity_id = s.entity_id" + stage.UnchangedID("s") +
		" UNION ALL SELECT e.eid, i.identifier_type, i.value_norm, " + multi + " FROM " + w("delta_identifiers") + " i JOIN " + w("entities") +
		" e ON e.entity_key = i.entity_key"
	// The previous edges of the recomputed part, in eids: edges never join two clusters, so they
	// are those between its entities (an entity keeps its entity_id; those without live rows lose
	// their links). Those of untouched values are carried over; audit needs only those of touched
	// values, for their first_seen_ts. Each is read straight from the outputs: a table of all of
	// them, split afterwards, took 2.5 s against 2.06 s at 10M entities (single traced runs).
	prevEnds := " JOIN " + w("entities") + " a ON a.entity_id = p.left_entity_id JOIN " + w("entities") + " b ON b.entity_id = p.right_entity_id"
	onTouched := " t ON t.identifier_type = p.identifier_type AND t.value_norm = p.identifier_value_norm"
	carried := "SELECT p.rule_id, p.identifier_type, p.identifier_value_norm, a.eid AS l, b.eid AS r FROM " + o("identity_edge_ids_current") + " p" +
		prevEnds + " LEFT JOIN " + w("touched") + onTouched + " WHERE t.value_norm IS NULL"
	prevEdges := "SELECT p.rule_id, p.identifier_type, p.identifier_value_norm, a.eid AS l, b.eid AS r, p.first_seen_ts FROM " + o("identity_edge_ids_current") +
		" p JOIN " + w("touched") + onTouched + prevEnds
	rows := "SELECT e.eid, e.row_count, k.* FROM " + w("delta_rows") + " k JOIN " + w("entities") + " e ON e.entity_key = k.entity_key"
	stmts := []string{
		d.ReplaceTable(w("value_changes"), valueChanges),
		d.ReplaceTable(w("touched"), touched),
		d.ReplaceTable(w("affected_ids"), affected),
		d.ReplaceTable(w("prev_membership"), prev),
	}
	stmts = append(stmts, entities...)
	stmts = append(stmts,
		d.ReplaceTable(w("rows"), rows),
		d.ReplaceTable(w("identifiers"), identifiers),
		d.ReplaceTable(w("carried_edges"), carried),
		d.ReplaceTable(w("prev_edges"), prevEdges),
	)
	return stage.Stage{
		Name:    "scope",
		Steps:   stage.SQL(stmts...),
		RowsSQL: stage.Count(w("entities")),
	}
}
