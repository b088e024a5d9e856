// Package dryrun is the last stage of a dry run: it compares the proposed membership with the
// current one and writes only idr_out.dry_run_results (replaced: the latest dry run) and a
// dry_run_summary row. Production outputs and watermarks are not touched.
package dryrun

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Change types of dry_run_results.
const (
	New       = "NEW"       // not in the current membership
	Moved     = "MOVED"     // in a cluster with another resolved_id than now
	Unchanged = "UNCHANGED" // same resolved_id as now
	Removed   = "REMOVED"   // in the current membership, gone from the sources
)

// Stage builds the dry-run outputs.
func Stage(c *stage.Context) stage.Stage {
	run := stage.Lit(c.RunID)
	results := stage.O("dry_run_results")
	proposed := "SELECT m.entity_key, m.resolved_id, k.cluster_size FROM " + stage.W("membership") + " m JOIN " + stage.W("clusters") +
		" k ON k.resolved_id = m.resolved_id"
	current := "SELECT m.entity_key, m.resolved_id, k.cluster_size FROM " + stage.O("identity_resolved_membership_current") + " m JOIN " +
		"(SELECT resolved_id, count(*) AS cluster_size FROM " + stage.O("identity_resolved_membership_current") + " GROUP BY resolved_id) k ON k.resolved_id = m.resolved_id"
	insertResults := "INSERT INTO " + results + " SELECT " + run + ", coalesce(p.entity_key, c.entity_key), c.resolved_id, p.resolved_id, " +
		"CASE WHEN c.entity_key IS NULL THEN '" + New + "' WHEN p.entity_key IS NULL THEN '" + Removed + "' " +
		"WHEN c.resolved_id = p.resolved_id THEN '" + Unchanged + "' ELSE '" + Moved + "' END, c.cluster_size, p.cluster_size " +
		"FROM (" + proposed + ") p FULL OUTER JOIN (" + current + ") c ON c.entity_key = p.entity_key"
	count := func(change string) string {
		return "(SELECT count(*) FROM " + results + " WHERE change_type = '" + change + "')"
	}
	// A proposed cluster drawing entities from several current clusters is a merge; a current
	// cluster whose entities go to several proposed clusters is a split.
	both := " FROM " + results + " WHERE current_resolved_id IS NOT NULL AND proposed_resolved_id IS NOT NULL"
	merged := "(SELECT count(*) FROM (SELECT proposed_resolved_id" + both + " GROUP BY proposed_resolved_id HAVING count(DISTINCT current_resolved_id) > 1) x)"
	split := "(SELECT count(*) FROM (SELECT current_resolved_id" + both + " GROUP BY current_resolved_id HAVING count(DISTINCT proposed_resolved_id) > 1) x)"
	largest := "(SELECT max(cluster_size) FROM " + stage.W("clusters") + ")"
	largestID := "(SELECT min(resolved_id) FROM " + stage.W("clusters") + " WHERE cluster_size = " + largest + ")"
	summary := "INSERT INTO " + stage.O("dry_run_summary") + " SELECT " + run + ", " + stage.Lit(c.Mode) + ", " +
		count(New) + ", " + count(Moved) + ", " + count(Unchanged) + ", " + count(Removed) + ", " + merged + ", " + split + ", " +
		"(SELECT count(*) FROM " + stage.W("edges") + "), " + largest + ", " + largestID + ", " + c.NowLit()
	return stage.Stage{
		Name:    "dryrun",
		Steps:   stage.SQL("DELETE FROM "+results, insertResults, summary),
		RowsSQL: stage.Count(results),
	}
}
