package explain

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/meta"
)

// Signals of a suggestion.
const (
	SignalJunk     = "JUNK_PATTERN"  // a well-known placeholder value
	SignalSize     = "SIZE_ANOMALY"  // a group far larger than its type's typical group
	SignalSkipped  = "SKIPPED_GROUP" // a group larger than its rule's max_group_size
	SignalManyName = "MANY_NAMES"    // holders with many different names
	// An address at a reserved domain (example.com, .test, ...): supporting evidence only, since
	// synthetic and test data give every person such an address; it never lists a value alone.
	SignalReserved = "RESERVED_DOMAIN"
)

// The suggestion rules' constants (docs/explain.md describes them).
const (
	// A group is anomalous when it has more than max(SizeFloor, SizeFactor × p99) entities, p99
	// being the 99th percentile (nearest rank) of the group sizes of its identifier type.
	SizeFloor  = 10
	SizeFactor = 5
	// A value is shared across unrelated people when its holders have at least MinNames
	// different values (case-insensitive) of one name attribute (attribute_name containing "name").
	MinNames = 4
)

// SuggestOptions tune Suggest.
type SuggestOptions struct {
	Limit       int // most suggestions to return (0: all)
	MinEntities int // values held by fewer entities are not suggested (they link nothing); at least 1
}

// Signal is one reason a value looks generic.
type Signal struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Suggestion is an identifier value worth excluding, with a ready INSERT.
type Suggestion struct {
	IdentifierType string   `json:"identifier_type"`
	Value          string   `json:"identifier_value_norm"`
	Entities       int64    `json:"entities"`
	Signals        []Signal `json:"signals"`
	Insert         string   `json:"insert"`
}

// TypeStats is the group-size distribution of one identifier type.
type TypeStats struct {
	IdentifierType string `json:"identifier_type"`
	Groups         int64  `json:"groups"`
	P99            int64  `json:"p99_group_size"`
	Threshold      int64  `json:"size_threshold"`
}

// Suggestions are the values of the current state that look generic.
type Suggestions struct {
	Run         Run          `json:"run"`
	Types       []TypeStats  `json:"types"`
	Suggestions []Suggestion `json:"suggestions"`
	Omitted     int          `json:"omitted"`
}

// junk is a well-known placeholder: a SQL condition over v.identifier_value_norm and what it is;
// weak ones only support other signals.
type junk struct {
	cond, what string
	weak       bool
}

var (
	junkLocalParts = []string{"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "test", "testing",
		"example", "none", "null", "na", "n/a", "unknown", "nobody", "noone", "noemail", "no-email", "nomail", "noname", "invalid",
		"fake", "dummy", "asdf", "xxx", "x", "a", "abc", "email", "mail", "user", "customer", "guest", "anonymous"}
	junkDomains = []string{"example.com", "example.org", "example.net"}
	junkTLDs    = []string{".example", ".invalid", ".test", ".localhost"}
	junkWords   = []string{"n/a", "na", "#n/a", "null", "none", "nil", "unknown", "test", "tbd", "undefined", "missing", "not available",
		"not applicable", "no", "-", "--", "?", ".", "0", "x", "xx", "xxx", "blank", "empty", "default", "dummy", "sample", "void",
		"noemail", "no email", "nophone", "no phone"}
	junkSequences = []string{"0123456789", "1234567890", "123456789", "12345678", "1234567", "123456", "12345", "9876543210", "0987654321"}
)

func junkRules() []junk {
	v := "v.identifier_value_norm"
	lv := "lower(" + v + ")"
	var out []junk
	for _, p := range junkLocalParts {
		out = append(out, junk{cond: lv + " LIKE " + lit(p+"@%"), what: "placeholder mailbox " + p + "@"})
	}
	out = append(out, junk{cond: lv + " IN " + inList(junkWords), what: "placeholder word"})
	out = append(out, junk{cond: v + " IN " + inList(junkSequences), what: "digit sequence"})
	out = append(out, junk{cond: "length(" + v + ") >= 5 AND replace(" + v + ", substr(" + v + ", 1, 1), '') = ''", what: "one character repeated"})
	for _, d := range junkDomains {
		out = append(out, junk{cond: lv + " LIKE " + lit("%@"+d), what: "address at the reserved domain " + d, weak: true})
	}
	for _, t := range junkTLDs {
		out = append(out, junk{cond: lv + " LIKE " + lit("%"+t), what: "address at the reserved top-level domain " + t, weak: true})
	}
	out = append(out, junk{cond: lv + " LIKE '%@localhost'", what: "address at localhost", weak: true})
	return out
}

