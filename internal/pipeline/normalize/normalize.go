// Package normalize is the identifier stage: it reads every mapped identifier, normalizes it
// with its type's normalizer, drops values that are empty after normalization, and removes
// excluded values (exact values are normalized like the data; LIKE patterns apply as written,
// with '\' as escape) while keeping a record of what was excluded.
package normalize

import (
	"strings"

	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.identifiers_all, exclusions, identifiers_excluded and identifiers.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	var parts []string
	for _, m := range c.Cfg.Mappings {
		s, _ := c.Cfg.Source(m.TableID)
		v := c.Text(m.Expr)
		if m.Normalize {
			v = d.Normalize(c.Cfg.Normalizer(m.IdentifierType), v)
		}
		parts = append(parts, "SELECT "+c.EntityKey(s)+" AS entity_key, "+stage.Lit(m.IdentifierType)+" AS identifier_type, "+
			v+" AS value_norm FROM "+s.FQN)
	}
	all := "SELECT DISTINCT e.eid, i.identifier_type, i.value_norm FROM (" + strings.Join(parts, " UNION ALL ") + ") i JOIN " +
		stage.W("entities") + " e ON e.entity_key = i.entity_key WHERE i.value_norm IS NOT NULL AND i.value_norm <> ''"

	var rows [][]string
	for _, x := range c.Cfg.Exclusions {
		pattern := stage.Lit(x.Value)
		if !x.IsPattern {
			pattern = d.Normalize(c.Cfg.Normalizer(x.IdentifierType), c.Text(pattern))
		}
		isPattern := "FALSE"
		if x.IsPattern {
			isPattern = "TRUE"
		}
		rows = append(rows, []string{stage.Lit(x.IdentifierType), pattern, isPattern, stage.Lit(x.Reason)})
	}
	exclusions := c.Values([]string{"identifier_type", "pattern", "is_pattern", "reason"},
		[]string{"TEXT", "TEXT", "BOOLEAN", "TEXT"}, rows)

	excluded := "SELECT i.eid, i.identifier_type, i.value_norm, min(x.reason) AS reason FROM " + stage.W("identifiers_all") + " i JOIN " +
		stage.W("exclusions") + " x ON x.identifier_type = i.identifier_type AND " +
		"((x.is_pattern AND i.value_norm LIKE x.pattern ESCAPE '\\') OR (NOT x.is_pattern AND i.value_norm = x.pattern)) " +
		"GROUP BY i.eid, i.identifier_type, i.value_norm"
	kept := "SELECT i.eid, i.identifier_type, i.value_norm FROM " + stage.W("identifiers_all") + " i LEFT JOIN " +
		stage.W("identifiers_excluded") + " x ON x.eid = i.eid AND x.identifier_type = i.identifier_type AND x.value_norm = i.value_norm " +
		"WHERE x.eid IS NULL"
	return stage.Stage{
		Name: "normalize",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("identifiers_all"), all),
			d.ReplaceTable(stage.W("exclusions"), exclusions),
			d.ReplaceTable(stage.W("identifiers_excluded"), excluded),
			d.ReplaceTable(stage.W("identifiers"), kept),
		),
		RowsSQL: stage.Count(stage.W("identifiers")),
	}
}
