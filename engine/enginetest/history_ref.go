package enginetest

// The reference of a history step: the partition, edges, skipped groups and golden profiles of
// the cumulative live data (via Reference), the golden-profile attributes, the stable resolved
// ids given the previous committed membership, and the run's cluster_history rows. Written from
// the documented rules (docs/outputs.md), sharing no code with the pipeline.

import (
	"sort"
	"strconv"
	"strings"
)

// historyWant is what the runs of one step must publish.
type historyWant struct {
	Membership map[string]string // entity_key -> resolved_id
	Clusters   map[string]int64  // resolved_id -> size
	Edges      []Edge
	Golden     map[string]string // resolved_id -> rendered columns
	Skipped    []SkippedGroup
	Changes    []string // rendered cluster_history rows
	Totals     pipelineTotals
}

// attrNames are the golden-profile attributes of every history (the default ones; sources feed
// them through same-named columns).
var attrNames = []string{"first_name", "last_name"}

// historyReference computes the outcome of step of h. softDelete says whether the database has
// idr_meta.source_soft_delete (without it, no row counts as deleted); prev is the reference
// membership after the previous step (nil before the first).
func historyReference(h *HistoryCase, step int, softDelete bool, prev map[string]string) *historyWant {
	st := h.Steps[step].State
	d := &Dataset{Seed: h.Seed, Index: h.Index, Rules: st.Rules, Exclusions: st.Exclusions, Normalizers: st.Normalizers}
	// Per entity: its live rows (for attributes) and its rank and watermark (for golden ties).
	type attrEntity struct {
		src  *HSource
		rows []HRow
	}
	entities := map[string]*attrEntity{}
	for _, s := range h.Sources {
		if st.Inactive[s.TableID] {
			continue
		}
		rank := st.Ranks[s.TableID]
		src := Source{TableID: s.TableID, Table: s.Table, KeyInt: s.KeyInt, HasWatermark: true, SourceRow: rank != nil, TrustRank: rank}
		for _, c := range s.Columns {
			c.Normalize = !st.Raw[s.TableID+"."+c.Name]
			src.Columns = append(src.Columns, c)
		}
		_, sd := st.SoftDelete[s.TableID]
		sd = sd && softDelete
		for _, row := range st.Rows[s.TableID] {
			if sd && row.Deleted != nil && *row.Deleted {
				continue // a soft-deleted row is absent
			}
			src.Rows = append(src.Rows, Row{Key: row.Key, Wm: s.wmText(row.Wm), Values: row.Values})
			if row.Key == nil {
				continue
			}
			key := s.TableID + ":" + *row.Key
			if entities[key] == nil {
				entities[key] = &attrEntity{src: s}
			}
			entities[key].rows = append(entities[key].rows, row)
		}
		d.Sources = append(d.Sources, src)
	}
	ref := Reference(d)

	// Golden-profile attributes: each entity gives the trimmed values of its latest row (by
	// watermark, NULL last; ties by the values, NULL last); per cluster the lowest trust_rank,
	// then latest entity watermark, then smallest entity key wins; NULL (and '') never wins.
	attrs := map[string]*refEntity{}
	for key, e := range entities {
		s := e.src
		re := &refEntity{key: key, tableID: s.TableID, ids: map[[2]string]bool{}, rank: st.Ranks[s.TableID]}
		vals := func(row HRow) []*string {
			var out []*string
			if s.FirstName {
				out = append(out, trimAttr(row.First))
			}
			if s.LastName {
				out = append(out, trimAttr(row.Last))
			}
			return out
		}
		var best *HRow
		for i := range e.rows {
			row := &e.rows[i]
			if w := s.wmText(row.Wm); w != nil && (re.wm == nil || *w > *re.wm) {
				re.wm = w
			}
			if best == nil || rowBefore(*row, *best, vals) {
				best = row
			}
		}
		names := []string{}
		if s.FirstName {
			names = append(names, "first_name")
		}
		if s.LastName {
			names = append(names, "last_name")
		}
		for i, v := range vals(*best) {
			if v != nil {
				re.ids[[2]string{names[i], *v}] = true
			}
		}
		attrs[key] = re
	}

	// Stable ids.
	parts := map[string][]string{}
	for k, root := range ref.Membership {
		parts[root] = append(parts[root], k)
	}
	for _, ms := range parts {
		sort.Strings(ms)
	}
	ids := expectedIDs(prev, parts)

	w := &historyWant{Membership: map[string]string{}, Clusters: map[string]int64{}, Golden: map[string]string{},
		Edges: ref.Edges, Skipped: ref.Skipped}
	for root, ms := range parts {
		id := ids[root]
		w.Clusters[id] = int64(len(ms))
		var es []*refEntity
		for _, k := range ms {
			w.Membership[k] = id
			es = append(es, attrs[k])
		}
		g := ref.Golden[root]
		cols := []string{"email_primary=" + showNullable(g.Email), "phone_primary=" + showNullable(g.Phone)}
		for _, a := range attrNames {
			cols = append(cols, a+"="+showNullable(winner(es, a)))
		}
		w.Golden[id] = strings.Join(cols, " ")
	}
	w.Changes = expectedChanges(prev, w.Membership)
	w.Totals = pipelineTotals{Entities: ref.Entities, Edges: int64(len(ref.Edges)), Clusters: int64(len(ref.Clusters)),
		GroupsSkipped: int64(len(ref.Skipped)), ValuesExcluded: ref.ValuesExcluded}
	return w
}

