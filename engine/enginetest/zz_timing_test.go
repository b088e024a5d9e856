package enginetest

import (
	"context"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/report"
)

type prog struct{ last time.Time; acc map[string]time.Duration }
func (p *prog) StageStart(string) { p.last = time.Now() }
func (p *prog) StageDone(m report.StageMetric) { p.acc[m.Stage] += time.Since(p.last) }

func TestZZTiming(t *testing.T) {
	for _, threads := range []string{"", "1"} {
		st := map[string]string{}
		if threads != "" { st["threads"] = threads }
		open := func(t testing.TB) engine.Engine {
			e, err := duckdb.Open(context.Background(), "", duckdb.Options{Settings: st})
			if err != nil { t.Fatal(err) }
			t.Cleanup(func() { e.Close() })
			return e
		}
		h := newHarness(t, open)
		p := &prog{acc: map[string]time.Duration{}}
		var tr, tl, tp, tread time.Duration
		for i := 0; i < 40; i++ {
			d := Generate(1, i)
			a := time.Now()
			if err := h.reset(); err != nil { t.Fatal(err) }
			b := time.Now()
			if err := h.exec(d.SourceSQL()...); err != nil { t.Fatal(err) }
			if err := h.exec(d.ConfigSQL()...); err != nil { t.Fatal(err) }
			c := time.Now()
			rep, err := pipeline.Run(h.ctx, h.eng, pipeline.Options{Mode: "FULL", Progress: p})
			if err != nil { t.Fatal(err) }
			e := time.Now()
			h.read(rep.RunID)
			f := time.Now()
			tr += b.Sub(a); tl += c.Sub(b); tp += e.Sub(c); tread += f.Sub(e)
		}
		t.Logf("threads=%q reset %v load %v run %v read %v stages %v", threads, tr/40, tl/40, tp/40, tread/40, p.acc)
	}
}
