package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/errs"
)

// target is where a command runs: --engine and --remote, beside --db.
type target struct{ engine, remote string }

type targetKey struct{}

// engineFlags registers --engine and --remote on a command that also takes --db (dbFlag):
// init, run, plan, sql and status run on either engine. open reads them from the command's
// context, where they are put before the command runs.
func engineFlags(c *cobra.Command) {
	t := &target{}
	c.Flags().StringVar(&t.engine, "engine", "duckdb", "duckdb (embedded; --db names the file) or spark (Spark Connect; --remote names the server)")
	c.Flags().StringVar(&t.remote, "remote", "", "Spark Connect URL for --engine=spark: sc://HOST:PORT, with ;token=TOKEN where the server needs one")
	prev := c.PreRunE
	c.PreRunE = func(cmd *cobra.Command, args []string) error {
		cmd.SetContext(context.WithValue(cmd.Context(), targetKey{}, t))
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

// targetOf is the command's --engine/--remote, if it takes them.
func targetOf(ctx context.Context) (*target, bool) {
	t, ok := ctx.Value(targetKey{}).(*target)
	return t, ok && t.engine != "duckdb"
}

// openTarget opens the engine --engine names; db is --db, which only DuckDB takes.
func openTarget(ctx context.Context, t *target, db string) (*idr.Client, error) {
	switch t.engine {
	case "spark":
		if db != "" {
			return nil, errs.Usage("drop --db: Spark keeps its tables in its own catalog", "--db=%s given with --engine=spark", db)
		}
		if t.remote == "" {
			return nil, errs.Usage("pass --remote=sc://HOST:PORT (with ;token=TOKEN where the server needs one)", "--engine=spark needs --remote")
		}
		return idr.Open(ctx, idr.Options{Engine: "spark", Remote: t.remote})
	default:
		return nil, errs.Usage("use --engine=duckdb or --engine=spark", "unknown --engine %q", t.engine)
	}
}

// where names the database a command ran on, for messages: the DuckDB file, or the Spark server.
func where(ctx context.Context, db string) string {
	if t, ok := targetOf(ctx); ok && t.engine == "spark" {
		return "the Spark catalog at " + t.remote
	}
	return db
}
