// Package cli owns the idr command line: one cobra command per verb, and the one place where
// errors become a single stderr line and an exit code (0 ok, 1 run failed, 2 usage/config).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/internal/errs"
)

// Version is set at build time (-ldflags "-X github.com/idr-dev/idr/internal/cli.Version=...").
var Version = "dev"

// env is what a command may touch; tests pass their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// Main runs idr with args (without the program name) and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "idr: internal error: %v (please report it with the command you ran)\n", r)
			code = 1
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ie *errs.Error
	if !errors.As(err, &ie) {
		// Errors cobra raises itself (unknown flag or command, bad arguments) are usage errors.
		err = errs.Usage("see `idr --help`", "%s", errs.OneLine(err.Error()))
	}
	fmt.Fprintf(stderr, "idr: %s\n", err)
	return errs.ExitCode(err)
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "idr",
		Short: "Deterministic identity resolution: one resolved_id per real customer",
		Long: "idr links records that share normalized identifiers (email, phone, loyalty id, ...) across sources,\n" +
			"finds exact clusters, and publishes membership, golden profiles and an audit trail to idr_out.\n" +
			"Configuration lives in the idr_meta tables of the database.",
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return errs.Usage("see `"+c.CommandPath()+" --help`", "%s", err.Error())
	})
	root.AddCommand(newInit(e), newRun(e), newPlan(e), newSQL(e), newDemo(e), newStatus(e))
	// One line per further verb, each in its own file.
	root.AddCommand(newGenerate(e))
	root.AddCommand(newEvaluate(e))
	root.AddCommand(newReport(e))
	root.AddCommand(newExplain(e))
	root.AddCommand(newMetrics(e))
	root.AddCommand(newSuggestExclusions(e))
	root.AddCommand(newBench(e))
	return root
}

// dbFlag registers the --db flag every database command takes.
func dbFlag(c *cobra.Command, db *string) {
	c.Flags().StringVar(db, "db", "", "DuckDB database file")
}

func needDB(db string) error {
	if db == "" {
		return errs.Usage("pass --db=PATH (a DuckDB database file), or --engine=spark --remote=sc://HOST:PORT where the command takes them", "no database given")
	}
	return nil
}

// open opens the database; mustExist refuses to create a new file.
func open(ctx context.Context, db string, mustExist bool) (*idr.Client, error) {
	if t, ok := targetOf(ctx); ok {
		return openTarget(ctx, t, db)
	}
	if t, ok := ctx.Value(targetKey{}).(*target); ok && t.remote != "" {
		return nil, errs.Usage("pass --engine=spark with --remote, or drop --remote", "--remote given without --engine=spark")
	}
	if err := needDB(db); err != nil {
		return nil, err
	}
	return idr.Open(ctx, idr.Options{DB: db, MustExist: mustExist})
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return errs.Usage("see `"+c.CommandPath()+" --help`", "%s takes no arguments, got %q", c.CommandPath(), args[0])
	}
	return nil
}
