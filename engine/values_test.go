package engine

import (
	"math/big"
	"testing"
)

func TestInt(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{int64(7), 7, true}, {int32(-3), -3, true}, {int8(1), 1, true}, {uint64(9), 9, true},
		{float64(4), 4, true}, {4.5, 0, false}, {big.NewInt(1 << 40), 1 << 40, true},
		{new(big.Int).Lsh(big.NewInt(1), 70), 0, false}, {"12", 12, true}, {"x", 0, false}, {nil, 0, false},
	} {
		got, ok := Int(c.v)
		if got != c.want || ok != c.ok {
			t.Errorf("Int(%v) = %d, %v; want %d, %v", c.v, got, ok, c.want, c.ok)
		}
	}
	if s, ok := Text(nil); ok || s != "" {
		t.Errorf("Text(nil) = %q, %v", s, ok)
	}
	if s, ok := Text([]byte("a")); !ok || s != "a" {
		t.Errorf("Text([]byte) = %q, %v", s, ok)
	}
}
