package enginetest

// Random histories: the same sequence of source changes is applied to two fresh databases; after
// every batch one of them (A) runs in the mode under test (INCR) and the other (B) runs FULL. Both
// must publish exactly the same outputs, equal to the reference (history_ref.go) of the
// cumulative live data, with resolved ids that follow the stable-id rules from the previous
// committed membership, and a cluster_history that explains every id that went away.
//
// The changes stay within what INCR promises to see: rows are never deleted outright (soft
// deletes only), keys never change, and every insert or update gets a watermark at or after the
// source's committed maximum minus its lookback (late rows inside the lookback, often exactly at
// its edge, are generated on purpose). Besides, A sometimes runs again with no new data (which
// must change and log nothing), makes a dry run before its run (which must change nothing), or
// runs FULL for a step; B always runs FULL.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/pipeline"
	"github.com/idr-dev/idr/internal/schema"
)

// HistoryCase is one generated history: an initial dataset and batches of changes to it. It depends
// only on (Seed, Index). Steps[0] is the initial load; every later step is one batch.
type HistoryCase struct {
	Seed  int64
	Index int

	Sources []*HSource
	Steps   []*Step
}

// HSource is one source table of a history (src.tN). Its rows carry a row id (rid) so that
// updates can name them, a watermark wm (DATE with day ticks or TIMESTAMP with hour ticks) and
// a BOOLEAN deleted flag.
type HSource struct {
	TableID, Table string
	KeyInt         bool
	WmTimestamp    bool  // wm is a TIMESTAMP and a tick is an hour; otherwise a DATE and a day
	LookbackTicks  int64 // watermark_lookback_minutes, in ticks
	SourceRow      bool
	TrustRank      *int64
	Columns        []Column
	FirstName      bool // has a first_name column (a golden-profile attribute by name)
	LastName       bool // has a last_name column

	keyPool []string // keys of the source's rows are drawn from here
}

// HRow is one source row.
type HRow struct {
	RID     int
	Key     *string
	Wm      *int64 // ticks since histBase; nil: NULL
	Deleted *bool
	Values  []*string
	First   *string
	Last    *string
}

// Step is the SQL that one step applies to both databases and the state after it.
type Step struct {
	Stmts         []Stmt
	ConfigChanged bool // the step changes idr_meta (INCR must recompute everything)
	Noop          bool // after committing, run the mode under test again with no new data
	ADryRun       bool // before its run, A makes a dry run in the mode under test (which must change nothing)
	AFull         bool // A runs FULL at this step instead of the mode under test ("a FULL now and then")
	State         *HState
}

// Stmt is one statement of a step; SoftDelete marks statements on idr_meta.source_soft_delete,
// which are left out when the database has no such table.
type Stmt struct {
	SQL        string
	SoftDelete bool
}

// HState is the sources' rows and the configuration after a step.
type HState struct {
	Rows        map[string][]HRow // table_id -> rows
	Rules       []Rule
	Exclusions  []Exclusion
	Normalizers []Normalizer
	SoftDelete  map[string]string // table_id -> deleted_expr (configured in idr_meta.source_soft_delete)
	Inactive    map[string]bool   // table_id -> is_active = FALSE in idr_meta.source_table
	Ranks       map[string]*int64 // table_id -> trust_rank (sources with an idr_meta.source row)
	Raw         map[string]bool   // "table_id.column" -> requires_normalization = FALSE
}

// The watermarks: tick 0 is histBase; DATE sources count days, TIMESTAMP sources hours.
var histBase = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func (s *HSource) tickTime(t int64) time.Time {
	if s.WmTimestamp {
		return histBase.Add(time.Duration(t) * time.Hour)
	}
	return histBase.AddDate(0, 0, int(t))
}

func (s *HSource) tickMinutes() int64 {
	if s.WmTimestamp {
		return 60
	}
	return 1440
}

// wmText is the watermark as the pipeline sees it (a TIMESTAMP), comparable across sources.
func (s *HSource) wmText(t *int64) *string {
	if t == nil {
		return nil
	}
	return ptr(s.tickTime(*t).Format("2006-01-02 15:04:05"))
}

func (s *HSource) wmSQL(t *int64) string {
	if t == nil {
		return "NULL"
	}
	if s.WmTimestamp {
		return "TIMESTAMP '" + s.tickTime(*t).Format("2006-01-02 15:04:05") + "'"
	}
	return "DATE '" + s.tickTime(*t).Format("2006-01-02") + "'"
}

var (
	firstNamePool = []string{"Ann", " Ann", "ann", "Bob ", "Cy", "Dee", "", "  "}
	lastNamePool  = []string{"Lee", "lee", " Lee ", "Moe", "", "Nu"}
	histStrKeys   = []string{"a", "b", "c", "A", "B", "10", "9", "a b", " a", "z", "-1", "", "k1", "k2", "k3", "m", "n"}
	histIntKeys   = []int64{-1, 0, 1, 2, 3, 7, 9, 10, 12, 100, 11, 20}
)

// historyGen carries the generator's state between batches.
type historyGen struct {
	r     *rand.Rand
	h     *HistoryCase
	pools map[string][]string
	rows  map[string][]*HRow
	maxWm map[string]int64 // per source: the largest watermark any row ever had (committed max or above)
	rid   int
	cfg   HState // configuration only
	nEx   int
}

