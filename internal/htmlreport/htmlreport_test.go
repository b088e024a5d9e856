package htmlreport

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/demo"
	"github.com/idr-dev/idr/internal/sqltext"
)

// walkthrough is the walkthrough's database after a dry run and a committed FULL run.
func walkthrough(t *testing.T) *idr.Client {
	t.Helper()
	ctx := context.Background()
	c, err := idr.Open(ctx, idr.Options{DB: filepath.Join(t.TempDir(), "idr.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{demo.Sources, demo.Config} {
		stmts, err := sqltext.Split(demo.SQL(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if err := c.Engine().Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	if _, err := c.Run(ctx, idr.RunOptions{Mode: "FULL", DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(ctx, idr.RunOptions{Mode: "FULL"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func gather(t *testing.T, eng engine.Engine, o Options) *Data {
	t.Helper()
	o.Now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d, err := Gather(context.Background(), eng, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGatherWalkthrough(t *testing.T) {
	eng := walkthrough(t).Engine()
	d := gather(t, eng, Options{Database: "idr.duckdb"})

	if d.Latest == nil || d.Latest.Status != "SUCCESS" || d.Latest.Mode != "FULL" || d.Latest.Entities != 10 || d.Latest.Edges != 7 ||
		d.Latest.Clusters != 5 || d.Latest.LargestSize != 4 || d.Latest.LargestID != "crm_customers:C001" || d.Latest.Identifiers != 18 {
		t.Errorf("latest run = %+v", d.Latest)
	}
	if d.Committed == nil || d.Committed.RunID != d.Latest.RunID {
		t.Errorf("committed run = %+v", d.Committed)
	}
	if len(d.History) != 2 || d.History[0].Status != "DRY_RUN_COMPLETE" || d.History[1].Status != "SUCCESS" {
		t.Errorf("history = %+v", d.History)
	}
	if !reflect.DeepEqual(d.Changes, map[string]int64{"NEW": 5}) {
		t.Errorf("changes = %v", d.Changes)
	}
	if len(d.Stages) == 0 || d.Stages[0].Stage != "extract" || d.Stages[len(d.Stages)-1].Stage != "publish" {
		t.Errorf("stages = %+v", d.Stages)
	}
	want := Totals{Entities: 10, Clusters: 5, Edges: 7, Identifiers: 18, Singletons: 2, MultiSource: 3, LargestSize: 4,
		LargestID: "crm_customers:C001", SourceTables: 3}
	if d.Totals != want {
		t.Errorf("totals = %+v\nwant %+v", d.Totals, want)
	}
	// Sizes 4, 2, 2, 1, 1.
	if want := []Bucket{{1, 1, 2}, {2, 2, 2}, {3, 3, 0}, {4, 4, 1}}; !reflect.DeepEqual(d.SizeBuckets, want) {
		t.Errorf("size buckets = %v, want %v", d.SizeBuckets, want)
	}
	// Distinct identifiers: C001 {john@acme.com, 5551234567, LY100}, C002 {jane@, 5559876543, LY200},
	// C003 {bob@, 5550001111}, O004 {alice@new.com}, T003 {new@person.com, 5552223333}.
	if want := []Bucket{{1, 1, 1}, {2, 2, 2}, {3, 3, 2}}; !reflect.DeepEqual(d.IdentBuckets, want) {
		t.Errorf("identifier buckets = %v, want %v", d.IdentBuckets, want)
	}
	wantSources := []Source{
		{TableID: "ecom_orders", Name: "E-commerce", Entities: 4, Clusters: 3, Shared: 2},
		{TableID: "crm_customers", Name: "CRM", Entities: 3, Clusters: 3, Shared: 3},
		{TableID: "support_tickets", Name: "Support", Entities: 3, Clusters: 3, Shared: 2},
	}
	if !reflect.DeepEqual(d.Sources, wantSources) {
		t.Errorf("sources = %+v\nwant %+v", d.Sources, wantSources)
	}
	if len(d.IdentifierTypes) != 3 || d.IdentifierTypes[0] != (IdentSum{Type: "EMAIL", Identifiers: 10, Values: 5, Entities: 10, Clusters: 5}) {
		t.Errorf("identifier types = %+v", d.IdentifierTypes)
	}
	if len(d.Rules) != 3 || d.Rules[0].RuleID != "email_exact" || d.Rules[0].Edges != 5 {
		t.Errorf("rules = %+v", d.Rules)
	}

	var ids []string
	for _, c := range d.Clusters {
		ids = append(ids, c.ID)
	}
	if want := []string{"crm_customers:C001", "crm_customers:C002", "crm_customers:C003", "ecom_orders:O004", "support_tickets:T003"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("clusters = %v", ids)
	}
	c1 := d.Clusters[0]
	if c1.Size != 4 || c1.Edges != 5 || c1.Identifiers != 3 || c1.Email != "john@acme.com" || c1.Name != "John" || !c1.HasGraph ||
		!reflect.DeepEqual(c1.Sources, map[string]int64{"crm_customers": 1, "ecom_orders": 2, "support_tickets": 1}) {
		t.Errorf("largest cluster = %+v", c1)
	}
	g := d.Graphs["crm_customers:C001"]
	if len(g.Members) != 4 || len(g.Edges) != 5 || g.Truncated || g.Size != 4 {
		t.Fatalf("graph of C001 = %+v", g)
	}
	if m := g.Members[0]; m.Key != "crm_customers:C001" || m.Source != "crm_customers" ||
		!reflect.DeepEqual(m.Identifiers, [][2]string{{"EMAIL", "john@acme.com"}, {"PHONE", "5551234567"}}) {
		t.Errorf("member C001 = %+v", m)
	}
	if e := g.Edges[len(g.Edges)-1]; e != (Edge{Left: "ecom_orders:O001", Right: "ecom_orders:O002", Type: "LOYALTY", Value: "LY100", Rule: "loyalty_exact"}) {
		t.Errorf("last edge = %+v", e)
	}
	if len(d.Graphs) != 5 || d.Caps.GraphsEmbedded != 5 || d.Caps.NodesEmbedded != 10 {
		t.Errorf("graphs = %d, caps = %+v", len(d.Graphs), d.Caps)
	}
	// The whole database fits in the index: 10 keys, 11 distinct (type, value, cluster) entries.
	if !d.Index.Complete || len(d.Index.Keys) != 10 || len(d.Index.Values) != 11 || len(d.Index.IDs) != 5 {
		t.Errorf("index: complete %v, %d keys, %d values, %d ids", d.Index.Complete, len(d.Index.Keys), len(d.Index.Values), len(d.Index.IDs))
	}
	if got := lookupKey(d, "ecom_orders:O002"); got != "crm_customers:C001" {
		t.Errorf("index: O002 -> %q", got)
	}
	if got := lookupValue(d, "bob@test.com"); !reflect.DeepEqual(got, []string{"crm_customers:C003"}) {
		t.Errorf("index: bob@test.com -> %v", got)
	}
	// The walkthrough's configured exclusions, in order; the run skipped no group.
	if len(d.Exclusions) != 3 || d.ExclTotal != 3 || d.Exclusions[0] != (Exclusion{Type: "EMAIL", Pattern: "noreply@%", IsPattern: true, Reason: "Generic noreply"}) {
		t.Errorf("exclusions = %+v", d.Exclusions)
	}
	if len(d.Skipped) != 0 || d.SkippedTotal != 0 {
		t.Errorf("skipped = %+v", d.Skipped)
	}
}

func lookupKey(d *Data, key string) string {
	for _, k := range d.Index.Keys {
		if k[0] == key {
			return d.Index.IDs[k[1].(int)]
		}
	}
	return ""
}

func lookupValue(d *Data, v string) []string {
	var out []string
	for _, e := range d.Index.Values {
		if e[1] == v {
			out = append(out, d.Index.IDs[e[2].(int)])
		}
	}
	return out
}

// The caps hold: members per graph, nodes over all graphs, index entries, list rows.
func TestGatherCaps(t *testing.T) {
	eng := walkthrough(t).Engine()
	ctx := context.Background()
	if err := eng.Exec(ctx, "INSERT INTO idr_meta.identifier_exclusion VALUES ('EMAIL', 'a@x', FALSE, 'one'), ('EMAIL', 'b@x', FALSE, 'two')"); err != nil {
		t.Fatal(err)
	}
	d := gather(t, eng, Options{Top: 3, GraphMembers: 3, GraphNodes: 4, IndexEntries: 12, ListRows: 2})
	if len(d.Clusters) != 3 {
		t.Fatalf("clusters listed = %d, want 3", len(d.Clusters))
	}
	// C001 (4 members) shows 3 of them; C002 (2) would exceed the 4-node budget after it.
	g, ok := d.Graphs["crm_customers:C001"]
	if !ok || len(g.Members) != 3 || !g.Truncated || g.Size != 4 || g.EdgesTotal != 5 || len(g.Edges) != 3 {
		t.Fatalf("graph of C001 = %+v", g)
	}
	if len(d.Graphs) != 1 || d.Clusters[1].HasGraph || d.Caps.NodesEmbedded != 3 {
		t.Errorf("graphs %d, caps %+v", len(d.Graphs), d.Caps)
	}
	for _, e := range g.Edges {
		if e.Left == "support_tickets:T001" || e.Right == "support_tickets:T001" {
			t.Errorf("edge to a member left out of the graph: %+v", e)
		}
	}
	// 28 keys and identifiers do not fit in 12: only the embedded graph's 3 members and their 3 values.
	if d.Index.Complete || d.Index.entries() > 12 || len(d.Index.Keys) != 3 || len(d.Index.Values) != 3 || !reflect.DeepEqual(d.Index.IDs, []string{"crm_customers:C001"}) {
		t.Errorf("index = %+v", d.Index)
	}
	if len(d.Exclusions) != 2 || d.ExclTotal != 5 {
		t.Errorf("exclusions %d of %d", len(d.Exclusions), d.ExclTotal)
	}
	// An index too small for the first graph holds nothing rather than part of it.
	if d := gather(t, eng, Options{GraphMembers: 3, IndexEntries: 4}); d.Index.entries() != 0 {
		t.Errorf("index over its cap: %d entries", d.Index.entries())
	}
}

// A group skipped for size shows with the run that skipped it.
func TestGatherSkipped(t *testing.T) {
	c := walkthrough(t)
	ctx := context.Background()
	if err := c.Engine().Exec(ctx, "UPDATE idr_meta.rule SET max_group_size = 3 WHERE rule_id = 'email_exact'"); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run(ctx, idr.RunOptions{Mode: "FULL"})
	if err != nil {
		t.Fatal(err)
	}
	d := gather(t, c.Engine(), Options{})
	want := []Skipped{{RunID: rep.RunID, Type: "EMAIL", Value: "john@acme.com", Size: 4, MaxGroup: 3,
		Sample: "crm_customers:C001, ecom_orders:O001, ecom_orders:O002, support_tickets:T001",
		Reason: "group of 4 entities exceeds max_group_size 3 of rule email_exact"}}
	if d.SkippedTotal != 1 || !reflect.DeepEqual(d.Skipped, want) {
		t.Errorf("skipped = %+v (total %d)\nwant %+v", d.Skipped, d.SkippedTotal, want)
	}
	if d.Latest.GroupsSkipped != 1 || len(d.History) != 3 {
		t.Errorf("latest run %+v, %d runs", d.Latest, len(d.History))
	}
}

func TestEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	c, err := idr.Open(ctx, idr.Options{DB: filepath.Join(t.TempDir(), "idr.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	d := gather(t, c.Engine(), Options{})
	if d.Latest != nil || d.Committed != nil || len(d.Clusters) != 0 || d.Totals != (Totals{}) || len(d.SizeBuckets) != 0 {
		t.Errorf("empty database: %+v", d)
	}
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No run recorded yet") {
		t.Errorf("empty report lacks its hint")
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href|action|url)\s*[=(]\s*["']?\s*(https?:)?//`)

// The page is self-contained: no URL at all (no src, href, CSS url() or import to another
// host), every value escaped, and the embedded JSON decodes back to the data.
func TestRenderSelfContainedAndEscaped(t *testing.T) {
	eng := walkthrough(t).Engine()
	d := gather(t, eng, Options{Database: "idr.duckdb"})
	hostile := `</script><script>alert(1)</script><img src=x onerror=alert(2)>`
	d.Clusters[0].Name = hostile
	g := d.Graphs["crm_customers:C001"]
	g.Members[0].Identifiers = append(g.Members[0].Identifiers, [2]string{"EMAIL", hostile})
	d.Exclusions[0].Reason = hostile
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "<link", "@import", "<iframe"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("page refers to another resource: %q", m)
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
		t.Errorf("a value reached the page unescaped")
	}
	if n := strings.Count(page, "<script"); n != 2 {
		t.Errorf("%d script elements, want 2 (data and code)", n)
	}
	// The embedded JSON is the data.
	start := strings.Index(page, `<script id="idr-data" type="application/json">`)
	end := strings.Index(page[start:], "</script>")
	if start < 0 || end < 0 {
		t.Fatal("no data element")
	}
	raw := page[start+len(`<script id="idr-data" type="application/json">`) : start+end]
	var back struct {
		Clusters []Cluster        `json:"clusters"`
		Graphs   map[string]Graph `json:"graphs"`
		Totals   Totals           `json:"totals"`
	}
	if err := json.Unmarshal([]byte(raw), &back); err != nil {
		t.Fatalf("embedded JSON: %v", err)
	}
	if back.Clusters[0].Name != hostile || back.Totals != d.Totals || len(back.Graphs["crm_customers:C001"].Edges) != 5 {
		t.Errorf("embedded JSON differs from the data")
	}
	for _, want := range []string{`data-field="clusters">5<`, `data-field="edges">7<`, `data-field="total_entities">10<`, "crm_customers:C001"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestBucketsAndFormats(t *testing.T) {
	if got := bucketBounds(1); !reflect.DeepEqual(got, []int64{1}) {
		t.Errorf("bounds(1) = %v", got)
	}
	if got := bucketBounds(7); !reflect.DeepEqual(got, []int64{1, 2, 3, 4, 5, 10}) {
		t.Errorf("bounds(7) = %v", got)
	}
	if got := bucketBounds(1200); !reflect.DeepEqual(got, []int64{1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}) {
		t.Errorf("bounds(1200) = %v", got)
	}
	got := bucket([][2]int64{{1, 10}, {7, 2}, {9, 1}, {30, 1}}, 4)
	want := []Bucket{{0, 0, 4}, {1, 1, 10}, {2, 2, 0}, {3, 3, 0}, {4, 4, 0}, {5, 5, 0}, {6, 10, 3}, {11, 20, 0}, {21, 30, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bucket = %v\nwant %v", got, want)
	}
	for n, s := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(n); got != s {
			t.Errorf("thousands(%d) = %q, want %q", n, got, s)
		}
	}
	for f, s := range map[float64]string{0.2235: "0.22 s", 12.34: "12.3 s", 245: "4m 05s", 7380: "2h 03m"} {
		if got := seconds(f); got != s {
			t.Errorf("seconds(%v) = %q, want %q", f, got, s)
		}
	}
}
