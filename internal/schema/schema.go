// Package schema owns the DDL of idr's three schemas: idr_meta (configuration the user writes),
// idr_work (scratch tables a run rebuilds) and idr_out (what a committed run publishes).
//
// Column order of the configuration tables is part of the contract: the user's walkthrough
// inserts positional VALUES, so the first columns of each idr_meta table are fixed.
package schema

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
)

// Column is a column with a portable type (see dialect.Dialect.Type).
type Column struct{ Name, Type string }

// Table is one table idr owns.
type Table struct {
	Schema, Name string
	Columns      []Column
}

// FQN is schema.table.
func (t Table) FQN() string { return t.Schema + "." + t.Name }

func cols(spec string) []Column {
	var out []Column
	for _, f := range strings.Split(spec, ",") {
		parts := strings.Fields(f)
		out = append(out, Column{Name: parts[0], Type: parts[1]})
	}
	return out
}

// Schemas idr creates.
var Schemas = []string{"idr_meta", "idr_work", "idr_out"}

// Tables is every persistent table, configuration first.
var Tables = []Table{
	{"idr_meta", "source_table", cols("table_id TEXT, table_fqn TEXT, entity_type TEXT, entity_key_expr TEXT, watermark_column TEXT, watermark_lookback_minutes INTEGER, is_active BOOLEAN")},
	{"idr_meta", "source", cols("table_id TEXT, source_name TEXT, trust_rank INTEGER, is_active BOOLEAN")},
	{"idr_meta", "rule", cols("rule_id TEXT, identifier_type TEXT, priority INTEGER, is_active BOOLEAN, max_group_size BIGINT")},
	{"idr_meta", "identifier_exclusion", cols("identifier_type TEXT, identifier_value_pattern TEXT, is_pattern BOOLEAN, reason TEXT")},
	{"idr_meta", "identifier_mapping", cols("table_id TEXT, identifier_type TEXT, identifier_value_expr TEXT, requires_normalization BOOLEAN")},
	{"idr_meta", "entity_attribute_mapping", cols("table_id TEXT, attribute_name TEXT, attribute_expr TEXT")},
	{"idr_meta", "identifier_normalizer", cols("identifier_type TEXT, normalizer TEXT")},
	{"idr_meta", "source_soft_delete", cols("table_id TEXT, deleted_expr TEXT")},
	{"idr_meta", "run_state", cols("table_id TEXT, last_watermark_value TIMESTAMP, last_run_id TEXT, last_run_ts TIMESTAMP")},

	{"idr_out", "identity_clusters_current", cols("resolved_id TEXT, cluster_size BIGINT, updated_ts TIMESTAMP")},
	{"idr_out", "golden_profile_current", cols("resolved_id TEXT, email_primary TEXT, phone_primary TEXT, first_name TEXT, last_name TEXT, updated_ts TIMESTAMP")},
	// The state incremental runs start from. Identifiers and attributes refer to their entity by
	// entity_id, a number the entity keeps from run to run (a FULL run renumbers every entity):
	// a FULL run at 10M entities wrote 28M entity-key strings into these two tables, 5 s of its
	// time; and the content hash is a number, not its digits as text (1.4 s more). `idr init`
	// rebuilds these tables when they have an earlier layout, and the next run recomputes
	// everything (pipeline.planIncremental).
	//
	// Each entity's resolved id is in its state (resolved_id, and resolved_ts: when the entity
	// got that id); the view identity_resolved_membership_current shows them. A separate
	// membership table wrote each of 10M entity keys a second time, and runs read the previous
	// ids by joining it on keys.
	{"idr_out", "identity_entities_current", append(cols("entity_key TEXT, table_id TEXT, watermark TIMESTAMP, row_count BIGINT"),
		Column{"content_hash", dialect.ContentHashType}, Column{"entity_id", "BIGINT"}, Column{"resolved_id", "TEXT"}, Column{"resolved_ts", "TIMESTAMP"})},
	{"idr_out", "identity_identifiers_current", cols("entity_id BIGINT, identifier_type TEXT, identifier_value_norm TEXT")},
	// The links, by entity_id: the view identity_edges_current gives them in entity keys. Written
	// with their keys, the 13M edges of 10M entities took 5.5 s to write, against 2.2 s by id, and a
	// FULL run over existing outputs looked up each edge's first_seen_ts by four strings.
	{"idr_out", "identity_edge_ids_current", cols("rule_id TEXT, left_entity_id BIGINT, right_entity_id BIGINT, identifier_type TEXT, identifier_value_norm TEXT, first_seen_ts TIMESTAMP, last_seen_ts TIMESTAMP")},
	{"idr_out", "identity_attributes_current", cols("entity_id BIGINT, attribute_name TEXT, attribute_value TEXT")},
	{"idr_out", "cluster_history", cols("run_id TEXT, change_type TEXT, resolved_id TEXT, related_ids TEXT, member_count BIGINT, previous_member_count BIGINT, created_ts TIMESTAMP")},
	{"idr_out", "resolved_id_lookup", cols("old_resolved_id TEXT, current_resolved_id TEXT, change_type TEXT, run_id TEXT, updated_ts TIMESTAMP")},
	{"idr_out", "rule_match_audit_current", cols("run_id TEXT, rule_id TEXT, identifier_type TEXT, identifiers BIGINT, groups_total BIGINT, groups_linked BIGINT, groups_skipped BIGINT, values_excluded BIGINT, edges_created BIGINT, entities_linked BIGINT, updated_ts TIMESTAMP")},
	{"idr_out", "skipped_identifier_groups", cols("run_id TEXT, identifier_type TEXT, identifier_value_norm TEXT, group_size BIGINT, max_group_size BIGINT, sample_entity_keys TEXT, reason TEXT, created_ts TIMESTAMP")},
	{"idr_out", "run_history", cols("run_id TEXT, run_mode TEXT, status TEXT, dry_run BOOLEAN, engine TEXT, started_ts TIMESTAMP, ended_ts TIMESTAMP, duration_seconds DOUBLE, rows_read BIGINT, rows_null_key BIGINT, entities_processed BIGINT, identifiers BIGINT, values_excluded BIGINT, groups_skipped BIGINT, edges_created BIGINT, clusters BIGINT, largest_cluster_size BIGINT, largest_cluster_resolved_id TEXT, failed_stage TEXT, error_message TEXT, entities_recomputed BIGINT, config_hash TEXT")},
	{"idr_out", "stage_metrics", cols("run_id TEXT, seq INTEGER, stage TEXT, rows_out BIGINT, duration_ms BIGINT, started_ts TIMESTAMP")},
	{"idr_out", "metrics_export", cols("run_id TEXT, metric_name TEXT, metric_value DOUBLE, labels TEXT, recorded_ts TIMESTAMP")},
	{"idr_out", "dry_run_results", cols("run_id TEXT, entity_key TEXT, current_resolved_id TEXT, proposed_resolved_id TEXT, change_type TEXT, current_cluster_size BIGINT, proposed_cluster_size BIGINT")},
	// What a dry run links and skips, so its results can be explained (idr explain --run-id); replaced by each dry run.
	{"idr_out", "dry_run_edges", cols("run_id TEXT, rule_id TEXT, left_entity_key TEXT, right_entity_key TEXT, identifier_type TEXT, identifier_value_norm TEXT")},
	{"idr_out", "dry_run_skipped_groups", cols("run_id TEXT, identifier_type TEXT, identifier_value_norm TEXT, group_size BIGINT, max_group_size BIGINT, sample_entity_keys TEXT, reason TEXT, created_ts TIMESTAMP")},
	{"idr_out", "dry_run_summary", cols("run_id TEXT, run_mode TEXT, new_entities BIGINT, moved_entities BIGINT, unchanged_entities BIGINT, removed_entities BIGINT, merged_clusters BIGINT, split_clusters BIGINT, edges_would_create BIGINT, largest_cluster_size BIGINT, largest_cluster_resolved_id TEXT, created_ts TIMESTAMP")},
}

