package cli

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/idr-dev/idr/internal/bench"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/generate"
)

func newBench(e *env) *cobra.Command {
	var scenario, rows, dir, doc string
	var seed int64
	var pct float64
	var keep bool
	c := &cobra.Command{
		Use:   "bench [--scenario=retail] [--rows=1000000,10000000] [--doc=docs/benchmarks.md]",
		Short: "Measure idr: generate data, run FULL, change a share of it, run INCR and FULL side by side",
		Long: "For each size: idr generate (with its truth), idr run FULL, a change to --delta-pct of every source's\n" +
			"records (newer watermark, another record's email), idr run INCR, then idr run FULL over the same data.\n" +
			"Each step is its own idr process, measured for wall time and peak RSS; stage times come from\n" +
			"idr_out.stage_metrics, precision and recall from idr evaluate, and INCR's membership is compared\n" +
			"with FULL's. The results print as Markdown, or replace the idr bench section of --doc.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(generate.Names(), scenario) {
				return errs.Usage("use --scenario="+strings.Join(generate.Names(), " or "), "unknown --scenario %q", scenario)
			}
			var sizes []int64
			for _, f := range strings.Split(rows, ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
				if err != nil || n < 1000 {
					return errs.Usage("pass --rows sizes of 1000 or more separated by commas, e.g. --rows=1000000,10000000", "bad --rows %q", f)
				}
				sizes = append(sizes, n)
			}
			exe, err := os.Executable()
			if err != nil {
				return errs.Wrap(errs.KindRun, err, "", "bench: cannot find the idr binary")
			}
			rs, err := bench.Run(cmd.Context(), bench.Options{Exe: exe, Dir: dir, Scenario: scenario, Rows: sizes, Seed: seed,
				DeltaPct: pct, Keep: keep, Log: e.stderr})
			if err != nil {
				return err
			}
			command := "idr bench"
			cmd.Flags().Visit(func(f *pflag.Flag) { command += " --" + f.Name + "=" + f.Value.String() })
			md := bench.Markdown(bench.ThisMachine(cmd.Context()), time.Now(), command, rs)
			if doc == "" {
				_, err := e.stdout.Write([]byte(md))
				return err
			}
			return bench.WriteDoc(doc, md)
		},
	}
	c.Flags().StringVar(&scenario, "scenario", "retail", "dataset: "+strings.Join(generate.Names(), " or "))
	c.Flags().StringVar(&rows, "rows", "1000000,10000000", "sizes to measure, in records, separated by commas (e.g. add 100000000)")
	c.Flags().Int64Var(&seed, "seed", 1, "generator seed")
	c.Flags().Float64Var(&pct, "delta-pct", 1, "percent of every source's records changed before the INCR run")
	c.Flags().StringVar(&dir, "dir", "build/bench", "directory for the benchmark databases")
	c.Flags().StringVar(&doc, "doc", "", "Markdown file whose idr bench section is replaced with the results (default: print them)")
	c.Flags().BoolVar(&keep, "keep", false, "keep the benchmark databases")
	return c
}
