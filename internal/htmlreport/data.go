// Package htmlreport owns `idr report`: it gathers summaries of a database's idr_out and
// idr_meta tables through engine.Engine and renders them as one self-contained HTML file
// (inline CSS and JavaScript, data embedded as JSON, no network access needed to view it).
//
// A report stays small on a big database: it embeds aggregates, the top-N clusters with their
// graphs, and a search index, each under a cap (see Options); never every row.
package htmlreport

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/schema"
)

// Defaults and upper bounds of the caps. docs/report.md documents them.
const (
	DefaultTop = 25
	MaxTop     = 500
	// DefaultGraphMembers is how many members of one cluster its graph shows at most.
	DefaultGraphMembers = 300
	// DefaultGraphNodes is how many members all embedded graphs hold together at most.
	DefaultGraphNodes = 20000
	// DefaultIndexEntries is the search index's size at most: entity keys plus distinct
	// (identifier type, value, cluster) entries.
	DefaultIndexEntries = 50000
	DefaultHistoryRuns  = 100
	DefaultListRows     = 100
)

// Options set what a report embeds.
type Options struct {
	Top          int // largest clusters listed, each with its graph while GraphNodes lasts
	GraphMembers int
	GraphNodes   int
	IndexEntries int
	HistoryRuns  int // most recent runs in the trend
	ListRows     int // rows of skipped groups and exclusions shown
	Database     string
	Now          time.Time
}

