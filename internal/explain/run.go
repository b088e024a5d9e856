// Package explain answers questions about a run's outputs without SQL: why an entity is in its
// cluster (the shortest chains of shared identifiers), why two entities are or are not linked,
// which identifier values look generic enough to exclude, and the run's metrics. It reads
// idr_out and idr_meta through engine.Engine and builds SQL only through internal/dialect, so it
// works on every engine; it loads the edges of one cluster at a time, never the whole edge table.
package explain

import (
	"context"
	"fmt"
	"strings"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
)

// Run statuses of idr_out.run_history this package reads (the pipeline owns them).
const (
	statusSuccess = "SUCCESS"
	statusDryRun  = "DRY_RUN_COMPLETE"
)

// Run is the run whose results are explained.
type Run struct {
	ID     string `json:"run_id"`
	Mode   string `json:"run_mode"`
	DryRun bool   `json:"dry_run"`
}

func lit(s string) string { return dialect.Lit(s) }

var (
	text    = engine.TextOrEmpty
	integer = engine.IntOrZero
)

// query runs q and wraps a failure with what was being read.
func query(ctx context.Context, eng engine.Engine, what, q string) (*engine.Result, error) {
	res, err := eng.Query(ctx, q)
	if err != nil {
		return nil, errs.Wrap(errs.KindConfig, err, "run `idr init` on this database if it was made by an older idr", "cannot read %s", what)
	}
	return res, nil
}

// LatestCommitted returns the latest committed run, or a usage error when there is none.
func LatestCommitted(ctx context.Context, eng engine.Engine) (Run, error) {
	res, err := query(ctx, eng, "idr_out.run_history", "SELECT run_id, run_mode FROM idr_out.run_history WHERE status = "+lit(statusSuccess)+
		" ORDER BY started_ts DESC, run_id DESC LIMIT 1")
	if err != nil {
		return Run{}, err
	}
	if len(res.Rows) == 0 {
		return Run{}, errs.Usage("run `idr run` first, or pass --run-id of a dry run", "no committed run in idr_out.run_history")
	}
	return Run{ID: text(res.Rows[0][0]), Mode: text(res.Rows[0][1])}, nil
}

// ResolveRun finds the run to explain: the latest committed run when id is empty, else run id,
// which must be the latest committed run or the latest dry run (older outputs are replaced).
func ResolveRun(ctx context.Context, eng engine.Engine, id string) (Run, error) {
	if id == "" {
		return LatestCommitted(ctx, eng)
	}
	res, err := query(ctx, eng, "idr_out.run_history", "SELECT run_id, run_mode, status FROM idr_out.run_history WHERE run_id = "+lit(id))
	if err != nil {
		return Run{}, err
	}
	if len(res.Rows) == 0 {
		return Run{}, errs.Usage("see `idr status` for the run ids", "unknown run id %q: not in idr_out.run_history", id)
	}
	run := Run{ID: id, Mode: text(res.Rows[0][1])}
	switch status := text(res.Rows[0][2]); status {
	case statusSuccess:
		latest, err := LatestCommitted(ctx, eng)
		if err != nil {
			return Run{}, err
		}
		if latest.ID != id {
			return Run{}, errs.Usage("leave out --run-id to explain the latest committed run", "run %s is not the latest committed run: run %s replaced its outputs", id, latest.ID)
		}
		return run, nil
	case statusDryRun:
		run.DryRun = true
		res, err := query(ctx, eng, "idr_out.dry_run_summary", "SELECT (SELECT run_id FROM idr_out.run_history WHERE status = "+lit(statusDryRun)+
			" ORDER BY started_ts DESC, run_id DESC LIMIT 1), (SELECT count(*) FROM idr_out.dry_run_edges WHERE run_id = "+lit(id)+"), "+
			"(SELECT max(edges_would_create) FROM idr_out.dry_run_summary WHERE run_id = "+lit(id)+")")
		if err != nil {
			return Run{}, err
		}
		latest, edges, wouldCreate := text(res.Rows[0][0]), integer(res.Rows[0][1]), integer(res.Rows[0][2])
		if latest != id {
			return Run{}, errs.Usage("run the dry run again (`idr run --dry-run`) and pass its run id", "dry run %s is not the latest dry run: dry run %s replaced its results", id, latest)
		}
		if edges == 0 && wouldCreate > 0 {
			return Run{}, errs.Usage("run the dry run again (`idr run --dry-run`) with this version of idr", "dry run %s kept no links (made by an older idr)", id)
		}
		return run, nil
	default:
		return Run{}, errs.Usage("pass a committed run or the latest dry run", "run %s has status %s: it published nothing to explain", id, status)
	}
}

// membershipSQL is a query of (entity_key, resolved_id) as the run left them. A dry run lists in
// dry_run_results every entity it recomputed (all of them for FULL); the others keep their
// current cluster.
func (r Run) membershipSQL() string {
	current := "SELECT entity_key, resolved_id FROM idr_out.identity_resolved_membership_current"
	if !r.DryRun {
		return current
	}
	return "SELECT entity_key, proposed_resolved_id AS resolved_id FROM idr_out.dry_run_results WHERE run_id = " + lit(r.ID) +
		" AND proposed_resolved_id IS NOT NULL UNION ALL " + current + " WHERE entity_key NOT IN (SELECT entity_key FROM idr_out.dry_run_results WHERE run_id = " +
		lit(r.ID) + ")"
}

// edgesSQL is a query of the run's links (rule_id, left_entity_key, right_entity_key,
// identifier_type, identifier_value_norm); edges never join two clusters.
func (r Run) edgesSQL() string {
	current := "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm FROM idr_out.identity_edges_current"
	if !r.DryRun {
		return current
	}
	return "SELECT rule_id, left_entity_key, right_entity_key, identifier_type, identifier_value_norm FROM idr_out.dry_run_edges WHERE run_id = " + lit(r.ID) +
		" UNION ALL " + current + " WHERE left_entity_key NOT IN (SELECT entity_key FROM idr_out.dry_run_results WHERE run_id = " + lit(r.ID) + ")"
}

// skippedSQL is a query of (identifier_type, identifier_value_norm, group_size, max_group_size,
// reason, run_id, pref) of skipped groups, the most relevant row of a value first when ordered
// by pref, created_ts DESC: the dry run's own, then the latest committed run's.
func (r Run) skippedSQL() string {
	committed := "SELECT identifier_type, identifier_value_norm, group_size, max_group_size, reason, run_id, 1 AS pref, created_ts FROM idr_out.skipped_identifier_groups " +
		"WHERE run_id IN (SELECT run_id FROM idr_out.run_history WHERE status = " + lit(statusSuccess) + ")"
	if !r.DryRun {
		return committed
	}
	return "SELECT identifier_type, identifier_value_norm, group_size, max_group_size, reason, run_id, 0 AS pref, created_ts FROM idr_out.dry_run_skipped_groups WHERE run_id = " +
		lit(r.ID) + " UNION ALL " + committed
}

// inList renders values as a parenthesized list of literals.
func inList(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = lit(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// chunks splits values into slices of at most n, so IN lists stay bounded.
func chunks(values []string, n int) [][]string {
	var out [][]string
	for len(values) > n {
		out = append(out, values[:n])
		values = values[n:]
	}
	if len(values) > 0 {
		out = append(out, values)
	}
	return out
}

func (r Run) String() string {
	if r.DryRun {
		return fmt.Sprintf("%s (dry run, %s)", r.ID, r.Mode)
	}
	return fmt.Sprintf("%s (committed, %s)", r.ID, r.Mode)
}
