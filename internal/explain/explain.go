package explain

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
)

// Link is one shared identifier between two neighbouring entities of a chain.
type Link struct {
	RuleID         string `json:"rule_id"`
	IdentifierType string `json:"identifier_type"`
	Value          string `json:"identifier_value_norm"`
}

// Step is one hop of a chain: From and To share every identifier in Links.
type Step struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Links []Link `json:"links"`
}

// Chain is a shortest path of shared identifiers between two entities of one cluster.
type Chain struct {
	Steps []Step `json:"steps"`
	// A member's chain in an entity's explanation stops after MaxMemberSteps steps: Omitted is
	// how many steps are left out before End, the explained entity.
	Omitted int    `json:"omitted_steps,omitempty"`
	End     string `json:"end,omitempty"`
}

// MaxMemberSteps caps each member's chain in an entity's explanation, so that a cluster made of
// one long chain does not print a quadratic number of steps; `idr explain A B` gives a whole chain.
const MaxMemberSteps = 20

// String renders a chain as `a -[EMAIL x, PHONE y]- b -[...]- c`.
func (c Chain) String() string {
	if len(c.Steps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(c.Steps[0].From)
	for _, s := range c.Steps {
		labels := make([]string, len(s.Links))
		for i, l := range s.Links {
			labels[i] = l.IdentifierType + " " + l.Value
		}
		b.WriteString(" -[" + strings.Join(labels, ", ") + "]- " + s.To)
	}
	if c.Omitted > 0 {
		fmt.Fprintf(&b, " ... %d more %s ... %s", c.Omitted, plural(c.Omitted, "step", "steps"), c.End)
	}
	return b.String()
}

// Member is an entity of the explained cluster with its chain to the explained entity.
type Member struct {
	EntityKey string `json:"entity_key"`
	Hops      int    `json:"hops"`
	Chain     Chain  `json:"chain"`
}

// SourceMembers are the cluster's members from one source.
type SourceMembers struct {
	TableID string   `json:"table_id"`
	Count   int      `json:"count"`
	Members []Member `json:"members"`
}

// Entity explains one entity: its cluster and how each member reaches it.
type Entity struct {
	Run         Run             `json:"run"`
	EntityKey   string          `json:"entity_key"`
	ResolvedID  string          `json:"resolved_id"`
	ClusterSize int             `json:"cluster_size"`
	Sources     []SourceMembers `json:"sources"`
	// Omitted is how many members were left out by the member limit.
	Omitted int `json:"omitted_members"`
}

// Ref is an entity of a pair with its cluster.
type Ref struct {
	EntityKey   string `json:"entity_key"`
	ResolvedID  string `json:"resolved_id"`
	ClusterSize int    `json:"cluster_size"`
}

// Pair explains whether and how two entities are linked.
type Pair struct {
	Run    Run    `json:"run"`
	A      Ref    `json:"a"`
	B      Ref    `json:"b"`
	Linked bool   `json:"linked"`
	Chain  *Chain `json:"chain,omitempty"`
	// Reasons why they are not linked, nearest first (empty when linked).
	Reasons []Reason `json:"reasons,omitempty"`
	// Note says what the reasons could not look at, if anything.
	Note string `json:"note,omitempty"`
}

// Explainer reads one run's results.
type Explainer struct {
	eng      engine.Engine
	run      Run
	tableIDs []string
}

// New prepares explanations of run (see ResolveRun).
func New(ctx context.Context, eng engine.Engine, run Run) (*Explainer, error) {
	res, err := query(ctx, eng, "idr_meta.source_table", "SELECT DISTINCT table_id FROM idr_meta.source_table WHERE table_id IS NOT NULL ORDER BY table_id")
	if err != nil {
		return nil, err
	}
	x := &Explainer{eng: eng, run: run}
	for _, row := range res.Rows {
		x.tableIDs = append(x.tableIDs, text(row[0]))
	}
	return x, nil
}

// Lookup finds an entity by its full entity_key, or by its bare key when exactly one source
// has it, and returns its entity_key and resolved_id in the run.
func (x *Explainer) Lookup(ctx context.Context, key string) (Ref, error) {
	candidates := []string{key}
	for _, t := range x.tableIDs {
		candidates = append(candidates, t+":"+key)
	}
	res, err := query(ctx, x.eng, "the membership", "SELECT m.entity_key, m.resolved_id FROM ("+x.run.membershipSQL()+") m WHERE m.entity_key IN "+
		inList(candidates)+" ORDER BY m.entity_key")
	if err != nil {
		return Ref{}, err
	}
	var matches []Ref
	for _, row := range res.Rows {
		r := Ref{EntityKey: text(row[0]), ResolvedID: text(row[1])}
		if r.EntityKey == key {
			matches = []Ref{r}
			break
		}
		matches = append(matches, r)
	}
	switch len(matches) {
	case 0:
		return Ref{}, errs.Usage("pass an entity key as in idr_out.identity_resolved_membership_current (table_id:key), or a key one source has",
			"unknown entity key %q: no entity of run %s has it", key, x.run.ID)
	case 1:
		return matches[0], nil
	default:
		keys := make([]string, len(matches))
		for i, m := range matches {
			keys[i] = m.EntityKey
		}
		return Ref{}, errs.Usage("pass the full entity key", "ambiguous key %q: %s all match", key, strings.Join(keys, ", "))
	}
}

// cluster is the graph of one cluster: its members and the groups (one per shared identifier
// value) that link them.
type cluster struct {
	members []string
	groups  map[Link][]string        // members of each group, sorted
	byKey   map[string][]Link        // groups of each member, sorted
	holds   map[Link]map[string]bool // members of each group, as a set
}

// loadCluster reads the members of resolvedID and the edges leaving them.
func (x *Explainer) loadCluster(ctx context.Context, resolvedID string) (*cluster, error) {
	inCluster := "SELECT entity_key FROM (" + x.run.membershipSQL() + ") m WHERE m.resolved_id = " + lit(resolvedID)
	res, err := query(ctx, x.eng, "the membership", inCluster+" ORDER BY entity_key")
	if err != nil {
		return nil, err
	}
	c := &cluster{groups: map[Link][]string{}, byKey: map[string][]Link{}, holds: map[Link]map[string]bool{}}
	for _, row := range res.Rows {
		c.members = append(c.members, text(row[0]))
	}
	res, err = query(ctx, x.eng, "the edges", "SELECT e.rule_id, e.left_entity_key, e.right_entity_key, e.identifier_type, e.identifier_value_norm FROM ("+
		x.run.edgesSQL()+") e WHERE e.left_entity_key IN ("+inCluster+")")
	if err != nil {
		return nil, err
	}
	seen := c.holds
	add := func(l Link, key string) {
		if seen[l] == nil {
			seen[l] = map[string]bool{}
		}
		if !seen[l][key] {
			seen[l][key] = true
			c.groups[l] = append(c.groups[l], key)
			c.byKey[key] = append(c.byKey[key], l)
		}
	}
	for _, row := range res.Rows {
		l := Link{RuleID: text(row[0]), IdentifierType: text(row[3]), Value: text(row[4])}
		add(l, text(row[1]))
		add(l, text(row[2]))
	}
	for l := range c.groups {
		sort.Strings(c.groups[l])
	}
	for k := range c.byKey {
		sort.Slice(c.byKey[k], func(i, j int) bool { return linkLess(c.byKey[k][i], c.byKey[k][j]) })
	}
	return c, nil
}

func linkLess(a, b Link) bool {
	if a.IdentifierType != b.IdentifierType {
		return a.IdentifierType < b.IdentifierType
	}
	return a.Value < b.Value
}

// tree is a breadth-first search from root: every reachable member's hop count and next entity
// towards root.
type tree struct {
	root string
	dist map[string]int
	next map[string]string
}

// bfs searches from root. Neighbours are visited in (identifier, key) order, so ties break the
// same way every time. Each group is expanded once, by the first member reached: its other
// members are all one step further, so a group of n costs n, not n squared.
func (c *cluster) bfs(root string) *tree {
	t := &tree{root: root, dist: map[string]int{root: 0}, next: map[string]string{}}
	expanded := map[Link]bool{}
	queue := []string{root}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, g := range c.byKey[u] {
			if expanded[g] {
				continue
			}
			expanded[g] = true
			for _, v := range c.groups[g] {
				if _, ok := t.dist[v]; !ok {
					t.dist[v] = t.dist[u] + 1
					t.next[v] = u
					queue = append(queue, v)
				}
			}
		}
	}
	return t
}