// Suggest lists identifier values of the current state (idr_out.identity_identifiers_current,
// after the last committed run's exclusions) that look generic, most widely held first.
func Suggest(ctx context.Context, eng engine.Engine, opts SuggestOptions) (*Suggestions, error) {
	run, err := LatestCommitted(ctx, eng)
	if err != nil {
		return nil, err
	}
	if opts.MinEntities < 1 {
		opts.MinEntities = 1
	}
	out := &Suggestions{Run: run}
	const ids = "idr_out.identity_identifiers_current"
	groups := "SELECT identifier_type, identifier_value_norm, count(DISTINCT entity_id) AS n FROM " + ids + " GROUP BY identifier_type, identifier_value_norm"

	// Group-size distribution per type, to set each type's size threshold.
	res, err := query(ctx, eng, ids, "SELECT identifier_type, n, count(*) FROM ("+groups+") g GROUP BY identifier_type, n ORDER BY identifier_type, n")
	if err != nil {
		return nil, err
	}
	hist := map[string][][2]int64{}
	var types []string
	for _, row := range res.Rows {
		t := text(row[0])
		if _, ok := hist[t]; !ok {
			types = append(types, t)
		}
		hist[t] = append(hist[t], [2]int64{integer(row[1]), integer(row[2])})
	}
	threshold := map[string]int64{}
	for _, t := range types {
		st := sizeStats(t, hist[t])
		out.Types = append(out.Types, st)
		threshold[t] = st.Threshold
	}

	found := map[typedValue]*Suggestion{}
	var order []typedValue
	add := func(tv typedValue, n int64, kind, text string) {
		s, ok := found[tv]
		if !ok {
			s = &Suggestion{IdentifierType: tv.typ, Value: tv.value, Entities: n}
			found[tv] = s
			order = append(order, tv)
		}
		for _, g := range s.Signals {
			if g.Kind == kind {
				return
			}
		}
		s.Signals = append(s.Signals, Signal{Kind: kind, Text: text})
	}
	minN := dialect.Int(int64(opts.MinEntities))

	// Junk patterns: the first matching rule names the value; weak ones wait for other signals.
	var cases []string
	for i, j := range junkRules() {
		cases = append(cases, "WHEN "+j.cond+" THEN "+dialect.Int(int64(i)))
	}
	res, err = query(ctx, eng, ids, "SELECT * FROM (SELECT v.identifier_type, v.identifier_value_norm, v.n, CASE "+strings.Join(cases, " ")+
		" END AS junk FROM ("+groups+") v WHERE v.n >= "+minN+") x WHERE x.junk IS NOT NULL")
	if err != nil {
		return nil, err
	}
	rules := junkRules()
	weak := map[typedValue]string{}
	for _, row := range res.Rows {
		tv, j := typedValue{text(row[0]), text(row[1])}, rules[integer(row[3])]
		if j.weak {
			weak[tv] = j.what
			continue
		}
		add(tv, integer(row[2]), SignalJunk, j.what)
	}

	// Size: anomalous for the type, or over the rule's max_group_size (what runs skip).
	var conds []string
	for _, t := range types {
		conds = append(conds, "(g.identifier_type = "+lit(t)+" AND g.n > "+dialect.Int(threshold[t])+")")
	}
	active, err := activeRules(ctx, eng)
	if err != nil {
		return nil, err
	}
	for t, r := range active {
		conds = append(conds, "(g.identifier_type = "+lit(t)+" AND g.n > "+dialect.Int(r.MaxGroupSize)+")")
	}
	if len(conds) > 0 {
		res, err = query(ctx, eng, ids, "SELECT g.identifier_type, g.identifier_value_norm, g.n FROM ("+groups+") g WHERE g.n >= "+minN+
			" AND ("+strings.Join(conds, " OR ")+")")
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			tv, n := typedValue{text(row[0]), text(row[1])}, integer(row[2])
			if r, ok := active[tv.typ]; ok && n > r.MaxGroupSize {
				add(tv, n, SignalSkipped, fmt.Sprintf("%d entities exceed max_group_size %d of rule %s: runs skip this group", n, r.MaxGroupSize, r.ID))
			}
			if n > threshold[tv.typ] {
				add(tv, n, SignalSize, fmt.Sprintf("%d entities, above %d for %s (max(%d, %d × p99 group size))", n, threshold[tv.typ], tv.typ, SizeFloor, SizeFactor))
			}
		}
	}

	// Many different names among the holders.
	res, err = query(ctx, eng, ids, "SELECT i.identifier_type, i.identifier_value_norm, a.attribute_name, count(DISTINCT lower(trim(a.attribute_value))) AS names, max(g.n) "+
		"FROM "+ids+" i JOIN ("+groups+") g ON g.identifier_type = i.identifier_type AND g.identifier_value_norm = i.identifier_value_norm "+
		"JOIN idr_out.identity_attributes_current a ON a.entity_id = i.entity_id "+
		"WHERE g.n >= "+dialect.Int(int64(max(MinNames, opts.MinEntities)))+" AND lower(a.attribute_name) LIKE '%name%' AND a.attribute_value IS NOT NULL "+
		"GROUP BY i.identifier_type, i.identifier_value_norm, a.attribute_name HAVING count(DISTINCT lower(trim(a.attribute_value))) >= "+dialect.Int(MinNames)+
		" ORDER BY 1, 2, 3")
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		add(typedValue{text(row[0]), text(row[1])}, integer(row[4]), SignalManyName,
			fmt.Sprintf("its holders have %d different %s values", integer(row[3]), text(row[2])))
	}

	for _, tv := range order {
		if what, ok := weak[tv]; ok {
			add(tv, 0, SignalReserved, what)
		}
	}

	// Values excluded since the last run are no longer suggestions.
	exclusions, normalizer, err := loadExclusionConfig(ctx, eng)
	if err != nil {
		return nil, err
	}
	excluded, err := matchExclusions(ctx, eng, exclusions, normalizer, order)
	if err != nil {
		return nil, err
	}
	for _, tv := range order {
		if _, ok := excluded[tv]; ok {
			continue
		}
		s := found[tv]
		texts := make([]string, len(s.Signals))
		for i, g := range s.Signals {
			texts[i] = g.Text
		}
		s.Insert = "INSERT INTO idr_meta.identifier_exclusion VALUES (" + lit(s.IdentifierType) + ", " + lit(s.Value) + ", FALSE, " +
			lit("suggested: "+strings.Join(texts, "; ")) + ");"
		out.Suggestions = append(out.Suggestions, *s)
	}
	sort.SliceStable(out.Suggestions, func(i, j int) bool {
		a, b := out.Suggestions[i], out.Suggestions[j]
		if a.Entities != b.Entities {
			return a.Entities > b.Entities
		}
		if a.IdentifierType != b.IdentifierType {
			return a.IdentifierType < b.IdentifierType
		}
		return a.Value < b.Value
	})
	if opts.Limit > 0 && len(out.Suggestions) > opts.Limit {
		out.Omitted = len(out.Suggestions) - opts.Limit
		out.Suggestions = out.Suggestions[:opts.Limit]
	}
	return out, nil
}