// View is a view idr owns: a query over its tables, created (or replaced) by Init after them.
type View struct {
	Schema, Name string
	Columns      []string
	Query        string
}

// FQN is schema.view.
func (v View) FQN() string { return v.Schema + "." + v.Name }

// Views is every view, each over Tables only.
var Views = []View{
	// The cluster of every live entity: its resolved id, and when it got that id.
	{"idr_out", "identity_resolved_membership_current", []string{"entity_key", "resolved_id", "updated_ts"},
		"SELECT entity_key, resolved_id, resolved_ts AS updated_ts FROM idr_out.identity_entities_current"},
	// One row per link between two entities, in entity keys.
	{"idr_out", "identity_edges_current", []string{"rule_id", "left_entity_key", "right_entity_key", "identifier_type", "identifier_value_norm", "first_seen_ts", "last_seen_ts"},
		"SELECT e.rule_id, a.entity_key AS left_entity_key, b.entity_key AS right_entity_key, e.identifier_type, e.identifier_value_norm, e.first_seen_ts, e.last_seen_ts " +
			"FROM idr_out.identity_edge_ids_current e JOIN idr_out.identity_entities_current a ON a.entity_id = e.left_entity_id " +
			"JOIN idr_out.identity_entities_current b ON b.entity_id = e.right_entity_id"},
}

