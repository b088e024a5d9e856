package generate_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/generate"
)

// A hand-counted case: people {a,b,c} {d,e} {f} {g}; resolved {a,b} {c,d,e} {f}, g missing,
// h unknown to the truth. True pairs ab ac bc de = 4; predicted ab cd ce de = 4; both ab de = 2.
func TestEvaluateCounts(t *testing.T) {
	ctx := context.Background()
	c := open(t)
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if err := c.Engine().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err := generate.Evaluate(ctx, c.Engine())
	var ie *errs.Error
	if !errors.As(err, &ie) || ie.Kind != errs.KindConfig {
		t.Errorf("without a truth table: err = %v, want a configuration error", err)
	}
	exec("CREATE SCHEMA idr_truth")
	exec("CREATE TABLE " + generate.TruthTable + " AS SELECT * FROM (VALUES ('s:a', 1), ('s:b', 1), ('s:c', 1), ('s:d', 2), ('s:e', 2), ('s:f', 3), ('s:g', 4)) v(entity_key, person_id)")
	if _, err := generate.Evaluate(ctx, c.Engine()); !errors.As(err, &ie) || ie.Kind != errs.KindConfig {
		t.Errorf("before any run: err = %v, want a configuration error", err)
	}
	// The membership is a view over the entities' state.
	exec("INSERT INTO idr_out.identity_entities_current (entity_key, resolved_id) VALUES ('s:a', 'X'), ('s:b', 'X'), ('s:c', 'Y'), ('s:d', 'Y'), ('s:e', 'Y'), ('s:f', 'Z'), ('s:h', 'Z')")
	q, err := generate.Evaluate(ctx, c.Engine())
	if err != nil {
		t.Fatal(err)
	}
	want := generate.Quality{Entities: 7, Missing: 1, Extra: 1, TrueClusters: 4, PredClusters: 4, TrueLargest: 3, PredLargest: 3,
		ExactClusters: 2, TruePairs: 4, PredPairs: 4, CorrectPairs: 2, Precision: 0.5, Recall: 0.5, F1: 0.5}
	if *q != want {
		t.Errorf("quality\n got %+v\nwant %+v", *q, want)
	}
	// A perfect result, with nothing to find for singletons.
	exec("DELETE FROM idr_out.identity_entities_current")
	exec("INSERT INTO idr_out.identity_entities_current (entity_key, resolved_id) SELECT entity_key, 'r' || person_id FROM " + generate.TruthTable)
	q, err = generate.Evaluate(ctx, c.Engine())
	if err != nil {
		t.Fatal(err)
	}
	if q.Precision != 1 || q.Recall != 1 || math.Abs(q.F1-1) > 1e-12 || q.ExactClusters != 4 {
		t.Errorf("perfect clusters: %+v", *q)
	}
}
