// Package cluster is the clustering stage: exact connected components over all edges (the
// engine decides how: union-find in-process, or log-round SQL), then the resolved_id of each
// cluster, which is its smallest entity key (the smallest eid, as eids follow key order).
package cluster

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.labels, membership(eid, entity_key, root, resolved_id) and clusters(root, resolved_id, cluster_size);
// root is the cluster's smallest eid.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	steps := []stage.Step{{Components: &stage.Components{
		NodesTable: stage.W("entities"), EdgesTable: stage.W("edges"), OutTable: stage.W("labels"),
	}}}
	steps = append(steps, stage.SQL(
		d.ReplaceTable(stage.W("membership"), "SELECT e.eid, e.entity_key, l.root, r.entity_key AS resolved_id FROM "+stage.W("labels")+" l JOIN "+
			stage.W("entities")+" e ON e.eid = l.eid JOIN "+stage.W("entities")+" r ON r.eid = l.root"),
		d.ReplaceTable(stage.W("clusters"), "SELECT root, resolved_id, count(*) AS cluster_size FROM "+stage.W("membership")+" GROUP BY root, resolved_id"),
	)...)
	return stage.Stage{Name: "cluster", Steps: steps, RowsSQL: stage.Count(stage.W("clusters"))}
}
