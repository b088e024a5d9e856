package stage

import (
	"slices"
	"testing"
)

// Each work table is dropped after the last stage naming it, except one that stage drops
// itself, one kept for after the stages, and any read by the last stage.
func TestRelease(t *testing.T) {
	stages := []Stage{
		{Name: "a", Steps: SQL(
			"CREATE TABLE idr_work.x AS SELECT 1",
			"CREATE TABLE idr_work.x_sorted AS SELECT * FROM idr_work.x",
			"CREATE TABLE idr_work.y AS SELECT * FROM idr_work.x_sorted",
			"DROP TABLE idr_work.x_sorted",
			"CREATE TABLE idr_work.k AS SELECT 1",
		), RowsSQL: Count(W("y"))},
		{Name: "b", Steps: SQL("CREATE TABLE idr_work.z AS SELECT * FROM idr_work.y"), RowsSQL: Count(W("z"))},
		{Name: "c", Steps: SQL("INSERT INTO idr_out.t SELECT * FROM idr_work.z")},
	}
	Release(stages, W("k"))
	for i, want := range [][]string{{W("x")}, {W("y")}, nil} {
		if !slices.Equal(stages[i].Drop, want) {
			t.Errorf("stage %s drops %v, want %v", stages[i].Name, stages[i].Drop, want)
		}
	}
	// A table created again after its drop is not the dropped one.
	stages[0].Steps = append(stages[0].Steps, SQL("CREATE TABLE idr_work.x_sorted AS SELECT 2")...)
	Release(stages, W("k"))
	if want := []string{W("x"), W("x_sorted")}; !slices.Equal(stages[0].Drop, want) {
		t.Errorf("stage a drops %v, want %v", stages[0].Drop, want)
	}
}
