package explain

import (
	"sort"
	"testing"
)

// newCluster builds a cluster from groups of members, as loadCluster does from edges.
func newCluster(groups map[Link][]string) *cluster {
	c := &cluster{groups: map[Link][]string{}, byKey: map[string][]Link{}, holds: map[Link]map[string]bool{}}
	seen := map[string]bool{}
	for l, ms := range groups {
		c.holds[l] = map[string]bool{}
		for _, m := range ms {
			c.groups[l] = append(c.groups[l], m)
			c.byKey[m] = append(c.byKey[m], l)
			c.holds[l][m] = true
			if !seen[m] {
				seen[m] = true
				c.members = append(c.members, m)
			}
		}
		sort.Strings(c.groups[l])
	}
	sort.Strings(c.members)
	for k := range c.byKey {
		sort.Slice(c.byKey[k], func(i, j int) bool { return linkLess(c.byKey[k][i], c.byKey[k][j]) })
	}
	return c
}

func TestChains(t *testing.T) {
	email := Link{RuleID: "e", IdentifierType: "EMAIL", Value: "x@y"}
	phone := Link{RuleID: "p", IdentifierType: "PHONE", Value: "1"}
	loyal := Link{RuleID: "l", IdentifierType: "LOYALTY", Value: "L"}
	other := Link{RuleID: "e", IdentifierType: "EMAIL", Value: "z@y"}
	// a-b share EMAIL and PHONE; b, c, d share LOYALTY (a group of three: c and d are neighbours
	// though the stored edges run from the anchor b); d-e share another EMAIL.
	c := newCluster(map[Link][]string{email: {"a", "b"}, phone: {"a", "b"}, loyal: {"b", "c", "d"}, other: {"d", "e"}})
	tr := c.bfs("a")
	for key, want := range map[string]string{
		"b": "b -[EMAIL x@y, PHONE 1]- a",
		"c": "c -[LOYALTY L]- b -[EMAIL x@y, PHONE 1]- a",
		"e": "e -[EMAIL z@y]- d -[LOYALTY L]- b -[EMAIL x@y, PHONE 1]- a",
	} {
		if got := c.chain(key, tr, 0).String(); got != want {
			t.Errorf("chain %s = %q, want %q", key, got, want)
		}
	}
	if tr.dist["e"] != 3 || tr.dist["a"] != 0 || c.chain("a", tr, 0).String() != "" {
		t.Errorf("dist = %v", tr.dist)
	}
	// A capped chain counts what it leaves out.
	if got := c.chain("e", tr, 1).String(); got != "e -[EMAIL z@y]- d ... 2 more steps ... a" {
		t.Errorf("capped chain = %q", got)
	}
	// From c, d is one step away through the shared LOYALTY group.
	if got := c.chain("d", c.bfs("c"), 0).String(); got != "d -[LOYALTY L]- c" {
		t.Errorf("chain d to c = %q", got)
	}
	// Ties break by identifier: from f, both g (EMAIL) and h (PHONE) lead to i in two steps.
	c = newCluster(map[Link][]string{
		{IdentifierType: "PHONE", Value: "2"}: {"f", "h"}, {IdentifierType: "EMAIL", Value: "f@"}: {"f", "g"},
		{IdentifierType: "EMAIL", Value: "g@"}: {"g", "i"}, {IdentifierType: "PHONE", Value: "3"}: {"h", "i"},
	})
	for range 5 {
		if got := c.chain("i", c.bfs("f"), 0).String(); got != "i -[EMAIL g@]- g -[EMAIL f@]- f" {
			t.Fatalf("tie-break chain = %q", got)
		}
	}
}

func TestChunksAndTableOf(t *testing.T) {
	if got := chunks([]string{"a", "b", "c", "d", "e"}, 2); len(got) != 3 || len(got[2]) != 1 {
		t.Errorf("chunks = %v", got)
	}
	x := &Explainer{tableIDs: []string{"crm", "crm:eu"}}
	for key, want := range map[string]string{"crm:C1": "crm", "crm:eu:C1": "crm:eu", "other:k": "other"} {
		if got := x.tableOf(key); got != want {
			t.Errorf("tableOf(%q) = %q, want %q", key, got, want)
		}
	}
}
