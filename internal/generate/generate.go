// Package generate owns idr's synthetic datasets: scenarios of source tables with a known truth
// (which records belong to the same person), a ready-to-run configuration for them, and the
// evaluation of a run's clusters against that truth (pairwise precision and recall).
//
// Rows are built inside the engine with SQL (range, hash of seed and row number), never in
// Go, so ten million rows take seconds; the same seed, scenario and size give the same rows.
// The SQL lives in sql/: macros.sql (pseudo-random functions and value builders), persons.sql
// (people and how many records each has), base.sql (one row per record) and one directory per
// scenario with a SELECT per source table and config.sql.
package generate

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/schema"
	"github.com/idr-dev/idr/internal/sqltext"
)

//go:embed sql
var files embed.FS

// MinRows and MaxRows bound --rows: below MinRows the planted junk would be most of the data;
// above MaxRows person numbers would leave the ranges that keep phones and ids unique.
const (
	MinRows = 1_000
	MaxRows = 1_000_000_000
)

// TruthTable holds the truth: one row per entity, entity_key as idr forms it and person_id.
const TruthTable = "idr_truth.entity_person"

// Source is one generated source table.
type Source struct {
	TableID   string // idr_meta.source_table.table_id
	FQN       string // schema.table
	KeyPrefix string // the key column is KeyPrefix followed by the record's row number
	Share     int    // basis points of all rows (shares of a scenario add up to 10000)
}

// Scenario is a kind of dataset.
type Scenario struct {
	Name        string
	About       string
	DefaultRows int64
	Sources     []Source
	Addresses   bool    // people have a postal address
	Singles     float64 // share of people with one record
	Alpha       float64 // tail exponent of the other people's record counts (2, 3, ... up to MaxSize)
	// maxSize is the most records one person has at a given row count.
	maxSize                                      func(rows int64) int64
	HouseholdBP, LandlineBP, LoyaltyBP, Email2BP int // basis points, see macros.sql and base.sql
}

// MaxSize is the most records one person has at a given row count.
func (s Scenario) MaxSize(rows int64) int64 { return s.maxSize(rows) }

// MaxGroup is the max_group_size the generated configuration uses: a household of three people
// with MaxSize records each is the largest group a real value can have.
func (s Scenario) MaxGroup(rows int64) int64 { return 3 * s.maxSize(rows) }

// UnlistedJunk is how many records carry each junk value that no exclusion lists, so that
// only max_group_size keeps it from linking: more than MaxGroup at every size.
func (s Scenario) UnlistedJunk(rows int64) int64 { return s.MaxGroup(rows) + 1 + rows/500 }

func clamp(v, lo, hi int64) int64 { return max(lo, min(hi, v)) }

// Scenarios are the datasets idr can generate.
var Scenarios = []Scenario{
	{
		Name:        "unification",
		About:       "the walkthrough's CRM, e-commerce and support systems (500K : 2M : 300K)",
		DefaultRows: 2_800_000,
		Sources: []Source{
			{"crm_customers", "crm.customers", "C", 1786},
			{"ecom_orders", "ecom.orders", "O", 7143},
			{"support_tickets", "support.tickets", "T", 1071},
		},
		Singles: 0.45, Alpha: 1.6,
		maxSize:     func(rows int64) int64 { return clamp(rows/10_000, 8, 200) },
		HouseholdBP: 500, LandlineBP: 3000, LoyaltyBP: 5500, Email2BP: 1000,
	},
	{
		Name:        "retail",
		About:       "web, store, mobile, call center and partner records of shoppers, clusters up to hundreds",
		DefaultRows: 1_000_000,
		Sources: []Source{
			{"web_accounts", "web.accounts", "W", 2500},
			{"store_transactions", "store.transactions", "S", 3500},
			{"mobile_users", "mobile.app_users", "M", 2000},
			{"call_center_contacts", "callcenter.contacts", "K", 1000},
			{"partner_customers", "partner.customers", "P", 1000},
		},
		Addresses: true, Singles: 1.0 / 3, Alpha: 1.2,
		maxSize:     func(rows int64) int64 { return clamp(rows/2_000, 8, 500) },
		HouseholdBP: 500, LandlineBP: 2500, LoyaltyBP: 6000, Email2BP: 1000,
	},
}

