// Package demo owns the user's walkthrough (customer data unification) as files: the sample
// source rows, and the walkthrough's configuration and queries verbatim. `idr demo` runs them
// and the integration tests assert on them, so the demo and the acceptance test cannot drift.
package demo

import (
	"embed"
	"fmt"
)

//go:embed sql/*.sql
var files embed.FS

// Scripts of the walkthrough, by step.
const (
	Sources     = "sources.sql"     // Step 1: the three source tables and their rows
	Config      = "config.sql"      // Steps 2-4, verbatim
	Review      = "review.sql"      // Step 6, verbatim
	Membership  = "membership.sql"  // Step 8: cluster membership, verbatim
	Golden      = "golden.sql"      // Step 8: golden profiles, verbatim
	Customer360 = "customer360.sql" // Step 8: customer 360 view, verbatim
)

// SQL returns one script.
func SQL(name string) string {
	b, err := files.ReadFile("sql/" + name)
	if err != nil {
		panic(fmt.Sprintf("demo: missing embedded script %s", name))
	}
	return string(b)
}
