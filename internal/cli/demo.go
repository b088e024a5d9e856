package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/demo"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/report"
	"github.com/idr-dev/idr/internal/sqltext"
)

func newDemo(e *env) *cobra.Command {
	var db string
	var force bool
	c := &cobra.Command{
		Use:   "demo [--db=PATH] [--force]",
		Short: "Run the customer data unification walkthrough end to end on a new database",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(db); err == nil {
				if !force {
					return errs.Usage("pass --force to replace it, or another --db", "%s already exists", db)
				}
				for _, p := range []string{db, db + ".wal"} {
					if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
						return errs.Wrap(errs.KindUsage, err, "", "cannot replace %s", p)
					}
				}
			}
			return runDemo(cmd, e, db)
		},
	}
	c.Flags().StringVar(&db, "db", "idr_demo.duckdb", "database file to create")
	c.Flags().BoolVar(&force, "force", false, "replace the database file if it exists")
	return c
}

func runDemo(cmd *cobra.Command, e *env, db string) error {
	ctx := cmd.Context()
	client, err := idr.Open(ctx, idr.Options{DB: db})
	if err != nil {
		return err
	}
	defer client.Close()
	step := func(title string) { fmt.Fprintf(e.stdout, "\n### %s\n\n", title) }
	script := func(name string) error {
		stmts, err := sqltext.Split(demo.SQL(name))
		if err != nil {
			return err
		}
		return runScript(ctx, e, client.Engine(), stmts, name, "table")
	}

	step("idr init --db=" + db)
	if err := client.Init(ctx); err != nil {
		return err
	}
	step("Step 1: sample data (crm.customers, ecom.orders, support.tickets)")
	if err := script(demo.Sources); err != nil {
		return err
	}
	step("Steps 2-4: configure sources, rules, exclusions and identifier mappings")
	fmt.Fprint(e.stdout, demo.SQL(demo.Config))
	if err := script(demo.Config); err != nil {
		return err
	}
	step("Step 5: idr run --db=" + db + " --run-mode=FULL --dry-run")
	if err := demoRun(cmd, e, client, true); err != nil {
		return err
	}
	step("Step 6: review results")
	if err := script(demo.Review); err != nil {
		return err
	}
	step("Step 7: idr run --db=" + db + " --run-mode=FULL")
	if err := demoRun(cmd, e, client, false); err != nil {
		return err
	}
	for _, q := range []struct{ title, name string }{
		{"Step 8: cluster membership", demo.Membership},
		{"Step 8: golden profiles", demo.Golden},
		{"Step 8: customer 360 view", demo.Customer360},
	} {
		step(q.title)
		if err := script(q.name); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "\nDone. Explore further with: idr sql --db=%s -c \"SELECT * FROM idr_out.run_history\"\n", db)
	return nil
}

func demoRun(cmd *cobra.Command, e *env, client *idr.Client, dry bool) error {
	rep, err := runAndReport(cmd, e, client, idr.RunOptions{Mode: "FULL", DryRun: dry})
	if err != nil {
		return err
	}
	report.WriteText(e.stdout, rep)
	return nil
}
