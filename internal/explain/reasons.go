package explain

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/meta"
	"github.com/idr-dev/idr/internal/pipeline/stage"
)

// Kinds of Reason.
const (
	ReasonSkippedGroup      = "SKIPPED_GROUP"      // a shared value whose group was larger than max_group_size
	ReasonExcluded          = "EXCLUDED"           // a shared value excluded by idr_meta.identifier_exclusion
	ReasonNoRule            = "NO_ACTIVE_RULE"     // a shared value of a type no active rule links
	ReasonChanged           = "SOURCES_CHANGED"    // a shared value the run did not see: the sources changed since
	ReasonMissingIdentifier = "MISSING_IDENTIFIER" // one of the two has no identifier of a rule's type
	ReasonDifferentValues   = "DIFFERENT_VALUES"   // both have identifiers of a rule's type, none in common
)

// Reason is one reason why two entities are not linked.
type Reason struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
	// For shared values: the members of the two clusters that hold it, and their hops from the
	// two explained entities (0 and 0 when the explained entities hold it themselves).
	HolderA        string `json:"holder_a,omitempty"`
	HolderB        string `json:"holder_b,omitempty"`
	Hops           int    `json:"hops"`
	IdentifierType string `json:"identifier_type,omitempty"`
	Value          string `json:"identifier_value_norm,omitempty"`
	RuleID         string `json:"rule_id,omitempty"`
	GroupSize      int64  `json:"group_size,omitempty"`
	MaxGroupSize   int64  `json:"max_group_size,omitempty"`
	SkippedInRun   string `json:"skipped_in_run,omitempty"`
	Pattern        string `json:"exclusion_pattern,omitempty"`
	ExclusionNote  string `json:"exclusion_reason,omitempty"`
}

// maxReasonMembers caps how many members of each cluster, nearest first, the reasons read from
// the sources; maxReasons caps the reasons returned.
const (
	maxReasonMembers = 1000
	maxReasons       = 5
)

type typedValue struct{ typ, value string }

// reasons finds why the clusters of a and b are not linked. Shared values are looked for between
// every member of one cluster and every member of the other (the nearest first: fewest hops from
// a plus from b), in the identifiers the sources hold now, normalized as configured. Without any,
// it compares the identifiers of a and b per active rule.
func (x *Explainer) reasons(ctx context.Context, a string, ca *cluster, b string, cb *cluster) ([]Reason, string, error) {
	cfg, err := meta.Load(ctx, x.eng)
	if err != nil {
		return nil, "the reasons need a valid configuration: " + errs.OneLine(err.Error()), nil
	}
	sc := &stage.Context{Cfg: cfg, D: x.eng.Dialect()}
	distA, distB := ca.bfs(a).dist, cb.bfs(b).dist
	nearA, nearB := nearest(ca.members, distA), nearest(cb.members, distB)
	note := ""
	if len(ca.members) > len(nearA) || len(cb.members) > len(nearB) {
		note = fmt.Sprintf("shared values were looked for among the %d members of each cluster nearest to the two entities", maxReasonMembers)
	}
	ids, err := x.sourceIdentifiers(ctx, sc, append(append([]string{}, nearA...), nearB...))
	if err != nil {
		return nil, "", err
	}
	holdersB := map[typedValue][]string{}
	for _, m := range nearB {
		for _, tv := range ids[m] {
			holdersB[tv] = append(holdersB[tv], m)
		}
	}
	// The nearest pair of holders of each shared value.
	type candidate struct {
		tv     typedValue
		hA, hB string
		hops   int
	}
	best := map[typedValue]candidate{}
	for _, m := range nearA {
		for _, tv := range ids[m] {
			for _, n := range holdersB[tv] {
				c := candidate{tv: tv, hA: m, hB: n, hops: distA[m] + distB[n]}
				if old, ok := best[tv]; !ok || c.hops < old.hops || (c.hops == old.hops && c.hA+"\x00"+c.hB < old.hA+"\x00"+old.hB) {
					best[tv] = c
				}
			}
		}
	}
	if len(best) == 0 {
		return x.missing(cfg, a, ids[a], b, ids[b]), note, nil
	}
	var cands []candidate
	for _, c := range best {
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].hops != cands[j].hops {
			return cands[i].hops < cands[j].hops
		}
		if cands[i].tv.typ != cands[j].tv.typ {
			return cands[i].tv.typ < cands[j].tv.typ
		}
		return cands[i].tv.value < cands[j].tv.value
	})
	if len(cands) > maxReasons {
		cands = cands[:maxReasons]
	}
	values := make([]typedValue, len(cands))
	for i, c := range cands {
		values[i] = c.tv
	}
	excluded, err := matchExclusions(ctx, x.eng, cfg.Exclusions, cfg.Normalizer, values)
	if err != nil {
		return nil, "", err
	}
	skipped, err := x.skipped(ctx, values)
	if err != nil {
		return nil, "", err
	}
	var out []Reason
	for _, c := range cands {
		r := Reason{HolderA: c.hA, HolderB: c.hB, Hops: c.hops, IdentifierType: c.tv.typ, Value: c.tv.value}
		share := fmt.Sprintf("%s and %s share %s %s", c.hA, c.hB, c.tv.typ, c.tv.value)
		rule, active := cfg.RuleFor(c.tv.typ)
		r.RuleID = rule.ID
		switch ex, isExcluded := excluded[c.tv]; {
		case !active:
			r.Kind = ReasonNoRule
			r.Text = share + ", but no active rule links " + c.tv.typ
		case isExcluded:
			r.Kind, r.Pattern, r.ExclusionNote = ReasonExcluded, ex.pattern, ex.reason
			how := "value"
			if ex.isPattern {
				how = "pattern"
			}
			r.Text = fmt.Sprintf("%s, but idr_meta.identifier_exclusion excludes it (%s %q, reason %q)", share, how, ex.pattern, ex.reason)
		default:
			if s, ok := skipped[c.tv]; ok {
				r.Kind, r.GroupSize, r.MaxGroupSize, r.SkippedInRun = ReasonSkippedGroup, s.size, s.max, s.run
				r.Text = fmt.Sprintf("%s, but its group was skipped in run %s: %s", share, s.run, s.reason)
			} else {
				r.Kind = ReasonChanged
				r.Text = share + " in the sources now, but run " + x.run.ID + " did not link them: the sources changed since; run again"
			}
		}
		out = append(out, r)
	}
	return out, note, nil
}

