// Package unionfind owns the connected-components core of identity
// resolution: given dense int32 node ids and undirected edges, it labels
// every node with the smallest id in its component. Labels depend only on
// the graph, never on edge order, so cluster ids are reproducible across runs.
package unionfind

import (
	"fmt"
	"math"
)

// Every structure here keeps one invariant: parent[x] <= x, with equality
// exactly when x is a root. Consequences the code relies on:
//   - the root of a set is its smallest member, so no separate per-root
//     minimum array is needed (benchmarked: union-by-size plus a min array
//     was ~2x slower at 10M nodes / 16M random edges);
//   - scanning ids in ascending order meets every parent before its
//     children, which lets label extraction be one linear pass with no
//     recursion or second compression sweep, even on a fully
//     uncompressed chain.
//
// Linking uses Rem's algorithm with splicing, which beat classic
// find-find-link with path halving by ~30% on random graphs: it walks both
// paths in lockstep, stops as soon as they meet, and rewrites pointers as it
// goes, so the common "already connected" edge costs few cache misses.
// A lock-free parallel variant (CAS linking) was measured too; on two cores
// the atomics cost about as much as the second core gained, so it is not used.

// Components labels every node 0..n-1 with the smallest node id in its connected component.
// ls[i]–rs[i] is an undirected edge; len(ls) == len(rs) (panic otherwise); ids outside [0,n) panic with a clear message.
// Self-loops and duplicate edges are allowed. The result is independent of edge order.
func Components(n int, ls, rs []int32) []int32 {
	if len(ls) != len(rs) {
		panic(fmt.Sprintf("unionfind: Components: edge endpoint slices differ in length: len(ls)=%d, len(rs)=%d", len(ls), len(rs)))
	}
	p := identity(n)  // first, so a bad n is reported as such, not as bad ids
	rs = rs[:len(ls)] // lets the compiler drop the bounds check on rs[i]
	// Validating in its own pass, before any linking, measured ~10% faster
	// than checking inside the union loop: the streaming pass is cheap next
	// to the cache misses of linking, and keeps the hot loop minimal.
	// One unsigned compare per endpoint covers negative and too-large ids.
	for i, a := range ls {
		if b := rs[i]; uint32(a) >= uint32(n) || uint32(b) >= uint32(n) {
			panic(edgeRangeMsg(n, i, a, b))
		}
	}
	for i, a := range ls {
		union(p, a, rs[i])
	}
	// The parent array is not needed afterwards, so labels overwrite it in
	// place: one allocation for the whole call.
	resolve(p, p)
	return p
}

// UF is an incremental union-find whose Find returns the smallest id of the set.
// The zero value is an empty structure; use New to size it.
type UF struct {
	parent []int32
}

// New returns a UF over nodes 0..n-1, each in its own set.
func New(n int) *UF {
	return &UF{parent: identity(n)}
}

// Union merges the sets of a and b.
func (u *UF) Union(a, b int32) {
	u.check("Union", a)
	u.check("Union", b)
	union(u.parent, a, b)
}

// Find returns the smallest id in a's set.
func (u *UF) Find(a int32) int32 {
	u.check("Find", a)
	p := u.parent
	x := a
	// Path halving: repointing x at its grandparent keeps parent[x] <= x
	// (a grandparent is never larger than a parent) and needs no second pass.
	for {
		px := p[x]
		if px == x {
			return x
		}
		gp := p[px]
		p[x] = gp
		x = gp
	}
}

// Labels returns Find for every node, in one O(n) pass, as a fresh slice.
// It does not modify u.
func (u *UF) Labels() []int32 {
	out := make([]int32, len(u.parent))
	resolve(out, u.parent)
	return out
}

// Len returns the number of nodes.
func (u *UF) Len() int { return len(u.parent) }

func (u *UF) check(op string, a int32) {
	if uint32(a) >= uint32(len(u.parent)) {
		panic(fmt.Sprintf("unionfind: %s: node id %d out of range [0,%d)", op, a, len(u.parent)))
	}
}

func identity(n int) []int32 {
	// Ids are int32, so n-1 must fit; n == MaxInt32+1 is the largest usable size.
	if n < 0 || int64(n) > math.MaxInt32+1 {
		panic(fmt.Sprintf("unionfind: node count %d out of range [0,%d]", n, int64(math.MaxInt32)+1))
	}
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	return p
}

// union is Rem's algorithm with splicing (see the package comment). Each step
// repoints the node whose parent is larger at the other side's smaller
// parent; because that value is smaller than the old parent, parent[x] <= x
// survives every write, and the merged root is the smaller of the two roots.
func union(p []int32, x, y int32) {
	for {
		px, py := p[x], p[y]
		if px == py {
			return
		}
		if px > py {
			p[x] = py
			if px == x {
				return
			}
			x = px
		} else {
			p[y] = px
			if py == y {
				return
			}
			y = py
		}
	}
}

// resolve writes the root of every node into dst; dst may alias parent.
// Ascending order guarantees dst[parent[i]] is final when i is reached,
// since parent[i] < i for every non-root.
func resolve(dst, parent []int32) {
	dst = dst[:len(parent)]
	for i, pi := range parent {
		if int(pi) == i {
			dst[i] = pi // a root labels itself; dst may not hold it yet
		} else {
			dst[i] = dst[pi]
		}
	}
}

func edgeRangeMsg(n, i int, a, b int32) string {
	bad := a
	if uint32(a) < uint32(n) {
		bad = b
	}
	return fmt.Sprintf("unionfind: Components: edge %d (%d–%d): node id %d out of range [0,%d)", i, a, b, bad, n)
}
