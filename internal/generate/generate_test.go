package generate_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idr-dev/idr"
	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/generate"
	"github.com/idr-dev/idr/internal/schema"
)

// open is a new in-memory database.
func open(t *testing.T) *idr.Client {
	t.Helper()
	c, err := idr.Open(context.Background(), idr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func gen(t *testing.T, c *idr.Client, opts generate.Options) *generate.Summary {
	t.Helper()
	sum, err := generate.Generate(context.Background(), c.Engine(), opts)
	if err != nil {
		t.Fatalf("generate %+v: %v", opts, err)
	}
	return sum
}

func rows(t *testing.T, c *idr.Client, q string) [][]any {
	t.Helper()
	res, err := c.Engine().Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res.Rows
}

func num(t *testing.T, c *idr.Client, q string) int64 {
	t.Helper()
	n, ok := engine.Int(rows(t, c, q)[0][0])
	if !ok {
		t.Fatalf("%s: not a number", q)
	}
	return n
}

// contentHash is the row count and a hash of every row of a table, independent of row order.
func contentHash(t *testing.T, c *idr.Client, table string) string {
	t.Helper()
	r := rows(t, c, "SELECT count(*) || ':' || coalesce(md5(string_agg(CAST(x AS VARCHAR), chr(10) ORDER BY CAST(x AS VARCHAR))), '') FROM "+table+" x")
	s, _ := engine.Text(r[0][0])
	return s
}

// tables is every table Generate writes.
func tables(sc generate.Scenario) []string {
	out := []string{generate.TruthTable, "idr_meta.source_table", "idr_meta.source", "idr_meta.rule",
		"idr_meta.identifier_exclusion", "idr_meta.identifier_mapping", "idr_meta.identifier_normalizer"}
	for _, s := range sc.Sources {
		out = append(out, s.FQN)
	}
	return out
}

func hashes(t *testing.T, c *idr.Client, sc generate.Scenario) map[string]string {
	m := map[string]string{}
	for _, tb := range tables(sc) {
		m[tb] = contentHash(t, c, tb)
	}
	return m
}

func TestSameSeedSameData(t *testing.T) {
	for _, sc := range generate.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			opts := generate.Options{Scenario: sc.Name, Rows: 3000, Seed: 7, Truth: true}
			a, b, d := open(t), open(t), open(t)
			gen(t, a, opts)
			gen(t, b, opts)
			opts.Seed = 8
			gen(t, d, opts)
			ha, hb, hd := hashes(t, a, sc), hashes(t, b, sc), hashes(t, d, sc)
			for _, tb := range tables(sc) {
				if ha[tb] != hb[tb] {
					t.Errorf("%s differs between two runs with seed 7", tb)
				}
				if !strings.HasPrefix(tb, "idr_meta.") && ha[tb] == hd[tb] {
					t.Errorf("%s is the same with seeds 7 and 8", tb)
				}
			}
		})
	}
}

// With --out the Parquet files are byte for byte the same for a seed, and the views over them
// hold what the tables of an in-database generation hold.
func TestParquetOut(t *testing.T) {
	sc, _ := generate.Lookup("retail")
	dirs := []string{t.TempDir(), t.TempDir()}
	var clients []*idr.Client
	for _, dir := range dirs {
		c := open(t)
		sum := gen(t, c, generate.Options{Scenario: sc.Name, Rows: 2000, Seed: 3, Truth: true, Out: dir})
		if len(sum.Sources) != len(sc.Sources) || sum.TruthFile != filepath.Join(dir, "truth.parquet") {
			t.Fatalf("summary %+v", sum)
		}
		clients = append(clients, c)
	}
	files := []string{"truth.parquet"}
	for _, s := range sc.Sources {
		files = append(files, s.TableID+".parquet")
	}
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(dirs[0], f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirs[1], f))
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(a) != sha256.Sum256(b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	inDB := open(t)
	gen(t, inDB, generate.Options{Scenario: sc.Name, Rows: 2000, Seed: 3, Truth: true})
	hv, ht := hashes(t, clients[0], sc), hashes(t, inDB, sc)
	for _, tb := range tables(sc) {
		if hv[tb] != ht[tb] {
			t.Errorf("%s: the view over Parquet differs from the table", tb)
		}
	}
}