func (o *Options) defaults() {
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	set(&o.Top, DefaultTop)
	set(&o.GraphMembers, DefaultGraphMembers)
	set(&o.GraphNodes, DefaultGraphNodes)
	set(&o.IndexEntries, DefaultIndexEntries)
	set(&o.HistoryRuns, DefaultHistoryRuns)
	set(&o.ListRows, DefaultListRows)
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Data is everything a report shows; it is embedded in the page as JSON.
type Data struct {
	Generated string `json:"generated"`
	Database  string `json:"database"`
	Engine    string `json:"engine"`

	Latest     *Run             `json:"latest"`    // the most recent run, whatever its status
	Committed  *Run             `json:"committed"` // the most recent committed run
	Stages     []Stage          `json:"stages"`    // of the latest run
	Changes    map[string]int64 `json:"changes"`   // cluster_history of the committed run by change_type
	History    []Run            `json:"history"`   // oldest first
	HistoryCap bool             `json:"history_capped"`

	Totals          Totals     `json:"totals"`
	SizeBuckets     []Bucket   `json:"size_buckets"`
	IdentBuckets    []Bucket   `json:"identifier_buckets"`
	Sources         []Source   `json:"sources"`
	IdentifierTypes []IdentSum `json:"identifier_types"`
	Rules           []Rule     `json:"rules"`

	Clusters []Cluster        `json:"clusters"` // the largest, in order
	Graphs   map[string]Graph `json:"graphs"`
	Index    Index            `json:"index"`

	Skipped      []Skipped   `json:"skipped"`
	SkippedTotal int64       `json:"skipped_total"`
	Exclusions   []Exclusion `json:"exclusions"`
	ExclTotal    int64       `json:"exclusions_total"`

	Caps Caps `json:"caps"`
}

// Run is one row of idr_out.run_history.
type Run struct {
	RunID          string  `json:"run_id"`
	Mode           string  `json:"mode"`
	Status         string  `json:"status"`
	DryRun         bool    `json:"dry_run"`
	Started        string  `json:"started"`
	Ended          string  `json:"ended"`
	Seconds        float64 `json:"seconds"`
	RowsRead       int64   `json:"rows_read"`
	Entities       int64   `json:"entities"`
	Identifiers    int64   `json:"identifiers"`
	ValuesExcluded int64   `json:"values_excluded"`
	GroupsSkipped  int64   `json:"groups_skipped"`
	Edges          int64   `json:"edges"`
	Clusters       int64   `json:"clusters"`
	LargestSize    int64   `json:"largest_size"`
	LargestID      string  `json:"largest_id"`
	FailedStage    string  `json:"failed_stage"`
	Error          string  `json:"error"`
}

// Stage is one row of idr_out.stage_metrics.
type Stage struct {
	Stage string `json:"stage"`
	Rows  int64  `json:"rows"`
	MS    int64  `json:"ms"`
}

// Totals describe the current outputs.
type Totals struct {
	Entities     int64  `json:"entities"`
	Clusters     int64  `json:"clusters"`
	Edges        int64  `json:"edges"`
	Identifiers  int64  `json:"identifiers"`
	Singletons   int64  `json:"singletons"`
	MultiSource  int64  `json:"multi_source"`
	LargestSize  int64  `json:"largest_size"`
	LargestID    string `json:"largest_id"`
	SourceTables int64  `json:"source_tables"`
}

// Bucket is a bar of a distribution: Count clusters have Lo..Hi of something.
type Bucket struct {
	Lo    int64 `json:"lo"`
	Hi    int64 `json:"hi"`
	Count int64 `json:"count"`
}

// Source is one source table's contribution.
type Source struct {
	TableID  string `json:"table_id"`
	Name     string `json:"name"`
	Entities int64  `json:"entities"`
	Clusters int64  `json:"clusters"` // clusters holding at least one of its entities
	Shared   int64  `json:"shared"`   // of those, clusters that also hold another source's entities
}

// IdentSum describes one identifier type in the current outputs.
type IdentSum struct {
	Type        string `json:"type"`
	Identifiers int64  `json:"identifiers"`
	Values      int64  `json:"values"`
	Entities    int64  `json:"entities"`
	Clusters    int64  `json:"clusters"`
}

// Rule is one row of idr_out.rule_match_audit_current.
type Rule struct {
	RuleID         string `json:"rule_id"`
	Type           string `json:"type"`
	Identifiers    int64  `json:"identifiers"`
	GroupsTotal    int64  `json:"groups_total"`
	GroupsLinked   int64  `json:"groups_linked"`
	GroupsSkipped  int64  `json:"groups_skipped"`
	ValuesExcluded int64  `json:"values_excluded"`
	Edges          int64  `json:"edges"`
	Linked         int64  `json:"entities_linked"`
}

// Cluster is one of the largest clusters.
type Cluster struct {
	ID          string           `json:"id"`
	Size        int64            `json:"size"`
	Edges       int64            `json:"edges"`
	Identifiers int64            `json:"identifiers"` // distinct (type, value) pairs
	Sources     map[string]int64 `json:"sources"`
	Email       string           `json:"email"`
	Phone       string           `json:"phone"`
	Name        string           `json:"name"`
	HasGraph    bool             `json:"has_graph"`
}

// Graph is a cluster's members and the edges between them.
type Graph struct {
	Members    []Node `json:"members"`
	Edges      []Edge `json:"edges"`
	Size       int64  `json:"size"`
	EdgesTotal int64  `json:"edges_total"` // of the whole cluster
	Truncated  bool   `json:"truncated"`   // only the first GraphMembers members (by entity key)
}

// Node is an entity in a graph.
type Node struct {
	Key         string      `json:"key"`
	Source      string      `json:"source"`
	Identifiers [][2]string `json:"identifiers"` // (type, value)
}

// Edge is a row of idr_out.identity_edges_current.
type Edge struct {
	Left  string `json:"l"`
	Right string `json:"r"`
	Type  string `json:"type"`
	Value string `json:"value"`
	Rule  string `json:"rule"`
}

// Index maps entity keys and identifier values to clusters, by position in IDs.
type Index struct {
	IDs      []string `json:"ids"`
	Sizes    []int64  `json:"sizes"`
	Keys     [][2]any `json:"keys"`   // (entity_key, cluster)
	Values   [][3]any `json:"values"` // (identifier_type, value, cluster)
	Complete bool     `json:"complete"`
	ids      map[string]int
}

func (ix *Index) id(rid string, size int64) int {
	if i, ok := ix.ids[rid]; ok {
		return i
	}
	ix.ids[rid] = len(ix.IDs)
	ix.IDs = append(ix.IDs, rid)
	ix.Sizes = append(ix.Sizes, size)
	return len(ix.IDs) - 1
}

func (ix *Index) entries() int { return len(ix.Keys) + len(ix.Values) }

// Skipped is a row of idr_out.skipped_identifier_groups.
type Skipped struct {
	RunID    string `json:"run_id"`
	Type     string `json:"type"`
	Value    string `json:"value"`
	Size     int64  `json:"size"`
	MaxGroup int64  `json:"max_group_size"`
	Sample   string `json:"sample"`
	Reason   string `json:"reason"`
}

// Exclusion is a row of idr_meta.identifier_exclusion.
type Exclusion struct {
	Type      string `json:"type"`
	Pattern   string `json:"pattern"`
	IsPattern bool   `json:"is_pattern"`
	Reason    string `json:"reason"`
}

// Caps record the limits in force and whether the database hit them.
type Caps struct {
	Top            int `json:"top"`
	GraphMembers   int `json:"graph_members"`
	GraphNodes     int `json:"graph_nodes"`
	IndexEntries   int `json:"index_entries"`
	HistoryRuns    int `json:"history_runs"`
	ListRows       int `json:"list_rows"`
	GraphsEmbedded int `json:"graphs_embedded"`
	NodesEmbedded  int `json:"nodes_embedded"`
}

const (
	tMembership  = "idr_out.identity_resolved_membership_current"
	tClusters    = "idr_out.identity_clusters_current"
	tEdges       = "idr_out.identity_edges_current"
	tEdgeIDs     = "idr_out.identity_edge_ids_current" // the links by entity id, under the view tEdges: counted without its joins
	tEntities    = "idr_out.identity_entities_current"
	tIdentifiers = "idr_out.identity_identifiers_current"
	// tKeyedIdentifiers is the identifiers' state with each row's entity key and resolved id (the
	// state refers to entities by entity_id). The entities' state holds each entity's table_id
	// and resolved_id, so the report reads it instead of joining the membership view to it.
	tKeyedIdentifiers = schema.Identifiers
	tGolden           = "idr_out.golden_profile_current"
	tRuns             = "idr_out.run_history"
)

// gatherer runs the report's queries and keeps the first error.
type gatherer struct {
	ctx context.Context
	eng engine.Engine
}

func (g *gatherer) rows(q string) ([][]any, error) {
	res, err := g.eng.Query(g.ctx, q)
	if err != nil {
		return nil, errs.Wrap(errs.KindConfig, err, "run `idr init` on this database (and a run) first", "report query failed")
	}
	return res.Rows, nil
}

func (g *gatherer) one(q string) ([]any, error) {
	rs, err := g.rows(q)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return rs[0], nil
}

// Gather reads what a report shows. It only reads.
func Gather(ctx context.Context, eng engine.Engine, opts Options) (*Data, error) {
	opts.defaults()
	if opts.Top > MaxTop {
		opts.Top = MaxTop
	}
	g := &gatherer{ctx: ctx, eng: eng}
	d := &Data{
		Generated: opts.Now.UTC().Format("2006-01-02 15:04:05 UTC"),
		Database:  opts.Database,
		Engine:    eng.Name(),
		Changes:   map[string]int64{},
		Graphs:    map[string]Graph{},
		Caps: Caps{Top: opts.Top, GraphMembers: opts.GraphMembers, GraphNodes: opts.GraphNodes,
			IndexEntries: opts.IndexEntries, HistoryRuns: opts.HistoryRuns, ListRows: opts.ListRows},
	}
	for _, step := range []func(*Data, Options) error{
		g.runs, g.totals, g.distributions, g.sources, g.identifierTypes, g.rules,
		g.clusters, g.graphs, g.index, g.skipped, g.exclusions,
	} {
		if err := step(d, opts); err != nil {
			return nil, err
		}
	}
	return d, nil
}

const runCols = "run_id, run_mode, status, dry_run, started_ts, ended_ts, duration_seconds, rows_read, " +
	"entities_processed, identifiers, values_excluded, groups_skipped, edges_created, clusters, " +
	"largest_cluster_size, largest_cluster_resolved_id, failed_stage, error_message"

func runOf(r []any) Run {
	return Run{RunID: text(r[0]), Mode: text(r[1]), Status: text(r[2]), DryRun: boolean(r[3]),
		Started: text(r[4]), Ended: text(r[5]), Seconds: num(r[6]), RowsRead: integer(r[7]),
		Entities: integer(r[8]), Identifiers: integer(r[9]), ValuesExcluded: integer(r[10]),
		GroupsSkipped: integer(r[11]), Edges: integer(r[12]), Clusters: integer(r[13]),
		LargestSize: integer(r[14]), LargestID: text(r[15]), FailedStage: text(r[16]), Error: text(r[17])}
}

// runs reads the run history, the latest run's stages and the committed run's cluster changes.
func (g *gatherer) runs(d *Data, o Options) error {
	rs, err := g.rows(fmt.Sprintf("SELECT %s FROM %s ORDER BY started_ts DESC, run_id DESC LIMIT %d", runCols, tRuns, o.HistoryRuns+1))
	if err != nil {
		return err
	}
	if len(rs) > o.HistoryRuns {
		d.HistoryCap, rs = true, rs[:o.HistoryRuns]
	}
	d.History = make([]Run, 0, len(rs))
	for i := len(rs) - 1; i >= 0; i-- {
		d.History = append(d.History, runOf(rs[i]))
	}
	if len(d.History) == 0 {
		return nil
	}
	latest := d.History[len(d.History)-1]
	d.Latest = &latest
	r, err := g.one(fmt.Sprintf("SELECT %s FROM %s WHERE status = 'SUCCESS' AND dry_run = FALSE ORDER BY started_ts DESC, run_id DESC LIMIT 1", runCols, tRuns))
	if err != nil {
		return err
	}
	if r != nil {
		c := runOf(r)
		d.Committed = &c
		rs, err := g.rows("SELECT change_type, count(*) FROM idr_out.cluster_history WHERE run_id = " + dialect.Lit(c.RunID) + " GROUP BY change_type")
		if err != nil {
			return err
		}
		for _, r := range rs {
			d.Changes[text(r[0])] = integer(r[1])
		}
	}
	rs, err = g.rows("SELECT stage, rows_out, duration_ms FROM idr_out.stage_metrics WHERE run_id = " + dialect.Lit(latest.RunID) + " ORDER BY seq")
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.Stages = append(d.Stages, Stage{Stage: text(r[0]), Rows: integer(r[1]), MS: integer(r[2])})
	}
	return nil
}

