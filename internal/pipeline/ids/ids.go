// Package ids is the stage that gives clusters stable resolved ids. Ids follow clusters across
// runs instead of being recomputed from scratch:
//
//   - a cluster with no member in the current outputs takes its smallest entity key;
//   - each current id goes to its heir: the new cluster holding most of its members (tie: the
//     part holding the smallest key), so on a split the largest part keeps the id;
//   - a new cluster that is heir of several ids (a merge) keeps the id of the largest current
//     cluster among them (tie: the smallest id); so an unchanged cluster keeps its id;
//   - a cluster that keeps no id takes its smallest entity key not kept as an id by another
//     cluster. A retired id can so come back: a split that undoes a merge gives the part its
//     old id. When every key is taken (one entity split off a cluster that keeps its key as
//     id), the cluster takes its smallest key with "~N", the next free N from 2.
//
// The stage also derives the run's cluster changes (NEW, MERGED, SPLIT, RETIRED) for
// idr_out.cluster_history and the successors of every id that changed, for the lookup.
//
// From empty outputs this is "resolved_id = smallest entity key of the cluster".
package ids

import (
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.id_overlap, old_clusters, id_kept, cluster_ids and clusters(root, resolved_id, cluster_size);
// for a FULL run first prev_eids, for an incremental one last entities_in.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	w, o := stage.W, stage.O
	// The previous membership of the part being recomputed (all of it for FULL; see scope).
	prev := c.PrevMembership()
	var steps []string
	overlap := "SELECT m.root, p.resolved_id AS old_id, count(*) AS shared, min(m.eid) AS part_min_eid FROM " + w("membership") +
		" m JOIN " + w("prev_eids") + " p ON p.eid = m.eid GROUP BY m.root, p.resolved_id"
	if c.Incremental {
		// Scope gave every recomputed entity its current id (prev_id): no join on keys.
		overlap = "SELECT m.root, e.prev_id AS old_id, count(*) AS shared, min(m.eid) AS part_min_eid FROM " + w("membership") +
			" m JOIN " + w("entities") + " e ON e.eid = m.eid WHERE e.prev_id IS NOT NULL GROUP BY m.root, e.prev_id"
	} else {
		// A FULL run numbers the entities afresh: the one join on entity keys maps the current
		// entities to this run's eids, with their current ids (and entity_id, for the links'
		// first_seen_ts in audit).
		steps = append(steps, d.ReplaceTable(w("prev_eids"), "SELECT s.entity_id, e.eid, s.resolved_id FROM "+o("identity_entities_current")+" s JOIN "+
			w("entities")+" e ON e.entity_key = s.entity_key"))
	}
	oldClusters := "SELECT resolved_id AS old_id, count(*) AS old_size FROM " + prev + " GROUP BY resolved_id"
	kept := "SELECT root, old_id FROM (SELECT h.root, h.old_id, row_number() OVER (PARTITION BY h.root ORDER BY o.old_size DESC, h.old_id ASC) AS rn " +
		"FROM (SELECT root, old_id, row_number() OVER (PARTITION BY old_id ORDER BY shared DESC, part_min_eid ASC) AS rn FROM " + w("id_overlap") + ") h " +
		"JOIN " + w("old_clusters") + " o ON o.old_id = h.old_id WHERE h.rn = 1) x WHERE rn = 1"
	// Ids of clusters outside the recomputed part stay in use.
	inUse := "SELECT old_id FROM " + w("id_kept")
	if c.Incremental {
		inUse += " UNION ALL SELECT k.resolved_id FROM " + o("identity_clusters_current") + " k LEFT JOIN " + w("affected_ids") +
			" a ON a.resolved_id = k.resolved_id WHERE a.resolved_id IS NULL"
	}
	// Only the clusters that keep no id look for a free key. A cluster's smallest key is its
	// root's (eids follow key order), and it is free unless an id in use equals it: only the few
	// clusters whose root key is taken compare their other members' keys with the ids in use.
	// The ids in use are distinct (an id is kept by one cluster at most, and the clusters outside
	// the recomputed part have ids of their own), so joining them repeats no row.
	used := "(" + inUse + ")"
	roots := "SELECT m.root, e.entity_key AS min_key, u.old_id IS NOT NULL AS taken FROM " + w("membership") + " m JOIN " + w("entities") +
		" e ON e.eid = m.eid LEFT JOIN " + w("id_kept") + " h ON h.root = m.root LEFT JOIN " + used + " u ON u.old_id = e.entity_key " +
		"WHERE m.eid = m.root AND h.root IS NULL"
	others := "SELECT m.root, min(e.entity_key) AS free_key FROM " + w("id_roots") + " r JOIN " + w("membership") + " m ON m.root = r.root JOIN " +
		w("entities") + " e ON e.eid = m.eid LEFT JOIN " + used + " u ON u.old_id = e.entity_key WHERE r.taken AND u.old_id IS NULL GROUP BY m.root"
	fresh := "SELECT r.root, CASE WHEN r.taken THEN o.free_key ELSE r.min_key END AS free_key, r.min_key FROM " + w("id_roots") +
		" r LEFT JOIN (" + others + ") o ON o.root = r.root"
	// A cluster none of whose keys is free (typically one entity split off a cluster that keeps
	// that entity's key as its id) takes its smallest key with "~N", N one more than the largest
	// such suffix in use: deterministic, so the same history gives the same ids anywhere.
	const suffixed = "'^(.*)~([0-9]+)$'"
	taken := "SELECT regexp_extract(old_id, " + suffixed + ", 1) AS base, " + c.D.TryBigint("regexp_extract(old_id, "+suffixed+", 2)") +
		" AS n FROM (" + inUse + ") x WHERE old_id LIKE '%~%'"
	fallback := "SELECT f.root, f.min_key || '~' || " + c.Text("coalesce(max(u.n), 1) + 1") + " AS fallback_id FROM (SELECT root, min_key FROM " +
		w("id_fresh") + " WHERE free_key IS NULL) f LEFT JOIN (" + taken + ") u ON u.base = f.min_key GROUP BY f.root, f.min_key"
	clusterIDs := "SELECT root, old_id AS resolved_id, TRUE AS kept_id FROM " + w("id_kept") + " UNION ALL SELECT f.root, coalesce(f.free_key, b.fallback_id), FALSE FROM " +
		w("id_fresh") + " f LEFT JOIN " + w("id_fallback") + " b ON b.root = f.root"
	var diff []string
	if c.Incremental {
		// The entities' state publish rewrites: that of the entities in the delta and of those
		// whose id changed, with their resolved ids. An entity keeps the time it got its id until
		// the id changes. (Entities of the delta with no live row left are no node: publish
		// deletes them.)
		diff = []string{d.ReplaceTable(w("entities_in"), "SELECT e.entity_key, e.table_id, e.watermark, e.row_count, e.content_hash, e.entity_id, "+
			"k.resolved_id, CASE WHEN e.prev_id = k.resolved_id THEN e.prev_ts ELSE "+c.NowLit()+" END AS resolved_ts FROM "+w("membership")+
			" m JOIN "+w("entities")+" e ON e.eid = m.eid JOIN "+w("clusters")+" k ON k.root = m.root WHERE e.changed OR e.prev_id IS NULL OR e.prev_id <> k.resolved_id")}
	}
	return stage.Stage{
		Name: "ids",
		Steps: stage.SQL(append(append(steps,
			d.ReplaceTable(w("id_overlap"), overlap),
			d.ReplaceTable(w("old_clusters"), oldClusters),
			d.ReplaceTable(w("id_kept"), kept),
			d.ReplaceTable(w("id_roots"), roots),
			d.ReplaceTable(w("id_fresh"), fresh),
			d.ReplaceTable(w("id_fallback"), fallback),
			d.ReplaceTable(w("cluster_ids"), clusterIDs),
			// Each entity's resolved id is its cluster's: later stages join the clusters by root.
			d.ReplaceTable(w("clusters"), "SELECT i.root, i.resolved_id, k.cluster_size FROM "+w("cluster_ids")+" i JOIN (SELECT root, count(*) AS cluster_size FROM "+
				w("membership")+" GROUP BY root) k ON k.root = i.root"),
			d.ReplaceTable(w("id_successors"), "SELECT DISTINCT v.old_id, i.resolved_id AS new_id FROM "+w("id_overlap")+" v JOIN "+
				w("cluster_ids")+" i ON i.root = v.root"),
			d.ReplaceTable(w("cluster_changes"), changes(c)),
			d.ReplaceTable(w("lookup_next"), lookupNext(c)),
		), diff...)...),
		RowsSQL: "SELECT count(*) FROM " + w("cluster_ids") + " WHERE kept_id",
	}
}

