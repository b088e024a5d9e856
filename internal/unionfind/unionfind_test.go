package unionfind

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// refComponents is deliberately unrelated to union-find: BFS over an
// adjacency list. Starting BFS from nodes in ascending order means the start
// node is the smallest id that reaches the rest, i.e. the expected label.
func refComponents(n int, ls, rs []int32) []int32 {
	adj := make([][]int32, n)
	for i := range ls {
		a, b := ls[i], rs[i]
		adj[a] = append(adj[a], b)
		adj[b] = append(adj[b], a)
	}
	label := make([]int32, n)
	for i := range label {
		label[i] = -1
	}
	var queue []int32
	for s := range n {
		if label[s] >= 0 {
			continue
		}
		label[s] = int32(s)
		queue = append(queue[:0], int32(s))
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range adj[v] {
				if label[w] < 0 {
					label[w] = int32(s)
					queue = append(queue, w)
				}
			}
		}
	}
	return label
}

// randomGraph draws n in [1,maxN] and a random edge density; self-loops and
// duplicates arise naturally and are also injected on purpose.
func randomGraph(r *rand.Rand, maxN int) (int, []int32, []int32) {
	n := 1 + r.IntN(maxN)
	m := r.IntN(2*n + 1)
	if r.IntN(4) == 0 { // sometimes dense
		m = r.IntN(n*n/2 + 2)
	}
	ls := make([]int32, 0, m)
	rs := make([]int32, 0, m)
	for range m {
		a, b := int32(r.IntN(n)), int32(r.IntN(n))
		switch r.IntN(10) {
		case 0:
			b = a // self-loop
		case 1:
			if len(ls) > 0 { // duplicate, possibly reversed
				k := r.IntN(len(ls))
				a, b = rs[k], ls[k]
			}
		}
		ls = append(ls, a)
		rs = append(rs, b)
	}
	return n, ls, rs
}

func diffLabels(got, want []int32) string {
	if len(got) != len(want) {
		return fmt.Sprintf("len %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("label[%d] = %d, want %d", i, got[i], want[i])
		}
	}
	return ""
}

func TestComponentsMatchesBFS(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for iter := range 3000 {
		n, ls, rs := randomGraph(r, 200)
		lsCopy, rsCopy := slices.Clone(ls), slices.Clone(rs)
		want := refComponents(n, ls, rs)
		if d := diffLabels(Components(n, ls, rs), want); d != "" {
			t.Fatalf("graph %d (n=%d, m=%d): %s\nls=%v\nrs=%v", iter, n, len(ls), d, ls, rs)
		}
		if !slices.Equal(ls, lsCopy) || !slices.Equal(rs, rsCopy) {
			t.Fatalf("graph %d: Components modified its input", iter)
		}
	}
}

// TestUFIncremental checks Find and Labels against the reference on edge
// prefixes, so partially linked, partially compressed states are exercised,
// not just the final one.
func TestUFIncremental(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for iter := range 1000 {
		n, ls, rs := randomGraph(r, 60)
		u := New(n)
		if u.Len() != n {
			t.Fatalf("Len() = %d, want %d", u.Len(), n)
		}
		for i := range ls {
			u.Union(ls[i], rs[i])
			if r.IntN(8) != 0 && i != len(ls)-1 {
				continue
			}
			want := refComponents(n, ls[:i+1], rs[:i+1])
			// Labels before Find so it sees the uncompressed state.
			if d := diffLabels(u.Labels(), want); d != "" {
				t.Fatalf("graph %d after %d edges: Labels: %s", iter, i+1, d)
			}
			for _, v := range r.Perm(n) {
				if got := u.Find(int32(v)); got != want[v] {
					t.Fatalf("graph %d after %d edges: Find(%d) = %d, want %d", iter, i+1, v, got, want[v])
				}
			}
			if d := diffLabels(u.Labels(), want); d != "" {
				t.Fatalf("graph %d after %d edges: Labels after Find: %s", iter, i+1, d)
			}
		}
	}
}

func TestLabelsIsFreshAndReadOnly(t *testing.T) {
	u := New(5)
	u.Union(3, 4)
	u.Union(1, 4)
	first := u.Labels()
	want := []int32{0, 1, 2, 1, 1}
	if d := diffLabels(first, want); d != "" {
		t.Fatal(d)
	}
	for i := range first {
		first[i] = 99
	}
	if d := diffLabels(u.Labels(), want); d != "" {
		t.Fatalf("Labels shares memory with its previous result: %s", d)
	}
}

