package spark

import "testing"

func TestSparkLiterals(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT 'it''s'", `SELECT 'it\'s'`},
		{`x LIKE y ESCAPE '\'`, `x LIKE y ESCAPE '\\'`},
		{`SELECT 'a\b', "q\"'", ` + "`id''`", `SELECT 'a\\b', "q\"'", ` + "`id''`"},
		{"SELECT 1 -- it's\n, 'x'", "SELECT 1 -- it's\n, 'x'"},
		{"SELECT /* it's */ ''''", `SELECT /* it's */ '\''`},
		{"SELECT ''", "SELECT ''"},
		{"SELECT 'open", "SELECT 'open"},
	} {
		if got := sparkLiterals(c.in); got != c.want {
			t.Errorf("sparkLiterals(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseRemote(t *testing.T) {
	for _, c := range []struct{ in, normal, shown, host string }{
		{"sc://h:1", "sc://h:1", "sc://h:1", "h:1"},
		{"sc://h", "sc://h:15002", "sc://h", "h:15002"},
		{"sc://h:443;token=abc", "sc://h:443/;token=abc", "sc://h:443;token=…", "h:443"},
		{"sc://h:443/;token=abc;x-databricks-cluster-id=c1", "sc://h:443/;token=abc;x-databricks-cluster-id=c1", "sc://h:443/;token=…;x-databricks-cluster-id=c1", "h:443"},
	} {
		normal, shown, host, err := ParseRemote(c.in)
		if err != nil || normal != c.normal || shown != c.shown || host != c.host {
			t.Errorf("ParseRemote(%q) = %q, %q, %q, %v; want %q, %q, %q", c.in, normal, shown, host, err, c.normal, c.shown, c.host)
		}
	}
	for _, bad := range []string{"http://h:1", "sc://", "sc://h:x", "sc://h:1/path", "sc://h:99999"} {
		if _, _, _, err := ParseRemote(bad); err == nil {
			t.Errorf("ParseRemote(%q) accepted", bad)
		}
	}
}