// GenerateHistory builds history index of the stream seed.
func GenerateHistory(seed int64, index int) *HistoryCase {
	r := rand.New(rand.NewPCG(uint64(seed)^0x9e3779b97f4a7c15, uint64(index)))
	h := &HistoryCase{Seed: seed, Index: index}
	g := &historyGen{r: r, h: h, rows: map[string][]*HRow{}, maxWm: map[string]int64{}}
	g.pools = map[string][]string{
		"EMAIL":   subPool(r, emailPool, 2+r.IntN(3)),
		"PHONE":   subPool(r, phonePool, 1+r.IntN(3)),
		"LOYALTY": subPool(r, loyaltyPool, 2+r.IntN(3)),
	}
	g.cfg.SoftDelete = map[string]string{}
	g.cfg.Inactive = map[string]bool{}
	g.cfg.Ranks = map[string]*int64{}
	g.cfg.Raw = map[string]bool{}
	// A wide history has more keys and, besides the shared values, values few entities hold, so
	// that it keeps many independent clusters and an incremental run recomputes only some.
	wide := chance(r, 0.4)
	if wide {
		for n := 3 + r.IntN(8); n > 0; n-- {
			switch v := r.IntN(100); r.IntN(3) {
			case 0:
				g.pools["EMAIL"] = append(g.pools["EMAIL"], fmt.Sprintf("u%d@z.io", v))
			case 1:
				g.pools["PHONE"] = append(g.pools["PHONE"], fmt.Sprintf("555700%04d", v))
			default:
				g.pools["LOYALTY"] = append(g.pools["LOYALTY"], fmt.Sprintf("Z%d", v))
			}
		}
	}

	mapped := map[string]bool{}
	nSources := 2 + r.IntN(2)
	for i := 0; i < nSources; i++ {
		s := &HSource{
			TableID:     fmt.Sprintf("s%d", i+1),
			Table:       fmt.Sprintf("src.t%d", i+1),
			KeyInt:      chance(r, 0.25),
			WmTimestamp: chance(r, 0.4),
			SourceRow:   !chance(r, 0.15),
			FirstName:   chance(r, 0.6),
			LastName:    chance(r, 0.3),
		}
		if s.WmTimestamp {
			s.LookbackTicks = pick(r, []int64{0, 1, 3, 24})
		} else {
			s.LookbackTicks = pick(r, []int64{0, 1, 1, 2})
		}
		if s.SourceRow && !chance(r, 0.1) {
			rank := int64(1 + r.IntN(3))
			s.TrustRank = &rank
		}
		g.cfg.Ranks[s.TableID] = s.TrustRank
		nCols := 1 + r.IntN(3)
		for c := 0; c < nCols; c++ {
			col := Column{Name: fmt.Sprintf("c%d", c+1), IdentifierType: pick(r, identifierTypes), Normalize: !chance(r, 0.15)}
			if col.IdentifierType == "PHONE" && chance(r, 0.25) {
				col.BigInt = true
			}
			mapped[col.IdentifierType] = true
			s.Columns = append(s.Columns, col)
			if !col.Normalize {
				g.cfg.Raw[s.TableID+"."+col.Name] = true
			}
		}
		if s.KeyInt {
			for _, k := range subPool(r, histIntKeys, 4+r.IntN(6)) {
				s.keyPool = append(s.keyPool, strconv.FormatInt(k, 10))
			}
		} else {
			s.keyPool = subPool(r, histStrKeys, 4+r.IntN(8))
		}
		if wide {
			for n := 4 + r.IntN(10); n > 0; n-- {
				k := fmt.Sprintf("w%d", r.IntN(1000))
				if s.KeyInt {
					k = strconv.Itoa(1000 + r.IntN(1000))
				}
				s.keyPool = append(s.keyPool, k)
			}
		}
		if chance(r, 0.85) {
			// Usually a plain column reference; sometimes an expression that treats NULL as live.
			g.cfg.SoftDelete[s.TableID] = pick(r, []string{"deleted", "deleted", "coalesce(deleted, FALSE)"})
		}
		h.Sources = append(h.Sources, s)
	}
	for _, typ := range identifierTypes {
		if !mapped[typ] && !chance(r, 0.3) {
			continue
		}
		id := "r_" + strings.ToLower(typ)
		g.cfg.Rules = append(g.cfg.Rules, Rule{ID: id, IdentifierType: typ, Priority: int64(r.IntN(5)), Active: true, MaxGroupSize: int64(2 + r.IntN(4))})
		if chance(r, 0.1) {
			g.cfg.Rules = append(g.cfg.Rules, Rule{ID: id + "_old", IdentifierType: typ, Priority: 9, Active: false, MaxGroupSize: 1})
		}
	}
	if chance(r, 0.3) {
		g.cfg.Normalizers = append(g.cfg.Normalizers, Normalizer{"LOYALTY", pick(r, []string{"UPPER", "NONE", "LOWER", "TRIM"})})
	}
	for k := r.IntN(2); k > 0; k-- {
		g.cfg.Exclusions = append(g.cfg.Exclusions, g.newExclusion())
	}

	// Step 0: the initial dataset, at watermarks 0..10.
	st := &Step{ConfigChanged: true}
	st.Stmts = append(st.Stmts, Stmt{SQL: "CREATE SCHEMA IF NOT EXISTS src"})
	for _, s := range h.Sources {
		st.Stmts = append(st.Stmts, Stmt{SQL: s.createSQL()})
		g.maxWm[s.TableID] = 0
		var inserted []*HRow
		nRows := 3 + r.IntN(10)
		if wide {
			nRows += 5 + r.IntN(15)
		}
		if chance(r, 0.1) {
			nRows = 0 // starts empty: no run_state row, so INCR reads it whole
		}
		for n := nRows; n > 0; n-- {
			row := g.newRow(s, pick(r, s.keyPool))
			row.Wm = ptrInt(int64(r.IntN(11)))
			if chance(r, 0.05) {
				row.Wm = nil
			}
			if chance(r, 0.2) {
				row.Deleted = ptrBool(true)
			}
			inserted = append(inserted, g.add(s, row))
		}
		st.Stmts = append(st.Stmts, Stmt{SQL: s.insertSQL(inserted)})
	}
	st.Stmts = append(st.Stmts, g.configSQL()...)
	st.Noop = chance(r, 0.12)
	g.commit(st)

	nBatches := 4 + r.IntN(5)
	for b := 1; b <= nBatches; b++ {
		st := &Step{Noop: b == nBatches || chance(r, 0.12), ADryRun: chance(r, 0.08), AFull: b < nBatches && chance(r, 0.08)}
		g.batch(st)
		g.commit(st)
	}
	return h
}

func ptrInt(v int64) *int64 { return &v }
func ptrBool(v bool) *bool  { return &v }