func TestOrderIndependence(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for iter := range 300 {
		n, ls, rs := randomGraph(r, 200)
		want := Components(n, ls, rs)
		for k := range 5 {
			sl, sr := slices.Clone(ls), slices.Clone(rs)
			switch k {
			case 0:
				slices.Reverse(sl)
				slices.Reverse(sr)
			case 1:
				sl, sr = sr, sl // flip every edge's direction
			default:
				r.Shuffle(len(sl), func(i, j int) {
					sl[i], sl[j] = sl[j], sl[i]
					sr[i], sr[j] = sr[j], sr[i]
				})
			}
			if d := diffLabels(Components(n, sl, sr), want); d != "" {
				t.Fatalf("graph %d, permutation %d: %s", iter, k, d)
			}
		}
	}
}

func chainEdges(n int, decreasing bool) ([]int32, []int32) {
	ls := make([]int32, n-1)
	rs := make([]int32, n-1)
	for i := range ls {
		j := i
		if decreasing {
			j = n - 2 - i
		}
		ls[i], rs[i] = int32(j), int32(j+1)
	}
	return ls, rs
}

func allZero(t *testing.T, what string, labels []int32, n int) {
	t.Helper()
	if len(labels) != n {
		t.Fatalf("%s: len %d, want %d", what, len(labels), n)
	}
	for i, l := range labels {
		if l != 0 {
			t.Fatalf("%s: label[%d] = %d, want 0", what, i, l)
		}
	}
}

func TestLongChainAndStar(t *testing.T) {
	const n = 100_000
	for _, dec := range []bool{false, true} {
		name := fmt.Sprintf("chain decreasing=%v", dec)
		ls, rs := chainEdges(n, dec)
		allZero(t, name, Components(n, ls, rs), n)
		// Reversed endpoints too: the smaller id is then on the right.
		allZero(t, name+" flipped", Components(n, rs, ls), n)

		u := New(n)
		for i := range ls {
			u.Union(ls[i], rs[i])
		}
		allZero(t, name+" Labels", u.Labels(), n)
		// Find from the far end first: the longest possible path.
		if got := u.Find(n - 1); got != 0 {
			t.Fatalf("%s: Find(%d) = %d, want 0", name, n-1, got)
		}
	}
	for _, center := range []int32{0, n / 2, n - 1} {
		ls := make([]int32, 0, n-1)
		rs := make([]int32, 0, n-1)
		for i := range int32(n) {
			if i != center {
				ls = append(ls, i)
				rs = append(rs, center)
			}
		}
		allZero(t, fmt.Sprintf("star center=%d", center), Components(n, ls, rs), n)
	}
}

func mustPanic(t *testing.T, what, wantSubstr string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if v == nil {
			t.Fatalf("%s: did not panic", what)
		}
		msg := fmt.Sprint(v)
		if !strings.Contains(msg, "unionfind") || !strings.Contains(msg, wantSubstr) {
			t.Fatalf("%s: panic %q, want it to mention %q", what, msg, wantSubstr)
		}
	}()
	f()
}

