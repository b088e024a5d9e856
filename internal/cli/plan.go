package cli

import (
	"github.com/spf13/cobra"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/pipeline"
)

func newPlan(e *env) *cobra.Command {
	var db, mode string
	var dryRun bool
	c := &cobra.Command{
		Use:   "plan (--db=PATH | --engine=spark --remote=URL) [--run-mode=FULL] [--dry-run]",
		Short: "Validate the configuration and print the SQL a run would execute, stage by stage",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := pipeline.ParseMode(mode); err != nil {
				return err
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			stages, err := client.Plan(cmd.Context(), idr.RunOptions{Mode: mode, DryRun: dryRun})
			if err != nil {
				return err
			}
			pipeline.WritePlan(e.stdout, stages)
			return nil
		},
	}
	dbFlag(c, &db)
	engineFlags(c)
	c.Flags().StringVar(&mode, "run-mode", "FULL", "run mode to plan")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "plan a dry run")
	return c
}
