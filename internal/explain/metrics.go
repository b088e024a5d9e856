package explain

import (
	"context"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
)

// Metric is one row of idr_out.metrics_export.
type Metric struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

// Metrics are the metrics a committed run recorded.
type Metrics struct {
	Run        Run       `json:"run"`
	RecordedTS time.Time `json:"recorded_ts"`
	Metrics    []Metric  `json:"metrics"`
}

// metricHelp describes the metrics the pipeline records; others get a generic line.
var metricHelp = map[string]string{
	"idr_run_duration_seconds":   "Duration of the run in seconds.",
	"idr_rows_read":              "Source rows the run read.",
	"idr_rows_null_key":          "Source rows skipped because their entity key was NULL.",
	"idr_entities":               "Entities the run processed (FULL: every live entity; INCR: the changed ones).",
	"idr_identifiers":            "Identifiers (entity, type, normalized value) of the recomputed part, after exclusions.",
	"idr_values_excluded":        "Identifier values excluded by idr_meta.identifier_exclusion.",
	"idr_groups_skipped":         "Identifier groups larger than their rule's max_group_size, which link nothing.",
	"idr_edges":                  "Links the run created.",
	"idr_clusters":               "Clusters of the recomputed part.",
	"idr_largest_cluster_size":   "Entities in the largest cluster of the recomputed part.",
	"idr_source_rows_read":       "Rows the run read per source.",
	"idr_source_entities":        "Live entities per source.",
	"idr_stage_duration_seconds": "Duration of each pipeline stage in seconds.",
	"idr_stage_rows":             "Rows each pipeline stage produced.",
}

// ReadMetrics reads the metrics of run id, or of the latest committed run when id is empty.
func ReadMetrics(ctx context.Context, eng engine.Engine, id string) (*Metrics, error) {
	var run Run
	if id == "" {
		r, err := LatestCommitted(ctx, eng)
		if err != nil {
			return nil, err
		}
		run = r
	} else {
		res, err := query(ctx, eng, "idr_out.run_history", "SELECT run_mode, status FROM idr_out.run_history WHERE run_id = "+lit(id))
		if err != nil {
			return nil, err
		}
		if len(res.Rows) == 0 {
			return nil, errs.Usage("see `idr status` for the run ids", "unknown run id %q: not in idr_out.run_history", id)
		}
		if status := text(res.Rows[0][1]); status != statusSuccess {
			return nil, errs.Usage("pass a committed run (status SUCCESS); see `idr status`", "run %s has status %s: only committed runs record metrics", id, status)
		}
		run = Run{ID: id, Mode: text(res.Rows[0][0])}
	}
	res, err := query(ctx, eng, "idr_out.metrics_export", "SELECT metric_name, metric_value, labels, recorded_ts FROM idr_out.metrics_export WHERE run_id = "+
		lit(run.ID)+" ORDER BY metric_name, labels")
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 {
		return nil, errs.Usage("pass another run; see `idr status`", "run %s recorded no metrics in idr_out.metrics_export", run.ID)
	}
	m := &Metrics{Run: run}
	for _, row := range res.Rows {
		v, ok := row[1].(float64)
		if !ok {
			n, _ := engine.Int(row[1])
			v = float64(n)
		}
		labels, _ := engine.Text(row[2])
		m.Metrics = append(m.Metrics, Metric{Name: text(row[0]), Labels: ParseLabels(labels), Value: v})
		if ts, ok := row[3].(time.Time); ok && ts.After(m.RecordedTS) {
			m.RecordedTS = ts
		}
	}
	return m, nil
}

var labelStart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// ParseLabels reads the labels column of metrics_export: `key=value` pairs separated by commas.
// A comma not followed by `key=` belongs to the value before it.
func ParseLabels(s string) map[string]string {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out
	}
	var pairs []string
	for _, part := range strings.Split(s, ",") {
		if len(pairs) > 0 && !labelStart.MatchString(strings.TrimSpace(part)) {
			pairs[len(pairs)-1] += "," + part
			continue
		}
		pairs = append(pairs, part)
	}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			k, v = "label", p
		}
		out[LabelName(strings.TrimSpace(k))] = v
	}
	return out
}

// MetricName makes name a valid Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
func MetricName(name string) string { return sanitize(name, true) }

// LabelName makes name a valid Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with
// the reserved "__".
func LabelName(name string) string {
	n := sanitize(name, false)
	for strings.HasPrefix(n, "__") {
		n = n[1:]
	}
	return n
}

func sanitize(name string, colon bool) string {
	var b strings.Builder
	for i, r := range name {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') || (colon && r == ':')
		if ok {
			b.WriteRune(r)
		} else if i == 0 && r >= '0' && r <= '9' {
			b.WriteString("_")
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WritePrometheus renders m in the Prometheus text exposition format (version 0.0.4): every
// metric a gauge with HELP and TYPE lines, plus idr_run_info (the run id and mode as labels,
// value 1) and idr_run_timestamp_seconds, so series do not multiply with every run.
func WritePrometheus(w io.Writer, m *Metrics) error {
	families := map[string][]Metric{}
	var names []string
	for _, x := range m.Metrics {
		n := MetricName(x.Name)
		if _, ok := families[n]; !ok {
			names = append(names, n)
		}
		families[n] = append(families[n], x)
	}
	families["idr_run_info"] = []Metric{{Labels: map[string]string{"run_id": m.Run.ID, "run_mode": m.Run.Mode}, Value: 1}}
	families["idr_run_timestamp_seconds"] = []Metric{{Labels: map[string]string{}, Value: float64(m.RecordedTS.UnixNano()) / 1e9}}
	names = append(names, "idr_run_info", "idr_run_timestamp_seconds")
	sort.Strings(names)
	help := func(n string) string {
		switch n {
		case "idr_run_info":
			return "The run these metrics describe (value 1)."
		case "idr_run_timestamp_seconds":
			return "When the run recorded its metrics, in seconds since the Unix epoch."
		}
		if h, ok := metricHelp[n]; ok {
			return h
		}
		return "idr metric " + n + " from idr_out.metrics_export."
	}
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", n, helpEscaper.Replace(help(n)), n)
		for _, x := range families[n] {
			b.WriteString(n)
			if len(x.Labels) > 0 {
				keys := make([]string, 0, len(x.Labels))
				for k := range x.Labels {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				parts := make([]string, len(keys))
				for i, k := range keys {
					parts[i] = LabelName(k) + `="` + labelEscaper.Replace(x.Labels[k]) + `"`
				}
				b.WriteString("{" + strings.Join(parts, ",") + "}")
			}
			b.WriteString(" " + formatFloat(x.Value) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
