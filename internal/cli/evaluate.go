package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/generate"
)

func newEvaluate(e *env) *cobra.Command {
	var db, format string
	c := &cobra.Command{
		Use:   "evaluate --db=PATH [--format=text|json]",
		Short: "Measure the published clusters against the generated truth: pairwise precision and recall",
		Long: "Compares idr_out.identity_resolved_membership_current with idr_truth.entity_person (written by\n" +
			"`idr generate --truth`). A pair of entities is true when both are the same person and predicted\n" +
			"when both have the same resolved_id; precision = correct/predicted, recall = correct/true.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return errs.Usage("use --format=text or json", "unknown --format %q", format)
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			q, err := generate.Evaluate(cmd.Context(), client.Engine())
			if err != nil {
				return err
			}
			if format == "json" {
				return json.NewEncoder(e.stdout).Encode(q)
			}
			fmt.Fprintf(e.stdout, "precision      %.6f  (%d of %d predicted pairs are true)\n", q.Precision, q.CorrectPairs, q.PredPairs)
			fmt.Fprintf(e.stdout, "recall         %.6f  (%d of %d true pairs are predicted)\n", q.Recall, q.CorrectPairs, q.TruePairs)
			fmt.Fprintf(e.stdout, "f1             %.6f\n", q.F1)
			fmt.Fprintf(e.stdout, "entities       %d  (missing from the run: %d, unknown to the truth: %d)\n", q.Entities, q.Missing, q.Extra)
			fmt.Fprintf(e.stdout, "true clusters  %d  (largest %d)\n", q.TrueClusters, q.TrueLargest)
			fmt.Fprintf(e.stdout, "pred clusters  %d  (largest %d, exactly one person: %d)\n", q.PredClusters, q.PredLargest, q.ExactClusters)
			return nil
		},
	}
	dbFlag(c, &db)
	c.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return c
}