// Lookup finds a scenario by name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenario names.
func Names() []string {
	var out []string
	for _, s := range Scenarios {
		out = append(out, s.Name)
	}
	return out
}

// Options say what to generate.
type Options struct {
	Scenario string
	Rows     int64 // total records over all sources; 0 is the scenario's DefaultRows
	Seed     int64
	// Out, when set, is a directory: sources (and the truth) are written there as Parquet files
	// and the database gets views over them. Empty: tables in the database.
	Out   string
	Truth bool // write the truth (TruthTable; with Out also truth.parquet)
	// Trace, when set, receives every statement with its duration.
	Trace io.Writer
}

// SourceRows is one generated source and its row count.
type SourceRows struct {
	Source
	Rows int64
	File string // the Parquet file, with Out
}

// Summary is what Generate wrote.
type Summary struct {
	Scenario    string
	Rows        int64
	Seed        int64
	People      int64
	LargestSize int64 // most records of one person
	MaxGroup    int64 // the configuration's max_group_size
	Sources     []SourceRows
	TruthFile   string
	Duration    time.Duration
}

// params are the values the SQL templates see.
type params struct {
	Seed, Rows, PersonsCap, MaxSize, MaxGroup, UnlistedJunk int64
	Singles, Alpha                                          string
	RankMul, RankAdd                                        int64
	PhoneOff, LoyaltyOff, AddressOff                        int64
	HouseholdBP, LandlineBP, LoyaltyBP, Email2BP            int
	SourceCase                                              string
	Src                                                     int
	Addresses                                               bool
}