func intText(v *int64) *string {
	if v == nil {
		return nil
	}
	return ptr(strconv.FormatInt(*v, 10))
}

func (g *historyGen) newExclusion() Exclusion {
	g.nEx++
	typ := pick(g.r, identifierTypes)
	if chance(g.r, 0.6) {
		var v *string
		for v == nil || *v == "" {
			v = genValue(g.r, Column{IdentifierType: typ}, g.pools[typ])
		}
		return Exclusion{IdentifierType: typ, Value: *v}
	}
	d := &Dataset{Normalizers: g.cfg.Normalizers}
	norm := normalizerFunc(d.normalizerName(typ))
	return Exclusion{IdentifierType: typ, Value: genPattern(g.r, norm(pick(g.r, g.pools[typ]))), IsPattern: true}
}

func (g *historyGen) newRow(s *HSource, key string) *HRow {
	g.rid++
	row := &HRow{RID: g.rid, Key: ptr(key), Deleted: ptrBool(false)}
	if chance(g.r, 0.04) {
		row.Key = nil
	}
	for _, c := range s.Columns {
		row.Values = append(row.Values, genValue(g.r, c, g.pools[c.IdentifierType]))
	}
	if s.FirstName {
		row.First = g.name(firstNamePool)
	}
	if s.LastName {
		row.Last = g.name(lastNamePool)
	}
	return row
}

func (g *historyGen) name(pool []string) *string {
	if chance(g.r, 0.15) {
		return nil
	}
	return ptr(pick(g.r, pool))
}

func (g *historyGen) add(s *HSource, row *HRow) *HRow {
	g.rows[s.TableID] = append(g.rows[s.TableID], row)
	return row
}

// wm draws the watermark of a change to source s: at or after the committed maximum, or late
// but inside the lookback (often exactly at its edge), rarely NULL (always part of a delta).
func (g *historyGen) wm(s *HSource) *int64 {
	m := g.maxWm[s.TableID]
	switch x := g.r.Float64(); {
	case x < 0.04:
		return nil
	case x < 0.34: // late
		if chance(g.r, 0.5) {
			return ptrInt(m - s.LookbackTicks)
		}
		return ptrInt(m - int64(g.r.IntN(int(s.LookbackTicks)+1)))
	default:
		return ptrInt(m + int64(g.r.IntN(3)))
	}
}

