package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// envOf returns an injectable environment holding exactly m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes content to name in a per-test directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadYAML loads a YAML document given inline.
func loadYAML(t *testing.T, doc string, env map[string]string) (Config, error) {
	t.Helper()
	return Load(writeFile(t, "config.yaml", doc), envOf(env))
}

// mustLoadYAML fails the test on a load error.
func mustLoadYAML(t *testing.T, doc string, env map[string]string) Config {
	t.Helper()
	c, err := loadYAML(t, doc, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// loadErrors flattens a (joined) Load error into its LoadErrors.
func loadErrors(t *testing.T, err error) []*LoadError {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	out := make([]*LoadError, 0, len(errs))
	for _, e := range errs {
		var le *LoadError
		if !errors.As(e, &le) {
			t.Fatalf("error %v is not a *LoadError", e)
		}
		out = append(out, le)
	}
	return out
}

// leafKeys lists the YAML key path of every leaf of struct type t (lists of structs use "[]").
func leafKeys(t reflect.Type, prefix string) []string {
	var out []string
	for name, i := range yamlFields(t) {
		f := t.Field(i).Type
		p := prefix + name
		switch {
		case f.Kind() == reflect.Struct && f != durationType:
			out = append(out, leafKeys(f, p+".")...)
		case f.Kind() == reflect.Slice && f.Elem().Kind() == reflect.Struct:
			out = append(out, leafKeys(f.Elem(), p+"[].")...)
		default:
			out = append(out, p)
		}
	}
	return out
}

// validConfig is a configuration that passes Validate with no warnings.
func validConfig() Config {
	c := Default()
	d := DefaultDestination()
	d.PixelID = "1234567890"
	d.AccessToken = "token-value"
	c.Destinations = []Destination{d}
	return c
}

func problemKeys(ps []Problem) []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	return keys
}

func containsAny(s string, subs ...string) string {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}
