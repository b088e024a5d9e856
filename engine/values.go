package engine

import (
	"fmt"
	"math/big"
	"strconv"
)

// Int reads an integer from a Result value, whichever integer type the engine's driver returns;
// ok is false for NULL and for values that are not whole numbers.
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case int:
		return int64(x), true
	case uint64:
		return int64(x), true
	case uint32:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case *big.Int: // DuckDB's HUGEINT, e.g. sum() of BIGINT
		if x != nil && x.IsInt64() {
			return x.Int64(), true
		}
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// Text reads a Result value as text; ok is false for NULL.
func Text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	default:
		return fmt.Sprint(x), true
	}
}

// IntOrZero is Int with NULL (an empty aggregate) and non-integers read as 0.
func IntOrZero(v any) int64 {
	n, _ := Int(v)
	return n
}

// TextOrEmpty is Text with NULL read as "".
func TextOrEmpty(v any) string {
	s, _ := Text(v)
	return s
}