// totals reads the current outputs' headline counts in one query (each query is a job on Spark).
func (g *gatherer) totals(d *Data, _ Options) error {
	r, err := g.one(fmt.Sprintf("SELECT c.n, c.entities, c.singletons, c.largest, "+
		"(SELECT resolved_id FROM %[1]s ORDER BY cluster_size DESC, resolved_id LIMIT 1), "+
		"(SELECT count(*) FROM %[2]s), (SELECT count(*) FROM %[3]s), "+
		"(SELECT count(*) FROM (SELECT resolved_id FROM %[4]s GROUP BY resolved_id HAVING count(DISTINCT table_id) > 1) t), "+
		"(SELECT count(DISTINCT table_id) FROM %[4]s) "+
		"FROM (SELECT count(*) AS n, sum(cluster_size) AS entities, sum(CASE WHEN cluster_size = 1 THEN 1 ELSE 0 END) AS singletons, "+
		"max(cluster_size) AS largest FROM %[1]s) c", tClusters, tEdgeIDs, tIdentifiers, tEntities))
	if err != nil {
		return err
	}
	d.Totals = Totals{Clusters: integer(r[0]), Entities: integer(r[1]), Singletons: integer(r[2]), LargestSize: integer(r[3]),
		LargestID: text(r[4]), Edges: integer(r[5]), Identifiers: integer(r[6]), MultiSource: integer(r[7]), SourceTables: integer(r[8])}
	return nil
}

