package spark

import "strings"

// sparkLiterals rewrites the standard SQL string literals of stmt into Spark SQL's form.
//
// idr speaks one SQL to every engine: in a string literal a quote is doubled and a backslash
// is an ordinary character (LIKE ... ESCAPE '\'). Spark's parser reads literals differently: a
// backslash escapes the next character, and a doubled quote ends one literal and starts
// another, which Spark concatenates. So the Spark engine re-escapes each '...' literal, a
// doubled quote into a backslashed one and a backslash into two:
//
//	idr (standard SQL)    Spark SQL          the value
//	'it''s'               'it\'s'            it's
//	'a\b'                 'a\\b'             a\b
//
// Everything else passes through untouched: double-quoted text, `identifiers`, -- and /* */
// comments. The walkthrough's configuration INSERTs and every expression stored in idr_meta
// therefore mean the same on both engines.
//
// A literal left open at the end is copied as it is, so Spark reports the syntax error.
func sparkLiterals(stmt string) string {
	if !strings.ContainsAny(stmt, `'\`) {
		return stmt
	}
	var b strings.Builder
	b.Grow(len(stmt) + 8)
	n := len(stmt)
	for i := 0; i < n; i++ {
		c := stmt[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			closed := false
			for ; j < n; j++ {
				if stmt[j] == '\'' {
					if j+1 < n && stmt[j+1] == '\'' {
						lit.WriteString(`\'`)
						j++
						continue
					}
					closed = true
					break
				}
				if stmt[j] == '\\' {
					lit.WriteString(`\\`)
					continue
				}
				lit.WriteByte(stmt[j])
			}
			if !closed {
				b.WriteString(stmt[i:])
				return b.String()
			}
			b.WriteByte('\'')
			b.WriteString(lit.String())
			b.WriteByte('\'')
			i = j
		case c == '"' || c == '`':
			j := i + 1
			for ; j < n && stmt[j] != c; j++ {
				if c == '"' && stmt[j] == '\\' {
					j++
				}
			}
			if j >= n {
				b.WriteString(stmt[i:])
				return b.String()
			}
			b.WriteString(stmt[i : j+1])
			i = j
		case c == '-' && i+1 < n && stmt[i+1] == '-':
			j := strings.IndexByte(stmt[i:], '\n')
			if j < 0 {
				b.WriteString(stmt[i:])
				return b.String()
			}
			b.WriteString(stmt[i : i+j+1])
			i += j
		case c == '/' && i+1 < n && stmt[i+1] == '*':
			j := strings.Index(stmt[i+2:], "*/")
			if j < 0 {
				b.WriteString(stmt[i:])
				return b.String()
			}
			b.WriteString(stmt[i : i+2+j+2])
			i += 2 + j + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
