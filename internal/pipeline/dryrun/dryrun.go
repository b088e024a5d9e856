// Package dryrun is the last stage of a dry run: it compares the proposed membership with the
// current one and writes only idr_out.dry_run_results, dry_run_edges and dry_run_skipped_groups
// (replaced: the latest dry run) and a dry_run_summary row. Production outputs and watermarks are not touched. Merges and splits
// come from the ids stage's overlap of proposed clusters with current ids.
package dryrun

import (
	"github.com/idr-dev/idr/internal/pipeline/edges"
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Change types of dry_run_results, in the order they are decided.
const (
	New       = "NEW"       // not in the current membership
	Removed   = "REMOVED"   // in the current membership, gone from the sources
	Merged    = "MERGED"    // its proposed cluster takes in members of several current clusters
	Split     = "SPLIT"     // the members of its current cluster go to several proposed clusters
	Moved     = "MOVED"     // otherwise, a resolved_id other than now
	Unchanged = "UNCHANGED" // same resolved_id as now, in a cluster that neither merged nor split
)

// Stage builds the dry-run outputs.
func Stage(c *stage.Context) stage.Stage {
	run := stage.Lit(c.RunID)
	results := stage.O("dry_run_results")
	proposed := "SELECT e.entity_key, m.root, k.resolved_id, k.cluster_size FROM " + stage.W("membership") + " m JOIN " + stage.W("entities") +
		" e ON e.eid = m.eid JOIN " + stage.W("clusters") + " k ON k.root = m.root"
	// The current side is the part the run recomputes (all of it for FULL): an incremental dry
	// run lists the entities it would recompute.
	current := "SELECT m.entity_key, m.resolved_id, k.cluster_size FROM " + c.PrevMembership() + " m JOIN " +
		"(SELECT resolved_id, count(*) AS cluster_size FROM " + c.PrevMembership() + " GROUP BY resolved_id) k ON k.resolved_id = m.resolved_id"
	mergedRoots := "(SELECT root FROM " + stage.W("id_overlap") + " GROUP BY root HAVING count(*) > 1)"
	splitIDs := "(SELECT old_id FROM " + stage.W("id_successors") + " GROUP BY old_id HAVING count(*) > 1)"
	insertResults := "INSERT INTO " + results + " SELECT " + run + ", coalesce(p.entity_key, c.entity_key), c.resolved_id, p.resolved_id, " +
		"CASE WHEN c.entity_key IS NULL THEN '" + New + "' WHEN p.entity_key IS NULL THEN '" + Removed + "' " +
		"WHEN mr.root IS NOT NULL THEN '" + Merged + "' WHEN sp.old_id IS NOT NULL THEN '" + Split + "' " +
		"WHEN c.resolved_id = p.resolved_id THEN '" + Unchanged + "' ELSE '" + Moved + "' END, c.cluster_size, p.cluster_size " +
		"FROM (" + proposed + ") p FULL OUTER JOIN (" + current + ") c ON c.entity_key = p.entity_key " +
		"LEFT JOIN " + mergedRoots + " mr ON mr.root = p.root LEFT JOIN " + splitIDs + " sp ON sp.old_id = c.resolved_id"
	count := func(change string) string {
		return "(SELECT count(*) FROM " + results + " WHERE change_type = '" + change + "')"
	}
	merged := "(SELECT count(*) FROM " + mergedRoots + " x)"
	split := "(SELECT count(*) FROM " + splitIDs + " x)"
	largest := "(SELECT max(cluster_size) FROM " + stage.W("clusters") + ")"
	largestID := "(SELECT min(resolved_id) FROM " + stage.W("clusters") + " WHERE cluster_size = " + largest + ")"
	summary := "INSERT INTO " + stage.O("dry_run_summary") + " SELECT " + run + ", " + stage.Lit(c.Mode) + ", " +
		count(New) + ", " + count(Moved) + ", " + count(Unchanged) + ", " + count(Removed) + ", " + merged + ", " + split + ", " +
		"(SELECT count(*) FROM " + stage.W("edges") + "), " + largest + ", " + largestID + ", " + c.NowLit()
	// The links and skipped groups behind the proposal, so that `idr explain --run-id` can show
	// chains and reasons for a dry run as it does for a committed one.
	// The edges of an incremental run are those it carries and those it recomputed: all of the part it recomputes.
	edgesOut := "INSERT INTO " + stage.O("dry_run_edges") + " SELECT " + run + ", w.rule_id, a.entity_key, b.entity_key, w.identifier_type, " +
		"w.identifier_value_norm FROM (" + edges.Named(c, false) + ") w JOIN " + stage.W("entities") + " a ON a.eid = w.l JOIN " + stage.W("entities") + " b ON b.eid = w.r"
	skipped := "INSERT INTO " + stage.O("dry_run_skipped_groups") + " SELECT " + run + ", identifier_type, value_norm, group_size, max_group_size, " +
		"sample_entity_keys, 'group of ' || " + c.Text("group_size") + " || ' entities exceeds max_group_size ' || " + c.Text("max_group_size") +
		" || ' of rule ' || rule_id, " + c.NowLit() + " FROM " + stage.W("skipped_groups")
	return stage.Stage{
		Name: "dryrun",
		Steps: stage.SQL("DELETE FROM "+results, insertResults, summary,
			"DELETE FROM "+stage.O("dry_run_edges"), edgesOut, "DELETE FROM "+stage.O("dry_run_skipped_groups"), skipped),
		RowsSQL: stage.Count(results),
	}
}