func TestEdgeCases(t *testing.T) {
	if got := Components(0, nil, nil); len(got) != 0 {
		t.Fatalf("n=0: got %v", got)
	}
	if got := Components(5, nil, nil); !slices.Equal(got, []int32{0, 1, 2, 3, 4}) {
		t.Fatalf("no edges: got %v", got)
	}
	if got := Components(3, []int32{2, 2}, []int32{2, 2}); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Fatalf("only self-loops: got %v", got)
	}
	if u := New(0); u.Len() != 0 || len(u.Labels()) != 0 {
		t.Fatalf("New(0): Len %d, Labels %v", u.Len(), u.Labels())
	}

	mustPanic(t, "mismatched lengths", "len(ls)=2, len(rs)=1", func() {
		Components(3, []int32{0, 1}, []int32{2})
	})
	mustPanic(t, "left id == n", "node id 3 out of range [0,3)", func() {
		Components(3, []int32{0, 3}, []int32{1, 0})
	})
	mustPanic(t, "right id negative", "node id -1 out of range [0,3)", func() {
		Components(3, []int32{0, 1}, []int32{1, -1})
	})
	mustPanic(t, "edge on empty graph", "node id 0 out of range [0,0)", func() {
		Components(0, []int32{0}, []int32{0})
	})
	mustPanic(t, "edge index reported", "edge 2", func() {
		Components(10, []int32{0, 1, 2}, []int32{1, 2, 1 << 30})
	})
	mustPanic(t, "negative n", "node count -1", func() { Components(-1, nil, nil) })
	mustPanic(t, "New negative", "node count -1", func() { New(-1) })
	if strconv.IntSize == 64 {
		// Ids are int32, so more than MaxInt32+1 nodes cannot be addressed;
		// the check must come before any id validation or allocation.
		tooMany := int(int64(math.MaxInt32) + 2)
		mustPanic(t, "n beyond int32 ids", "node count 2147483649", func() {
			Components(tooMany, []int32{0}, []int32{1})
		})
		mustPanic(t, "New beyond int32 ids", "node count 2147483649", func() { New(tooMany) })
	}

	u := New(4)
	mustPanic(t, "Find out of range", "Find: node id 4 out of range [0,4)", func() { u.Find(4) })
	mustPanic(t, "Find negative", "Find: node id -2", func() { u.Find(-2) })
	mustPanic(t, "Union out of range", "Union: node id 7 out of range [0,4)", func() { u.Union(0, 7) })
	mustPanic(t, "Union negative", "Union: node id -1", func() { u.Union(-1, 0) })
	// A rejected Union must not have half-applied.
	if d := diffLabels(u.Labels(), []int32{0, 1, 2, 3}); d != "" {
		t.Fatalf("after rejected Union: %s", d)
	}
}

// decodeGraph turns fuzz bytes into a graph of at most 64 nodes: the first
// byte picks n, each following byte pair is an edge taken modulo n.
func decodeGraph(data []byte) (int, []int32, []int32) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	n := int(data[0])%64 + 1
	data = data[1:]
	ls := make([]int32, 0, len(data)/2)
	rs := make([]int32, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		ls = append(ls, int32(int(data[i])%n))
		rs = append(rs, int32(int(data[i+1])%n))
	}
	return n, ls, rs
}

func FuzzComponents(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{9, 0, 1, 1, 2, 2, 3, 5, 6, 9, 9})
	f.Add([]byte{7, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0})
	f.Add([]byte{63, 63, 0, 10, 20, 30, 40, 20, 30, 62, 1, 1, 62})
	f.Add([]byte{15, 1, 0, 3, 2, 5, 4, 7, 6, 2, 1, 6, 5, 5, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		n, ls, rs := decodeGraph(data)
		want := refComponents(n, ls, rs)
		if d := diffLabels(Components(n, ls, rs), want); d != "" {
			t.Fatalf("Components n=%d ls=%v rs=%v: %s", n, ls, rs, d)
		}
		u := New(n)
		for i := range ls {
			u.Union(ls[i], rs[i])
		}
		if d := diffLabels(u.Labels(), want); d != "" {
			t.Fatalf("UF.Labels n=%d ls=%v rs=%v: %s", n, ls, rs, d)
		}
	})
}

// splitmix64 keeps benchmark inputs identical across Go releases, so numbers
// stay comparable over time.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func randomEdges(n, m int, seed uint64) ([]int32, []int32) {
	s := splitmix64(seed)
	ls := make([]int32, m)
	rs := make([]int32, m)
	for i := range ls {
		x := s.next()
		// Multiply-shift maps each 32-bit half onto [0,n) without modulo bias worth caring about here.
		ls[i] = int32((x & 0xffffffff) * uint64(n) >> 32)
		rs[i] = int32((x >> 32) * uint64(n) >> 32)
	}
	return ls, rs
}

func benchComponents(b *testing.B, n int, ls, rs []int32) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Components(n, ls, rs)
	}
	b.ReportMetric(float64(len(ls))*float64(b.N)/b.Elapsed().Seconds(), "edges/s")
}

func BenchmarkComponents10M(b *testing.B) {
	const n, m = 10_000_000, 16_000_000
	ls, rs := randomEdges(n, m, 42)
	benchComponents(b, n, ls, rs)
}

func BenchmarkComponentsChain1M(b *testing.B) {
	const n = 1_000_000
	for _, dec := range []bool{false, true} {
		name := "increasing"
		if dec {
			name = "decreasing"
		}
		b.Run(name, func(b *testing.B) {
			ls, rs := chainEdges(n, dec)
			benchComponents(b, n, ls, rs)
		})
	}
}
