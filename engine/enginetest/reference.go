package enginetest

import (
	"sort"
	"strings"
)

// Outcome is what a FULL run must publish for a dataset, in comparable form. The reference
// computes it from the Dataset alone; the engine side reads it back from idr_out.
type Outcome struct {
	Membership map[string]string // entity_key -> resolved_id
	Clusters   map[string]int64  // resolved_id -> cluster_size
	Edges      []Edge
	Skipped    []SkippedGroup
	Golden     map[string]GoldenRow // resolved_id -> profile

	// Run totals (report.Totals).
	RowsRead, NullKeyRows, Entities, ValuesExcluded int64
}

// Edge is one row of identity_edges_current (without timestamps).
type Edge struct {
	RuleID, Left, Right, IdentifierType, Value string
}

// SkippedGroup is one row of skipped_identifier_groups for the run.
type SkippedGroup struct {
	IdentifierType, Value   string
	GroupSize, MaxGroupSize int64
	SampleKeys              string
}

// GoldenRow holds the identifier-fed columns of golden_profile_current (nil: NULL).
type GoldenRow struct {
	Email, Phone *string
}

// trimSet is the white space the normalizers trim.
const trimSet = " \t\n\r"

// normalizerFunc implements the built-in normalizers on text.
func normalizerFunc(name string) func(string) string {
	switch name {
	case "EMAIL", "LOWER":
		return func(s string) string { return asciiLower(strings.Trim(s, trimSet)) }
	case "UPPER":
		return func(s string) string { return asciiUpper(strings.Trim(s, trimSet)) }
	case "PHONE":
		return func(s string) string {
			var b strings.Builder
			for i := 0; i < len(s); i++ {
				if s[i] >= '0' && s[i] <= '9' {
					b.WriteByte(s[i])
				}
			}
			return b.String()
		}
	case "TRIM":
		return func(s string) string { return strings.Trim(s, trimSet) }
	default: // NONE
		return func(s string) string { return s }
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// likeMatch reports whether s matches the SQL LIKE pattern p with escape character '\':
// % is any run of characters, _ exactly one, \x the character x. Values are ASCII.
func likeMatch(s, p string) bool {
	// Tokenize the pattern: kind 0 literal byte, 1 '_', 2 '%'.
	type tok struct {
		kind int
		c    byte
	}
	var toks []tok
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			toks = append(toks, tok{0, p[i]})
		case c == '_':
			toks = append(toks, tok{1, 0})
		case c == '%':
			toks = append(toks, tok{2, 0})
		default:
			toks = append(toks, tok{0, c})
		}
	}
	// match[i][j]: s[i:] matches toks[j:].
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if j == len(toks) {
			return i == len(s)
		}
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var v bool
		switch t := toks[j]; t.kind {
		case 2:
			v = match(i, j+1) || (i < len(s) && match(i+1, j))
		case 1:
			v = i < len(s) && match(i+1, j+1)
		default:
			v = i < len(s) && s[i] == t.c && match(i+1, j+1)
		}
		memo[k] = v
		return v
	}
	return match(0, 0)
}

type refEntity struct {
	key     string
	tableID string
	rank    *int64
	wm      *string // latest watermark (YYYY-MM-DD), nil when none
	ids     map[[2]string]bool
}