// Generate writes a scenario's sources, its configuration and optionally its truth into the
// database (initializing idr's schemas first). The database must hold no configuration yet.
func Generate(ctx context.Context, eng engine.Engine, opts Options) (*Summary, error) {
	start := time.Now()
	sc, ok := Lookup(opts.Scenario)
	if !ok {
		return nil, errs.Usage("use --scenario="+strings.Join(Names(), " or "), "unknown scenario %q", opts.Scenario)
	}
	rows := opts.Rows
	if rows == 0 {
		rows = sc.DefaultRows
	}
	if rows < MinRows || rows > MaxRows {
		return nil, errs.Usage(fmt.Sprintf("pass --rows between %d and %d", MinRows, MaxRows), "--rows=%d is out of range", rows)
	}
	if opts.Seed < 0 {
		return nil, errs.Usage("pass a seed of 0 or more", "--seed=%d is negative", opts.Seed)
	}
	if err := schema.Init(ctx, eng); err != nil {
		return nil, err
	}
	res, err := eng.Query(ctx, "SELECT count(*) FROM idr_meta.source_table")
	if err != nil {
		return nil, errs.Wrap(errs.KindRun, err, "", "generate: reading idr_meta.source_table")
	}
	if n, _ := engine.Int(res.Rows[0][0]); n > 0 {
		return nil, errs.Config("generate into a new database (or pass --force to replace it)",
			"the database already holds a configuration (%d rows in idr_meta.source_table)", n)
	}

	p := newParams(sc, rows, opts.Seed)
	exec := func(what string, stmts ...string) error {
		for _, s := range stmts {
			t0 := time.Now()
			if err := eng.Exec(ctx, s); err != nil {
				return errs.Wrap(errs.KindRun, err, "", "generate %s: %s", sc.Name, what)
			}
			if opts.Trace != nil {
				fmt.Fprintf(opts.Trace, "-- %s: %s\n%s;\n", what, time.Since(t0).Round(time.Millisecond), strings.TrimSpace(s))
			}
		}
		return nil
	}
	script := func(what, name string, p params) error {
		stmts, err := sqltext.Split(render(name, p))
		if err != nil {
			return errs.Wrap(errs.KindRun, err, "", "generate %s: %s", sc.Name, name)
		}
		return exec(what, stmts...)
	}
	defer func() {
		// Temporary objects of this connection; a failure here changes nothing the user sees.
		drops := []string{"DROP VIEW IF EXISTS g_base", "DROP TABLE IF EXISTS g_persons"}
		for _, m := range macroName.FindAllStringSubmatch(render("macros.sql", p), -1) {
			drops = append(drops, "DROP MACRO IF EXISTS "+m[1])
		}
		for _, s := range drops {
			_ = eng.Exec(context.WithoutCancel(ctx), s)
		}
	}()
	if err := script("macros", "macros.sql", p); err != nil {
		return nil, err
	}
	// People until their records reach the row count; the estimate is rarely short, then double it.
	for {
		if err := script("people", "persons.sql", p); err != nil {
			return nil, err
		}
		res, err := eng.Query(ctx, "SELECT count(*), coalesce(sum(size), 0), coalesce(max(size), 0) FROM g_persons")
		if err != nil {
			return nil, errs.Wrap(errs.KindRun, err, "", "generate %s: counting people", sc.Name)
		}
		people, _ := engine.Int(res.Rows[0][0])
		total, _ := engine.Int(res.Rows[0][1])
		largest, _ := engine.Int(res.Rows[0][2])
		if total == rows {
			if err := script("records", "base.sql", p); err != nil {
				return nil, err
			}
			sum := &Summary{Scenario: sc.Name, Rows: rows, Seed: opts.Seed, People: people, LargestSize: largest, MaxGroup: p.MaxGroup}
			if err := writeSources(ctx, eng, sc, p, opts, sum, exec); err != nil {
				return nil, err
			}
			if err := script("configuration", sc.Name+"/config.sql", p); err != nil {
				return nil, err
			}
			sum.Duration = time.Since(start)
			return sum, nil
		}
		if p.PersonsCap >= rows {
			return nil, errs.Run("", "generate %s: %d people hold only %d of %d rows", sc.Name, people, total, rows)
		}
		p.PersonsCap = min(rows, 2*p.PersonsCap)
	}
}

func writeSources(ctx context.Context, eng engine.Engine, sc Scenario, p params, opts Options, sum *Summary,
	exec func(string, ...string) error) error {
	out := ""
	if opts.Out != "" {
		abs, err := filepath.Abs(opts.Out)
		if err != nil {
			return errs.Wrap(errs.KindUsage, err, "", "--out=%s", opts.Out)
		}
		out = abs
	}
	parquet := func(name string) string { return filepath.Join(out, name+".parquet") }
	var truth []string
	for i, s := range sc.Sources {
		p.Src = i
		sel := strings.TrimSpace(render(sc.Name+"/"+s.FQN+".sql", p))
		schemaName := s.FQN[:strings.IndexByte(s.FQN, '.')]
		stmts := []string{"CREATE SCHEMA IF NOT EXISTS " + schemaName}
		sr := SourceRows{Source: s}
		if out == "" {
			stmts = append(stmts, "CREATE OR REPLACE TABLE "+s.FQN+" AS "+sel)
		} else {
			sr.File = parquet(s.TableID)
			stmts = append(stmts, "COPY ("+sel+") TO "+dialect.Lit(sr.File)+" (FORMAT parquet)",
				"CREATE OR REPLACE VIEW "+s.FQN+" AS SELECT * FROM read_parquet("+dialect.Lit(sr.File)+")")
		}
		if err := exec(s.FQN, stmts...); err != nil {
			return err
		}
		res, err := eng.Query(ctx, "SELECT count(*) FROM "+s.FQN)
		if err != nil {
			return errs.Wrap(errs.KindRun, err, "", "generate %s: counting %s", sc.Name, s.FQN)
		}
		sr.Rows, _ = engine.Int(res.Rows[0][0])
		sum.Sources = append(sum.Sources, sr)
		truth = append(truth, fmt.Sprintf("WHEN %d THEN %s", i, dialect.Lit(s.TableID+":"+s.KeyPrefix)))
	}
	if !opts.Truth {
		return nil
	}
	// The entity key as idr forms it: table_id ':' key (see stage.Context.EntityKey).
	sel := "SELECT (CASE src " + strings.Join(truth, " ") + " END) || rid AS entity_key, pid AS person_id FROM g_base"
	stmts := []string{"CREATE SCHEMA IF NOT EXISTS idr_truth"}
	if out == "" {
		stmts = append(stmts, "CREATE OR REPLACE TABLE "+TruthTable+" AS "+sel)
	} else {
		sum.TruthFile = parquet("truth")
		stmts = append(stmts, "COPY ("+sel+") TO "+dialect.Lit(sum.TruthFile)+" (FORMAT parquet)",
			"CREATE OR REPLACE VIEW "+TruthTable+" AS SELECT * FROM read_parquet("+dialect.Lit(sum.TruthFile)+")")
	}
	return exec("truth", stmts...)
}