// Change types of idr_out.cluster_history.
const (
	New     = "NEW"     // a cluster of entities none of which had an id
	Merged  = "MERGED"  // a cluster that took in members of several current clusters; related_ids: their ids
	Split   = "SPLIT"   // a current id whose members went to several clusters; related_ids: their ids
	Retired = "RETIRED" // a current id no cluster keeps; related_ids: the ids its members went to
)

func changes(c *stage.Context) string {
	w := stage.W
	agg := func(expr string) string { return c.D.StringAgg(expr, ", ", expr) }
	text := "CAST(NULL AS " + c.D.Type("TEXT") + ")"
	bigint := "CAST(NULL AS BIGINT)"
	// Merges and splits are few: find them first, then join only those.
	mergedRoots := "(SELECT root FROM " + w("id_overlap") + " GROUP BY root HAVING count(*) > 1)"
	splitIDs := "(SELECT old_id FROM " + w("id_successors") + " GROUP BY old_id HAVING count(*) > 1)"
	return "SELECT '" + New + "' AS change_type, i.resolved_id, " + text + " AS related_ids, k.cluster_size AS member_count, CAST(0 AS BIGINT) AS previous_member_count FROM " +
		w("cluster_ids") + " i JOIN " + w("clusters") + " k ON k.root = i.root LEFT JOIN (SELECT DISTINCT root FROM " + w("id_overlap") + ") v ON v.root = i.root WHERE v.root IS NULL" +
		" UNION ALL SELECT '" + Merged + "', i.resolved_id, " + agg("v.old_id") + ", k.cluster_size, sum(o.old_size) FROM " + mergedRoots + " mr JOIN " +
		w("id_overlap") + " v ON v.root = mr.root JOIN " + w("cluster_ids") + " i ON i.root = v.root JOIN " + w("clusters") + " k ON k.root = v.root JOIN " +
		w("old_clusters") + " o ON o.old_id = v.old_id GROUP BY i.resolved_id, k.cluster_size" +
		" UNION ALL SELECT '" + Split + "', s.old_id, " + agg("s.new_id") + ", " + bigint + ", o.old_size FROM " + splitIDs + " sp JOIN " +
		w("id_successors") + " s ON s.old_id = sp.old_id JOIN " + w("old_clusters") + " o ON o.old_id = s.old_id GROUP BY s.old_id, o.old_size" +
		" UNION ALL SELECT '" + Retired + "', r.old_id, " + agg("s.new_id") + ", " + bigint + ", r.old_size FROM (SELECT o.old_id, o.old_size FROM " +
		w("old_clusters") + " o LEFT JOIN " + w("cluster_ids") + " i ON i.resolved_id = o.old_id WHERE i.resolved_id IS NULL) r LEFT JOIN " +
		w("id_successors") + " s ON s.old_id = r.old_id GROUP BY r.old_id, r.old_size"
}

