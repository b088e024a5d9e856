package idr_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/idr-dev/idr"
)

// synthetic fills a database with n entities spread over three sources the way the walkthrough's
// systems are (CRM 500K : e-commerce 2M : support 300K), with emails and phones drawn from pools
// so that records link within and across sources, case and white-space variants included.
func synthetic(ctx context.Context, c *idr.Client, n int64) error {
	crm, ecom := n*5/28, n*20/28
	sup := n - crm - ecom
	people := n / 3 // distinct people behind the records
	stmts := []string{
		"CREATE SCHEMA IF NOT EXISTS crm", "CREATE SCHEMA IF NOT EXISTS ecom", "CREATE SCHEMA IF NOT EXISTS support",
		fmt.Sprintf(`CREATE OR REPLACE TABLE crm.customers AS SELECT 'C' || i AS customer_id,
			CASE WHEN i %% 10 = 0 THEN NULL ELSE 'p' || (hash(i) %% %[2]d) || '@example.com' END AS email,
			CASE WHEN i %% 4 = 0 THEN NULL ELSE CAST(5550000000 + hash(i) %% %[2]d AS VARCHAR) END AS phone,
			'First' || (hash(i) %% %[2]d) AS first_name, 'Last' || (hash(i) %% 5000) AS last_name,
			DATE '2024-01-01' + CAST(i %% 365 AS INTEGER) AS created_at FROM range(%[1]d) t(i)`, crm, people),
		fmt.Sprintf(`CREATE OR REPLACE TABLE ecom.orders AS SELECT 'O' || i AS order_id,
			CASE WHEN i %% 3 = 0 THEN upper('p' || (hash(i * 31) %% %[2]d) || '@example.com') ELSE ' p' || (hash(i * 31) %% %[2]d) || '@example.com' END AS customer_email,
			CASE WHEN i %% 2 = 0 THEN 'LY' || (hash(i * 31) %% %[2]d) END AS loyalty_id,
			DATE '2024-01-01' + CAST(i %% 400 AS INTEGER) AS order_date FROM range(%[1]d) t(i)`, ecom, people),
		fmt.Sprintf(`CREATE OR REPLACE TABLE support.tickets AS SELECT 'T' || i AS ticket_id,
			'p' || (hash(i * 17) %% %[2]d) || '@example.com' AS contact_email,
			'(555) ' || CAST(hash(i * 17) %% %[2]d AS VARCHAR) AS contact_phone,
			DATE '2024-03-01' + CAST(i %% 200 AS INTEGER) AS created_at FROM range(%[1]d) t(i)`, sup, people),
		`INSERT INTO idr_meta.source_table VALUES
		  ('crm_customers', 'crm.customers', 'PERSON', 'customer_id', 'created_at', 0, TRUE),
		  ('ecom_orders', 'ecom.orders', 'PERSON', 'order_id', 'order_date', 0, TRUE),
		  ('support_tickets', 'support.tickets', 'PERSON', 'ticket_id', 'created_at', 0, TRUE)`,
		`INSERT INTO idr_meta.source VALUES ('crm_customers', 'CRM', 1, TRUE), ('ecom_orders', 'E-commerce', 2, TRUE), ('support_tickets', 'Support', 3, TRUE)`,
		`INSERT INTO idr_meta.rule VALUES ('email_exact', 'EMAIL', 1, TRUE, 10000), ('phone_exact', 'PHONE', 2, TRUE, 5000), ('loyalty_exact', 'LOYALTY', 3, TRUE, 1000)`,
		`INSERT INTO idr_meta.identifier_exclusion VALUES ('EMAIL', 'noreply@%', TRUE, 'Generic noreply'), ('PHONE', '0000000000', FALSE, 'Invalid phone')`,
		`INSERT INTO idr_meta.identifier_mapping VALUES ('crm_customers', 'EMAIL', 'email', TRUE), ('crm_customers', 'PHONE', 'phone', TRUE),
		  ('ecom_orders', 'EMAIL', 'customer_email', TRUE), ('ecom_orders', 'LOYALTY', 'loyalty_id', TRUE),
		  ('support_tickets', 'EMAIL', 'contact_email', TRUE), ('support_tickets', 'PHONE', 'contact_phone', TRUE)`,
	}
	for _, s := range stmts {
		if err := c.Engine().Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// syntheticDB is a new database holding n synthetic entities and their configuration; it is
// closed when the benchmark ends.
func syntheticDB(ctx context.Context, b *testing.B, n int64) *idr.Client {
	b.Helper()
	c, err := idr.Open(ctx, idr.Options{DB: b.TempDir() + "/bench.duckdb"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if err := c.Init(ctx); err != nil {
		b.Fatal(err)
	}
	if err := synthetic(ctx, c, n); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkFullRun is the end-to-end FULL run (all stages, publish included) on synthetic entities.
func BenchmarkFullRun(b *testing.B) {
	for _, n := range []int64{1_000_000} {
		b.Run(fmt.Sprintf("entities=%d", n), func(b *testing.B) {
			ctx := context.Background()
			c := syntheticDB(ctx, b, n)
			b.ResetTimer()
			var rep *idr.Report
			var err error
			for range b.N {
				if rep, err = c.Run(ctx, idr.RunOptions{Mode: "FULL"}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if rep.Totals.Entities != n {
				b.Fatalf("entities = %d, want %d", rep.Totals.Entities, n)
			}
			for _, m := range rep.Stages {
				b.ReportMetric(m.Duration.Seconds(), m.Stage+"-s")
			}
			b.ReportMetric(float64(rep.Totals.Edges), "edges")
			b.ReportMetric(float64(rep.Totals.Clusters), "clusters")
		})
	}
}

// benchEntities is the size of BenchmarkIncrementalRun: 1M unless IDR_BENCH_ENTITIES says otherwise.
func benchEntities(b *testing.B) int64 {
	if v := os.Getenv("IDR_BENCH_ENTITIES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("IDR_BENCH_ENTITIES=%q", v)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkIncrementalRun measures, side by side on the same data, a FULL run and an INCR run
// after 1% of the e-commerce orders changed (new email, newer watermark): the INCR/FULL ratio
// is the figure of interest. Each iteration changes another 1% and runs both.
func BenchmarkIncrementalRun(b *testing.B) {
	n := benchEntities(b)
	ctx := context.Background()
	c := syntheticDB(ctx, b, n)
	if _, err := c.Run(ctx, idr.RunOptions{Mode: "FULL"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var full, incr time.Duration
	var changed int64
	for i := range b.N {
		b.StopTimer()
		// 1% of all entities, all of them orders: a new email from the same pool, a newer date.
		stmt := fmt.Sprintf("UPDATE ecom.orders SET customer_email = 'p' || (hash(order_id || '%d') %% %d) || '@example.com', "+
			"order_date = DATE '2026-01-01' + %d WHERE hash(order_id || 'pick%d') %% %d < %d",
			i, n/3, i, i, n*20/28, n/100)
		if err := c.Engine().Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rep, err := c.Run(ctx, idr.RunOptions{Mode: "INCR"})
		if err != nil {
			b.Fatal(err)
		}
		incr += time.Since(start)
		changed += rep.Totals.Entities
		if len(rep.Warnings) > 0 {
			b.Fatalf("INCR fell back: %v", rep.Warnings)
		}
		start = time.Now()
		if _, err := c.Run(ctx, idr.RunOptions{Mode: "FULL"}); err != nil {
			b.Fatal(err)
		}
		full += time.Since(start)
	}
	b.ReportMetric(incr.Seconds()/float64(b.N), "incr-s")
	b.ReportMetric(full.Seconds()/float64(b.N), "full-s")
	b.ReportMetric(incr.Seconds()/full.Seconds(), "incr/full")
	b.ReportMetric(float64(changed)/float64(b.N), "changed-entities")
}
