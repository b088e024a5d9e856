package dialect_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/engine/duckdb"
	"github.com/idr-dev/idr/internal/dialect"
)

func openMem(t testing.TB) engine.Engine {
	t.Helper()
	eng, err := duckdb.Open(context.Background(), "", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func normalize(t testing.TB, eng engine.Engine, normalizer, value string) *string {
	t.Helper()
	d := eng.Dialect()
	res, err := eng.Query(context.Background(), "SELECT "+d.Normalize(normalizer, "CAST("+dialect.Lit(value)+" AS "+d.Type("TEXT")+")"))
	if err != nil {
		t.Fatalf("normalize %s %q: %v", normalizer, value, err)
	}
	v := res.Rows[0][0]
	if v == nil {
		return nil
	}
	s := v.(string)
	return &s
}

func TestNormalizers(t *testing.T) {
	eng := openMem(t)
	cases := []struct{ normalizer, in, want string }{
		{"EMAIL", "  John@ACME.com\t", "john@acme.com"},
		{"EMAIL", "\r\nx@y.org \n", "x@y.org"},
		{"EMAIL", "   ", ""},
		{"PHONE", "(555) 123-4567", "5551234567"},
		{"PHONE", "+1 555.123.4567 ext 9", "155512345679"},
		{"PHONE", "n/a", ""},
		{"TRIM", "  LY100 ", "LY100"},
		{"TRIM", "\tA b\n", "A b"},
		{"LOWER", " AbC ", "abc"},
		{"UPPER", " ly100 ", "LY100"},
		{"NONE", " As Is ", " As Is "},
	}
	for _, c := range cases {
		got := normalize(t, eng, c.normalizer, c.in)
		if got == nil || *got != c.want {
			t.Errorf("%s(%q) = %v, want %q", c.normalizer, c.in, got, c.want)
		}
	}
	for _, n := range dialect.Normalizers {
		if !dialect.IsNormalizer(n) {
			t.Errorf("IsNormalizer(%s) = false", n)
		}
	}
	if dialect.IsNormalizer("SOUNDEX") {
		t.Error("IsNormalizer(SOUNDEX) = true")
	}
	for typ, want := range map[string]string{"EMAIL": "EMAIL", "email": "EMAIL", "PHONE": "PHONE", "LOYALTY": "TRIM"} {
		if got := dialect.DefaultNormalizer(typ); got != want {
			t.Errorf("DefaultNormalizer(%s) = %s, want %s", typ, got, want)
		}
	}
}

// reference is the documented meaning of each normalizer, in Go.
func reference(normalizer, s string) string {
	trim := strings.Trim(s, " \t\r\n")
	switch normalizer {
	case "EMAIL", "LOWER":
		return strings.ToLower(trim)
	case "UPPER":
		return strings.ToUpper(trim)
	case "TRIM":
		return trim
	case "PHONE":
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	default:
		return s
	}
}

// FuzzNormalizers checks the SQL normalizers against their documented meaning on ASCII text
// (case mapping beyond ASCII is the engine's, and differs between Unicode tables).
func FuzzNormalizers(f *testing.F) {
	for _, s := range []string{"  John@ACME.com\t", "(555) 123-4567", "", "\n", "Ab'c", "%_\\"} {
		f.Add(s)
	}
	eng := openMem(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range s {
			if r > unicode.MaxASCII || r == 0 {
				return
			}
		}
		for _, n := range dialect.Normalizers {
			got := normalize(t, eng, n, s)
			if want := reference(n, s); got == nil || *got != want {
				t.Fatalf("%s(%q) = %v, want %q", n, s, got, want)
			}
		}
	})
}
