// Package errs owns idr's error kinds and the one mapping from a kind to a process exit code.
//
// Every error a user can see is one line that says what was wrong, where, and what to do.
// Stages wrap failures in one of these kinds; the CLI maps the kind to an exit code in
// one place (ExitCode), so no command decides exit codes on its own.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the exit code and for run_history.
type Kind int

const (
	// KindRun is a failure while running the pipeline (engine error, cancellation): exit 1.
	KindRun Kind = iota
	// KindUsage is a bad command line: exit 2.
	KindUsage
	// KindConfig is bad idr_meta configuration or a missing/invalid database: exit 2.
	KindConfig
	// KindSource is a registered source that cannot be read as configured: exit 2.
	KindSource
	// KindBusy is a database held by another run or process: exit 2.
	KindBusy
)

func (k Kind) String() string {
	switch k {
	case KindUsage:
		return "usage error"
	case KindConfig:
		return "configuration error"
	case KindSource:
		return "source error"
	case KindBusy:
		return "database busy"
	default:
		return "run failed"
	}
}

// Error is an idr error with a kind, a message (what and where) and an optional hint (what to do).
type Error struct {
	Kind  Kind
	Msg   string
	Hint  string
	Cause error
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// New builds an error of a kind; hint may be empty.
func New(kind Kind, hint, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Wrap builds an error of a kind around a cause; the cause's text is appended to the message.
func Wrap(kind Kind, cause error, hint, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + OneLine(cause.Error())
	}
	return &Error{Kind: kind, Msg: msg, Hint: hint, Cause: cause}
}

// Config, Source, Usage and Run are shorthands for New with that kind.
func Config(hint, format string, args ...any) *Error { return New(KindConfig, hint, format, args...) }
func Source(hint, format string, args ...any) *Error { return New(KindSource, hint, format, args...) }
func Usage(hint, format string, args ...any) *Error  { return New(KindUsage, hint, format, args...) }
func Run(hint, format string, args ...any) *Error    { return New(KindRun, hint, format, args...) }

// KindOf returns the kind of err (KindRun for errors idr did not classify).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindRun
}

// ExitCode is the one place that maps errors to exit codes: 0 ok, 1 run failed, 2 usage or configuration.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	switch KindOf(err) {
	case KindUsage, KindConfig, KindSource, KindBusy:
		return 2
	default:
		return 1
	}
}

// OneLine folds a multi-line engine message (DuckDB puts hints and carets on further lines)
// into one line so every error stays a single line on the terminal and in run_history.
func OneLine(s string) string {
	out := make([]rune, 0, len(s))
	space := false
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' || r == ' ' {
			if !space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		space = false
		out = append(out, r)
	}
	for len(out) > 0 && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	return string(out)
}