// lookupNext is idr_out.resolved_id_lookup after this run: every id that was retired or split,
// pointing at the current ids holding the entities it had (NULL when none is left). Rows that
// pointed at an id that changed in this run are re-pointed at that id's successors; an id that
// a cluster takes again (a split undoing a merge) is current again and leaves the lookup.
func lookupNext(c *stage.Context) string {
	w, o := stage.W, stage.O
	ts := c.NowLit()
	run := stage.Lit(c.RunID)
	changed := "(SELECT resolved_id AS old_id, max(change_type) AS change_type FROM " + w("cluster_changes") +
		" WHERE change_type IN ('SPLIT', 'RETIRED') GROUP BY resolved_id)"
	return "SELECT old_resolved_id, current_resolved_id, max(change_type) AS change_type, max(run_id) AS run_id, max(updated_ts) AS updated_ts FROM (" +
		// Rows whose target did not change stay.
		"SELECT l.old_resolved_id, l.current_resolved_id, l.change_type, l.run_id, l.updated_ts FROM " + o("resolved_id_lookup") + " l LEFT JOIN " +
		changed + " x ON x.old_id = l.current_resolved_id WHERE x.old_id IS NULL" +
		// Rows whose target changed follow it to its successors.
		" UNION ALL SELECT l.old_resolved_id, s.new_id, x.change_type, " + run + ", " + ts + " FROM " + o("resolved_id_lookup") + " l JOIN " +
		changed + " x ON x.old_id = l.current_resolved_id LEFT JOIN " + w("id_successors") + " s ON s.old_id = x.old_id" +
		// Ids that changed in this run point at their successors.
		" UNION ALL SELECT x.old_id, s.new_id, x.change_type, " + run + ", " + ts + " FROM " + changed + " x LEFT JOIN " +
		w("id_successors") + " s ON s.old_id = x.old_id" +
		") t LEFT JOIN (SELECT resolved_id FROM " + w("cluster_ids") + " WHERE NOT kept_id) f ON f.resolved_id = t.old_resolved_id " +
		"WHERE f.resolved_id IS NULL GROUP BY old_resolved_id, current_resolved_id"
}