func TestSizes(t *testing.T) {
	const n = 20_000
	for _, sc := range generate.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c := open(t)
			sum := gen(t, c, generate.Options{Scenario: sc.Name, Rows: n, Seed: 1, Truth: true})
			var total int64
			for i, s := range sum.Sources {
				got := num(t, c, "SELECT count(*) FROM "+s.FQN)
				if got != s.Rows {
					t.Errorf("%s: summary says %d rows, table has %d", s.FQN, s.Rows, got)
				}
				// Each record draws its source: the count is binomial around the share.
				p := float64(sc.Sources[i].Share) / 10000
				want := p * n
				if tol := 5*math.Sqrt(n*p*(1-p)) + 1; math.Abs(float64(got)-want) > tol {
					t.Errorf("%s: %d rows, want %.0f ± %.0f", s.FQN, got, want, tol)
				}
				total += got
			}
			if total != n || sum.Rows != n {
				t.Errorf("rows = %d (summary %d), want exactly %d", total, sum.Rows, n)
			}
			if got := num(t, c, "SELECT count(*) FROM "+generate.TruthTable); got != n {
				t.Errorf("truth has %d rows, want %d", got, n)
			}
			largest := num(t, c, "SELECT max(n) FROM (SELECT count(*) AS n FROM "+generate.TruthTable+" GROUP BY person_id)")
			if largest != sum.LargestSize || largest > sc.MaxSize(n) {
				t.Errorf("largest person has %d records (summary %d), cap %d", largest, sum.LargestSize, sc.MaxSize(n))
			}
			if people := num(t, c, "SELECT count(DISTINCT person_id) FROM "+generate.TruthTable); people != sum.People {
				t.Errorf("truth has %d people, summary %d", people, sum.People)
			}
		})
	}
}

// keys is the entity key of every source row, formed as idr forms it: table_id ':' key.
func keys(sc generate.Scenario, c *idr.Client, t *testing.T) string {
	var parts []string
	for _, s := range sc.Sources {
		r := rows(t, c, "SELECT entity_key_expr FROM idr_meta.source_table WHERE table_id = '"+s.TableID+"'")
		key, _ := engine.Text(r[0][0])
		parts = append(parts, fmt.Sprintf("SELECT '%s:' || CAST(%s AS VARCHAR) AS entity_key FROM %s", s.TableID, key, s.FQN))
	}
	return strings.Join(parts, " UNION ALL ")
}