// Identifiers is idr_out.identity_identifiers_current with each row's entity key and resolved
// id, as a derived table for a FROM clause: (entity_key, resolved_id, identifier_type,
// identifier_value_norm).
const Identifiers = "(SELECT e.entity_key, e.resolved_id, i.identifier_type, i.identifier_value_norm FROM idr_out.identity_identifiers_current i " +
	"JOIN idr_out.identity_entities_current e ON e.entity_id = i.entity_id)"

// Attributes is idr_out.identity_attributes_current with each row's entity key, as a derived
// table for a FROM clause: (entity_key, attribute_name, attribute_value).
const Attributes = "(SELECT e.entity_key, a.attribute_name, a.attribute_value FROM idr_out.identity_attributes_current a " +
	"JOIN idr_out.identity_entities_current e ON e.entity_id = a.entity_id)"

// Lookup returns the table named schema.name.
func Lookup(fqn string) (Table, bool) {
	for _, t := range Tables {
		if t.FQN() == fqn {
			return t, true
		}
	}
	return Table{}, false
}

// ColumnList renders "name TYPE, ..." in the engine's type names.
func ColumnList(eng engine.Engine, cs []Column) string {
	d := eng.Dialect()
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name + " " + d.Type(c.Type)
	}
	return strings.Join(parts, ", ")
}

// DDL is the statements that create every schema and table that is missing, keeping data.
func DDL(eng engine.Engine) []string {
	var out []string
	o, ok := eng.(interface{ OwnsWorkSchema() bool })
	ownsWork := ok && o.OwnsWorkSchema()
	for _, s := range Schemas {
		if s == "idr_work" && ownsWork {
			continue // the engine provides it (DuckDB attaches an in-memory database)
		}
		out = append(out, "CREATE SCHEMA IF NOT EXISTS "+s)
	}
	for _, t := range Tables {
		out = append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", t.FQN(), ColumnList(eng, t.Columns)))
	}
	return out
}

// Init creates what is missing, including columns that later versions added to existing
// tables; running it again changes nothing.
func Init(ctx context.Context, eng engine.Engine) error {
	// What earlier releases left, read outside the transaction (in DuckDB, a missing table's
	// error aborts it): before identity_edge_ids_current, the links were the table
	// identity_edges_current; before the resolved ids were in the entities' state, the
	// membership was a table.
	var (
		exists    = map[string]bool{}
		columnsOf = map[string][]string{}
	)
	for _, name := range []string{edgeIDs, edgesView, entities, membershipView} {
		c, ok, err := eng.Columns(ctx, name)
		if err != nil {
			return errs.Wrap(errs.KindRun, err, "", "init: reading the columns of %s", name)
		}
		exists[name], columnsOf[name] = ok, c
	}
	hasEdgeIDs, hasEdges, entityCols, hasMembership := exists[edgeIDs], exists[edgesView], columnsOf[entities], exists[membershipView]
	moveMembership := hasMembership && !slices.ContainsFunc(entityCols, func(c string) bool { return strings.EqualFold(c, "resolved_id") })
	return eng.Atomic(ctx, func(ctx context.Context) error {
		if err := execAll(ctx, eng, DDL(eng)...); err != nil {
			return err
		}
		for _, t := range Tables {
			have, _, err := eng.Columns(ctx, t.FQN())
			if err != nil {
				return errs.Wrap(errs.KindRun, err, "", "init: reading the columns of %s", t.FQN())
			}
			if n, ok := rebuilt[t.FQN()]; ok && !keeps(t, have, n) {
				// Derived state in an earlier layout: the next run rebuilds it (with no entities'
				// state left, that run recomputes everything).
				if err := execAll(ctx, eng, "DROP TABLE "+t.FQN(), fmt.Sprintf("CREATE TABLE %s (%s)", t.FQN(), ColumnList(eng, t.Columns))); err != nil {
					return err
				}
				continue
			}
			for _, c := range missing(t, have) {
				if err := execAll(ctx, eng, "ALTER TABLE "+t.FQN()+" ADD COLUMN "+c.Name+" "+eng.Dialect().Type(c.Type)); err != nil {
					return err
				}
			}
		}
		if hasEdges && !hasEdgeIDs {
			if err := upgradeEdges(ctx, eng); err != nil {
				return err
			}
		}
		if moveMembership {
			if err := upgradeMembership(ctx, eng); err != nil {
				return err
			}
		}
		for _, v := range Views {
			if err := execAll(ctx, eng, "CREATE OR REPLACE VIEW "+v.FQN()+" AS "+v.Query); err != nil {
				return err
			}
		}
		return nil
	})
}

