// Package audit is the stage that explains a run before it is published: per-rule counts of
// identifiers, groups, skipped groups, excluded values, edges and linked entities; and the query
// of the edge list by entity id with the time each link was first seen (carried over from
// earlier runs), which publish writes straight into identity_edge_ids_current.
package audit

import (
	"github.com/idr-dev/idr/internal/pipeline/edges"
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.rule_audit, and for a FULL run that publishes, prev_edges (what EdgesOut
// needs of the previous edges).
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	ruleAudit := "SELECT r.rule_id, r.identifier_type, coalesce(idn.n, 0) AS identifiers, coalesce(grp.total, 0) AS groups_total, " +
		"coalesce(grp.linked, 0) AS groups_linked, coalesce(grp.skipped, 0) AS groups_skipped, coalesce(exc.n, 0) AS values_excluded, " +
		"coalesce(edg.n, 0) AS edges_created, coalesce(lnk.n, 0) AS entities_linked FROM " + stage.W("rules") + " r " +
		"LEFT JOIN (SELECT identifier_type, count(*) AS n FROM " + stage.W("identifiers") + " GROUP BY identifier_type) idn ON idn.identifier_type = r.identifier_type " +
		"LEFT JOIN (SELECT identifier_type, count(*) AS total, sum(CASE WHEN group_size >= 2 AND group_size <= max_group_size THEN 1 ELSE 0 END) AS linked, " +
		"sum(CASE WHEN group_size > max_group_size THEN 1 ELSE 0 END) AS skipped FROM " + stage.W("groups") + " GROUP BY identifier_type) grp ON grp.identifier_type = r.identifier_type " +
		"LEFT JOIN (SELECT identifier_type, count(DISTINCT value_norm) AS n FROM " + stage.W("identifiers_excluded") + " GROUP BY identifier_type) exc ON exc.identifier_type = r.identifier_type " +
		"LEFT JOIN (SELECT identifier_type, count(*) AS n FROM " + stage.W("edges") + " GROUP BY identifier_type) edg ON edg.identifier_type = r.identifier_type " +
		"LEFT JOIN (" + linked(c) + ") lnk ON lnk.identifier_type = r.identifier_type"
	steps := stage.SQL(d.ReplaceTable(stage.W("rule_audit"), ruleAudit))
	if !c.Incremental && !c.DryRun {
		steps = append(steps, stage.SQL(prevEdgesFull(c))...)
	}
	return stage.Stage{
		Name:    "audit",
		Steps:   steps,
		RowsSQL: stage.Count(stage.W("rule_audit")),
	}
}

// linked counts, per identifier type, the entities that an edge of the type links.
func linked(c *stage.Context) string {
	if c.Incremental {
		// The edges of an incremental run include those it carries, whose groups it did not count.
		return "SELECT identifier_type, count(DISTINCT eid) AS n FROM (SELECT identifier_type, l AS eid FROM " + stage.W("edges") +
			" UNION ALL SELECT identifier_type, r AS eid FROM " + stage.W("edges") + ") x GROUP BY identifier_type"
	}
	// A FULL run's edges link exactly the holders of the values that link under some rule, so
	// the count comes from the groups instead of a distinct count over 26M edge ends (1.8 s at
	// 10M entities). A holder not marked multi holds no other value of the type, so it is one
	// (holder, value) pair of the groups; the few multi ones are counted distinct instead.
	lk := "SELECT identifier_type, value_norm, max(group_size) AS group_size FROM " + stage.W("groups") +
		" WHERE group_size >= 2 AND group_size <= max_group_size GROUP BY identifier_type, value_norm"
	return "SELECT t.identifier_type, sum(t.n) AS n FROM (SELECT identifier_type, sum(group_size) AS n FROM (" + lk + ") s GROUP BY identifier_type " +
		"UNION ALL SELECT i.identifier_type, count(DISTINCT i.eid) - count(*) FROM " + stage.W("identifiers") + " i JOIN (" + lk + ") g ON g.identifier_type = i.identifier_type " +
		"AND g.value_norm = i.value_norm WHERE i.multi GROUP BY i.identifier_type) t GROUP BY t.identifier_type"
}

// prevEdgesFull is, for a FULL run, the statement that builds idr_work.prev_edges: the current
// links (rule_id, identifier_type, identifier_value_norm, l, r, first_seen_ts) between entities
// that are still there, with their ends in this run's eids. The current links refer to entities
// by the ids the previous run gave them; the ids stage mapped those to eids (prev_eids), so the
// links are matched on numbers. Read before publish replaces the links (for an incremental run,
// the scope stage reads the previous links of what it recomputes).
func prevEdgesFull(c *stage.Context) string {
	w, o := stage.W, stage.O
	return c.D.ReplaceTable(w("prev_edges"), "SELECT p.rule_id, p.identifier_type, p.identifier_value_norm, a.eid AS l, b.eid AS r, p.first_seen_ts FROM "+
		o("identity_edge_ids_current")+" p JOIN "+w("prev_eids")+" a ON a.entity_id = p.left_entity_id JOIN "+w("prev_eids")+
		" b ON b.entity_id = p.right_entity_id")
}

// EdgesOut is the query of the edges a run writes into identity_edge_ids_current, with
// first_seen_ts carried from the previous edges: all of them for FULL; for an incremental run,
// those of touched values (the carried edges stay in the outputs as they are). A FULL run's
// entity ids are its eids; an incremental run's entities carry theirs.
func EdgesOut(c *stage.Context) string {
	ts := c.NowLit()
	ends := "w.l, w.r"
	if c.Incremental {
		ends = "a.entity_id, b.entity_id"
	}
	q := "SELECT w.rule_id, " + ends + ", w.identifier_type, w.identifier_value_norm, coalesce(p.first_seen_ts, " + ts + ") AS first_seen_ts, " +
		ts + " AS last_seen_ts FROM (" + edges.Named(c, true) + ") w "
	if c.Incremental {
		q += "JOIN " + stage.W("entities") + " a ON a.eid = w.l JOIN " + stage.W("entities") + " b ON b.eid = w.r "
	}
	return q + "LEFT JOIN " + stage.W("prev_edges") + " p ON p.rule_id = w.rule_id AND p.l = w.l AND p.r = w.r AND p.identifier_value_norm = w.identifier_value_norm"
}