// sizeStats computes a type's p99 group size (nearest rank) from its histogram of (size, groups),
// sorted by size, and its anomaly threshold max(SizeFloor, SizeFactor × p99).
func sizeStats(t string, hist [][2]int64) TypeStats {
	st := TypeStats{IdentifierType: t}
	for _, h := range hist {
		st.Groups += h[1]
	}
	rank := int64(math.Ceil(0.99 * float64(st.Groups)))
	var seen int64
	for _, h := range hist {
		seen += h[1]
		if seen >= rank {
			st.P99 = h[0]
			break
		}
	}
	st.Threshold = max(SizeFloor, SizeFactor*st.P99)
	return st
}

// activeRules reads the active rule of each identifier type straight from idr_meta.rule.
func activeRules(ctx context.Context, eng engine.Engine) (map[string]meta.Rule, error) {
	res, err := query(ctx, eng, "idr_meta.rule", "SELECT rule_id, identifier_type, max_group_size FROM idr_meta.rule WHERE is_active ORDER BY priority, rule_id")
	if err != nil {
		return nil, err
	}
	out := map[string]meta.Rule{}
	for _, row := range res.Rows {
		t := strings.TrimSpace(text(row[1]))
		if _, ok := out[t]; !ok && integer(row[2]) > 0 {
			out[t] = meta.Rule{ID: text(row[0]), IdentifierType: t, MaxGroupSize: integer(row[2])}
		}
	}
	return out, nil
}

// loadExclusionConfig reads idr_meta.identifier_exclusion and the normalizers, without the
// validation of a run: a suggestion list should not fail on an unrelated configuration error.
func loadExclusionConfig(ctx context.Context, eng engine.Engine) ([]meta.Exclusion, func(string) string, error) {
	res, err := query(ctx, eng, "idr_meta.identifier_exclusion", "SELECT identifier_type, identifier_value_pattern, is_pattern, reason FROM idr_meta.identifier_exclusion "+
		"WHERE identifier_type IS NOT NULL AND identifier_value_pattern IS NOT NULL AND is_pattern IS NOT NULL")
	if err != nil {
		return nil, nil, err
	}
	var out []meta.Exclusion
	for _, row := range res.Rows {
		isPattern, _ := row[2].(bool)
		out = append(out, meta.Exclusion{IdentifierType: strings.TrimSpace(text(row[0])), Value: text(row[1]), IsPattern: isPattern, Reason: text(row[3])})
	}
	res, err = query(ctx, eng, "idr_meta.identifier_normalizer", "SELECT identifier_type, normalizer FROM idr_meta.identifier_normalizer")
	if err != nil {
		return nil, nil, err
	}
	norms := map[string]string{}
	for _, row := range res.Rows {
		if n := strings.ToUpper(strings.TrimSpace(text(row[1]))); dialect.IsNormalizer(n) {
			norms[strings.TrimSpace(text(row[0]))] = n
		}
	}
	return out, func(t string) string {
		if n, ok := norms[t]; ok {
			return n
		}
		return dialect.DefaultNormalizer(t)
	}, nil
}
