// Package sqltext owns the little SQL lexing idr does itself: splitting a script into
// statements (for `idr sql`), checking that a user-supplied expression is one expression
// and not a second statement, and checking that a table reference is only a table name.
//
// It does not parse SQL; the engine's binder is the judge of whether an expression is valid.
// What it guarantees is that configuration text cannot escape the place it is pasted into.
package sqltext

import (
	"fmt"
	"regexp"
	"strings"
)

type spanKind int

const (
	code spanKind = iota
	quoted
	comment
)

type span struct {
	kind       spanKind
	start, end int // s[start:end]
}

// lex cuts s into code, quoted (string literal or quoted identifier) and comment spans.
// It fails on an unterminated quote or block comment, which would otherwise swallow the rest.
func lex(s string) ([]span, error) {
	var out []span
	n, last := len(s), 0
	emit := func(kind spanKind, start, end int) {
		if last < start {
			out = append(out, span{code, last, start})
		}
		out = append(out, span{kind, start, end})
		last = end
	}
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < n; j++ {
				if s[j] == c {
					if j+1 < n && s[j+1] == c { // a doubled quote is an escaped quote
						j++
						continue
					}
					break
				}
			}
			if j >= n {
				return nil, fmt.Errorf("unterminated %c quote at offset %d", c, i)
			}
			emit(quoted, i, j+1)
			i = j
		case c == '-' && i+1 < n && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = n - i
			}
			emit(comment, i, i+j)
			i += j - 1
		case c == '/' && i+1 < n && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated /* comment at offset %d", i)
			}
			emit(comment, i, i+j+4)
			i += j + 3
		}
	}
	if last < n {
		out = append(out, span{code, last, n})
	}
	return out, nil
}

// Split cuts a script into statements at semicolons outside quotes and comments.
// Statements that are empty or only comments are dropped; comments inside a statement are kept.
func Split(script string) ([]string, error) {
	spans, err := lex(script)
	if err != nil {
		return nil, err
	}
	var out []string
	start := 0
	for _, sp := range spans {
		if sp.kind != code {
			continue
		}
		for i := sp.start; i < sp.end; i++ {
			if script[i] == ';' {
				out = appendStmt(out, script[start:i])
				start = i + 1
			}
		}
	}
	return appendStmt(out, script[start:]), nil
}

func appendStmt(out []string, stmt string) []string {
	if StripComments(stmt) == "" {
		return out
	}
	return append(out, strings.TrimSpace(stmt))
}

// StripComments returns s without its comments, trimmed. Text it cannot lex is returned trimmed.
func StripComments(s string) string {
	spans, err := lex(s)
	if err != nil {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for _, sp := range spans {
		if sp.kind == comment {
			b.WriteByte(' ')
			continue
		}
		b.WriteString(s[sp.start:sp.end])
	}
	return strings.TrimSpace(b.String())
}

// FirstKeyword returns the upper-cased first word of a statement, after comments and parentheses.
func FirstKeyword(stmt string) string {
	s := strings.TrimLeft(StripComments(stmt), "( \t\r\n")
	if end := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}); end >= 0 {
		s = s[:end]
	}
	return strings.ToUpper(s)
}

// CheckExpression reports why expr cannot be pasted into a SELECT list as one expression:
// empty, a semicolon or a comment outside quotes, unbalanced parentheses or an unterminated quote.
// A nil result means the text is safe to wrap in parentheses; whether it binds is the engine's call.
func CheckExpression(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return fmt.Errorf("expression is empty")
	}
	spans, err := lex(expr)
	if err != nil {
		return err
	}
	depth := 0
	for _, sp := range spans {
		switch sp.kind {
		case comment:
			return fmt.Errorf("expression contains a comment")
		case code:
			for i := sp.start; i < sp.end; i++ {
				switch expr[i] {
				case ';':
					return fmt.Errorf("expression contains ';' (a second statement is not allowed)")
				case '(':
					depth++
				case ')':
					if depth--; depth < 0 {
						return fmt.Errorf("expression has an unmatched ')'")
					}
				}
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("expression has an unmatched '('")
	}
	return nil
}

var namePart = `(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"|` + "`(?:[^`]|``)+`" + `)`
var tableNameRe = regexp.MustCompile(`^` + namePart + `(?:\.` + namePart + `){0,2}$`)

// CheckTableName reports why fqn is not a plain table name of one to three dot-separated parts
// (catalog.schema.table), each a bare identifier or a quoted one.
func CheckTableName(fqn string) error {
	if !tableNameRe.MatchString(fqn) {
		return fmt.Errorf("%q is not a table name (expected table, schema.table or catalog.schema.table; for files or queries create a view and register the view)", fqn)
	}
	return nil
}
