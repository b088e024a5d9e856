// Package cluster is the clustering stage: exact connected components over all edges (the
// engine decides how: union-find in-process, or log-round SQL). Each entity gets the root of its
// cluster, the smallest eid (so the smallest entity key, as eids follow key order); the ids
// stage then turns roots into stable resolved ids.
package cluster

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.membership(eid, root): two integers per entity. Later stages join the
// entities (keys, an incremental run's current ids) and the clusters (resolved ids) by eid and
// root where they need them, instead of carrying 10M keys and ids through a copy of the labels.
func Stage(c *stage.Context) stage.Stage {
	steps := []stage.Step{{Components: &stage.Components{
		NodesTable: stage.W("entities"), EdgesTable: stage.W("edges"), OutTable: stage.W("membership"),
	}}}
	return stage.Stage{Name: "cluster", Steps: steps, RowsSQL: "SELECT count(*) FROM " + stage.W("membership") + " WHERE eid = root"}
}
