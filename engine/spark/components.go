package spark

import (
	"context"
	"fmt"
	"time"

	"github.com/idr-dev/idr/engine"
)

// Components labels every node 0..nodes-1 with the smallest node id of its connected component,
// entirely inside Spark, by alternating the large-star and small-star steps of Kiveris et al.,
// "Connected Components in MapReduce and Beyond" (SoCC 2014).
//
// The graph is kept as parent edges (c, p) with p < c, in a Parquet table each step replaces,
// so no query plan grows with the number of steps and no edge comes to the client:
//
//	large-star: every node u links each larger neighbour to m(u), the smallest of u and its neighbours
//	small-star: every node u links itself and each smaller neighbour to the smallest of them
//
// Both steps keep every component connected and never add a node. The steps stop when the
// edges form stars: no parent is also a child, and every child has one parent, which is then
// the smallest node of its component (a star's centre is smaller than each of its leaves). A
// node's label is its parent, or itself when it has none.
//
// Rounds counts the steps. The paper proves O(log² n) steps for the alternation; on a path of
// n nodes numbered along the path it takes about 2·log2(n) (27 at n = 10,000), which the chain
// test checks with the bound 3·log2(n). Labels do not depend on the step count, the order of
// rows or the partitioning: every value computed is a min over a set.
func (e *Engine) Components(ctx context.Context, edgesTable string, nodes int64, outTable string) (engine.ComponentsStats, error) {
	st := engine.ComponentsStats{Nodes: nodes}
	maxRounds := e.opts.MaxRounds
	if maxRounds <= 0 {
		maxRounds = 200
	}
	schema, _ := splitName(outTable)
	cur, next := schema+".cc_a", schema+".cc_b"
	if schema == "" {
		cur, next = "cc_a", "cc_b"
	}
	defer func() {
		bg, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = e.Exec(bg, "DROP TABLE IF EXISTS "+cur)
		_ = e.Exec(bg, "DROP TABLE IF EXISTS "+next)
	}()
	n, err := e.count(ctx, "SELECT count(*) FROM "+edgesTable)
	if err != nil {
		return st, fmt.Errorf("components: %w", err)
	}
	st.Edges = n
	if err := e.replace(ctx, cur, "SELECT DISTINCT CAST(greatest(l, r) AS INT) AS c, CAST(least(l, r) AS INT) AS p FROM "+
		edgesTable+" WHERE l <> r"); err != nil {
		return st, fmt.Errorf("components: %w", err)
	}
	for {
		done, err := e.converged(ctx, cur)
		if err != nil {
			return st, fmt.Errorf("components: %w", err)
		}
		if done {
			break
		}
		if st.Rounds >= maxRounds {
			return st, fmt.Errorf("components: not converged after %d large-star/small-star steps", st.Rounds)
		}
		step := largeStar(cur)
		if st.Rounds%2 == 1 {
			step = smallStar(cur)
		}
		if err := e.replace(ctx, next, step); err != nil {
			return st, fmt.Errorf("components: step %d: %w", st.Rounds+1, err)
		}
		cur, next = next, cur
		st.Rounds++
	}
	if err := e.replace(ctx, outTable, "SELECT CAST(n.id AS INT) AS eid, CAST(coalesce(s.p, n.id) AS INT) AS root "+
		fmt.Sprintf("FROM range(0, %d) n LEFT JOIN %s s ON s.c = n.id", nodes, cur)); err != nil {
		return st, fmt.Errorf("components: writing labels: %w", err)
	}
	if st.Components, err = e.count(ctx, "SELECT count(*) FROM "+outTable+" WHERE eid = root"); err != nil {
		return st, fmt.Errorf("components: %w", err)
	}
	return st, nil
}

// replace writes a step's table as plain Parquet: a step's table lives for one more step, so it
// needs none of Delta's history, whose commits cost several times the step's own work.
func (e *Engine) replace(ctx context.Context, table, query string) error {
	if err := e.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		return err
	}
	return e.Exec(ctx, "CREATE TABLE "+table+" USING parquet AS "+query)
}

// neighbours lists both directions of every edge of the parent-edge table t as (u, v).
func neighbours(t string) string {
	return "SELECT c AS u, p AS v FROM " + t + " UNION ALL SELECT p AS u, c AS v FROM " + t
}

// largeStar: for every node u, m(u) = min(u, neighbours of u); each neighbour v > u gets parent m(u).
func largeStar(t string) string {
	return "WITH nb AS (" + neighbours(t) + "), mn AS (SELECT u, least(u, min(v)) AS m FROM nb GROUP BY u) " +
		"SELECT DISTINCT nb.v AS c, mn.m AS p FROM nb JOIN mn ON mn.u = nb.u WHERE nb.v > nb.u"
}

// smallStar: for every node u with smaller neighbours N(u), m = min N(u); u and each v in N(u)
// other than m get parent m.
func smallStar(t string) string {
	return "WITH sm AS (SELECT u, v FROM (" + neighbours(t) + ") nb WHERE v < u), mn AS (SELECT u, min(v) AS m FROM sm GROUP BY u) " +
		"SELECT DISTINCT c, p FROM (SELECT sm.v AS c, mn.m AS p FROM sm JOIN mn ON mn.u = sm.u WHERE sm.v <> mn.m " +
		"UNION ALL SELECT u AS c, m AS p FROM mn) x"
}

// converged reports whether the parent edges of t form stars: no child has two parents and no
// parent is a child.
func (e *Engine) converged(ctx context.Context, t string) (bool, error) {
	n, err := e.count(ctx, "SELECT (SELECT count(*) FROM (SELECT c FROM "+t+" GROUP BY c HAVING count(*) > 1) x) + "+
		"(SELECT count(*) FROM (SELECT DISTINCT p FROM "+t+") a JOIN (SELECT DISTINCT c FROM "+t+") b ON a.p = b.c)")
	return n == 0, err
}

func (e *Engine) count(ctx context.Context, q string) (int64, error) {
	res, err := e.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return 0, fmt.Errorf("count query returned %d rows", len(res.Rows))
	}
	n, _ := engine.Int(res.Rows[0][0])
	return n, nil
}

// splitName splits "schema.table" (unquoted, as idr names its own work tables).
func splitName(name string) (string, string) {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			return name[:i], name[i+1:]
		}
	}
	return "", name
}