// The truth names every source row once and nothing else; after a run, the only values that
// people share are the ones the generator plants to be shared: household landlines (within a
// household) and junk; the junk that no exclusion lists is skipped by max_group_size.
func TestTruthMatchesData(t *testing.T) {
	ctx := context.Background()
	for _, sc := range generate.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c := open(t)
			const n = 5000
			sum := gen(t, c, generate.Options{Scenario: sc.Name, Rows: n, Seed: 11, Truth: true})
			src := keys(sc, c, t)
			if k := num(t, c, "SELECT count(*) FROM ("+src+") s ANTI JOIN "+generate.TruthTable+" t USING (entity_key)"); k != 0 {
				t.Errorf("%d source rows are not in the truth", k)
			}
			if k := num(t, c, "SELECT count(*) FROM "+generate.TruthTable+" t ANTI JOIN ("+src+") s USING (entity_key)"); k != 0 {
				t.Errorf("%d truth rows are no source row", k)
			}
			if k := num(t, c, "SELECT count(*) - count(DISTINCT entity_key) FROM "+generate.TruthTable); k != 0 {
				t.Errorf("%d entity keys repeat in the truth", k)
			}

			if _, err := c.Run(ctx, idr.RunOptions{Mode: "FULL"}); err != nil {
				t.Fatal(err)
			}
			// Values held by more than one person, after normalization and exclusions.
			shared := rows(t, c, `SELECT i.identifier_type, i.identifier_value_norm, count(DISTINCT t.person_id) AS people,
				  count(DISTINCT t.person_id // 3) AS households, count(*) AS entities
				FROM `+schema.Identifiers+` i JOIN `+generate.TruthTable+` t USING (entity_key)
				GROUP BY ALL HAVING count(DISTINCT t.person_id) > 1 ORDER BY ALL`)
			unlisted := map[string]bool{"EMAIL none@none.com": true}
			if sc.Name == "retail" {
				unlisted["PHONE 1234567890"] = true
			}
			landlines := 0
			for _, r := range shared {
				typ, _ := engine.Text(r[0])
				val, _ := engine.Text(r[1])
				households, _ := engine.Int(r[3])
				entities, _ := engine.Int(r[4])
				switch {
				case unlisted[typ+" "+val]:
					if entities <= sum.MaxGroup {
						t.Errorf("junk %s %q is on %d entities, not more than max_group_size %d", typ, val, entities, sum.MaxGroup)
					}
					delete(unlisted, typ+" "+val)
				case typ == "PHONE" && len(val) == 10 && val[0] == '7' && households == 1:
					landlines++
				default:
					t.Errorf("%s %q is shared by people of different households: %v", typ, val, r)
				}
			}
			if len(unlisted) > 0 {
				t.Errorf("junk values not found: %v", unlisted)
			}
			if landlines == 0 {
				t.Error("no household shares a landline")
			}
			// The unlisted junk is skipped by max_group_size, not linked.
			if k := num(t, c, "SELECT count(*) FROM idr_out.skipped_identifier_groups"); k != int64(len(shared)-landlines) {
				t.Errorf("%d groups skipped, want the %d unlisted junk values", k, len(shared)-landlines)
			}
			// Listed junk is present in the sources and excluded by the configuration.
			excluded := rows(t, c, "SELECT identifier_type, sum(values_excluded) FROM idr_out.rule_match_audit_current GROUP BY 1 ORDER BY 1")
			got := map[string]int64{}
			for _, r := range excluded {
				typ, _ := engine.Text(r[0])
				got[typ], _ = engine.Int(r[1])
			}
			if got["EMAIL"] < 2 || got["PHONE"] < 1 {
				t.Errorf("excluded values per type = %v, want noreply/test emails and 0000000000", got)
			}
		})
	}
}

// Junk as it appears in the source columns, before normalization.
func TestJunkPlanted(t *testing.T) {
	c := open(t)
	sc, _ := generate.Lookup("unification")
	const n = 10_000
	gen(t, c, generate.Options{Scenario: sc.Name, Rows: n, Seed: 5})
	count := func(q string) int64 { return num(t, c, "SELECT count(*) FROM "+q) }
	if k := count("crm.customers WHERE lower(email) LIKE 'test@%'"); k == 0 {
		t.Error("no test@ emails in crm.customers")
	}
	if k := count("(SELECT customer_email AS e FROM ecom.orders UNION ALL SELECT contact_email FROM support.tickets) WHERE lower(e) LIKE 'noreply@%'"); k == 0 {
		t.Error("no noreply@ emails in orders or tickets")
	}
	if k := count("(SELECT phone AS p FROM crm.customers UNION ALL SELECT contact_phone FROM support.tickets) WHERE regexp_replace(p, '[^0-9]', '', 'g') = '0000000000' AND p <> '0000000000'"); k == 0 {
		t.Error("no formatted 0000000000 phones")
	}
	unlisted := count("(SELECT email AS e FROM crm.customers UNION ALL SELECT customer_email FROM ecom.orders UNION ALL SELECT contact_email FROM support.tickets) WHERE e = 'none@none.com'")
	if unlisted != sc.UnlistedJunk(n) || unlisted <= sc.MaxGroup(n) {
		t.Errorf("none@none.com on %d rows, want %d (> max_group_size %d)", unlisted, sc.UnlistedJunk(n), sc.MaxGroup(n))
	}
	// Variants of real values: case, white space and phone formats.
	if k := count("ecom.orders WHERE customer_email <> lower(trim(customer_email, ' ' || chr(9) || chr(13)))"); k == 0 {
		t.Error("no case or white-space variants of emails")
	}
	if k := count("(SELECT DISTINCT regexp_replace(phone, '[0-9]', '9', 'g') FROM crm.customers WHERE phone IS NOT NULL)"); k < 4 {
		t.Errorf("%d phone formats, want several", k)
	}
	for _, col := range []string{"crm.customers WHERE email IS NULL", "crm.customers WHERE phone IS NULL", "ecom.orders WHERE loyalty_id IS NULL"} {
		if count(col) == 0 {
			t.Errorf("no missing values: %s", col)
		}
	}
}

