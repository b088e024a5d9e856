package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/report"
)

// testPauseEnv names a hook point at which a run stops and waits to be killed. It exists for
// the crash tests, which kill a real idr process mid-run and check that outputs are unchanged.
const testPauseEnv = "IDR_TEST_PAUSE_AT"

func newRun(e *env) *cobra.Command {
	var (
		db       string
		mode     string
		dryRun   bool
		maxIters int
		trace    bool
	)
	c := &cobra.Command{
		Use:   "run (--db=PATH | --engine=spark --remote=URL) --run-mode=FULL|INCR [--dry-run]",
		Short: "Resolve identities and publish the outputs (or preview them with --dry-run)",
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
			opts := idr.RunOptions{Mode: mode, DryRun: dryRun, MaxIters: maxIters}
			if trace {
				opts.Trace = e.stderr
			}
			rep, err := runAndReport(cmd, e, client, opts)
			if err != nil {
				return err
			}
			report.WriteText(e.stdout, rep)
			return nil
		},
	}
	dbFlag(c, &db)
	engineFlags(c)
	c.Flags().StringVar(&mode, "run-mode", "FULL", "FULL re-reads every source; INCR reads what changed since the last committed run")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "compute and write only idr_out.dry_run_results/dry_run_summary; production outputs stay as they are")
	c.Flags().BoolVar(&trace, "trace", false, "print every statement the run executes, with its duration, to stderr")
	c.Flags().IntVar(&maxIters, "max-iters", 0, "cap on clustering rounds for iterative engines (DuckDB's union-find is exact in one pass and ignores it)")
	return c
}

// runAndReport runs with terminal progress on stderr and prints per-stage lines.
func runAndReport(cmd *cobra.Command, e *env, client *idr.Client, opts idr.RunOptions) (*idr.Report, error) {
	prog := newProgress(e.stderr)
	opts.Progress = prog
	if point := os.Getenv(testPauseEnv); point != "" {
		opts.Hook = func(p string) {
			if p == point {
				fmt.Fprintf(e.stderr, "idr: paused at %s\n", p)
				<-cmd.Context().Done() // until killed, or interrupted (which then fails the run)
			}
		}
	}
	rep, err := client.Run(cmd.Context(), opts)
	prog.stop()
	if rep != nil && len(rep.Warnings) > 0 {
		for _, w := range rep.Warnings {
			fmt.Fprintf(e.stderr, "idr: warning: %s\n", w)
		}
	}
	if rep != nil {
		for _, g := range rep.Skipped {
			fmt.Fprintf(e.stderr, "idr: warning: skipped %s group %q: %d entities exceed max_group_size %d\n", g.IdentifierType, g.Value, g.Size, g.MaxGroupSize)
		}
	}
	return rep, err
}
