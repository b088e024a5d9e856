package cli

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/idr-dev/idr/internal/explain"
)

// suggestionDB is the walkthrough without its exclusions, plus planted junk: 12 support tickets
// sharing noreply@x.com and the phone 000-000-0000, five CRM customers with different names
// sharing family@example.com, and 300 customers with their own emails, so that EMAIL groups have a
// typical size of 1.
func suggestionDB(t *testing.T) string {
	t.Helper()
	db := walkthroughDB(t)
	mustIdr(t, "sql", "--db="+db, "-c", `
		DELETE FROM idr_meta.identifier_exclusion;
		INSERT INTO support.tickets SELECT 'J' || i, 'NoReply@x.com', '000-000-0000', DATE '2024-04-01' FROM range(12) t(i);
		INSERT INTO crm.customers SELECT 'F' || i, 'family@example.com', NULL, ['Ann', 'Ben', 'Cid', 'Dan', 'Eve'][i + 1], DATE '2024-04-01' FROM range(5) t(i);
		INSERT INTO crm.customers SELECT 'U' || i, 'user' || i || '@mail.net', NULL, 'User', DATE '2024-04-01' FROM range(300) t(i)`)
	mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	return db
}

func suggestions(t *testing.T, db string) *explain.Suggestions {
	t.Helper()
	var s explain.Suggestions
	out := mustIdr(t, "suggest-exclusions", "--db="+db, "--format=json", "--limit=0")
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("suggest-exclusions output is not JSON: %v\n%s", err, out)
	}
	return &s
}

func signalKinds(s explain.Suggestion) []string {
	var out []string
	for _, g := range s.Signals {
		out = append(out, g.Kind)
	}
	sort.Strings(out)
	return out
}

func TestSuggestExclusions(t *testing.T) {
	db := suggestionDB(t)
	s := suggestions(t, db)
	byValue := map[string]explain.Suggestion{}
	for _, x := range s.Suggestions {
		byValue[x.IdentifierType+" "+x.Value] = x
	}
	for key, want := range map[string]struct {
		entities int64
		kinds    []string
	}{
		"EMAIL noreply@x.com":      {12, []string{explain.SignalJunk, explain.SignalSize}},
		"PHONE 0000000000":         {12, []string{explain.SignalJunk}},
		"EMAIL family@example.com": {5, []string{explain.SignalManyName, explain.SignalReserved}},
	} {
		got, ok := byValue[key]
		if !ok {
			t.Errorf("no suggestion for %s; got %+v", key, s.Suggestions)
			continue
		}
		if got.Entities != want.entities || !reflect.DeepEqual(signalKinds(got), want.kinds) {
			t.Errorf("%s: %d entities, signals %v; want %d, %v", key, got.Entities, got.Signals, want.entities, want.kinds)
		}
	}
	// Values of ordinary people are not suggested.
	for _, key := range []string{"EMAIL john@acme.com", "PHONE 5551234567", "EMAIL bob@test.com", "EMAIL jane@example.org", "LOYALTY LY100", "EMAIL user1@mail.net"} {
		if _, ok := byValue[key]; ok {
			t.Errorf("%s suggested: %+v", key, byValue[key])
		}
	}
	var email explain.TypeStats
	for _, ts := range s.Types {
		if ts.IdentifierType == "EMAIL" {
			email = ts
		}
	}
	// 302 single holders, 2 pairs, then groups of 4, 5 and 12: p99 (rank 304 of 307) is 2.
	if email.Groups != 307 || email.P99 != 2 || email.Threshold != 10 {
		t.Errorf("EMAIL stats = %+v", email)
	}
	if s.Suggestions[0].Value != "0000000000" && s.Suggestions[0].Value != "noreply@x.com" {
		t.Errorf("most widely held value is not first: %+v", s.Suggestions[0])
	}

	text := mustIdr(t, "suggest-exclusions", "--db="+db)
	for _, want := range []string{"EMAIL noreply@x.com: 12 entities", "  - placeholder mailbox noreply@",
		"  - its holders have 5 different first_name values", "INSERT INTO idr_meta.identifier_exclusion VALUES ('PHONE', '0000000000', FALSE, 'suggested: one character repeated');"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	if out := mustIdr(t, "suggest-exclusions", "--db="+db, "--limit=1"); strings.Count(out, "INSERT INTO") != 1 || !strings.Contains(out, "more (raise --limit") {
		t.Errorf("--limit=1:\n%s", out)
	}

	// The INSERTs run through idr sql and take effect on the next run.
	if got := query(t, db, "SELECT count(DISTINCT resolved_id) FROM idr_out.identity_resolved_membership_current WHERE entity_key LIKE 'support_tickets:J%'"); got[0] != "1" {
		t.Fatalf("planted tickets are in %s clusters before the exclusions, want 1", got[0])
	}
	var inserts []string
	for _, key := range []string{"EMAIL noreply@x.com", "PHONE 0000000000", "EMAIL family@example.com"} {
		inserts = append(inserts, byValue[key].Insert)
	}
	mustIdr(t, "sql", "--db="+db, "-c", strings.Join(inserts, "\n"))
	out := mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
	if !strings.Contains(out, "Excluded Values:    3") {
		t.Errorf("run after the INSERTs does not exclude 3 values:\n%s", out)
	}
	if got := query(t, db, "SELECT count(DISTINCT resolved_id) FROM idr_out.identity_resolved_membership_current WHERE entity_key LIKE 'support_tickets:J%'"); got[0] != "12" {
		t.Errorf("planted tickets are in %s clusters after the exclusions, want 12", got[0])
	}
	for _, x := range suggestions(t, db).Suggestions {
		if x.Value == "noreply@x.com" || x.Value == "0000000000" || x.Value == "family@example.com" {
			t.Errorf("excluded value still suggested: %+v", x)
		}
	}
}

// The data generator plants junk that no exclusion lists (docs/generate.md): exactly those values
// are suggested; the junk the configuration lists and the people's own values are not.
func TestSuggestExclusionsGenerated(t *testing.T) {
	for scenario, want := range map[string][]string{
		"retail":      {"EMAIL none@none.com", "PHONE 1234567890"},
		"unification": {"EMAIL none@none.com"},
	} {
		t.Run(scenario, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "gen.duckdb")
			mustIdr(t, "generate", "--scenario="+scenario, "--db="+db, "--rows=5000", "--seed=1")
			mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
			var got []string
			for _, x := range suggestions(t, db).Suggestions {
				got = append(got, x.IdentifierType+" "+x.Value)
				if kinds := signalKinds(x); !slices.Contains(kinds, explain.SignalJunk) || !slices.Contains(kinds, explain.SignalSkipped) {
					t.Errorf("%s %s: signals %v, want a junk pattern and a skipped group", x.IdentifierType, x.Value, kinds)
				}
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("suggested %v, want %v", got, want)
			}
		})
	}
}

func TestSuggestExclusionsBadInput(t *testing.T) {
	db := committedWalkthrough(t)
	expectRefused(t, db, 2, []string{`unknown --format "csv"`}, "suggest-exclusions", "--db="+db, "--format=csv")
	expectRefused(t, db, 2, []string{"--limit=-1"}, "suggest-exclusions", "--db="+db, "--limit=-1")
	expectRefused(t, db, 2, []string{"--min-entities=0"}, "suggest-exclusions", "--db="+db, "--min-entities=0")
	fresh := walkthroughDB(t)
	expectRefused(t, fresh, 2, []string{"no committed run"}, "suggest-exclusions", "--db="+fresh)
}
