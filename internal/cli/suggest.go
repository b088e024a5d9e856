package cli

import (
	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/explain"
)

func newSuggestExclusions(e *env) *cobra.Command {
	var db, format string
	var limit, minEntities int
	c := &cobra.Command{
		Use:   "suggest-exclusions --db=PATH [--limit=N] [--format=text|json]",
		Short: "List identifier values that look generic, with a ready INSERT for idr_meta.identifier_exclusion",
		Long: "Looks at the identifier values of the latest committed run (idr_out.identity_identifiers_current) for\n" +
			"well-known placeholders (noreply@, test@, example.com, 0000000000, 1234567890, N/A, ...), groups far\n" +
			"larger than their type's typical group or than their rule's max_group_size, and values whose holders\n" +
			"have many different names. Prints each with its entity count, the reasons and an INSERT to exclude it.\n" +
			"Nothing is changed: review the list and run the INSERTs you agree with.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := formatOneOf(format, "text", "json"); err != nil {
				return err
			}
			if limit < 0 {
				return errs.Usage("pass 0 for all or a positive number", "--limit=%d", limit)
			}
			if minEntities < 1 {
				return errs.Usage("pass a positive number", "--min-entities=%d", minEntities)
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			s, err := explain.Suggest(cmd.Context(), client.Engine(), explain.SuggestOptions{Limit: limit, MinEntities: minEntities})
			if err != nil {
				return err
			}
			if format == "json" {
				return writeIndentedJSON(e.stdout, s)
			}
			explain.WriteSuggestions(e.stdout, s)
			return nil
		},
	}
	dbFlag(c, &db)
	c.Flags().IntVar(&limit, "limit", 50, "most values to list, most widely held first (0: all)")
	c.Flags().IntVar(&minEntities, "min-entities", 2, "ignore values held by fewer entities (a value held by one links nothing)")
	c.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return c
}
