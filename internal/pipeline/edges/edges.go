// Package edges is the matching stage: identifiers sharing (type, normalized value) under an
// active rule form a group; a group larger than its rule's max_group_size is skipped (and kept
// with sample keys for review); every other group links its members to its anchor, the member
// with the smallest entity key, so a group of n entities yields n-1 edges.
package edges

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// SampleKeys is how many entity keys a skipped group keeps for review.
const SampleKeys = 5

// Stage builds idr_work.rules, groups (with a row id, dialect.RowID), skipped_groups and edges(gid,
// identifier_type, l, r). An edge names its group by gid instead of carrying the rule and the
// value: the strings of 13M edges at 10M entities were copied into edges and held until
// publish, which writes them once, from the groups (Named); gid is the group's row id.
// An incremental run groups only the touched values (all their holders are nodes of the scope)
// into edges_touched, and adds the edges it carries over from the current outputs (gid NULL:
// those keep their strings in carried_edges).
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	ids := stage.W("identifiers")
	if c.Incremental {
		ids = "(SELECT i.* FROM " + stage.W("identifiers") + " i JOIN " + stage.W("touched") +
			" t ON t.identifier_type = i.identifier_type AND t.value_norm = i.value_norm)"
	}
	groups := d.WithRowID("SELECT r.rule_id, i.identifier_type, i.value_norm, count(*) AS group_size, r.max_group_size, " +
		"min(i.eid) AS anchor_eid FROM " + ids + " i JOIN " + stage.W("rules") + " r ON r.identifier_type = i.identifier_type " +
		"GROUP BY r.rule_id, i.identifier_type, i.value_norm, r.max_group_size")
	skipped := "SELECT b.rule_id, b.identifier_type, b.value_norm, b.group_size, b.max_group_size, " +
		d.StringAgg("e.entity_key", ", ", "e.entity_key") + " AS sample_entity_keys FROM (SELECT * FROM " + stage.W("groups") +
		" WHERE group_size > max_group_size) b JOIN (SELECT i.identifier_type, i.value_norm, i.eid, " +
		"row_number() OVER (PARTITION BY i.identifier_type, i.value_norm ORDER BY i.eid) AS rn FROM " + ids + " i JOIN " +
		stage.W("groups") + " g ON g.identifier_type = i.identifier_type AND g.value_norm = i.value_norm WHERE g.group_size > g.max_group_size) s " +
		"ON s.identifier_type = b.identifier_type AND s.value_norm = b.value_norm AND s.rn <= " + stage.Int(SampleKeys) +
		" JOIN " + stage.W("entities") + " e ON e.eid = s.eid GROUP BY b.rule_id, b.identifier_type, b.value_norm, b.group_size, b.max_group_size"
	edges := "SELECT " + d.RowID("g") + " AS gid, g.identifier_type, g.anchor_eid AS l, i.eid AS r FROM " +
		stage.W("groups") + " g JOIN " + ids + " i ON i.identifier_type = g.identifier_type AND i.value_norm = g.value_norm " +
		"WHERE g.group_size >= 2 AND g.group_size <= g.max_group_size AND i.eid <> g.anchor_eid"
	stmts := []string{
		d.ReplaceTable(stage.W("rules"), c.Rules()),
		d.ReplaceTable(stage.W("groups"), groups),
		d.ReplaceTable(stage.W("skipped_groups"), skipped),
	}
	if c.Incremental {
		// The edges of touched values are new (audit and publish write only those); the carried
		// ones are already in the outputs, unchanged.
		stmts = append(stmts,
			d.ReplaceTable(stage.W("edges_touched"), edges),
			d.ReplaceTable(stage.W("edges"), "SELECT * FROM "+stage.W("edges_touched")+
				" UNION ALL SELECT CAST(NULL AS BIGINT) AS gid, identifier_type, l, r FROM "+stage.W("carried_edges")))
	} else {
		stmts = append(stmts, d.ReplaceTable(stage.W("edges"), edges))
	}
	return stage.Stage{Name: "edges", Steps: stage.SQL(stmts...), RowsSQL: stage.Count(stage.W("edges"))}
}

// Named is the query of edges with their rule and value: (rule_id, identifier_type,
// identifier_value_norm, l, r). Touched only: for an incremental run, the edges of touched
// values alone (those it writes); otherwise all of the run's edges (an incremental run's
// include those it carries).
func Named(c *stage.Context, touchedOnly bool) string {
	w := stage.W
	edges := w("edges")
	if c.Incremental {
		edges = w("edges_touched")
	}
	q := "SELECT g.rule_id, g.identifier_type, g.value_norm AS identifier_value_norm, e.l, e.r FROM " + edges + " e JOIN " + w("groups") +
		" g ON " + c.D.RowID("g") + " = e.gid"
	if c.Incremental && !touchedOnly {
		q += " UNION ALL SELECT rule_id, identifier_type, identifier_value_norm, l, r FROM " + w("carried_edges")
	}
	return q
}