// Reference computes the expected outcome of a FULL run from the dataset, following the
// specification directly (no SQL, no code shared with the pipeline).
func Reference(d *Dataset) *Outcome {
	out := &Outcome{Membership: map[string]string{}, Clusters: map[string]int64{}, Golden: map[string]GoldenRow{}}

	maxGroup := map[string]int64{}
	ruleID := map[string]string{}
	for _, r := range d.Rules {
		if r.Active {
			maxGroup[r.IdentifierType] = r.MaxGroupSize
			ruleID[r.IdentifierType] = r.ID
		}
	}

	// 1. Entities.
	entities := map[string]*refEntity{}
	for _, s := range d.Sources {
		var rank *int64
		if s.SourceRow && s.TrustRank != nil {
			rank = s.TrustRank
		}
		for _, row := range s.Rows {
			out.RowsRead++
			if row.Key == nil {
				out.NullKeyRows++
				continue
			}
			key := s.TableID + ":" + *row.Key
			e := entities[key]
			if e == nil {
				e = &refEntity{key: key, tableID: s.TableID, rank: rank, ids: map[[2]string]bool{}}
				entities[key] = e
			}
			if s.HasWatermark && row.Wm != nil && (e.wm == nil || *row.Wm > *e.wm) {
				e.wm = row.Wm
			}
		}
	}
	out.Entities = int64(len(entities))

	// 2.-3. Identifiers, normalized, without empty and excluded values.
	excludedValues := map[[2]string]bool{}
	excluded := func(typ, v string) bool {
		norm := normalizerFunc(d.normalizerName(typ))
		for _, x := range d.Exclusions {
			if x.IdentifierType != typ {
				continue
			}
			if x.IsPattern && likeMatch(v, x.Value) || !x.IsPattern && norm(x.Value) == v {
				return true
			}
		}
		return false
	}
	groups := map[[2]string]map[string]bool{} // (type, value) -> entity keys
	for _, s := range d.Sources {
		for _, row := range s.Rows {
			if row.Key == nil {
				continue
			}
			e := entities[s.TableID+":"+*row.Key]
			for ci, c := range s.Columns {
				raw := row.Values[ci]
				if raw == nil {
					continue
				}
				v := *raw
				if c.Normalize {
					v = normalizerFunc(d.normalizerName(c.IdentifierType))(v)
				}
				if v == "" {
					continue
				}
				id := [2]string{c.IdentifierType, v}
				if excluded(c.IdentifierType, v) {
					excludedValues[id] = true
					continue
				}
				e.ids[id] = true
				if groups[id] == nil {
					groups[id] = map[string]bool{}
				}
				groups[id][e.key] = true
			}
		}
	}
	out.ValuesExcluded = int64(len(excludedValues))

	// 4. Groups: link or skip.
	parent := map[string]string{}
	for k := range entities {
		parent[k] = k
	}
	var find func(string) string
	find = func(k string) string {
		for parent[k] != k {
			parent[k] = parent[parent[k]]
			k = parent[k]
		}
		return k
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra // the smaller key stays root
	}
	for id, members := range groups {
		keys := sortedKeys(members)
		size := int64(len(keys))
		if size > maxGroup[id[0]] {
			sample := keys
			if len(sample) > 5 {
				sample = sample[:5]
			}
			out.Skipped = append(out.Skipped, SkippedGroup{IdentifierType: id[0], Value: id[1], GroupSize: size,
				MaxGroupSize: maxGroup[id[0]], SampleKeys: strings.Join(sample, ", ")})
			continue
		}
		for _, k := range keys[1:] {
			out.Edges = append(out.Edges, Edge{RuleID: ruleID[id[0]], Left: keys[0], Right: k, IdentifierType: id[0], Value: id[1]})
			union(keys[0], k)
		}
	}

	// 5. Clusters: the root is the smallest key of its component.
	members := map[string][]*refEntity{}
	for k, e := range entities {
		root := find(k)
		out.Membership[k] = root
		out.Clusters[root]++
		members[root] = append(members[root], e)
	}

	// Golden profile: EMAIL and PHONE winners.
	for root, es := range members {
		out.Golden[root] = GoldenRow{Email: winner(es, "EMAIL"), Phone: winner(es, "PHONE")}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// winner picks a cluster's identifier of a type: trust_rank ascending (unranked last), then the
// entity's watermark descending (NULL last), then entity key, then value.
func winner(es []*refEntity, typ string) *string {
	type cand struct {
		e *refEntity
		v string
	}
	var best *cand
	better := func(a, b cand) bool { // a before b
		switch {
		case a.e.rank != nil && b.e.rank == nil:
			return true
		case a.e.rank == nil && b.e.rank != nil:
			return false
		case a.e.rank != nil && *a.e.rank != *b.e.rank:
			return *a.e.rank < *b.e.rank
		}
		switch {
		case a.e.wm != nil && b.e.wm == nil:
			return true
		case a.e.wm == nil && b.e.wm != nil:
			return false
		case a.e.wm != nil && *a.e.wm != *b.e.wm:
			return *a.e.wm > *b.e.wm
		}
		if a.e.key != b.e.key {
			return a.e.key < b.e.key
		}
		return a.v < b.v
	}
	for _, e := range es {
		for id := range e.ids {
			if id[0] != typ {
				continue
			}
			c := cand{e, id[1]}
			if best == nil || better(c, *best) {
				best = &c
			}
		}
	}
	if best == nil {
		return nil
	}
	v := best.v
	return &v
}