// bucketBounds are the upper bounds of the distribution bars: 1..5 one bar each, then 1-2-5 steps.
func bucketBounds(max int64) []int64 {
	b := []int64{1, 2, 3, 4, 5}
	for step := int64(10); b[len(b)-1] < max; step *= 10 {
		b = append(b, step, 2*step, 5*step)
	}
	if b[0] > max {
		return b[:1]
	}
	for i, v := range b {
		if v >= max {
			return b[:i+1]
		}
	}
	return b
}

// bucket folds (value, count) pairs into bars up to the largest value.
func bucket(pairs [][2]int64, zeroCount int64) []Bucket {
	var max int64
	for _, p := range pairs {
		if p[0] > max {
			max = p[0]
		}
	}
	var out []Bucket
	if zeroCount > 0 {
		out = append(out, Bucket{Lo: 0, Hi: 0, Count: zeroCount})
	}
	if max == 0 {
		return out
	}
	lo := int64(1)
	for _, hi := range bucketBounds(max) {
		b := Bucket{Lo: lo, Hi: hi}
		for _, p := range pairs {
			if p[0] >= lo && p[0] <= hi {
				b.Count += p[1]
			}
		}
		out = append(out, b)
		lo = hi + 1
	}
	out[len(out)-1].Hi = max // the last bar ends at the largest value, not at its bound
	return out
}