// chain walks from key to the tree's root; each step lists every identifier the two entities
// share. With maxSteps > 0 it stops after that many steps and counts the rest.
func (c *cluster) chain(key string, t *tree, maxSteps int) Chain {
	ch := Chain{Steps: []Step{}}
	for {
		to, ok := t.next[key]
		if !ok {
			return ch
		}
		if maxSteps > 0 && len(ch.Steps) == maxSteps {
			ch.Omitted, ch.End = t.dist[key], t.root
			return ch
		}
		ch.Steps = append(ch.Steps, Step{From: key, To: to, Links: c.shared(key, to)})
		key = to
	}
}

// shared lists the groups holding both a and b.
func (c *cluster) shared(a, b string) []Link {
	var out []Link
	for _, l := range c.byKey[a] {
		if c.holds[l][b] {
			out = append(out, l)
		}
	}
	return out
}

// tableOf is the source of an entity key: the longest registered table_id it starts with.
func (x *Explainer) tableOf(key string) string {
	best := ""
	for _, t := range x.tableIDs {
		if strings.HasPrefix(key, t+":") && len(t) > len(best) {
			best = t
		}
	}
	if best == "" {
		if i := strings.Index(key, ":"); i > 0 {
			return key[:i]
		}
	}
	return best
}

// Entity explains the entity with key (full or bare): its cluster and, for each member, the
// shortest chain to it. limit caps the members listed (0: all), nearest first.
func (x *Explainer) Entity(ctx context.Context, key string, limit int) (*Entity, error) {
	ref, err := x.Lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	c, err := x.loadCluster(ctx, ref.ResolvedID)
	if err != nil {
		return nil, err
	}
	t := c.bfs(ref.EntityKey)
	members := make([]Member, 0, len(c.members))
	for _, m := range c.members {
		d, ok := t.dist[m]
		if !ok {
			d = -1 // not reachable through the stored links: the outputs are inconsistent
		}
		members = append(members, Member{EntityKey: m, Hops: d})
	}
	out := &Entity{Run: x.run, EntityKey: ref.EntityKey, ResolvedID: ref.ResolvedID, ClusterSize: len(c.members)}
	if limit > 0 && len(members) > limit {
		unreachable := func(m Member) int {
			if m.Hops < 0 {
				return 1
			}
			return 0
		}
		sort.SliceStable(members, func(i, j int) bool {
			a, b := members[i], members[j]
			if unreachable(a) != unreachable(b) {
				return unreachable(a) < unreachable(b)
			}
			return a.Hops < b.Hops
		})
		out.Omitted = len(members) - limit
		members = members[:limit]
	}
	for i := range members {
		members[i].Chain = c.chain(members[i].EntityKey, t, MaxMemberSteps)
	}
	bySource := map[string]*SourceMembers{}
	var tables []string
	for _, m := range members {
		t := x.tableOf(m.EntityKey)
		if bySource[t] == nil {
			bySource[t] = &SourceMembers{TableID: t}
			tables = append(tables, t)
		}
		bySource[t].Members = append(bySource[t].Members, m)
	}
	for _, m := range c.members {
		if s := bySource[x.tableOf(m)]; s != nil {
			s.Count++
		}
	}
	sort.Strings(tables)
	for _, t := range tables {
		s := bySource[t]
		sort.Slice(s.Members, func(i, j int) bool { return s.Members[i].EntityKey < s.Members[j].EntityKey })
		out.Sources = append(out.Sources, *s)
	}
	return out, nil
}

