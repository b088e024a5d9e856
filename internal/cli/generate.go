package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/generate"
)

func newGenerate(e *env) *cobra.Command {
	var db, out string
	var force, truth, trace bool
	opts := generate.Options{}
	c := &cobra.Command{
		Use:   "generate --scenario=unification|retail --db=PATH [--rows=N] [--seed=S] [--out=DIR] [--truth] [--force]",
		Short: "Create a synthetic dataset with a ready-to-run configuration (and its truth) in a new database",
		Long: "Generates source tables for a scenario inside DuckDB, deterministically for a seed, writes the\n" +
			"configuration into idr_meta so that `idr run` works right after, and with --truth the true\n" +
			"person of every entity (idr_truth.entity_person) for `idr evaluate`. See docs/generate.md.\n\n" +
			"Scenarios:\n" + scenarioHelp(),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needDB(db); err != nil {
				return err
			}
			if _, ok := generate.Lookup(opts.Scenario); !ok {
				return errs.Usage("use --scenario="+strings.Join(generate.Names(), " or "), "unknown scenario %q", opts.Scenario)
			}
			if opts.Rows != 0 && (opts.Rows < generate.MinRows || opts.Rows > generate.MaxRows) {
				return errs.Usage(fmt.Sprintf("pass --rows between %d and %d", generate.MinRows, generate.MaxRows), "--rows=%d is out of range", opts.Rows)
			}
			if opts.Seed < 0 {
				return errs.Usage("pass a seed of 0 or more", "--seed=%d is negative", opts.Seed)
			}
			opts.Out, opts.Truth = out, truth
			if trace {
				opts.Trace = e.stderr
			}
			files, err := outFiles(opts)
			if err != nil {
				return err
			}
			if _, err := os.Stat(db); err == nil && !force {
				return errs.Usage("pass --force to replace it, or another --db", "%s already exists", db)
			}
			for _, f := range files {
				if _, err := os.Stat(f); err == nil && !force {
					return errs.Usage("pass --force to replace it, or another --out", "%s already exists", f)
				}
			}
			if out != "" {
				if err := os.MkdirAll(out, 0o755); err != nil {
					return errs.Wrap(errs.KindUsage, err, "check the path", "cannot create --out directory %s", out)
				}
			}
			if err := removeFiles(append([]string{db, db + ".wal"}, files...)); err != nil {
				return err
			}
			sum, err := runGenerate(cmd, db, opts)
			if err != nil {
				// Leave nothing half-written behind.
				_ = removeFiles(append([]string{db, db + ".wal"}, files...))
				return err
			}
			fmt.Fprintf(e.stdout, "scenario %s, seed %d: %d rows, %d people (largest %d records), max_group_size %d, %.1fs\n",
				sum.Scenario, sum.Seed, sum.Rows, sum.People, sum.LargestSize, sum.MaxGroup, sum.Duration.Seconds())
			for _, s := range sum.Sources {
				where := s.FQN
				if s.File != "" {
					where += " (view over " + s.File + ")"
				}
				fmt.Fprintf(e.stdout, "  %-22s %10d rows  %s\n", s.TableID, s.Rows, where)
			}
			if truth {
				where := generate.TruthTable
				if sum.TruthFile != "" {
					where += " (view over " + sum.TruthFile + ")"
				}
				fmt.Fprintf(e.stdout, "  %-22s %10d rows  %s\n", "truth", sum.Rows, where)
			}
			next := "idr run --db=" + db
			if truth {
				next += ", then idr evaluate --db=" + db
			}
			fmt.Fprintf(e.stderr, "idr: next: %s\n", next)
			return nil
		},
	}
	dbFlag(c, &db)
	c.Flags().StringVar(&opts.Scenario, "scenario", "unification", "dataset: "+strings.Join(generate.Names(), " or "))
	c.Flags().Int64Var(&opts.Rows, "rows", 0, "records over all sources (default: the scenario's scale 1, see above)")
	c.Flags().Int64Var(&opts.Seed, "seed", 1, "the same seed, scenario and rows give the same data")
	c.Flags().StringVar(&out, "out", "", "write sources (and truth) as Parquet files into this directory; the database gets views over them")
	c.Flags().BoolVar(&truth, "truth", false, "also write the true person of every entity, for `idr evaluate`")
	c.Flags().BoolVar(&trace, "trace", false, "print every statement with its duration to stderr")
	c.Flags().BoolVar(&force, "force", false, "replace the database file (and the --out files) if they exist")
	return c
}

func scenarioHelp() string {
	var b strings.Builder
	for _, s := range generate.Scenarios {
		fmt.Fprintf(&b, "  %-12s %s; %d rows by default\n", s.Name, s.About, s.DefaultRows)
	}
	return b.String()
}

// outFiles are the Parquet files --out would write.
func outFiles(opts generate.Options) ([]string, error) {
	if opts.Out == "" {
		return nil, nil
	}
	if st, err := os.Stat(opts.Out); err == nil && !st.IsDir() {
		return nil, errs.Usage("pass --out a directory", "--out=%s is a file", opts.Out)
	}
	sc, _ := generate.Lookup(opts.Scenario)
	var files []string
	for _, s := range sc.Sources {
		files = append(files, filepath.Join(opts.Out, s.TableID+".parquet"))
	}
	if opts.Truth {
		files = append(files, filepath.Join(opts.Out, "truth.parquet"))
	}
	return files, nil
}

func removeFiles(paths []string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return errs.Wrap(errs.KindUsage, err, "", "cannot replace %s", p)
		}
	}
	return nil
}

func runGenerate(cmd *cobra.Command, db string, opts generate.Options) (*generate.Summary, error) {
	client, err := idr.Open(cmd.Context(), idr.Options{DB: db})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	return generate.Generate(cmd.Context(), client.Engine(), opts)
}