func pairs(rs [][]any) [][2]int64 {
	out := make([][2]int64, len(rs))
	for i, r := range rs {
		out[i] = [2]int64{integer(r[0]), integer(r[1])}
	}
	return out
}

func (g *gatherer) distributions(d *Data, _ Options) error {
	// Distinct cluster sizes are few (at most about the square root of twice the entities).
	rs, err := g.rows(fmt.Sprintf("SELECT cluster_size, count(*) FROM %s GROUP BY cluster_size", tClusters))
	if err != nil {
		return err
	}
	d.SizeBuckets = bucket(pairs(rs), 0)
	rs, err = g.rows(fmt.Sprintf("SELECT n, count(*) FROM (SELECT resolved_id, count(*) AS n FROM "+
		"(SELECT DISTINCT resolved_id, identifier_type, identifier_value_norm FROM %s i) v "+
		"GROUP BY resolved_id) c GROUP BY n", tKeyedIdentifiers))
	if err != nil {
		return err
	}
	ps := pairs(rs)
	var with int64
	for _, p := range ps {
		with += p[1]
	}
	d.IdentBuckets = bucket(ps, d.Totals.Clusters-with)
	return nil
}

func (g *gatherer) sources(d *Data, _ Options) error {
	rs, err := g.rows(fmt.Sprintf("WITH cs AS (SELECT DISTINCT resolved_id, table_id FROM %s), "+
		"n AS (SELECT resolved_id, count(*) AS sources FROM cs GROUP BY resolved_id), "+
		"ent AS (SELECT table_id, count(*) AS entities FROM %s GROUP BY table_id), "+
		"cl AS (SELECT cs.table_id, count(*) AS clusters, sum(CASE WHEN n.sources > 1 THEN 1 ELSE 0 END) AS shared "+
		"FROM cs JOIN n ON n.resolved_id = cs.resolved_id GROUP BY cs.table_id) "+
		"SELECT ent.table_id, s.source_name, ent.entities, cl.clusters, cl.shared FROM ent LEFT JOIN cl ON cl.table_id = ent.table_id "+
		"LEFT JOIN idr_meta.source s ON s.table_id = ent.table_id ORDER BY ent.entities DESC, ent.table_id", tEntities, tEntities))
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.Sources = append(d.Sources, Source{TableID: text(r[0]), Name: text(r[1]), Entities: integer(r[2]), Clusters: integer(r[3]), Shared: integer(r[4])})
	}
	return nil
}

