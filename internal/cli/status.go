package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/internal/errs"
)

func newStatus(e *env) *cobra.Command {
	var db, format string
	var limit int
	c := &cobra.Command{
		Use:   "status (--db=PATH | --engine=spark --remote=URL)",
		Short: "Show the most recent runs from idr_out.run_history",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit <= 0 {
				return errs.Usage("pass a positive number", "--limit=%d", limit)
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			res, err := client.Engine().Query(cmd.Context(), fmt.Sprintf("SELECT run_id, run_mode, status, started_ts, "+
				"round(duration_seconds, 3) AS seconds, entities_processed AS entities, edges_created AS edges, clusters, "+
				"largest_cluster_size AS largest, failed_stage, error_message FROM idr_out.run_history ORDER BY started_ts DESC, run_id DESC LIMIT %d", limit))
			if err != nil {
				return errs.Wrap(errs.KindConfig, err, "run `idr init` on "+where(cmd.Context(), db)+" first", "cannot read idr_out.run_history")
			}
			return writeResult(e.stdout, res, format)
		},
	}
	dbFlag(c, &db)
	engineFlags(c)
	c.Flags().IntVar(&limit, "limit", 10, "how many runs to show")
	c.Flags().StringVar(&format, "format", "table", "output format: table, csv or json")
	return c
}