// batch generates one batch of changes: inserts, updates, soft deletes and un-deletes, rows for
// existing keys, late rows; sometimes a configuration change.
func (g *historyGen) batch(st *Step) {
	r := g.r
	for n := 2 + r.IntN(8); n > 0; n-- {
		s := pick(r, g.h.Sources)
		rows := g.rows[s.TableID]
		switch x := r.Float64(); {
		case x < 0.22 || len(rows) == 0: // a row, usually for a new key
			key := pick(r, s.keyPool)
			if chance(r, 0.3) {
				key = g.newKey(s)
			}
			row := g.newRow(s, key)
			row.Wm = g.wm(s)
			st.Stmts = append(st.Stmts, Stmt{SQL: s.insertSQL([]*HRow{g.add(s, row)})})
		case x < 0.37: // another row for the key of an existing row
			other := pick(r, rows)
			if other.Key == nil {
				continue
			}
			row := g.newRow(s, *other.Key)
			row.Wm = g.wm(s)
			st.Stmts = append(st.Stmts, Stmt{SQL: s.insertSQL([]*HRow{g.add(s, row)})})
		case x < 0.62: // change identifiers (and sometimes attributes) of a row
			row := pick(r, rows)
			var sets []string
			for ci, c := range s.Columns {
				if chance(r, 0.6) {
					row.Values[ci] = genValue(r, c, g.pools[c.IdentifierType])
					sets = append(sets, c.Name+" = "+s.valueSQL(ci, row.Values[ci]))
				}
			}
			if s.FirstName && chance(r, 0.3) {
				row.First = g.name(firstNamePool)
				sets = append(sets, "first_name = "+sqlNullable(row.First, sqlString))
			}
			if s.LastName && chance(r, 0.2) {
				row.Last = g.name(lastNamePool)
				sets = append(sets, "last_name = "+sqlNullable(row.Last, sqlString))
			}
			// Never the key: moving a row to another key takes it away from its entity unseen by
			// an incremental run, like a hard delete (only FULL sees those).
			row.Wm = g.wm(s)
			sets = append(sets, "wm = "+s.wmSQL(row.Wm))
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE %s SET %s WHERE rid = %d", s.Table, strings.Join(sets, ", "), row.RID)})
		case x < 0.80: // soft delete
			row := pick(r, rows)
			row.Deleted = ptrBool(true)
			row.Wm = g.wm(s)
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE %s SET deleted = TRUE, wm = %s WHERE rid = %d", s.Table, s.wmSQL(row.Wm), row.RID)})
		case x < 0.92: // un-delete (or mark NULL, which is not deleted)
			var deleted []*HRow
			for _, row := range rows {
				if row.Deleted != nil && *row.Deleted {
					deleted = append(deleted, row)
				}
			}
			if len(deleted) == 0 {
				continue
			}
			row := pick(r, deleted)
			row.Deleted = ptrBool(false)
			v := "FALSE"
			if chance(r, 0.15) {
				row.Deleted, v = nil, "NULL"
			}
			row.Wm = g.wm(s)
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE %s SET deleted = %s, wm = %s WHERE rid = %d", s.Table, v, s.wmSQL(row.Wm), row.RID)})
		default: // touch a row: only its watermark moves
			row := pick(r, rows)
			row.Wm = g.wm(s)
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE %s SET wm = %s WHERE rid = %d", s.Table, s.wmSQL(row.Wm), row.RID)})
		}
	}
	if chance(r, 0.35) {
		st.ConfigChanged = true
		switch x := r.Float64(); {
		case x < 0.18:
			ex := g.newExclusion()
			g.cfg.Exclusions = append(g.cfg.Exclusions, ex)
			st.Stmts = append(st.Stmts, Stmt{SQL: "INSERT INTO idr_meta.identifier_exclusion VALUES " + exclusionSQL(ex, g.nEx)})
		case x < 0.36:
			var active []int
			for i, ru := range g.cfg.Rules {
				if ru.Active {
					active = append(active, i)
				}
			}
			i := pick(r, active)
			old := g.cfg.Rules[i].MaxGroupSize
			n := old - 1 - int64(r.IntN(2)) // usually lowered
			if chance(r, 0.25) {
				n = old + 1
			}
			if n < 1 {
				n = old + 1
			}
			g.cfg.Rules[i].MaxGroupSize = n
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE idr_meta.rule SET max_group_size = %d WHERE rule_id = %s", n, sqlString(g.cfg.Rules[i].ID))})
		case x < 0.43:
			n := Normalizer{"LOYALTY", pick(r, []string{"UPPER", "NONE", "LOWER", "TRIM"})}
			g.cfg.Normalizers = []Normalizer{n}
			st.Stmts = append(st.Stmts,
				Stmt{SQL: "DELETE FROM idr_meta.identifier_normalizer"},
				Stmt{SQL: fmt.Sprintf("INSERT INTO idr_meta.identifier_normalizer VALUES (%s, %s)", sqlString(n.IdentifierType), sqlString(n.Name))})
		case x < 0.53: // another trust_rank (sources with an idr_meta.source row)
			s := pick(r, g.h.Sources)
			if !s.SourceRow { // give it its idr_meta.source row now (trust_rank NULL, as before)
				s.SourceRow = true
				st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("INSERT INTO idr_meta.source VALUES (%s, %s, NULL, TRUE)", sqlString(s.TableID), sqlString(strings.ToUpper(s.TableID)))})
			}
			old := g.cfg.Ranks[s.TableID]
			var rank *int64
			for {
				rank = nil
				if !chance(r, 0.2) {
					rank = ptrInt(int64(1 + r.IntN(3)))
				}
				if (rank == nil) != (old == nil) || rank != nil && *rank != *old {
					break
				}
			}
			g.cfg.Ranks[s.TableID] = rank
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE idr_meta.source SET trust_rank = %s WHERE table_id = %s", sqlNullable(intText(rank), func(v string) string { return v }), sqlString(s.TableID))})
		case x < 0.61: // switch a source off, or back on (one always stays on)
			s := pick(r, g.h.Sources)
			active := 0
			for _, o := range g.h.Sources {
				if !g.cfg.Inactive[o.TableID] {
					active++
				}
			}
			switch {
			case g.cfg.Inactive[s.TableID]:
				delete(g.cfg.Inactive, s.TableID)
				st.Stmts = append(st.Stmts, Stmt{SQL: "UPDATE idr_meta.source_table SET is_active = TRUE WHERE table_id = " + sqlString(s.TableID)})
			case active > 1:
				g.cfg.Inactive[s.TableID] = true
				st.Stmts = append(st.Stmts, Stmt{SQL: "UPDATE idr_meta.source_table SET is_active = FALSE WHERE table_id = " + sqlString(s.TableID)})
			default:
				st.ConfigChanged = false
			}
		case x < 0.7: // normalize a mapped column, or stop normalizing it
			s := pick(r, g.h.Sources)
			c := pick(r, s.Columns)
			k := s.TableID + "." + c.Name
			g.cfg.Raw[k] = !g.cfg.Raw[k]
			st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("UPDATE idr_meta.identifier_mapping SET requires_normalization = %s WHERE table_id = %s AND identifier_value_expr = %s",
				sqlBool(!g.cfg.Raw[k]), sqlString(s.TableID), sqlString(c.Name))})
		default: // switch soft deletes of a source on or off
			s := pick(r, g.h.Sources)
			if _, on := g.cfg.SoftDelete[s.TableID]; on {
				delete(g.cfg.SoftDelete, s.TableID)
				st.Stmts = append(st.Stmts, Stmt{SQL: "DELETE FROM idr_meta.source_soft_delete WHERE table_id = " + sqlString(s.TableID), SoftDelete: true})
			} else {
				g.cfg.SoftDelete[s.TableID] = "deleted"
				st.Stmts = append(st.Stmts, Stmt{SQL: fmt.Sprintf("INSERT INTO idr_meta.source_soft_delete VALUES (%s, 'deleted')", sqlString(s.TableID)), SoftDelete: true})
			}
		}
	}
}

func (g *historyGen) newKey(s *HSource) string {
	if s.KeyInt {
		k := strconv.Itoa(200 + g.rid)
		s.keyPool = append(s.keyPool, k)
		return k
	}
	k := fmt.Sprintf("n%d", g.rid)
	s.keyPool = append(s.keyPool, k)
	return k
}

// commit records the state after a step and advances the committed watermark maxima.
func (g *historyGen) commit(st *Step) {
	state := &HState{Rows: map[string][]HRow{}, SoftDelete: map[string]string{}}
	state.Rules = append([]Rule(nil), g.cfg.Rules...)
	state.Exclusions = append([]Exclusion(nil), g.cfg.Exclusions...)
	state.Normalizers = append([]Normalizer(nil), g.cfg.Normalizers...)
	for k, v := range g.cfg.SoftDelete {
		state.SoftDelete[k] = v
	}
	state.Inactive, state.Ranks, state.Raw = map[string]bool{}, map[string]*int64{}, map[string]bool{}
	for k, v := range g.cfg.Inactive {
		state.Inactive[k] = v
	}
	for k, v := range g.cfg.Ranks {
		state.Ranks[k] = v
	}
	for k, v := range g.cfg.Raw {
		state.Raw[k] = v
	}
	for _, s := range g.h.Sources {
		for _, row := range g.rows[s.TableID] {
			c := *row
			c.Values = append([]*string(nil), row.Values...)
			state.Rows[s.TableID] = append(state.Rows[s.TableID], c)
			if row.Wm != nil && *row.Wm > g.maxWm[s.TableID] {
				g.maxWm[s.TableID] = *row.Wm
			}
		}
	}
	st.State = state
	g.h.Steps = append(g.h.Steps, st)
}

