package importer

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RunFile opens what the command line names: the input (its format from the name), the rejects file owner-only
// (or one per input in a directory), the resume state next to the input; mistakes are ArgErrors, before any work.
func TestRunFile(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "sales.ndjson")
	if err := os.WriteFile(input, []byte(`{"event_name":"purchase","id":"A-1"}`+"\n"+`not json`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(f File, o Options) (Summary, error) {
		t.Helper()
		var got Summary
		if o.Producer == nil {
			o.Producer = &memProducer{}
		}
		o.Topic = "events"
		err := RunFile(context.Background(), f, o, nil, io.Discard, func(s Summary) error { got = s; return nil })
		return got, err
	}

	rejectsDir := t.TempDir()
	s, err := run(File{Path: input, Rejects: rejectsDir, Several: true}, Options{})
	if err != nil || s.Produced != 1 || s.RejectsWritten != 1 {
		t.Fatalf("summary %+v, err %v", s, err)
	}
	if st, err := os.Stat(filepath.Join(rejectsDir, "sales.rejects.ndjson")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("rejects file %v %v: named after the input and its format, owner-only (rejected rows hold personal data)", st, err)
	}
	if _, err := os.Stat(input + ".capi-import-state"); err != nil {
		t.Errorf("no resume state next to the input: %v", err)
	}
	s, err = run(File{Path: input, Rejects: filepath.Join(rejectsDir, "sales.rejects.ndjson"), Resume: true}, Options{})
	if err != nil || s.Skipped != 2 || s.Produced != 0 {
		t.Errorf("resume of a complete import: summary %+v, err %v", s, err)
	}

	reported := false
	for _, f := range []File{
		{Path: "-", Resume: true},
		{Path: filepath.Join(dir, "missing.csv")},
		{Path: input, Rejects: filepath.Join(dir, "one-file.csv"), Several: true},
		{Path: input, Rejects: filepath.Join(dir, "no-such-dir", "r.csv")},
	} {
		err := RunFile(context.Background(), f, Options{Topic: "events", Producer: &memProducer{}}, nil, io.Discard,
			func(Summary) error { reported = true; return nil })
		var ae *ArgError
		if !errors.As(err, &ae) {
			t.Errorf("%+v: %v, want an ArgError", f, err)
		}
	}
	if reported {
		t.Error("a summary was reported for an input that could not be opened")
	}
	// Several inputs: each imported in turn; one that cannot be opened stops the run, named.
	var reports int
	err = RunFiles(context.Background(), []string{input, filepath.Join(dir, "missing.csv")}, File{Rejects: rejectsDir},
		Options{Topic: "events", Producer: &memProducer{}}, nil, io.Discard, func(Summary) error { reports++; return nil })
	var ae *ArgError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "missing.csv: ") || reports != 1 {
		t.Errorf("RunFiles: %v after %d summaries, want an ArgError naming missing.csv after 1", err, reports)
	}
}
