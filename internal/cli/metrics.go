package cli

import (
	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/internal/explain"
)

func newMetrics(e *env) *cobra.Command {
	var db, runID, format string
	c := &cobra.Command{
		Use:   "metrics --db=PATH [--run-id=ID] [--format=prometheus|json]",
		Short: "Print a committed run's metrics (idr_out.metrics_export) for Prometheus or as JSON",
		Long: "Prints the metrics a committed run recorded in idr_out.metrics_export, by default the latest one's,\n" +
			"in the Prometheus text exposition format (every metric a gauge; serve it with node_exporter's\n" +
			"textfile collector or a push gateway) or as JSON.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := formatOneOf(format, "prometheus", "json"); err != nil {
				return err
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			m, err := explain.ReadMetrics(cmd.Context(), client.Engine(), runID)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeIndentedJSON(e.stdout, m)
			}
			return explain.WritePrometheus(e.stdout, m)
		},
	}
	dbFlag(c, &db)
	c.Flags().StringVar(&runID, "run-id", "", "committed run whose metrics to print (default: the latest)")
	c.Flags().StringVar(&format, "format", "prometheus", "output format: prometheus or json")
	return c
}
