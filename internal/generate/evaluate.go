package generate

import (
	"context"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
)

// MembershipTable is what a committed run published and Evaluate measures.
const MembershipTable = "idr_out.identity_resolved_membership_current"

// Quality is a run's clusters measured against the truth, counting pairs of entities: a pair is
// true when both are the same person, predicted when both have the same resolved_id.
type Quality struct {
	Entities      int64   `json:"entities"`       // entities in the truth
	Missing       int64   `json:"missing"`        // truth entities without a resolved_id (counted as singletons)
	Extra         int64   `json:"extra"`          // resolved entities the truth does not know (left out)
	TrueClusters  int64   `json:"true_clusters"`  // people
	PredClusters  int64   `json:"pred_clusters"`  // resolved ids over the truth's entities
	TrueLargest   int64   `json:"true_largest"`   // most entities of one person
	PredLargest   int64   `json:"pred_largest"`   // most entities of one resolved id
	ExactClusters int64   `json:"exact_clusters"` // resolved clusters that are exactly one person's entities
	TruePairs     int64   `json:"true_pairs"`
	PredPairs     int64   `json:"pred_pairs"`
	CorrectPairs  int64   `json:"correct_pairs"` // pairs both true and predicted
	Precision     float64 `json:"precision"`     // correct / predicted (1 when nothing is predicted)
	Recall        float64 `json:"recall"`        // correct / true (1 when there is nothing to find)
	F1            float64 `json:"f1"`
}

// evaluateSQL counts pairs from the contingency table of person and resolved_id: a cell of n
// entities holds n(n-1)/2 pairs, so no pair is ever built. The steps are temporary tables of
// this connection (one CTE query with scalar subqueries over it planned badly: minutes and
// gigabytes at 50K entities).
var evaluateSQL = []string{
	`CREATE OR REPLACE TEMP TABLE g_eval_j AS
	  SELECT t.person_id, coalesce(m.resolved_id, '~missing:' || t.entity_key) AS resolved_id, m.resolved_id IS NULL AS missing
	  FROM ` + TruthTable + ` t LEFT JOIN ` + MembershipTable + ` m ON m.entity_key = t.entity_key`,
	`CREATE OR REPLACE TEMP TABLE g_eval_cell AS SELECT person_id, resolved_id, count(*) AS n FROM g_eval_j GROUP BY person_id, resolved_id`,
	`CREATE OR REPLACE TEMP TABLE g_eval_true AS SELECT person_id, CAST(sum(n) AS BIGINT) AS n FROM g_eval_cell GROUP BY person_id`,
	`CREATE OR REPLACE TEMP TABLE g_eval_pred AS SELECT resolved_id, CAST(sum(n) AS BIGINT) AS n FROM g_eval_cell GROUP BY resolved_id`,
}

const evaluateQuery = `SELECT
  (SELECT count(*) FROM g_eval_j),
  (SELECT count(*) FROM g_eval_j WHERE missing),
  (SELECT count(*) FROM ` + MembershipTable + ` m ANTI JOIN ` + TruthTable + ` t ON t.entity_key = m.entity_key),
  (SELECT count(*) FROM g_eval_true),
  (SELECT count(*) FROM g_eval_pred),
  (SELECT coalesce(max(n), 0) FROM g_eval_true),
  (SELECT coalesce(max(n), 0) FROM g_eval_pred),
  (SELECT count(*) FROM g_eval_cell c JOIN g_eval_true t ON t.person_id = c.person_id
     JOIN g_eval_pred p ON p.resolved_id = c.resolved_id WHERE c.n = t.n AND c.n = p.n),
  (SELECT CAST(coalesce(sum(n * (n - 1) // 2), 0) AS BIGINT) FROM g_eval_true),
  (SELECT CAST(coalesce(sum(n * (n - 1) // 2), 0) AS BIGINT) FROM g_eval_pred),
  (SELECT CAST(coalesce(sum(n * (n - 1) // 2), 0) AS BIGINT) FROM g_eval_cell)`

var evaluateDrop = []string{"DROP TABLE IF EXISTS g_eval_j", "DROP TABLE IF EXISTS g_eval_cell",
	"DROP TABLE IF EXISTS g_eval_true", "DROP TABLE IF EXISTS g_eval_pred"}

// Evaluate measures the published membership against the truth table (see Generate with Truth).
func Evaluate(ctx context.Context, eng engine.Engine) (*Quality, error) {
	if _, ok, err := eng.Columns(ctx, TruthTable); err != nil || !ok {
		return nil, errs.Config("generate the data with `idr generate --truth`", "no truth: table %s does not exist", TruthTable)
	}
	if _, ok, err := eng.Columns(ctx, MembershipTable); err != nil || !ok {
		return nil, errs.Config("run `idr init` and `idr run` first", "table %s does not exist", MembershipTable)
	}
	res, err := eng.Query(ctx, "SELECT count(*) FROM "+MembershipTable)
	if err != nil {
		return nil, errs.Wrap(errs.KindRun, err, "", "evaluate: reading %s", MembershipTable)
	}
	if n, _ := engine.Int(res.Rows[0][0]); n == 0 {
		return nil, errs.Config("run `idr run --run-mode=FULL` first", "%s is empty: no committed run to evaluate", MembershipTable)
	}
	defer func() {
		for _, s := range evaluateDrop {
			_ = eng.Exec(context.WithoutCancel(ctx), s)
		}
	}()
	for _, s := range evaluateSQL {
		if err := eng.Exec(ctx, s); err != nil {
			return nil, errs.Wrap(errs.KindRun, err, "", "evaluate")
		}
	}
	res, err = eng.Query(ctx, evaluateQuery)
	if err != nil {
		return nil, errs.Wrap(errs.KindRun, err, "", "evaluate")
	}
	v := make([]int64, len(res.Rows[0]))
	for i, x := range res.Rows[0] {
		v[i], _ = engine.Int(x)
	}
	q := &Quality{Entities: v[0], Missing: v[1], Extra: v[2], TrueClusters: v[3], PredClusters: v[4],
		TrueLargest: v[5], PredLargest: v[6], ExactClusters: v[7], TruePairs: v[8], PredPairs: v[9], CorrectPairs: v[10]}
	q.Precision, q.Recall = ratio(q.CorrectPairs, q.PredPairs), ratio(q.CorrectPairs, q.TruePairs)
	if q.Precision+q.Recall > 0 {
		q.F1 = 2 * q.Precision * q.Recall / (q.Precision + q.Recall)
	}
	return q, nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
