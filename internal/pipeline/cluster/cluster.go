// Package cluster is the clustering stage: exact connected components over all edges (the
// engine decides how: union-find in-process, or log-round SQL). Each entity gets the root of its
// cluster, the smallest eid (so the smallest entity key, as eids follow key order); the ids
// stage then turns roots into stable resolved ids.
package cluster

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.labels(eid, root) and membership_raw(eid, entity_key, root[, prev_id, changed]).
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	steps := []stage.Step{{Components: &stage.Components{
		NodesTable: stage.W("entities"), EdgesTable: stage.W("edges"), OutTable: stage.W("labels"),
	}}}
	// An incremental run carries each entity's current resolved id (prev_id, from scope), and
	// whether it is in the delta (changed).
	cols := "e.eid, e.entity_key, l.root"
	if c.Incremental {
		cols += ", e.prev_id, e.changed"
	}
	steps = append(steps, stage.SQL(
		d.ReplaceTable(stage.W("membership_raw"), "SELECT "+cols+" FROM "+stage.W("labels")+" l JOIN "+stage.W("entities")+" e ON e.eid = l.eid"),
	)...)
	return stage.Stage{Name: "cluster", Steps: steps, RowsSQL: "SELECT count(*) FROM " + stage.W("labels") + " WHERE eid = root"}
}
