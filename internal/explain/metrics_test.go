package explain

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

// Names and label values that are not valid as they are come out valid and round-trip.
func TestWritePrometheusEscapes(t *testing.T) {
	m := &Metrics{Run: Run{ID: `run "1"`, Mode: "FULL"}, RecordedTS: time.Unix(1700000000, 0), Metrics: []Metric{
		{Name: "idr_source_rows_read", Labels: ParseLabels(`table_id=a,b "quoted" \ back`), Value: 3},
		{Name: "idr_source_rows_read", Labels: ParseLabels("table_id=line\nbreak"), Value: 4},
		{Name: "2bad-name.x", Labels: ParseLabels("__reserved=1,stage=x"), Value: 0.5},
	}}
	var b bytes.Buffer
	if err := WritePrometheus(&b, m); err != nil {
		t.Fatal(err)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("not valid exposition: %v\n%s", err, b.String())
	}
	rows := fams["idr_source_rows_read"].GetMetric()
	if len(rows) != 2 {
		t.Fatalf("idr_source_rows_read samples: %v", rows)
	}
	got := map[string]float64{}
	for _, r := range rows {
		got[r.GetLabel()[0].GetValue()] = r.GetGauge().GetValue()
	}
	if got[`a,b "quoted" \ back`] != 3 || got["line\nbreak"] != 4 {
		t.Errorf("label values did not round-trip: %v", got)
	}
	bad := fams["_2bad_name_x"]
	if bad == nil || len(bad.GetMetric()) != 1 || bad.GetMetric()[0].GetGauge().GetValue() != 0.5 {
		t.Fatalf("sanitized family: %v\n%s", bad, b.String())
	}
	labels := bad.GetMetric()[0].GetLabel()
	if len(labels) != 2 || labels[0].GetName() != "_reserved" || labels[1].GetName() != "stage" {
		t.Errorf("sanitized labels: %v", labels)
	}
	info := fams["idr_run_info"].GetMetric()[0].GetLabel()
	if info[0].GetName() != "run_id" || info[0].GetValue() != `run "1"` {
		t.Errorf("idr_run_info labels: %v", info)
	}
	if v := fams["idr_run_timestamp_seconds"].GetMetric()[0].GetGauge().GetValue(); v != 1700000000 {
		t.Errorf("idr_run_timestamp_seconds = %v", v)
	}
}

func TestParseLabels(t *testing.T) {
	for in, want := range map[string]map[string]string{
		"":                     {},
		"stage=extract":        {"stage": "extract"},
		"a=1,b=2":              {"a": "1", "b": "2"},
		"table_id=x,y,stage=z": {"table_id": "x,y", "stage": "z"},
		"k=v=w":                {"k": "v=w"},
	} {
		got := ParseLabels(in)
		if len(got) != len(want) {
			t.Errorf("ParseLabels(%q) = %v, want %v", in, got, want)
			continue
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("ParseLabels(%q) = %v, want %v", in, got, want)
			}
		}
	}
}