// execAll runs Init's statements in order, stopping at the first that fails.
func execAll(ctx context.Context, eng engine.Engine, stmts ...string) error {
	for _, stmt := range stmts {
		if err := eng.Exec(ctx, stmt); err != nil {
			return errs.Wrap(errs.KindRun, err, "", "init: %s", stmt)
		}
	}
	return nil
}

const (
	edgeIDs        = "idr_out.identity_edge_ids_current"
	edgesView      = "idr_out.identity_edges_current"
	entities       = "idr_out.identity_entities_current"
	membershipView = "idr_out.identity_resolved_membership_current"
	identifiers    = "idr_out.identity_identifiers_current"
	attributes     = "idr_out.identity_attributes_current"
)

// upgradeEdges moves the links of an earlier version's table identity_edges_current, in entity
// keys, into identity_edge_ids_current, and drops the table (the view of the same name replaces
// it). When some link has an end without entity state (state of an earlier layout, rebuilt
// empty above), the entities' state is emptied too: the next run then recomputes everything.
func upgradeEdges(ctx context.Context, eng engine.Engine) error {
	if err := execAll(ctx, eng, "INSERT INTO "+edgeIDs+" SELECT p.rule_id, a.entity_id, b.entity_id, p.identifier_type, p.identifier_value_norm, p.first_seen_ts, p.last_seen_ts FROM "+
		edgesView+" p JOIN "+entities+" a ON a.entity_key = p.left_entity_key JOIN "+entities+" b ON b.entity_key = p.right_entity_key"); err != nil {
		return err
	}
	res, err := eng.Query(ctx, "SELECT (SELECT count(*) FROM "+edgesView+"), (SELECT count(*) FROM "+edgeIDs+")")
	if err != nil {
		return errs.Wrap(errs.KindRun, err, "", "init: counting the links moved to %s", edgeIDs)
	}
	before, _ := engine.Int(res.Rows[0][0])
	after, _ := engine.Int(res.Rows[0][1])
	stmts := []string{"DROP TABLE " + edgesView}
	if before != after {
		stmts = append(stmts, "DELETE FROM "+edgeIDs, "DELETE FROM "+entities)
	}
	return execAll(ctx, eng, stmts...)
}