func (g *gatherer) identifierTypes(d *Data, _ Options) error {
	rs, err := g.rows(fmt.Sprintf("SELECT i.identifier_type, count(*), count(DISTINCT i.identifier_value_norm), count(DISTINCT i.entity_key), "+
		"count(DISTINCT i.resolved_id) FROM %s i GROUP BY i.identifier_type ORDER BY i.identifier_type", tKeyedIdentifiers))
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.IdentifierTypes = append(d.IdentifierTypes, IdentSum{Type: text(r[0]), Identifiers: integer(r[1]), Values: integer(r[2]),
			Entities: integer(r[3]), Clusters: integer(r[4])})
	}
	return nil
}

func (g *gatherer) rules(d *Data, _ Options) error {
	rs, err := g.rows("SELECT rule_id, identifier_type, identifiers, groups_total, groups_linked, groups_skipped, values_excluded, " +
		"edges_created, entities_linked FROM idr_out.rule_match_audit_current ORDER BY rule_id")
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.Rules = append(d.Rules, Rule{RuleID: text(r[0]), Type: text(r[1]), Identifiers: integer(r[2]), GroupsTotal: integer(r[3]),
			GroupsLinked: integer(r[4]), GroupsSkipped: integer(r[5]), ValuesExcluded: integer(r[6]), Edges: integer(r[7]), Linked: integer(r[8])})
	}
	return nil
}

