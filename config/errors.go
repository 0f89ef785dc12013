package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel conditions of Load errors; match them with errors.Is.
var (
	// ErrUnknownKey: the YAML file has a key the configuration does not define (usually a typo, which would
	// otherwise silently leave a default in place).
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalidValue: a value cannot be parsed into the key's type (duration, integer, boolean, list…).
	ErrInvalidValue = errors.New("invalid value")
	// ErrConflict: a secret and its *_file are both set in the same layer, or a key is repeated.
	ErrConflict = errors.New("conflicting settings")
	// ErrSecretFile: a *_file secret cannot be read.
	ErrSecretFile = errors.New("cannot read secret file")
	// ErrInvalid: Validate found problems; the error is a *ValidationError.
	ErrInvalid = errors.New("invalid configuration")
)

// LoadError is one problem found while reading the file or the environment. Load returns all of them joined
// (errors.Join); errors.As finds the first, errors.Is matches the sentinel in Err.
type LoadError struct {
	File string // config file path; "" when the problem comes from the environment
	Line int    // 1-based line in File; 0 when unknown
	Key  string // key path, e.g. destinations[1].batch.linger or kafka.sasl.password_file
	Env  string // environment variable name when the value came from the environment
	Fix  string // what to do about it
	Err  error  // wraps one of the sentinels and the cause; never contains a secret value
}

func (e *LoadError) Error() string {
	return describe(e.Env, e.File, e.Line, e.Key, fmt.Sprint(e.Err), e.Fix)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Problem is one thing wrong (or, as a warning, risky) in a configuration.
type Problem struct {
	Key     string // key path (destinations[0].batch.max_events) or, for stray variables, the env variable name
	Message string // what is wrong, without secret values
	Fix     string // what to change
	// Where the value came from, when known (Read and Inspect fill them in): the variable that set it, or the file
	// and the line of the key.
	Env  string
	File string
	Line int
}

// String prints "VAR (key): message (fix: …)" for a value from the environment, "file:line: key: message (fix: …)"
// for one from the file, else "key: message (fix: …)".
func (p Problem) String() string {
	key := p.Key
	if key == p.Env {
		key = "" // a stray variable's key is the variable itself: name it once
	}
	return describe(p.Env, p.File, p.Line, key, p.Message, p.Fix)
}

// describe is the one format of LoadError and Problem: where the value came from (the variable and the key, or the
// file, line and key, or the key alone), what is wrong and, when known, the fix.
func describe(env, file string, line int, key, what, fix string) string {
	var b strings.Builder
	switch {
	case env != "":
		b.WriteString(env)
		if key != "" {
			fmt.Fprintf(&b, " (%s)", key)
		}
	case file != "":
		b.WriteString(file)
		if line > 0 {
			fmt.Fprintf(&b, ":%d", line)
		}
		if key != "" {
			fmt.Fprintf(&b, ": %s", key)
		}
	default:
		b.WriteString(key)
	}
	b.WriteString(": ")
	b.WriteString(what)
	if fix != "" {
		fmt.Fprintf(&b, " (fix: %s)", fix)
	}
	return b.String()
}

// ValidationError carries every problem Validate found, and the warnings found along the way.
type ValidationError struct {
	Problems []Problem
	Warnings []Problem
}

// Error prints one line per problem: "key: message (fix: …)". Warnings are not included.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *ValidationError) Unwrap() error { return ErrInvalid }