var macroName = regexp.MustCompile(`CREATE OR REPLACE TEMP MACRO (\w+)`)

func newParams(sc Scenario, rows, seed int64) params {
	p := params{
		Seed: seed, Rows: rows, MaxSize: sc.MaxSize(rows), MaxGroup: sc.MaxGroup(rows), UnlistedJunk: sc.UnlistedJunk(rows),
		Singles: fmt.Sprintf("%.6f", sc.Singles), Alpha: fmt.Sprintf("%.6f", sc.Alpha),
		HouseholdBP: sc.HouseholdBP, LandlineBP: sc.LandlineBP, LoyaltyBP: sc.LoyaltyBP, Email2BP: sc.Email2BP,
		Addresses: sc.Addresses,
	}
	// Expected records per person: 1 for singles, else sum over k of P(size >= k) = (2/k)^alpha.
	tail := 1.0
	for k := int64(2); k <= p.MaxSize; k++ {
		tail += math.Pow(2/float64(k), sc.Alpha)
	}
	mean := sc.Singles + (1-sc.Singles)*tail
	p.PersonsCap = min(rows, int64(float64(rows)/mean*1.1)+100)

	r := splitmix{uint64(seed)}
	p.PhoneOff = int64(r.next() % 5_000_000_000)
	p.LoyaltyOff = int64(r.next() % 1_000_000_000)
	p.AddressOff = int64(r.next() % 10_000_000_000)
	// rk = (rid*RankMul + RankAdd) mod rows is a permutation of 0..rows-1 (RankMul coprime with
	// rows) that scatters consecutive rows: the records with rk < k are exactly k records.
	p.RankMul = int64(float64(rows) * 0.6180339887)
	for gcd(p.RankMul, rows) != 1 {
		p.RankMul++
	}
	p.RankAdd = int64(r.next() % uint64(rows))

	var b strings.Builder
	b.WriteString("CASE")
	cum := 0
	for i, s := range sc.Sources[:len(sc.Sources)-1] {
		cum += s.Share
		fmt.Fprintf(&b, " WHEN g_bp(rid, 'src') < %d THEN %d", cum, i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(sc.Sources)-1)
	p.SourceCase = b.String()
	return p
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// splitmix is SplitMix64: derives the seed's offsets in Go, where DuckDB's hash is not at hand.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func render(name string, p params) string {
	b, err := files.ReadFile("sql/" + name)
	if err != nil {
		panic(fmt.Sprintf("generate: missing embedded script %s", name))
	}
	t := template.Must(template.New(name).Option("missingkey=error").Parse(string(b)))
	var out bytes.Buffer
	if err := t.Execute(&out, p); err != nil {
		panic(fmt.Sprintf("generate: template %s: %v", name, err))
	}
	return out.String()
}