// nearest returns up to maxReasonMembers members, fewest hops first (unreachable ones last).
func nearest(members []string, dist map[string]int) []string {
	out := append([]string{}, members...)
	hops := func(m string) int {
		if d, ok := dist[m]; ok {
			return d
		}
		return int(^uint(0) >> 1)
	}
	sort.SliceStable(out, func(i, j int) bool { return hops(out[i]) < hops(out[j]) })
	if len(out) > maxReasonMembers {
		out = out[:maxReasonMembers]
	}
	return out
}

// missing compares the identifiers of a and b per active rule, in priority order.
func (x *Explainer) missing(cfg *meta.Config, a string, idsA []typedValue, b string, idsB []typedValue) []Reason {
	valuesOf := func(ids []typedValue, typ string) []string {
		var out []string
		for _, tv := range ids {
			if tv.typ == typ {
				out = append(out, tv.value)
			}
		}
		return out
	}
	var out []Reason
	for _, r := range cfg.Rules {
		va, vb := valuesOf(idsA, r.IdentifierType), valuesOf(idsB, r.IdentifierType)
		base := Reason{IdentifierType: r.IdentifierType, RuleID: r.ID}
		switch {
		case len(va) == 0 && len(vb) == 0:
			base.Kind = ReasonMissingIdentifier
			base.Text = fmt.Sprintf("neither has a %s identifier (rule %s)", r.IdentifierType, r.ID)
		case len(va) == 0:
			base.Kind, base.HolderB = ReasonMissingIdentifier, b
			base.Text = fmt.Sprintf("%s has no %s identifier (rule %s); %s has %s", a, r.IdentifierType, r.ID, b, strings.Join(vb, ", "))
		case len(vb) == 0:
			base.Kind, base.HolderA = ReasonMissingIdentifier, a
			base.Text = fmt.Sprintf("%s has no %s identifier (rule %s); %s has %s", b, r.IdentifierType, r.ID, a, strings.Join(va, ", "))
		default:
			base.Kind = ReasonDifferentValues
			base.Text = fmt.Sprintf("different %s values: %s has %s, %s has %s", r.IdentifierType, a, strings.Join(va, ", "), b, strings.Join(vb, ", "))
		}
		out = append(out, base)
	}
	// One side lacking a type explains more directly than different values: those come first.
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Kind == ReasonMissingIdentifier && out[j].Kind != ReasonMissingIdentifier
	})
	return out
}