// trimAttr is an attribute value as the golden profile reads it: spaces trimmed, empty is NULL.
func trimAttr(v *string) *string {
	if v == nil {
		return nil
	}
	t := strings.Trim(*v, " ")
	if t == "" {
		return nil
	}
	return &t
}

// rowBefore orders an entity's rows for its attributes: watermark descending (NULL last), then
// the attribute values ascending (NULL last).
func rowBefore(a, b HRow, vals func(HRow) []*string) bool {
	switch {
	case a.Wm != nil && b.Wm == nil:
		return true
	case a.Wm == nil && b.Wm != nil:
		return false
	case a.Wm != nil && *a.Wm != *b.Wm:
		return *a.Wm > *b.Wm
	}
	va, vb := vals(a), vals(b)
	for i := range va {
		switch {
		case va[i] != nil && vb[i] == nil:
			return true
		case va[i] == nil && vb[i] != nil:
			return false
		case va[i] != nil && *va[i] != *vb[i]:
			return *va[i] < *vb[i]
		}
	}
	return false
}

// expectedIDs gives each new cluster (root -> sorted members) its resolved id from the
// previous membership (entity_key -> id), following docs/outputs.md:
//   - each previous id goes to its heir: the new cluster holding most of its (remaining)
//     members; tie: the cluster holding the smallest of them;
//   - a cluster that is heir of some ids keeps the one whose previous cluster was largest
//     (counting every previous member); tie: the smallest id;
//   - any other cluster takes its smallest key that no cluster keeps as an id; when every key
//     is kept, its smallest key followed by "~N", N one more than the largest N of a kept id
//     of that form (at least 2).
func expectedIDs(prev map[string]string, parts map[string][]string) map[string]string {
	oldSize := map[string]int{}
	for _, id := range prev {
		oldSize[id]++
	}
	type share struct {
		n      int
		minKey string
	}
	shares := map[string]map[string]*share{} // old id -> root -> share
	for root, ms := range parts {
		for _, k := range ms { // ascending, so the first member seen is the smallest
			old, ok := prev[k]
			if !ok {
				continue
			}
			if shares[old] == nil {
				shares[old] = map[string]*share{}
			}
			sh := shares[old][root]
			if sh == nil {
				sh = &share{minKey: k}
				shares[old][root] = sh
			}
			sh.n++
		}
	}
	heirOf := map[string][]string{} // root -> old ids it is heir of
	for old, byRoot := range shares {
		best := ""
		for root, sh := range byRoot {
			if b := byRoot[best]; best == "" || sh.n > b.n || sh.n == b.n && sh.minKey < b.minKey {
				best = root
			}
		}
		heirOf[best] = append(heirOf[best], old)
	}
	ids := map[string]string{}
	kept := map[string]bool{}
	for root, olds := range heirOf {
		best := ""
		for _, o := range olds {
			if best == "" || oldSize[o] > oldSize[best] || oldSize[o] == oldSize[best] && o < best {
				best = o
			}
		}
		ids[root] = best
		kept[best] = true
	}
	for root, ms := range parts {
		if _, ok := ids[root]; ok {
			continue
		}
		n := int64(1)
		for k := range kept {
			if rest, ok := strings.CutPrefix(k, ms[0]+"~"); ok {
				if v, err := strconv.ParseInt(rest, 10, 64); err == nil && v > n {
					n = v
				}
			}
		}
		id := ms[0] + "~" + strconv.FormatInt(n+1, 10)
		for _, k := range ms {
			if !kept[k] {
				id = k
				break
			}
		}
		ids[root] = id
	}
	return ids
}

// expectedChanges renders the cluster_history rows a run logs going from prev to next
// (entity_key -> id): NEW for a cluster none of whose members had an id; MERGED for a cluster
// holding members of several previous ids (related: those ids; previous count: the sum of their
// previous sizes); SPLIT for a previous id whose members went to several clusters (related:
// their ids); RETIRED for a previous id no cluster has now (related: the ids its members went
// to, NULL when none is left). Unchanged clusters log nothing.
func expectedChanges(prev, next map[string]string) []string {
	oldSize := map[string]int64{}
	for _, id := range prev {
		oldSize[id]++
	}
	newSize := map[string]int64{}
	for _, id := range next {
		newSize[id]++
	}
	into := map[string]map[string]bool{}  // new id -> previous ids of its members
	outOf := map[string]map[string]bool{} // previous id -> new ids of its members
	for k, id := range next {
		old, ok := prev[k]
		if !ok {
			continue
		}
		if into[id] == nil {
			into[id] = map[string]bool{}
		}
		into[id][old] = true
		if outOf[old] == nil {
			outOf[old] = map[string]bool{}
		}
		outOf[old][id] = true
	}
	var out []string
	for id, n := range newSize {
		olds := into[id]
		switch {
		case len(olds) == 0:
			zero := int64(0)
			out = append(out, changeLine("NEW", id, nil, &n, &zero))
		case len(olds) > 1:
			var sum int64
			for o := range olds {
				sum += oldSize[o]
			}
			out = append(out, changeLine("MERGED", id, ptr(strings.Join(sortedKeys(olds), ", ")), &n, &sum))
		}
	}
	for old, size := range oldSize {
		size := size
		succ := outOf[old]
		if len(succ) > 1 {
			out = append(out, changeLine("SPLIT", old, ptr(strings.Join(sortedKeys(succ), ", ")), nil, &size))
		}
		if _, current := newSize[old]; !current {
			var rel *string
			if len(succ) > 0 {
				rel = ptr(strings.Join(sortedKeys(succ), ", "))
			}
			out = append(out, changeLine("RETIRED", old, rel, nil, &size))
		}
	}
	return out
}
