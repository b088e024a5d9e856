package cli

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/explain"
)

func newExplain(e *env) *cobra.Command {
	var db, runID, format string
	var limit int
	c := &cobra.Command{
		Use:   "explain --db=PATH ENTITY_KEY [ENTITY_KEY_B]",
		Short: "Show why an entity is in its cluster, or why two entities are or are not linked",
		Long: "With one entity key: its cluster (resolved_id, size, members by source) and, for each member, the\n" +
			"shortest chain of shared identifiers linking it to the entity. With two: the chain between them, or\n" +
			"NOT LINKED with the nearest reasons (a group skipped for max_group_size, an excluded value, a missing\n" +
			"identifier). Keys are entity keys (table_id:key) or bare keys that one source has.\n" +
			"Explains the latest committed run, or with --run-id the latest dry run.",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return errs.Usage("see `idr explain --help`", "idr explain takes one or two entity keys, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatOneOf(format, "text", "json"); err != nil {
				return err
			}
			if limit < 0 {
				return errs.Usage("pass 0 for all members or a positive number", "--limit=%d", limit)
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			ctx, eng := cmd.Context(), client.Engine()
			run, err := explain.ResolveRun(ctx, eng, runID)
			if err != nil {
				return err
			}
			x, err := explain.New(ctx, eng, run)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				ent, err := x.Entity(ctx, args[0], limit)
				if err != nil {
					return err
				}
				if format == "json" {
					return writeIndentedJSON(e.stdout, ent)
				}
				explain.WriteEntity(e.stdout, ent)
				return nil
			}
			pair, err := x.Pair(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			if format == "json" {
				return writeIndentedJSON(e.stdout, pair)
			}
			explain.WritePair(e.stdout, pair)
			return nil
		},
	}
	dbFlag(c, &db)
	c.Flags().StringVar(&runID, "run-id", "", "run to explain: the latest committed run (default) or the latest dry run")
	c.Flags().StringVar(&format, "format", "text", "output format: text or json")
	c.Flags().IntVar(&limit, "limit", 100, "most members to list, nearest first (0: all)")
	return c
}

// formatOneOf refuses a --format value outside allowed.
func formatOneOf(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	list := ""
	for i, a := range allowed {
		if i > 0 {
			list += ", "
		}
		list += a
	}
	return errs.Usage("use one of: "+list, "unknown --format %q", format)
}

// writeIndentedJSON prints v as indented JSON.
func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