// Pair explains whether entities a and b (full or bare keys) are linked: the shortest chain
// between them, or the nearest reasons they are not.
func (x *Explainer) Pair(ctx context.Context, a, b string) (*Pair, error) {
	ra, err := x.Lookup(ctx, a)
	if err != nil {
		return nil, err
	}
	rb, err := x.Lookup(ctx, b)
	if err != nil {
		return nil, err
	}
	if ra.EntityKey == rb.EntityKey {
		return nil, errs.Usage("pass two different entities", "%q and %q are the same entity %s", a, b, ra.EntityKey)
	}
	ca, err := x.loadCluster(ctx, ra.ResolvedID)
	if err != nil {
		return nil, err
	}
	ra.ClusterSize = len(ca.members)
	out := &Pair{Run: x.run, A: ra, B: rb}
	if ra.ResolvedID == rb.ResolvedID {
		out.B.ClusterSize = ra.ClusterSize
		t := ca.bfs(rb.EntityKey)
		if _, ok := t.next[ra.EntityKey]; ok {
			ch := ca.chain(ra.EntityKey, t, 0)
			out.Linked, out.Chain = true, &ch
			return out, nil
		}
		// Same cluster but no stored path: say so rather than invent one.
		out.Note = "both are in cluster " + ra.ResolvedID + " but its stored links do not connect them; run again to rebuild the outputs"
		return out, nil
	}
	cb, err := x.loadCluster(ctx, rb.ResolvedID)
	if err != nil {
		return nil, err
	}
	out.B.ClusterSize = len(cb.members)
	out.Reasons, out.Note, err = x.reasons(ctx, ra.EntityKey, ca, rb.EntityKey, cb)
	if err != nil {
		return nil, err
	}
	return out, nil
}