// upgradeMembership moves the resolved ids of an earlier version's table
// identity_resolved_membership_current into the entities' state, and drops the table (the view
// of the same name replaces it). Entities of the membership without state (state of an earlier
// layout, rebuilt empty above) keep their ids in rows without an entity_id, so the next run
// recomputes everything (pipeline.planIncremental) and keeps their ids. When some entity has
// state but no resolved id, the state is incomplete: every entity is then kept that way, without
// its state, for the same reason.
func upgradeMembership(ctx context.Context, eng engine.Engine) error {
	d := eng.Dialect()
	null := func(typ string) string { return "CAST(NULL AS " + d.Type(typ) + ")" }
	idLess := "SELECT m.entity_key, " + null("TEXT") + ", " + null("TIMESTAMP") + ", " + null("BIGINT") + ", " + null(dialect.ContentHashType) +
		", " + null("BIGINT") + ", m.resolved_id, m.updated_ts FROM "
	if err := execAll(ctx, eng,
		"INSERT INTO "+entities+" SELECT e.entity_key, e.table_id, e.watermark, e.row_count, e.content_hash, e.entity_id, m.resolved_id, m.updated_ts FROM "+
			entities+" e JOIN "+membershipView+" m ON m.entity_key = e.entity_key WHERE e.resolved_id IS NULL",
		"INSERT INTO "+entities+" "+idLess+membershipView+" m LEFT JOIN "+entities+" e ON e.entity_key = m.entity_key WHERE e.entity_key IS NULL"); err != nil {
		return err
	}
	res, err := eng.Query(ctx, "SELECT count(*) FROM "+entities+" e LEFT JOIN "+membershipView+" m ON m.entity_key = e.entity_key WHERE m.entity_key IS NULL")
	if err != nil {
		return errs.Wrap(errs.KindRun, err, "", "init: counting the entities of %s without a resolved id", entities)
	}
	stmts := []string{"DELETE FROM " + entities + " WHERE resolved_id IS NULL"}
	if n, _ := engine.Int(res.Rows[0][0]); n > 0 {
		stmts = append(stmts, "INSERT INTO "+entities+" "+idLess+"(SELECT entity_key, resolved_id, resolved_ts AS updated_ts FROM "+entities+
			" WHERE entity_id IS NOT NULL) m", "DELETE FROM "+entities+" WHERE entity_id IS NOT NULL",
			"DELETE FROM "+identifiers, "DELETE FROM "+attributes, "DELETE FROM "+edgeIDs)
	}
	return execAll(ctx, eng, append(stmts, "DROP TABLE "+membershipView)...)
}

// rebuilt names the tables of derived state whose layout changed in ways that columns added at
// the end cannot express, each with the number of leading columns an earlier layout must share
// with the current one to be kept (Init adds the columns after them): Init drops and recreates
// the others.
var rebuilt = map[string]int{
	entities:    6, // through entity_id; resolved_id and resolved_ts came later
	identifiers: 3,
	attributes:  3,
}

// keeps tells whether have names the first columns of t, in order, at least n of them.
func keeps(t Table, have []string, n int) bool {
	if len(have) < n || len(have) > len(t.Columns) {
		return false
	}
	for i, h := range have {
		if !strings.EqualFold(h, t.Columns[i].Name) {
			return false
		}
	}
	return true
}

// missing lists the columns of t that have does not name.
func missing(t Table, have []string) []Column {
	var out []Column
	for _, c := range t.Columns {
		found := false
		for _, h := range have {
			found = found || strings.EqualFold(h, c.Name)
		}
		if !found {
			out = append(out, c)
		}
	}
	return out
}

// Check verifies that every idr table exists with at least its defined columns, in order
// for the configuration tables, so a run fails early with "run idr init" instead of mid-way.
func Check(ctx context.Context, eng engine.Engine) error {
	for _, t := range Tables {
		have, ok, err := eng.Columns(ctx, t.FQN())
		if err != nil {
			return errs.Wrap(errs.KindConfig, err, "run `idr init` on this database", "cannot read %s", t.FQN())
		}
		if !ok {
			return errs.Config("run `idr init` on this database first", "table %s does not exist", t.FQN())
		}
		if t.Schema != "idr_meta" {
			if m := missing(t, have); len(m) > 0 {
				return errs.Config("run `idr init` on this database to add it", "table %s lacks column %s", t.FQN(), m[0].Name)
			}
			continue
		}
		for i, c := range t.Columns {
			if i >= len(have) || !strings.EqualFold(have[i], c.Name) {
				return errs.Config("recreate it with `idr init` (drop it first) or fix its columns",
					"table %s does not have column %s at position %d", t.FQN(), c.Name, i+1)
			}
		}
	}
	for _, v := range Views {
		have, ok, err := eng.Columns(ctx, v.FQN())
		if err != nil {
			return errs.Wrap(errs.KindConfig, err, "run `idr init` on this database", "cannot read %s", v.FQN())
		}
		if !ok || !slices.EqualFunc(have, v.Columns, strings.EqualFold) {
			return errs.Config("run `idr init` on this database to create it", "view %s does not exist or has other columns", v.FQN())
		}
	}
	return nil
}