// sourceIdentifiers reads, from the sources as they are now, every identifier of the given
// entities, normalized as configured (before exclusions), sorted.
func (x *Explainer) sourceIdentifiers(ctx context.Context, sc *stage.Context, keys []string) (map[string][]typedValue, error) {
	byTable := map[string][]string{}
	for _, k := range keys {
		byTable[x.tableOf(k)] = append(byTable[x.tableOf(k)], k)
	}
	out := map[string][]typedValue{}
	seen := map[string]map[typedValue]bool{}
	for _, s := range sc.Cfg.Sources {
		var slots []stage.Slot
		for _, sl := range sc.Slots(s) {
			if sl.IdentifierType != "" {
				slots = append(slots, sl)
			}
		}
		if len(byTable[s.TableID]) == 0 || len(slots) == 0 {
			continue
		}
		cols := []string{sc.EntityKey(s) + " AS entity_key", sc.Deleted(s) + " AS deleted"}
		for _, sl := range slots {
			cols = append(cols, sl.Expr+" AS "+sl.Col)
		}
		for _, part := range chunks(byTable[s.TableID], 500) {
			q := "SELECT * FROM (SELECT " + strings.Join(cols, ", ") + " FROM " + s.FQN + ") x WHERE x.entity_key IN " + inList(part) + " AND NOT x.deleted"
			res, err := query(ctx, x.eng, "source "+s.TableID+" ("+s.FQN+")", q)
			if err != nil {
				return nil, err
			}
			for _, row := range res.Rows {
				key := text(row[0])
				for i, sl := range slots {
					v, ok := engine.Text(row[2+i])
					if !ok || v == "" {
						continue
					}
					tv := typedValue{sl.IdentifierType, v}
					if seen[key] == nil {
						seen[key] = map[typedValue]bool{}
					}
					if !seen[key][tv] {
						seen[key][tv] = true
						out[key] = append(out[key], tv)
					}
				}
			}
		}
	}
	for k := range out {
		sort.Slice(out[k], func(i, j int) bool {
			if out[k][i].typ != out[k][j].typ {
				return out[k][i].typ < out[k][j].typ
			}
			return out[k][i].value < out[k][j].value
		})
	}
	return out, nil
}

type exclusionMatch struct {
	pattern, reason string
	isPattern       bool
}

// matchExclusions matches values against exclusions exactly as the normalize stage does: exact
// values normalized with their type's normalizer, LIKE patterns as written ('\' escapes).
func matchExclusions(ctx context.Context, eng engine.Engine, exclusions []meta.Exclusion, normalizer func(string) string,
	values []typedValue) (map[typedValue]exclusionMatch, error) {
	out := map[typedValue]exclusionMatch{}
	if len(values) == 0 || len(exclusions) == 0 {
		return out, nil
	}
	sc := &stage.Context{D: eng.Dialect()}
	var vrows, xrows [][]string
	for _, v := range values {
		vrows = append(vrows, []string{lit(v.typ), lit(v.value)})
	}
	for i, e := range exclusions {
		pattern := lit(e.Value)
		if !e.IsPattern {
			pattern = sc.D.Normalize(normalizer(e.IdentifierType), sc.Text(pattern))
		}
		isPattern := "FALSE"
		if e.IsPattern {
			isPattern = "TRUE"
		}
		xrows = append(xrows, []string{stage.Int(int64(i)), lit(e.IdentifierType), pattern, isPattern})
	}
	q := "SELECT v.identifier_type, v.value_norm, min(x.seq) FROM (" +
		sc.Values([]string{"identifier_type", "value_norm"}, []string{"TEXT", "TEXT"}, vrows) + ") v JOIN (" +
		sc.Values([]string{"seq", "identifier_type", "pattern", "is_pattern"}, []string{"BIGINT", "TEXT", "TEXT", "BOOLEAN"}, xrows) + ") x " +
		"ON x.identifier_type = v.identifier_type AND ((x.is_pattern AND v.value_norm LIKE x.pattern ESCAPE '\\') OR (NOT x.is_pattern AND v.value_norm = x.pattern)) " +
		"GROUP BY v.identifier_type, v.value_norm"
	res, err := query(ctx, eng, "idr_meta.identifier_exclusion", q)
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		e := exclusions[integer(row[2])]
		out[typedValue{text(row[0]), text(row[1])}] = exclusionMatch{pattern: e.Value, reason: e.Reason, isPattern: e.IsPattern}
	}
	return out, nil
}

type skippedGroup struct {
	size, max   int64
	run, reason string
}

// skipped finds the skipped group of each value: the dry run's own, else the latest committed run's.
func (x *Explainer) skipped(ctx context.Context, values []typedValue) (map[typedValue]skippedGroup, error) {
	out := map[typedValue]skippedGroup{}
	if len(values) == 0 {
		return out, nil
	}
	var conds []string
	for _, v := range values {
		conds = append(conds, "(s.identifier_type = "+lit(v.typ)+" AND s.identifier_value_norm = "+lit(v.value)+")")
	}
	res, err := query(ctx, x.eng, "the skipped groups", "SELECT s.identifier_type, s.identifier_value_norm, s.group_size, s.max_group_size, s.reason, s.run_id FROM ("+
		x.run.skippedSQL()+") s WHERE "+strings.Join(conds, " OR ")+" ORDER BY s.pref, s.created_ts DESC, s.run_id DESC")
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		tv := typedValue{text(row[0]), text(row[1])}
		if _, ok := out[tv]; !ok {
			out[tv] = skippedGroup{size: integer(row[2]), max: integer(row[3]), reason: text(row[4]), run: text(row[5])}
		}
	}
	return out, nil
}
