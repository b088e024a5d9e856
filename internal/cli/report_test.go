package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the Chromium binary the browser test drives, or skips the test where there
// is none: `make test` installs Debian's chromium package first (scripts/install-chromium.sh).
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("IDR_SKIP_BROWSER") != "" {
		t.Skip("IDR_SKIP_BROWSER is set: skipping the browser test of idr report")
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("Chromium is not installed (run scripts/install-chromium.sh, which `make test` runs): skipping the browser test of idr report")
	return ""
}

// artifactDir is build/artifacts/NAME at the repository root (build/ is not tracked).
func artifactDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "build", "artifacts", name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReportRefusesBadInput(t *testing.T) {
	db := committedWalkthrough(t)
	expectRefused(t, db, 2, []string{"--out"}, "report", "--db="+db)
	expectRefused(t, db, 2, []string{"--top=0"}, "report", "--db="+db, "--out="+filepath.Join(t.TempDir(), "r.html"), "--top=0")
	expectRefused(t, db, 2, []string{"does not exist"}, "report", "--db="+db, "--out="+filepath.Join(t.TempDir(), "no", "r.html"))
	expectRefused(t, db, 2, []string{"is a directory"}, "report", "--db="+db, "--out="+t.TempDir())
	expectRefused(t, "", 2, []string{"--db"}, "report", "--out=r.html")
	missing := filepath.Join(t.TempDir(), "missing.duckdb")
	expectRefused(t, "", 2, nil, "report", "--db="+missing, "--out="+filepath.Join(t.TempDir(), "r.html"))
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("report created %s", missing)
	}
}

