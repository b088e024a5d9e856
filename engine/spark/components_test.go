package spark_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/unionfind"
)

// TestComponentsChain links 10,000 nodes one after another, numbered along the path: label
// propagation would need 9,999 rounds. Large-star/small-star must finish in at most
// 3·log2(n) steps (about 2·log2(n) are needed on such a path; see Components) with one
// component labelled 0.
func TestComponentsChain(t *testing.T) {
	e := fresh(t)
	const n = 10000
	mustExec(t, e, "CREATE SCHEMA cc_test")
	mustExec(t, e, fmt.Sprintf("CREATE TABLE cc_test.edges AS SELECT CAST(id AS INT) AS l, CAST(id + 1 AS INT) AS r FROM range(0, %d)", n-1))
	st, err := e.Components(context.Background(), "cc_test.edges", n, "cc_test.labels")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chain of %d nodes: %d large-star/small-star steps (bound %.1f)", n, st.Rounds, 3*math.Log2(n))
	if st.Nodes != n || st.Edges != n-1 || st.Components != 1 {
		t.Fatalf("stats %+v, want %d nodes, %d edges, 1 component", st, n, n-1)
	}
	if bound := 3 * math.Log2(n); float64(st.Rounds) > bound || st.Rounds < 2 {
		t.Fatalf("%d steps, want between 2 and 3·log2(%d) = %.1f", st.Rounds, n, bound)
	}
	got := rows(mustQuery(t, e, "SELECT count(*), count(DISTINCT eid), min(eid), max(eid), min(root), max(root) FROM cc_test.labels"))
	if want := fmt.Sprintf("%d | %d | 0 | %d | 0 | 0", n, n, n-1); got[0] != want {
		t.Fatalf("labels: count, distinct eids, eid range, root range = %s, want %s", got[0], want)
	}
}

// TestComponentsRandom compares the Spark labels with union-find on random graphs: random
// edges, a path through shuffled ids, self-loops, duplicates and isolated nodes.
func TestComponentsRandom(t *testing.T) {
	e := fresh(t)
	mustExec(t, e, "CREATE SCHEMA cc_test")
	for seed := int64(1); seed <= 2; seed++ {
		rng := rand.New(rand.NewSource(seed))
		n := 300 + rng.Intn(200)
		var ls, rs []int32
		for i := 0; i < n/2; i++ {
			ls, rs = append(ls, int32(rng.Intn(n))), append(rs, int32(rng.Intn(n)))
		}
		perm := rng.Perm(n)
		for i := 0; i < 60; i++ { // a shuffled path
			ls, rs = append(ls, int32(perm[i])), append(rs, int32(perm[i+1]))
		}
		ls, rs = append(ls, 5, ls[0]), append(rs, 5, rs[0]) // a self-loop and a duplicate
		vals := make([]string, len(ls))
		for i := range ls {
			vals[i] = fmt.Sprintf("(%d, %d)", ls[i], rs[i])
		}
		mustExec(t, e, "CREATE OR REPLACE TABLE cc_test.edges (l INT, r INT)")
		mustExec(t, e, "INSERT INTO cc_test.edges VALUES "+strings.Join(vals, ", "))
		st, err := e.Components(context.Background(), "cc_test.edges", int64(n), "cc_test.labels")
		if err != nil {
			t.Fatal(err)
		}
		want := unionfind.Components(n, ls, rs)
		res := mustQuery(t, e, "SELECT eid, root FROM cc_test.labels ORDER BY eid")
		if len(res.Rows) != n {
			t.Fatalf("seed %d: %d labels, want %d", seed, len(res.Rows), n)
		}
		comps := int64(0)
		for i, r := range res.Rows {
			eid, _ := engine.Int(r[0])
			root, _ := engine.Int(r[1])
			if eid != int64(i) || root != int64(want[i]) {
				t.Fatalf("seed %d: node %d labelled %d (row eid %d), union-find says %d", seed, i, root, eid, want[i])
			}
			if want[i] == int32(i) {
				comps++
			}
		}
		if st.Components != comps {
			t.Fatalf("seed %d: %d components reported, want %d", seed, st.Components, comps)
		}
		t.Logf("seed %d: %d nodes, %d edges, %d components, %d steps", seed, n, len(ls), comps, st.Rounds)
	}
}