// inList renders the cluster ids as a SQL IN list.
func inList(d *Data) string {
	parts := make([]string, len(d.Clusters))
	for i, c := range d.Clusters {
		parts[i] = dialect.Lit(c.ID)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (g *gatherer) clusters(d *Data, o Options) error {
	rs, err := g.rows(fmt.Sprintf("SELECT c.resolved_id, c.cluster_size, p.email_primary, p.phone_primary, p.first_name, p.last_name "+
		"FROM %s c LEFT JOIN %s p ON p.resolved_id = c.resolved_id ORDER BY c.cluster_size DESC, c.resolved_id LIMIT %d", tClusters, tGolden, o.Top))
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	at := map[string]int{}
	for i, r := range rs {
		name := strings.TrimSpace(text(r[4]) + " " + text(r[5]))
		d.Clusters = append(d.Clusters, Cluster{ID: text(r[0]), Size: integer(r[1]), Email: text(r[2]), Phone: text(r[3]), Name: name, Sources: map[string]int64{}})
		at[text(r[0])] = i
	}
	in := inList(d)
	if rs, err = g.rows(fmt.Sprintf("SELECT resolved_id, table_id, count(*) FROM %s WHERE resolved_id IN %s GROUP BY resolved_id, table_id",
		tEntities, in)); err != nil {
		return err
	}
	for _, r := range rs {
		d.Clusters[at[text(r[0])]].Sources[text(r[1])] = integer(r[2])
	}
	if rs, err = g.rows(fmt.Sprintf("SELECT s.resolved_id, count(*) FROM %s e JOIN %s s ON s.entity_id = e.left_entity_id "+
		"WHERE s.resolved_id IN %s GROUP BY s.resolved_id", tEdgeIDs, tEntities, in)); err != nil {
		return err
	}
	for _, r := range rs {
		d.Clusters[at[text(r[0])]].Edges = integer(r[1])
	}
	if rs, err = g.rows(fmt.Sprintf("SELECT resolved_id, count(*) FROM (SELECT DISTINCT resolved_id, identifier_type, identifier_value_norm "+
		"FROM %s i WHERE resolved_id IN %s) v GROUP BY resolved_id", tKeyedIdentifiers, in)); err != nil {
		return err
	}
	for _, r := range rs {
		d.Clusters[at[text(r[0])]].Identifiers = integer(r[1])
	}
	return nil
}

// graphs embeds the members, identifiers and edges of the largest clusters, in order, while
// the node budget lasts; a cluster larger than GraphMembers shows its first members by key.
func (g *gatherer) graphs(d *Data, o Options) error {
	budget := o.GraphNodes
	var picked []string
	for i := range d.Clusters {
		c := &d.Clusters[i]
		n := int(min(c.Size, int64(o.GraphMembers)))
		if n > budget {
			break
		}
		budget -= n
		c.HasGraph = true
		picked = append(picked, dialect.Lit(c.ID))
	}
	if len(picked) == 0 {
		return nil
	}
	mem := fmt.Sprintf("mem AS (SELECT resolved_id, entity_key, table_id FROM (SELECT resolved_id, entity_key, table_id, "+
		"row_number() OVER (PARTITION BY resolved_id ORDER BY entity_key) AS rn FROM %s WHERE resolved_id IN (%s)) r WHERE rn <= %d)",
		tEntities, strings.Join(picked, ", "), o.GraphMembers)
	rs, err := g.rows("WITH " + mem + " SELECT resolved_id, entity_key, table_id FROM mem ORDER BY resolved_id, entity_key")
	if err != nil {
		return err
	}
	nodes := map[string]*Node{}
	graphs := map[string]*Graph{}
	var order []string
	for _, r := range rs {
		rid := text(r[0])
		gr := graphs[rid]
		if gr == nil {
			gr = &Graph{}
			graphs[rid] = gr
			order = append(order, rid)
		}
		gr.Members = append(gr.Members, Node{Key: text(r[1]), Source: text(r[2]), Identifiers: [][2]string{}})
	}
	for _, gr := range graphs {
		for i := range gr.Members {
			nodes[gr.Members[i].Key] = &gr.Members[i]
		}
	}
	rs, err = g.rows("WITH " + mem + fmt.Sprintf(" SELECT i.entity_key, i.identifier_type, i.identifier_value_norm FROM %s i "+
		"JOIN mem ON mem.entity_key = i.entity_key ORDER BY i.entity_key, i.identifier_type, i.identifier_value_norm", tKeyedIdentifiers))
	if err != nil {
		return err
	}
	for _, r := range rs {
		if n := nodes[text(r[0])]; n != nil {
			n.Identifiers = append(n.Identifiers, [2]string{text(r[1]), text(r[2])})
		}
	}
	rs, err = g.rows("WITH " + mem + fmt.Sprintf(" SELECT a.resolved_id, e.left_entity_key, e.right_entity_key, e.identifier_type, "+
		"e.identifier_value_norm, e.rule_id FROM %s e JOIN mem a ON a.entity_key = e.left_entity_key JOIN mem b ON b.entity_key = e.right_entity_key "+
		"ORDER BY a.resolved_id, e.left_entity_key, e.right_entity_key, e.identifier_type", tEdges))
	if err != nil {
		return err
	}
	for _, r := range rs {
		if gr := graphs[text(r[0])]; gr != nil {
			gr.Edges = append(gr.Edges, Edge{Left: text(r[1]), Right: text(r[2]), Type: text(r[3]), Value: text(r[4]), Rule: text(r[5])})
		}
	}
	for _, c := range d.Clusters {
		if gr := graphs[c.ID]; gr != nil {
			gr.Size, gr.EdgesTotal = c.Size, c.Edges
			gr.Truncated = int64(len(gr.Members)) < c.Size
			if gr.Edges == nil {
				gr.Edges = []Edge{}
			}
			d.Graphs[c.ID] = *gr
			d.Caps.GraphsEmbedded++
			d.Caps.NodesEmbedded += len(gr.Members)
		}
	}
	return nil
}

// index builds the search index: every entity key and identifier value when they fit in
// IndexEntries, else those of the embedded graphs, largest clusters first, up to the cap.
func (g *gatherer) index(d *Data, o Options) error {
	ix := &d.Index
	ix.ids = map[string]int{}
	ix.IDs, ix.Sizes, ix.Keys, ix.Values = []string{}, []int64{}, [][2]any{}, [][3]any{}
	if d.Totals.Entities+d.Totals.Identifiers <= int64(o.IndexEntries) {
		rs, err := g.rows(fmt.Sprintf("SELECT m.entity_key, m.resolved_id, c.cluster_size FROM %s m JOIN %s c ON c.resolved_id = m.resolved_id "+
			"ORDER BY c.cluster_size DESC, m.resolved_id, m.entity_key", tMembership, tClusters))
		if err != nil {
			return err
		}
		for _, r := range rs {
			ix.Keys = append(ix.Keys, [2]any{text(r[0]), ix.id(text(r[1]), integer(r[2]))})
		}
		rs, err = g.rows(fmt.Sprintf("SELECT DISTINCT i.identifier_type, i.identifier_value_norm, i.resolved_id, c.cluster_size FROM %s i "+
			"JOIN %s c ON c.resolved_id = i.resolved_id "+
			"ORDER BY c.cluster_size DESC, i.resolved_id, i.identifier_type, i.identifier_value_norm", tKeyedIdentifiers, tClusters))
		if err != nil {
			return err
		}
		for _, r := range rs {
			ix.Values = append(ix.Values, [3]any{text(r[0]), text(r[1]), ix.id(text(r[2]), integer(r[3]))})
		}
		ix.Complete = true
		return nil
	}
	for _, c := range d.Clusters {
		gr, ok := d.Graphs[c.ID]
		if !ok {
			continue
		}
		seen := map[[2]string]bool{}
		var vals [][2]string
		for _, n := range gr.Members {
			for _, iv := range n.Identifiers {
				if !seen[iv] {
					seen[iv] = true
					vals = append(vals, iv)
				}
			}
		}
		sort.Slice(vals, func(i, j int) bool { return vals[i][0]+"\x00"+vals[i][1] < vals[j][0]+"\x00"+vals[j][1] })
		if ix.entries()+len(gr.Members)+len(vals) > o.IndexEntries {
			break
		}
		id := ix.id(c.ID, c.Size)
		for _, n := range gr.Members {
			ix.Keys = append(ix.Keys, [2]any{n.Key, id})
		}
		for _, v := range vals {
			ix.Values = append(ix.Values, [3]any{v[0], v[1], id})
		}
	}
	return nil
}

// skipped lists the largest groups the latest committed run skipped for size.
func (g *gatherer) skipped(d *Data, o Options) error {
	if d.Committed == nil {
		return nil
	}
	// count(*) OVER () is the number of rows before LIMIT: the total comes with the rows shown.
	rs, err := g.rows(fmt.Sprintf("SELECT run_id, identifier_type, identifier_value_norm, group_size, max_group_size, sample_entity_keys, reason, "+
		"count(*) OVER () FROM idr_out.skipped_identifier_groups WHERE run_id = %s ORDER BY group_size DESC, identifier_type, identifier_value_norm LIMIT %d",
		dialect.Lit(d.Committed.RunID), o.ListRows))
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.SkippedTotal = integer(r[7])
		d.Skipped = append(d.Skipped, Skipped{RunID: text(r[0]), Type: text(r[1]), Value: text(r[2]), Size: integer(r[3]),
			MaxGroup: integer(r[4]), Sample: text(r[5]), Reason: text(r[6])})
	}
	return nil
}

func (g *gatherer) exclusions(d *Data, o Options) error {
	rs, err := g.rows(fmt.Sprintf("SELECT identifier_type, identifier_value_pattern, is_pattern, reason, count(*) OVER () FROM idr_meta.identifier_exclusion "+
		"ORDER BY identifier_type, identifier_value_pattern LIMIT %d", o.ListRows))
	if err != nil {
		return err
	}
	for _, r := range rs {
		d.ExclTotal = integer(r[4])
		d.Exclusions = append(d.Exclusions, Exclusion{Type: text(r[0]), Pattern: text(r[1]), IsPattern: boolean(r[2]), Reason: text(r[3])})
	}
	return nil
}

// text reads a value as text; NULL is "". Timestamps print in UTC to the second.
func text(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return engine.TextOrEmpty(v)
}

var integer = engine.IntOrZero

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	}
	n, _ := engine.Int(v)
	return float64(n)
}

func boolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}
