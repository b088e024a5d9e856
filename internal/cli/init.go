package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newInit(e *env) *cobra.Command {
	var db string
	c := &cobra.Command{
		Use:   "init (--db=PATH | --engine=spark --remote=URL)",
		Short: "Create the idr_meta, idr_work and idr_out schemas and tables (keeps existing data)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := open(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer client.Close()
			if err := client.Init(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "idr: initialized %s (schemas idr_meta, idr_work, idr_out)\n", where(cmd.Context(), db))
			return nil
		},
	}
	dbFlag(c, &db)
	engineFlags(c)
	return c
}
