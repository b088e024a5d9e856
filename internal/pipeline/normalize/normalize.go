// Package normalize is the identifier stage: it takes every mapped identifier of every row
// (normalized by extract with its type's normalizer), drops values that are empty, and removes
// excluded values (exact values are normalized like the data; LIKE patterns apply as written,
// with '\' as escape) while keeping a record of what was excluded.
package normalize

import (
	"strings"

	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Stage builds idr_work.identifiers_all, exclusions, identifiers_excluded and identifiers
// (eid, identifier_type, value_norm, multi) from idr_work.rows; for an incremental run, the same from
// idr_work.delta_rows keyed by entity_key, ending in delta_identifiers.
func Stage(c *stage.Context) stage.Stage {
	d := c.D
	key, rowsTable, out := "eid", stage.W("rows"), stage.W("identifiers")
	if c.Incremental {
		key, rowsTable, out = "entity_key", stage.W("delta_rows"), stage.W("delta_identifiers")
	}
	// An entity's identifiers are distinct (type, value) pairs. Only an entity of several rows, or
	// a source mapping two columns to one identifier type, can repeat a pair; a FULL run takes
	// the other rows as they are (at 10M single-row entities the DISTINCT cost 1.4-2.1 s).
	var unique, repeated []string
	for _, s := range c.Cfg.Sources {
		where := " WHERE table_id = " + stage.Lit(s.TableID)
		twice := c.RepeatsType(s)
		for _, sl := range c.Slots(s) {
			if sl.IdentifierType == "" {
				continue
			}
			part := "SELECT " + key + ", " + stage.Lit(sl.IdentifierType) + " AS identifier_type, " + sl.Col + " AS value_norm FROM " + rowsTable + where
			if c.Incremental || twice {
				repeated = append(repeated, part)
				continue
			}
			unique = append(unique, part+" AND row_count = 1")
			repeated = append(repeated, part+" AND row_count > 1")
		}
	}
	// multi says whether the entity may hold other values of the type (golden takes the smallest
	// of those). Configuration has at least one identifier mapping, so repeated is never empty.
	const present = " WHERE value_norm IS NOT NULL AND value_norm <> ''"
	all := []string{"SELECT DISTINCT " + key + ", identifier_type, value_norm, TRUE AS multi FROM (" + strings.Join(repeated, " UNION ALL ") + ") i" + present}
	if len(unique) > 0 {
		all = append([]string{"SELECT " + key + ", identifier_type, value_norm, FALSE AS multi FROM (" + strings.Join(unique, " UNION ALL ") + ") u" + present}, all...)
	}

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

	excluded := "SELECT i." + key + ", i.identifier_type, i.value_norm, min(x.reason) AS reason FROM " + stage.W("identifiers_all") + " i JOIN " +
		stage.W("exclusions") + " x ON x.identifier_type = i.identifier_type AND " +
		"((x.is_pattern AND i.value_norm LIKE x.pattern ESCAPE '\\') OR (NOT x.is_pattern AND i.value_norm = x.pattern)) " +
		"GROUP BY i." + key + ", i.identifier_type, i.value_norm"
	kept := "SELECT i." + key + ", i.identifier_type, i.value_norm, i.multi FROM " + stage.W("identifiers_all") + " i LEFT JOIN " +
		stage.W("identifiers_excluded") + " x ON x." + key + " = i." + key + " AND x.identifier_type = i.identifier_type AND x.value_norm = i.value_norm " +
		"WHERE x." + key + " IS NULL"
	return stage.Stage{
		Name: "normalize",
		Steps: stage.SQL(
			d.ReplaceTable(stage.W("identifiers_all"), strings.Join(all, " UNION ALL ")),
			d.ReplaceTable(stage.W("exclusions"), exclusions),
			d.ReplaceTable(stage.W("identifiers_excluded"), excluded),
			d.ReplaceTable(out, kept),
		),
		RowsSQL: stage.Count(out),
	}
}