// TestReportInBrowser opens the walkthrough's report in headless Chromium: the summary shows
// the database's figures, selecting a cluster draws its members and edges, search finds
// clusters by entity key and by identifier value. It saves a screenshot under build/artifacts.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	db := walkthroughDB(t)
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	artifacts := artifactDir(t, "report")
	page := filepath.Join(artifacts, "report.html")
	if out := mustIdr(t, "report", "--db="+db, "--out="+page); !strings.Contains(out, "wrote "+page) {
		t.Fatalf("report output: %s", out)
	}

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		must(err)
		return strings.TrimSpace(s)
	}
	eval := func(js string) []string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		must(err)
		return v
	}
	// Navigate returns once the page has loaded; the script runs before that and exposes
	// window.idrReport as its last step, so a script error shows here at once.
	must(chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate("file://"+page)))
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.idrReport === 'object'`)); err != nil || !ok {
		t.Fatalf("the report's script did not finish: %v", err)
	}
	must(chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#graph-svg"))))

	// The summary shows the latest run's figures and the current outputs as they are in the database.
	fields := []string{"run_id", "status", "mode", "rows_read", "entities", "identifiers", "edges", "clusters", "largest_size",
		"values_excluded", "groups_skipped"}
	want := strings.Split(query(t, db, "SELECT run_id, status, run_mode, rows_read, entities_processed, identifiers, edges_created, "+
		"clusters, largest_cluster_size, values_excluded, groups_skipped FROM idr_out.run_history ORDER BY started_ts DESC LIMIT 1")[0], " | ")
	fields = append(fields, "total_entities", "total_clusters", "total_edges")
	want = append(want, strings.Split(query(t, db, "SELECT (SELECT count(*) FROM idr_out.identity_resolved_membership_current), "+
		"(SELECT count(*) FROM idr_out.identity_clusters_current), (SELECT count(*) FROM idr_out.identity_edges_current)")[0], " | ")...)
	for i, f := range fields {
		if got := strings.ReplaceAll(text(`[data-field="`+f+`"]`), ",", ""); got != want[i] {
			t.Errorf("summary %s shows %q, database has %q", f, got, want[i])
		}
	}
	if want[1] != "SUCCESS" || want[7] != "5" {
		t.Fatalf("unexpected latest run: %v", want)
	}

	// graphOf reads the drawn graph: node keys and edge labels, sorted.
	graphOf := func() (nodes, edges []string) {
		nodes = eval(`Array.from(document.querySelectorAll('#graph-svg .node')).map(n => n.getAttribute('data-key'))`)
		edges = eval(`Array.from(document.querySelectorAll('#graph-svg .edge')).map(e => e.getAttribute('data-type'))`)
		sort.Strings(nodes)
		sort.Strings(edges)
		return nodes, edges
	}
	expectGraph := func(rid string) {
		t.Helper()
		// The page draws after the click's event handlers run; on a loaded machine that can
		// take a moment, so wait for the title before reading the graph.
		got := text("#graph-title")
		for end := time.Now().Add(5 * time.Second); got != rid && time.Now().Before(end); got = text("#graph-title") {
			time.Sleep(50 * time.Millisecond)
		}
		if got != rid {
			t.Errorf("graph title = %q, want %q", got, rid)
		}
		nodes, edges := graphOf()
		wantNodes := query(t, db, "SELECT entity_key FROM idr_out.identity_resolved_membership_current WHERE resolved_id = '"+rid+"' ORDER BY 1")
		wantEdges := query(t, db, "SELECT e.identifier_type FROM idr_out.identity_edges_current e JOIN idr_out.identity_resolved_membership_current m "+
			"ON m.entity_key = e.left_entity_key WHERE m.resolved_id = '"+rid+"' ORDER BY 1")
		if !reflect.DeepEqual(nodes, wantNodes) {
			t.Errorf("graph of %s: nodes %v, want %v", rid, nodes, wantNodes)
		}
		if len(edges) != len(wantEdges) || (len(edges) > 0 && !reflect.DeepEqual(edges, wantEdges)) {
			t.Errorf("graph of %s: edges %v, want %v", rid, edges, wantEdges)
		}
	}

	// show clicks sel until the graph of rid is drawn: on a loaded machine a click can land
	// while the page is still laying out, and then it does nothing.
	show := func(sel, rid string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))))
			for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
				if text("#graph-title") == rid {
					expectGraph(rid)
					return
				}
			}
		}
		expectGraph(rid)
	}

	// Pick a cluster in the largest-clusters table, then C001 by resolved_id in the list.
	show(`#largest tr[data-cluster="crm_customers:C002"]`, "crm_customers:C002")
	must(chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#cluster-select"), "crm_customers:C001")))
	eval(`document.getElementById('cluster-select').dispatchEvent(new Event('change')); []`)
	expectGraph("crm_customers:C001")
	if nodes, edges := graphOf(); len(nodes) != 4 || len(edges) != 5 {
		t.Errorf("C001's graph: %d nodes, %d edges; want 4 and 5", len(nodes), len(edges))
	}
	// Selecting a node lists its identifiers.
	// A real mouse click, repeated for up to a few seconds: a click that lands while the page
	// is still redrawing the graph (selecting the cluster re-renders it) can miss the node.
	var got string
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#graph-svg .node[data-key="support_tickets:T001"] circle`))))
		if got = text("#node-detail"); strings.Contains(got, "support_tickets:T001") || time.Now().After(end) {
			break
		}
	}
	if !strings.Contains(got, "support_tickets:T001") || !strings.Contains(got, "5551234567") {
		t.Errorf("node detail = %q", got)
	}

	// Search by entity key: O002 belongs to C001, and its node is marked.
	// search types q and waits until the first result names want (results follow typing after a short pause).
	search := func(q, want string) string {
		t.Helper()
		eval(`document.getElementById('search').value = ''; []`)
		must(chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#search"), q)))
		js := `(() => { const r = document.querySelector('#search-results .result'); return r ? [r.innerText] : []; })()`
		var got []string
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if got = eval(js); len(got) == 1 && strings.Contains(got[0], want) {
				return got[0]
			}
		}
		t.Fatalf("search %q: first result %v, want one naming %q", q, got, want)
		return ""
	}
	show(`#largest tr[data-cluster="ecom_orders:O004"]`, "ecom_orders:O004")
	if got := search("O002", "ecom_orders:O002"); !strings.Contains(got, "crm_customers:C001") {
		t.Errorf("search O002: first result %q", got)
	}
	show("#search-results .result", "crm_customers:C001")
	if hit := eval(`Array.from(document.querySelectorAll('#graph-svg .node.hit')).map(n => n.getAttribute('data-key'))`); !reflect.DeepEqual(hit, []string{"ecom_orders:O002"}) {
		t.Errorf("marked nodes = %v, want O002", hit)
	}

	// Search by identifier value: bob@test.com is in C003's cluster.
	if got := search("bob@test.com", "bob@test.com"); !strings.Contains(got, "EMAIL") || !strings.Contains(got, "crm_customers:C003") {
		t.Errorf("search bob@test.com: first result %q", got)
	}
	show("#search-results .result", "crm_customers:C003")

	// Back to C001 for the screenshot, search box showing the identifier search.
	search("john@acme.com", "john@acme.com")
	show("#search-results .result", "crm_customers:C001")
	must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#graph-svg .node[data-key="crm_customers:C001"] circle`))))
	// The whole page in one viewport, so the sticky header stays on top in the picture.
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	must(err)
	must(chromedp.Do(ctx, chromedp.EmulateViewport(1400, height)))
	eval(`window.scrollTo(0, 0); []`)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)
	explorer, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#explorer")))
	must(err)
	for name, b := range map[string][]byte{"report.png": shot, "explorer.png": explorer} {
		p := filepath.Join(artifacts, name)
		must(os.WriteFile(p, b, 0o644))
		t.Logf("screenshot: %s", p)
	}
	// Nothing in the page reached for the network: every resource is the file itself.
	urls := eval(`performance.getEntriesByType('resource').map(e => e.name)`)
	if len(urls) != 0 {
		t.Errorf("the page loaded resources: %v", urls)
	}

	// A database with no run yet gives a page that says so, its script intact.
	empty := filepath.Join(t.TempDir(), "empty.duckdb")
	mustIdr(t, "init", "--db="+empty)
	emptyPage := filepath.Join(t.TempDir(), "empty.html")
	mustIdr(t, "report", "--db="+empty, "--out="+emptyPage)
	must(chromedp.Do(ctx, chromedp.Navigate("file://"+emptyPage), chromedp.WaitVisible(chromedp.CSS("#summary"))))
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.idrReport === 'object'`)); err != nil || !ok {
		t.Fatalf("the empty report's script did not finish: %v", err)
	}
	if got := text("#summary"); !strings.Contains(got, "No run recorded yet") {
		t.Errorf("empty report summary: %q", got)
	}
	if got := text("#graph"); !strings.Contains(got, "Pick a cluster") {
		t.Errorf("empty report explorer: %q", got)
	}
}