func (s *HSource) createSQL() string {
	keyType, wmType := "STRING", "DATE" // STRING: a text type name both DuckDB and Spark SQL know
	if s.KeyInt {
		keyType = "INTEGER"
	}
	if s.WmTimestamp {
		wmType = "TIMESTAMP"
	}
	cols := []string{"rid INTEGER", "k " + keyType, "wm " + wmType, "deleted BOOLEAN"}
	for _, c := range s.Columns {
		typ := "STRING"
		if c.BigInt {
			typ = "BIGINT"
		}
		cols = append(cols, c.Name+" "+typ)
	}
	if s.FirstName {
		cols = append(cols, "first_name STRING")
	}
	if s.LastName {
		cols = append(cols, "last_name STRING")
	}
	return fmt.Sprintf("CREATE TABLE %s (%s)", s.Table, strings.Join(cols, ", "))
}

func (s *HSource) valueSQL(ci int, v *string) string {
	if s.Columns[ci].BigInt {
		return sqlNullable(v, func(x string) string { return x })
	}
	return sqlNullable(v, sqlString)
}

func (s *HSource) insertSQL(rows []*HRow) string {
	if len(rows) == 0 {
		return "SELECT 1"
	}
	out := make([]string, len(rows))
	for i, row := range rows {
		key := sqlString
		if s.KeyInt {
			key = func(v string) string { return v }
		}
		del := "NULL"
		if row.Deleted != nil {
			del = sqlBool(*row.Deleted)
		}
		vals := []string{strconv.Itoa(row.RID), sqlNullable(row.Key, key), s.wmSQL(row.Wm), del}
		for ci := range s.Columns {
			vals = append(vals, s.valueSQL(ci, row.Values[ci]))
		}
		if s.FirstName {
			vals = append(vals, sqlNullable(row.First, sqlString))
		}
		if s.LastName {
			vals = append(vals, sqlNullable(row.Last, sqlString))
		}
		out[i] = "(" + strings.Join(vals, ", ") + ")"
	}
	return fmt.Sprintf("INSERT INTO %s VALUES\n  %s", s.Table, strings.Join(out, ",\n  "))
}

func exclusionSQL(x Exclusion, n int) string {
	return fmt.Sprintf("(%s, %s, %s, 'x%d')", sqlString(x.IdentifierType), sqlString(x.Value), sqlBool(x.IsPattern), n)
}

// configSQL is the initial configuration.
func (g *historyGen) configSQL() []Stmt {
	var out []Stmt
	values := func(table string, rows []string, softDelete bool) {
		if len(rows) > 0 {
			out = append(out, Stmt{SQL: "INSERT INTO idr_meta." + table + " VALUES\n  " + strings.Join(rows, ",\n  "), SoftDelete: softDelete})
		}
	}
	var st, src, mp, sd []string
	for _, s := range g.h.Sources {
		st = append(st, fmt.Sprintf("(%s, %s, 'PERSON', 'k', 'wm', %d, TRUE)", sqlString(s.TableID), sqlString(s.Table), s.LookbackTicks*s.tickMinutes()))
		if s.SourceRow {
			rank := "NULL"
			if s.TrustRank != nil {
				rank = strconv.FormatInt(*s.TrustRank, 10)
			}
			src = append(src, fmt.Sprintf("(%s, %s, %s, TRUE)", sqlString(s.TableID), sqlString(strings.ToUpper(s.TableID)), rank))
		}
		for _, c := range s.Columns {
			mp = append(mp, fmt.Sprintf("(%s, %s, %s, %s)", sqlString(s.TableID), sqlString(c.IdentifierType), sqlString(c.Name), sqlBool(c.Normalize)))
		}
		if e, ok := g.cfg.SoftDelete[s.TableID]; ok {
			sd = append(sd, fmt.Sprintf("(%s, %s)", sqlString(s.TableID), sqlString(e)))
		}
	}
	var rules, ex, norms []string
	for _, r := range g.cfg.Rules {
		rules = append(rules, fmt.Sprintf("(%s, %s, %d, %s, %d)", sqlString(r.ID), sqlString(r.IdentifierType), r.Priority, sqlBool(r.Active), r.MaxGroupSize))
	}
	for i, x := range g.cfg.Exclusions {
		ex = append(ex, exclusionSQL(x, i+1))
	}
	for _, n := range g.cfg.Normalizers {
		norms = append(norms, fmt.Sprintf("(%s, %s)", sqlString(n.IdentifierType), sqlString(n.Name)))
	}
	values("source_table", st, false)
	values("source", src, false)
	values("rule", rules, false)
	values("identifier_exclusion", ex, false)
	values("identifier_mapping", mp, false)
	values("identifier_normalizer", norms, false)
	values("source_soft_delete", sd, true)
	return out
}