// Retail: about a third of people are singletons; the largest reach the scale's cap, which is
// several hundred from 1M rows on.
func TestRetailClusterSizes(t *testing.T) {
	sc, _ := generate.Lookup("retail")
	const n = 40_000
	c := open(t)
	gen(t, c, generate.Options{Scenario: sc.Name, Rows: n, Seed: 2, Truth: true})
	r := rows(t, c, `SELECT count(*) FILTER (WHERE n = 1) / count(*), max(n), count(*) FILTER (WHERE n >= 10)
		FROM (SELECT count(*) AS n FROM `+generate.TruthTable+` GROUP BY person_id)`)
	singles, _ := r[0][0].(float64)
	largest, _ := engine.Int(r[0][1])
	big, _ := engine.Int(r[0][2])
	if singles < 0.28 || singles > 0.39 {
		t.Errorf("singletons are %.3f of people, want about a third", singles)
	}
	if largest != sc.MaxSize(n) || big < 100 {
		t.Errorf("largest person %d records (cap %d), %d people with 10 or more", largest, sc.MaxSize(n), big)
	}
	if m := sc.MaxSize(1_000_000); m < 300 {
		t.Errorf("at 1M rows the largest person has %d records, want several hundred", m)
	}
}

func TestBadOptions(t *testing.T) {
	c := open(t)
	for _, opts := range []generate.Options{
		{Scenario: "nope", Rows: 5000},
		{Scenario: "retail", Rows: 10},
		{Scenario: "retail", Rows: 5000, Seed: -1},
	} {
		_, err := generate.Generate(context.Background(), c.Engine(), opts)
		var ie *errs.Error
		if !errors.As(err, &ie) || ie.Kind != errs.KindUsage {
			t.Errorf("%+v: err = %v, want a usage error", opts, err)
		}
	}
	gen(t, c, generate.Options{Scenario: "retail", Rows: 2000})
	_, err := generate.Generate(context.Background(), c.Engine(), generate.Options{Scenario: "retail", Rows: 2000})
	var ie *errs.Error
	if !errors.As(err, &ie) || ie.Kind != errs.KindConfig {
		t.Errorf("second generate into the same database: err = %v, want a configuration error", err)
	}
}

// Generate's scratch objects (macros, people, the record view) are gone when it returns, so a
// run on the same connection sees only the sources, the configuration and the truth.
func TestLeavesNoScratch(t *testing.T) {
	c := open(t)
	gen(t, c, generate.Options{Scenario: "unification", Rows: 1000})
	left := num(t, c, `SELECT (SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro' AND function_name LIKE 'g\_%' ESCAPE '\')
		+ (SELECT count(*) FROM duckdb_tables() WHERE temporary) + (SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name LIKE 'g\_%' ESCAPE '\')`)
	if left != 0 {
		t.Errorf("%d scratch objects left", left)
	}
}
