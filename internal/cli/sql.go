package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/sqltext"
)

// Statements whose result is a table worth printing.
var queryKeywords = map[string]bool{"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true, "SHOW": true,
	"DESCRIBE": true, "SUMMARIZE": true, "PRAGMA": true, "EXPLAIN": true, "CALL": true, "PIVOT": true, "UNPIVOT": true}

// Statements that manage transactions themselves; a script holding one is not wrapped in another.
var txKeywords = map[string]bool{"BEGIN": true, "COMMIT": true, "ROLLBACK": true, "START": true, "END": true, "ABORT": true}

func newSQL(e *env) *cobra.Command {
	var db, command, file, format string
	c := &cobra.Command{
		Use:   "sql (--db=PATH | --engine=spark --remote=URL) (-c SQL | -f FILE | < FILE)",
		Short: "Run SQL statements against the database and print their results",
		Long: "Runs one or more ;-separated statements (configuration INSERTs, queries over idr_out) in one\n" +
			"transaction: if any statement fails, none of the script's changes are kept.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			script, where, err := readScript(e.stdin, command, file)
			if err != nil {
				return err
			}
			stmts, err := sqltext.Split(script)
			if err != nil {
				return errs.Usage("fix the quoting of the script", "%s: %s", where, err)
			}
			if len(stmts) == 0 {
				return errs.Usage("pass statements with -c, -f or on standard input", "%s holds no SQL statement", where)
			}
			client, err := open(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer client.Close()
			return runScript(cmd.Context(), e, client.Engine(), stmts, where, format)
		},
	}
	dbFlag(c, &db)
	engineFlags(c)
	c.Flags().StringVarP(&command, "command", "c", "", "SQL to run")
	c.Flags().StringVarP(&file, "file", "f", "", "file of SQL to run")
	c.Flags().StringVar(&format, "format", "table", "output format: table, csv or json (one object per line)")
	return c
}

func readScript(stdin io.Reader, command, file string) (string, string, error) {
	switch {
	case command != "" && file != "":
		return "", "", errs.Usage("pass one of them", "both -c and -f given")
	case command != "":
		return command, "-c", nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", errs.Wrap(errs.KindUsage, err, "check the path", "cannot read SQL file %s", file)
		}
		return string(b), file, nil
	default:
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return "", "", errs.Usage("pass -c \"SQL\", -f FILE, or pipe SQL on standard input", "no SQL given")
			}
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", "", errs.Wrap(errs.KindUsage, err, "", "cannot read standard input")
		}
		return string(b), "standard input", nil
	}
}

func runScript(ctx context.Context, e *env, eng engine.Engine, stmts []string, where, format string) error {
	exec := func(ctx context.Context) error {
		for i, stmt := range stmts {
			kw := sqltext.FirstKeyword(stmt)
			res, err := eng.Query(ctx, stmt)
			if err != nil {
				return errs.Wrap(errs.KindConfig, err, "nothing from this script was kept; fix the statement and run it again",
					"%s statement %d (%s ...)", where, i+1, kw)
			}
			if queryKeywords[kw] {
				if err := writeResult(e.stdout, res, format); err != nil {
					return err
				}
			} else if len(res.Rows) == 1 && len(res.Columns) == 1 && res.Columns[0] == "Count" {
				fmt.Fprintf(e.stderr, "%s %v\n", kw, res.Rows[0][0])
			} else {
				fmt.Fprintf(e.stderr, "%s\n", kw)
			}
		}
		return nil
	}
	for _, stmt := range stmts {
		if txKeywords[sqltext.FirstKeyword(stmt)] {
			return exec(ctx)
		}
	}
	return eng.Atomic(ctx, exec)
}