// Script renders steps 0..upto as SQL, each followed by the runs the test makes.
func (h *HistoryCase) Script(upto int, incrMode string, softDelete bool) string {
	var b strings.Builder
	for i, st := range h.Steps {
		if i > upto {
			break
		}
		if i == 0 {
			fmt.Fprintf(&b, "-- step 0: initial dataset (after `idr init`)\n")
		} else {
			fmt.Fprintf(&b, "-- step %d: batch %d\n", i, i)
		}
		for _, s := range st.Stmts {
			if s.SoftDelete && !softDelete {
				continue
			}
			b.WriteString(s.SQL + ";\n")
		}
		b.WriteString("-- then: ")
		if st.ADryRun {
			fmt.Fprintf(&b, "A `idr run --run-mode=%s --dry-run` (changes nothing); ", incrMode)
		}
		aMode := incrMode
		if st.AFull {
			aMode = pipeline.ModeFull
		}
		fmt.Fprintf(&b, "A `idr run --run-mode=%s`, B `idr run --run-mode=FULL`", aMode)
		if st.Noop {
			fmt.Fprintf(&b, "; then A `idr run --run-mode=%s` again (no new data)", incrMode)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// History runs histories random histories of the stream seed (indexes 0..histories-1). Each
// history opens two fresh engines, A and B, applies the same initial dataset and batches of
// changes to both, and after every step runs A in incrMode and B in FULL; both must publish what
// the reference says, with stable ids following from the previous committed membership. Each
// history runs as a subtest (history_N) so that its engines close when it ends.
func History(t *testing.T, open Opener, histories int, seed int64, incrMode string) {
	t.Helper()
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, max(histories, 1))
	var next, failures, done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failures.Load() < maxFailures {
				i := next.Add(1) - 1
				if i >= int64(histories) {
					return
				}
				if !t.Run(fmt.Sprintf("history_%d", i), func(t *testing.T) { historyOne(t, open, open, seed, int(i), incrMode) }) {
					failures.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d histories failed (stopped after %d failures; %d of %d histories ran)", f, maxFailures, done.Load(), histories)
	}
	if done.Load() != int64(histories) {
		t.Fatalf("ran %d histories, want %d", done.Load(), histories)
	}
}

// HistoryOne runs the single history index of the stream seed, to reproduce a failure.
func HistoryOne(t *testing.T, open Opener, seed int64, index int, incrMode string) {
	t.Helper()
	historyOne(t, open, open, seed, index, incrMode)
}

// HistoryOneAcross runs history index of the stream seed with A opened by openA and B by openB:
// with A on one engine in incrMode and B on another in FULL, every step compares the two
// engines' outputs, through the reference both must equal and their resolved_id_lookup.
func HistoryOneAcross(t *testing.T, openA, openB Opener, seed int64, index int, incrMode string) {
	t.Helper()
	historyOne(t, openA, openB, seed, index, incrMode)
}

func historyOne(t *testing.T, openA, openB Opener, seed int64, index int, incrMode string) {
	t.Helper()
	h := GenerateHistory(seed, index)
	start := time.Now()
	stats := map[string]int{}
	runs, err := runHistory(t, openA, openB, h, incrMode, stats)
	if err != nil {
		t.Error(err)
		return
	}
	t.Logf("history %d of seed %d: %d batches, %d runs, %s; stats %v", index, seed, len(h.Steps)-1, runs,
		time.Since(start).Round(time.Millisecond), stats)
}

// historyEngine is one side of a history (A: the mode under test; B: FULL).
type historyEngine struct {
	name string
	mode string
	eng  engine.Engine
	ctx  context.Context
	// runLabel names each committed run by its step, so that run ids of A and B compare.
	runLabel map[string]string
	prev     *histOutputs // outputs after the last committed run
}

// histOutputs is what a committed run published, in comparable form.
type histOutputs struct {
	Membership map[string]string // entity_key -> resolved_id
	Clusters   map[string]int64
	Edges      []Edge
	Golden     map[string]string // resolved_id -> rendered columns
	Skipped    []SkippedGroup    // of the run
	Changes    []string          // cluster_history rows of the run, rendered
	Lookup     []string          // resolved_id_lookup, rendered with run labels
	Totals     pipelineTotals
	// Recomputed is the run's entities_recomputed; RecomputedAll the run's warning that an INCR
	// run recomputed everything ("" when it did not say so).
	Recomputed    int64
	RecomputedAll string
}

type pipelineTotals struct {
	Entities, Edges, Clusters, GroupsSkipped, ValuesExcluded int64
}

func runHistory(t *testing.T, openA, openB Opener, h *HistoryCase, incrMode string, stats map[string]int) (runs int, err error) {
	t.Helper()
	a := &historyEngine{name: "A (" + incrMode + ")", mode: incrMode, eng: openA(t), ctx: context.Background(), runLabel: map[string]string{}}
	b := &historyEngine{name: "B (FULL)", mode: pipeline.ModeFull, eng: openB(t), ctx: context.Background(), runLabel: map[string]string{}}
	softDelete := false
	for _, e := range []*historyEngine{a, b} {
		if err := schema.Init(e.ctx, e.eng); err != nil {
			return 0, fmt.Errorf("history %d of seed %d: schema.Init: %v", h.Index, h.Seed, err)
		}
		_, exists, err := e.eng.Columns(e.ctx, "idr_meta.source_soft_delete")
		if err != nil {
			return 0, fmt.Errorf("history %d of seed %d: %v", h.Index, h.Seed, err)
		}
		softDelete = exists
	}
	var prevRef map[string]string // the reference membership after the last committed step
	for i, st := range h.Steps {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("history %d of seed %d, step %d (batch %d; %d batches; A runs %s, B runs FULL; soft-delete table present: %v): %s\n"+
				"reproduce with: IDR_HISTORY_SEED=%d IDR_HISTORY_INDEX=%d IDR_HISTORY_MODE=%s go test -tags=duckdb_arrow -run TestRandomHistories ./engine/duckdb/\n"+
				"history up to the failing step (run on two databases A and B after `idr init`):\n%s",
				h.Index, h.Seed, i, i, len(h.Steps)-1, incrMode, softDelete, fmt.Sprintf(format, args...), h.Seed, h.Index, incrMode, h.Script(i, incrMode, softDelete))
		}
		for _, e := range []*historyEngine{a, b} {
			for _, s := range st.Stmts {
				if s.SoftDelete && !softDelete {
					continue
				}
				if err := e.eng.Exec(e.ctx, s.SQL); err != nil {
					return runs, fail("applying the step on %s: %v\nstatement: %s", e.name, err, s.SQL)
				}
			}
		}
		if st.ADryRun && a.prev != nil {
			o, err := a.run(fmt.Sprintf("dry run at step %d", i), a.mode, true)
			runs++
			if err != nil {
				return runs, fail("%s, dry run: %v", a.name, err)
			}
			if d := compareNoop(a.prev, o); len(d) > 0 {
				return runs, fail("%s, dry run, changed the outputs:\n  %s", a.name, strings.Join(d, "\n  "))
			}
		}
		want := historyReference(h, i, softDelete, prevRef)
		var got [2]*histOutputs
		modes := [2]string{a.mode, b.mode}
		if st.AFull {
			modes[0] = pipeline.ModeFull
		}
		for j, e := range []*historyEngine{a, b} {
			o, err := e.run(fmt.Sprintf("step %d", i), modes[j], false)
			if err != nil {
				return runs, fail("%s: %v", e.name, err)
			}
			got[j] = o
			runs++
		}
		var diffs []string
		for j, e := range []*historyEngine{a, b} {
			for _, d := range compareHistory(want, got[j], modes[j] == pipeline.ModeFull) {
				diffs = append(diffs, e.name+" vs reference: "+d)
			}
			for _, d := range explainDisappeared(e.prev, got[j]) {
				diffs = append(diffs, e.name+": "+d)
			}
		}
		for _, d := range diffSets("resolved_id_lookup (old -> current, change_type, run)", got[1].Lookup, got[0].Lookup) {
			diffs = append(diffs, "A vs B (missing: in B only; unexpected: in A only): "+d)
		}
		if modes[0] == pipeline.ModeIncr && i > 0 && !st.ConfigChanged && got[0].RecomputedAll != "" {
			diffs = append(diffs, fmt.Sprintf("%s recomputed everything though the configuration did not change: %q", a.name, got[0].RecomputedAll))
		}
		if len(diffs) > 0 {
			return runs, fail("outputs differ:\n  %s", strings.Join(diffs, "\n  "))
		}
		a.prev, b.prev = got[0], got[1]
		for _, l := range got[1].Changes {
			stats[strings.Fields(l)[0]]++
		}
		if modes[0] == pipeline.ModeIncr && i > 0 {
			if got[0].RecomputedAll == "" {
				stats["A incremental runs"]++
				stats["A incremental: entities recomputed"] += int(got[0].Recomputed)
				stats["A incremental: live entities"] += len(got[0].Membership)
			}
		}
		for id := range got[1].Clusters {
			if strings.HasSuffix(id, "~") {
				stats["~ids"]++
			}
		}
		if st.ConfigChanged && i > 0 {
			stats["config changes"]++
		}
		prevRef = want.Membership
		if st.Noop {
			o, err := a.run(fmt.Sprintf("no-op run after step %d", i), a.mode, false)
			runs++
			if err != nil {
				return runs, fail("%s, run again with no new data: %v", a.name, err)
			}
			d := compareNoop(a.prev, o)
			if incrMode == pipeline.ModeIncr && o.RecomputedAll != "" {
				d = append(d, fmt.Sprintf("it recomputed everything though the configuration did not change: %q", o.RecomputedAll))
			}
			if len(d) > 0 {
				return runs, fail("%s, run again with no new data, changed its outputs:\n  %s", a.name, strings.Join(d, "\n  "))
			}
			a.prev = o
		}
	}
	return runs, nil
}

// run runs mode (a dry run if dry), checks the run's status, and reads the outputs.
func (e *historyEngine) run(label, mode string, dry bool) (*histOutputs, error) {
	rep, err := pipeline.Run(e.ctx, e.eng, pipeline.Options{Mode: mode, DryRun: dry})
	if err != nil {
		return nil, fmt.Errorf("pipeline.Run (%s): %v", label, err)
	}
	want := pipeline.StatusSuccess
	if dry {
		want = pipeline.StatusDryRun
	}
	if rep.Status != want {
		return nil, fmt.Errorf("run (%s) status %s, want %s", label, rep.Status, want)
	}
	e.runLabel[rep.RunID] = label
	o, err := e.read(rep.RunID)
	if err != nil {
		return nil, fmt.Errorf("reading outputs (%s): %v", label, err)
	}
	tot := rep.Totals
	o.Totals = pipelineTotals{Entities: tot.Entities, Edges: tot.Edges, Clusters: tot.Clusters, GroupsSkipped: tot.GroupsSkipped, ValuesExcluded: tot.ValuesExcluded}
	o.Recomputed = tot.EntitiesRecomputed
	if rep.Mode == "INCR" && !rep.Incremental {
		o.RecomputedAll = strings.Join(rep.Warnings, "; ")
	}
	return o, nil
}

func (e *historyEngine) read(runID string) (*histOutputs, error) {
	g, err := readGraph(e.ctx, e.eng, runID)
	if err != nil {
		return nil, err
	}
	o := &histOutputs{Membership: g.Membership, Clusters: g.Clusters, Edges: g.Edges, Skipped: g.Skipped, Golden: map[string]string{}}
	q := func(stmt string, row func([]any) error) error { return queryRows(e.ctx, e.eng, stmt, row) }
	res, err := e.eng.Query(e.ctx, "SELECT * FROM idr_out.golden_profile_current")
	if err != nil {
		return nil, err
	}
	for _, r := range res.Rows {
		var id string
		var cols []string
		for ci, c := range res.Columns {
			switch c {
			case "updated_ts":
			case "resolved_id":
				id = text(r[ci])
			default:
				cols = append(cols, c+"="+showNullable(nullableText(r[ci])))
			}
		}
		if _, dup := o.Golden[id]; dup {
			return nil, fmt.Errorf("golden profile resolved_id %q appears twice", id)
		}
		o.Golden[id] = strings.Join(cols, " ")
	}
	err = q("SELECT change_type, resolved_id, related_ids, member_count, previous_member_count FROM idr_out.cluster_history WHERE run_id = "+quote(runID), func(r []any) error {
		o.Changes = append(o.Changes, changeLine(text(r[0]), text(r[1]), nullableText(r[2]), nullableInt(r[3]), nullableInt(r[4])))
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q("SELECT old_resolved_id, current_resolved_id, change_type, run_id FROM idr_out.resolved_id_lookup", func(r []any) error {
		label, ok := e.runLabel[text(r[3])]
		if !ok {
			label = "unknown run " + text(r[3])
		}
		o.Lookup = append(o.Lookup, fmt.Sprintf("%q -> %s %s (%s)", text(r[0]), showNullable(nullableText(r[1])), text(r[2]), label))
		return nil
	})
	return o, err
}

func nullableInt(v any) *int64 {
	if v == nil {
		return nil
	}
	n := integer(v)
	return &n
}

func showInt(n *int64) string {
	if n == nil {
		return "NULL"
	}
	return strconv.FormatInt(*n, 10)
}

func changeLine(typ, id string, related *string, members, previous *int64) string {
	return fmt.Sprintf("%s %q related_ids %s member_count %s previous_member_count %s", typ, id, showNullable(related), showInt(members), showInt(previous))
}

// compareHistory lists the differences between the reference and one engine's outputs. The
// skipped groups and the run totals are compared for FULL runs only: what an incremental run
// logs there is not specified.
func compareHistory(want *historyWant, got *histOutputs, full bool) []string {
	var diffs []string
	diffs = append(diffs, diffSets("identity_resolved_membership_current (entity_key -> resolved_id)",
		mapLines(want.Membership, func(k, v string) string { return fmt.Sprintf("%q -> %q", k, v) }),
		mapLines(got.Membership, func(k, v string) string { return fmt.Sprintf("%q -> %q", k, v) }))...)
	diffs = append(diffs, diffSets("identity_clusters_current (resolved_id, cluster_size)",
		mapLines(want.Clusters, func(k string, v int64) string { return fmt.Sprintf("%q size %d", k, v) }),
		mapLines(got.Clusters, func(k string, v int64) string { return fmt.Sprintf("%q size %d", k, v) }))...)
	edge := func(e Edge) string {
		return fmt.Sprintf("%s %s %q: %q -> %q", e.RuleID, e.IdentifierType, e.Value, e.Left, e.Right)
	}
	diffs = append(diffs, diffSets("identity_edges_current (rule, type, value: left -> right)", lines(want.Edges, edge), lines(got.Edges, edge))...)
	golden := func(k, v string) string { return fmt.Sprintf("%q %s", k, v) }
	diffs = append(diffs, diffSets("golden_profile_current (every column but updated_ts)", mapLines(want.Golden, golden), mapLines(got.Golden, golden))...)
	diffs = append(diffs, diffSets("cluster_history of the run (change_type, resolved_id, related_ids, member_count, previous_member_count)", want.Changes, got.Changes)...)
	if !full {
		return diffs
	}
	skipped := func(g SkippedGroup) string {
		return fmt.Sprintf("%s %q size %d max_group_size %d sample_entity_keys %q", g.IdentifierType, g.Value, g.GroupSize, g.MaxGroupSize, g.SampleKeys)
	}
	diffs = append(diffs, diffSets("skipped_identifier_groups of the run", lines(want.Skipped, skipped), lines(got.Skipped, skipped))...)
	for _, c := range []struct {
		name      string
		want, got int64
	}{
		{"entities", want.Totals.Entities, got.Totals.Entities},
		{"edges", want.Totals.Edges, got.Totals.Edges},
		{"clusters", want.Totals.Clusters, got.Totals.Clusters},
		{"groups skipped", want.Totals.GroupsSkipped, got.Totals.GroupsSkipped},
		{"values excluded", want.Totals.ValuesExcluded, got.Totals.ValuesExcluded},
	} {
		if c.want != c.got {
			diffs = append(diffs, fmt.Sprintf("run totals: %s %d, want %d", c.name, c.got, c.want))
		}
	}
	return diffs
}

// explainDisappeared checks that every id that left the membership in this run is explained by
// the run's cluster_history: RETIRED or SPLIT with that id, or among the related ids of a MERGED row.
func explainDisappeared(prev, got *histOutputs) []string {
	if prev == nil {
		return nil
	}
	now := map[string]bool{}
	for _, id := range got.Membership {
		now[id] = true
	}
	var explained = map[string]bool{}
	for _, l := range got.Changes {
		var typ, id string
		fmt.Sscanf(l, "%s %q", &typ, &id)
		switch typ {
		case "RETIRED", "SPLIT":
			explained[id] = true
		case "MERGED":
			if i := strings.Index(l, "related_ids \""); i >= 0 {
				var rel string
				fmt.Sscanf(l[i+len("related_ids "):], "%q", &rel)
				for _, r := range strings.Split(rel, ", ") {
					explained[r] = true
				}
			}
		}
	}
	var diffs []string
	seen := map[string]bool{}
	for _, id := range prev.Membership {
		if now[id] || seen[id] {
			continue
		}
		seen[id] = true
		if !explained[id] {
			diffs = append(diffs, fmt.Sprintf("id %q left the membership without a RETIRED, SPLIT or MERGED row in cluster_history (rows of the run: %q)", id, got.Changes))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// compareNoop checks that a run over unchanged data changed nothing and logged nothing.
func compareNoop(before, after *histOutputs) []string {
	var diffs []string
	diffs = append(diffs, diffSets("identity_resolved_membership_current",
		mapLines(before.Membership, func(k, v string) string { return fmt.Sprintf("%q -> %q", k, v) }),
		mapLines(after.Membership, func(k, v string) string { return fmt.Sprintf("%q -> %q", k, v) }))...)
	diffs = append(diffs, diffSets("identity_clusters_current",
		mapLines(before.Clusters, func(k string, v int64) string { return fmt.Sprintf("%q size %d", k, v) }),
		mapLines(after.Clusters, func(k string, v int64) string { return fmt.Sprintf("%q size %d", k, v) }))...)
	edge := func(e Edge) string {
		return fmt.Sprintf("%s %s %q: %q -> %q", e.RuleID, e.IdentifierType, e.Value, e.Left, e.Right)
	}
	diffs = append(diffs, diffSets("identity_edges_current", lines(before.Edges, edge), lines(after.Edges, edge))...)
	golden := func(k, v string) string { return fmt.Sprintf("%q %s", k, v) }
	diffs = append(diffs, diffSets("golden_profile_current", mapLines(before.Golden, golden), mapLines(after.Golden, golden))...)
	diffs = append(diffs, diffSets("resolved_id_lookup", before.Lookup, after.Lookup)...)
	if len(after.Changes) > 0 {
		diffs = append(diffs, fmt.Sprintf("cluster_history has %d rows for the run, want none:\n      %s", len(after.Changes), strings.Join(after.Changes, "\n      ")))
	}
	return diffs
}
