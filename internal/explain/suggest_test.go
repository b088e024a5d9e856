package explain

import "testing"

func TestSizeStats(t *testing.T) {
	// 990 singletons, 9 pairs, one group of 40: p99 (rank 990 of 1000) is 1, the threshold 10.
	st := sizeStats("EMAIL", [][2]int64{{1, 990}, {2, 9}, {40, 1}})
	if st.Groups != 1000 || st.P99 != 1 || st.Threshold != 10 {
		t.Errorf("stats = %+v", st)
	}
	// Few groups: p99 is the largest, and the floor keeps small groups from being anomalous.
	st = sizeStats("PHONE", [][2]int64{{1, 3}, {2, 1}})
	if st.P99 != 2 || st.Threshold != 10 {
		t.Errorf("stats = %+v", st)
	}
	if st := sizeStats("X", [][2]int64{{1, 100}, {3, 10}, {7, 2}}); st.P99 != 7 || st.Threshold != 35 {
		t.Errorf("stats = %+v", st)
	}
}
