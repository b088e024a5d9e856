package cli

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/idr-dev/idr/internal/explain"
)

// parseExposition parses Prometheus text exposition and fails the test if it is not valid.
func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("not valid Prometheus exposition: %v\n%s", err, text)
	}
	return fams
}

// gauge returns the value of the gauge of family name whose labels include want.
func gauge(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	if f.GetType() != dto.MetricType_GAUGE || f.GetHelp() == "" {
		t.Errorf("%s: type %v, help %q", name, f.GetType(), f.GetHelp())
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no %s sample with labels %v", name, want)
	return 0
}

func TestMetrics(t *testing.T) {
	db := committedWalkthrough(t)
	first := query(t, db, "SELECT run_id FROM idr_out.run_history WHERE status = 'SUCCESS'")[0]
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO support.tickets VALUES ('T004', 'Alice@New.com', '555-987-6543', DATE '2024-03-04')")
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	latest := query(t, db, "SELECT run_id FROM idr_out.run_history WHERE status = 'SUCCESS' ORDER BY started_ts DESC LIMIT 1")[0]

	// The latest committed run by default: the new ticket adds a row and two links.
	fams := parseExposition(t, mustIdr(t, "metrics", "--db="+db))
	if v := gauge(t, fams, "idr_edges", nil); v != 9 {
		t.Errorf("idr_edges = %v, want 9", v)
	}
	if v := gauge(t, fams, "idr_source_rows_read", map[string]string{"table_id": "support_tickets"}); v != 4 {
		t.Errorf("idr_source_rows_read{support_tickets} = %v, want 4", v)
	}
	if v := gauge(t, fams, "idr_stage_rows", map[string]string{"stage": "extract"}); v != 11 {
		t.Errorf("idr_stage_rows{extract} = %v, want 11", v)
	}
	if v := gauge(t, fams, "idr_run_info", map[string]string{"run_id": latest, "run_mode": "FULL"}); v != 1 {
		t.Errorf("idr_run_info = %v", v)
	}
	// Every row of metrics_export is a sample.
	rows := query(t, db, "SELECT count(*) FROM idr_out.metrics_export WHERE run_id = '"+latest+"'")[0]
	samples := 0
	for name, f := range fams {
		if name != "idr_run_info" && name != "idr_run_timestamp_seconds" {
			samples += len(f.GetMetric())
		}
	}
	if rows != strconv.Itoa(samples) {
		t.Errorf("%d samples for %s metrics_export rows", samples, rows)
	}

	// An earlier committed run, as JSON.
	var m explain.Metrics
	if err := json.Unmarshal([]byte(mustIdr(t, "metrics", "--db="+db, "--run-id="+first, "--format=json")), &m); err != nil {
		t.Fatal(err)
	}
	edges := -1.0
	for _, x := range m.Metrics {
		if x.Name == "idr_edges" && len(x.Labels) == 0 {
			edges = x.Value
		}
	}
	if m.Run.ID != first || edges != 7 || m.RecordedTS.IsZero() {
		t.Errorf("metrics of %s: run %s, idr_edges %v, recorded %v", first, m.Run.ID, edges, m.RecordedTS)
	}

	mustIdr(t, "run", "--db="+db, "--run-mode=FULL", "--dry-run")
	dry := query(t, db, "SELECT run_id FROM idr_out.dry_run_summary")[0]
	expectRefused(t, db, 2, []string{"run " + dry + " has status DRY_RUN_COMPLETE", "only committed runs record metrics"}, "metrics", "--db="+db, "--run-id="+dry)
	expectRefused(t, db, 2, []string{`unknown run id "run_nope"`}, "metrics", "--db="+db, "--run-id=run_nope")
	expectRefused(t, db, 2, []string{`unknown --format "text"`, "prometheus, json"}, "metrics", "--db="+db, "--format=text")
	expectRefused(t, db, 2, []string{"takes no arguments"}, "metrics", "--db="+db, "extra")
	fresh := walkthroughDB(t)
	expectRefused(t, fresh, 2, []string{"no committed run"}, "metrics", "--db="+fresh)
}
