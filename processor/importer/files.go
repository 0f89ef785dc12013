package importer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files of an import: the input, its rejects file and its resume state file.

// File is one input of an import and where its rejected rows and resume state go.
type File struct {
	Path      string // the input file; "-" reads standard input
	Rejects   string // "" keeps none; a file, or a directory that gets <input>.rejects.csv (or .ndjson)
	Several   bool   // more inputs are imported with the same Rejects, which must then be a directory
	StatePath string // the resume state file; "" is Path + ".capi-import-state"
	Resume    bool
}

// ArgError is an error of the command line about one input (a file that cannot be opened, --resume on standard
// input, a rejects file where a directory is needed): nothing of the input was imported.
type ArgError struct{ Err error }

func (e *ArgError) Error() string { return e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

// RunFiles imports every path in turn with RunFile (file giving the rejects, state and resume settings), until ctx
// ends. An input that cannot be read at all (an ArgError, ErrMapping, ErrInput, ErrStateMismatch) stops the run with
// an ArgError naming it; other failures are joined, each naming its input, and the next input is imported.
func RunFiles(ctx context.Context, paths []string, file File, o Options, stdin io.Reader, progress io.Writer, report func(Summary) error) error {
	var failed error
	file.Several = len(paths) > 1
	for _, name := range paths {
		file.Path = name
		err := RunFile(ctx, file, o, stdin, progress, report)
		if err != nil {
			var ae *ArgError
			if errors.As(err, &ae) || errors.Is(err, ErrMapping) || errors.Is(err, ErrInput) || errors.Is(err, ErrStateMismatch) {
				return &ArgError{fmt.Errorf("%s: %w", name, err)}
			}
			failed = errors.Join(failed, fmt.Errorf("%s: %w", name, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return failed
}

// RunFile opens one input and its rejects and state files, runs the import (Run) with a progress display on
// progress, and hands the summary to report unless the input could not be read at all (ErrMapping, ErrInput,
// ErrStateMismatch). o.Format "" is chosen from the file name: ndjson for .ndjson and .jsonl, else csv.
func RunFile(ctx context.Context, file File, o Options, stdin io.Reader, progress io.Writer, report func(Summary) error) error {
	name, statePath, rejects := file.Path, file.StatePath, file.Rejects
	o.Name = name
	in := stdin
	var input *os.File
	if name == "-" {
		if file.Resume {
			return &ArgError{errors.New("--resume needs a file, not standard input")}
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return &ArgError{err}
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			o.Size = st.Size()
		}
		in, input = f, f
		o.Name = filepath.Base(name)
	}
	lower := strings.ToLower(name)
	if o.Format == "" {
		o.Format = FormatCSV
		if strings.HasSuffix(lower, ".ndjson") || strings.HasSuffix(lower, ".jsonl") {
			o.Format = FormatNDJSON
		}
	}
	if input != nil && !o.DryRun {
		size, sum, err := fingerprint(input)
		if err != nil {
			return err
		}
		if statePath == "" {
			statePath = name + ".capi-import-state"
		}
		o.State = &StateFile{Path: statePath, Want: State{Input: name, Size: size, Fingerprint: sum, Topic: o.Topic}}
		o.Resume = file.Resume
	}
	if rejects != "" {
		path := rejects
		if st, err := os.Stat(rejects); err == nil && st.IsDir() {
			ext := ".rejects.csv"
			if o.Format == FormatNDJSON {
				ext = ".rejects.ndjson"
			}
			path = filepath.Join(rejects, filepath.Base(strings.TrimSuffix(name, filepath.Ext(name)))+ext)
		} else if file.Several {
			return &ArgError{errors.New("--rejects must be a directory when importing several files")}
		}
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if o.Resume {
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
			if st, err := os.Stat(path); err == nil && st.Size() > 0 {
				o.RejectsHasHeader = true
			}
		}
		f, err := os.OpenFile(path, flags, 0o600) // rejected rows hold personal data: owner only
		if err != nil {
			return &ArgError{fmt.Errorf("--rejects: %w", err)}
		}
		defer f.Close()
		o.Rejects = f
	}
	o.Progress, o.ProgressEvery = ProgressDisplay(progress, o.Name)
	s, err := Run(ctx, in, o)
	if errors.Is(err, ErrMapping) || errors.Is(err, ErrInput) || errors.Is(err, ErrStateMismatch) {
		return err
	}
	if perr := report(s); perr != nil && err == nil {
		err = perr
	}
	return err
}

// State is the content of a resume state file: which input, and how many of its rows are done.
type State struct {
	Input       string `json:"input"`       // the input's path as given
	Size        int64  `json:"size"`        // its size when the import started
	Fingerprint string `json:"fingerprint"` // SHA-256 of its first MiB
	Topic       string `json:"topic"`
	// Rows: the first Rows data rows are done (acknowledged by Kafka, or rejected). A kill between two saves
	// leaves it behind the truth: a resumed run produces those rows again under the same event ids.
	Rows      int64     `json:"rows_done"`
	Line      int       `json:"line"` // the input line of the last done row, for humans
	Complete  bool      `json:"complete"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StateFile reads and writes a State for one input. Writes are atomic (a temporary file renamed over it).
type StateFile struct {
	Path string
	// Want identifies the input (Input, Size, Fingerprint, Topic); Load refuses a state of another input.
	Want State
}

// Fingerprint identifies a file's content cheaply: its size and the SHA-256 of its first MiB.
func Fingerprint(path string) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	return fingerprint(f)
}

// fingerprint is Fingerprint of an open file, read with ReadAt so the file's offset stays where it is.
func fingerprint(f *os.File) (size int64, sum string, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<20)); err != nil {
		return 0, "", err
	}
	return st.Size(), hex.EncodeToString(h.Sum(nil)), nil
}

// Load returns the saved state; a missing file is an empty state (nothing done yet).
func (f *StateFile) Load() (State, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("resume state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("resume state %s: not a state file: %w", f.Path, err)
	}
	switch w := f.Want; {
	case st.Size != w.Size || st.Fingerprint != w.Fingerprint:
		return State{}, fmt.Errorf("%w: %s was written for a different content of %s (changed since the interrupted run); import without --resume (safe: the same rows get the same event ids)", ErrStateMismatch, f.Path, w.Input)
	case st.Topic != w.Topic:
		return State{}, fmt.Errorf("%w: %s records an import to topic %q, not %q", ErrStateMismatch, f.Path, st.Topic, w.Topic)
	}
	return st, nil
}

// Save writes st (with the identity of Want) atomically.
func (f *StateFile) Save(st State) error {
	st.Input, st.Size, st.Fingerprint, st.Topic = f.Want.Input, f.Want.Size, f.Want.Fingerprint, f.Want.Topic
	st.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), filepath.Base(f.Path)+".tmp*")
	if err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("resume state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("resume state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	return nil
}

// rejectsWriter buffers the rejects file; flush makes what was written durable (fsync when the writer is a
// file) before the state file may count those rows as done.
type rejectsWriter struct {
	w       io.Writer
	b       *bufio.Writer
	scratch []byte
}

func newRejectsWriter(w io.Writer) *rejectsWriter {
	return &rejectsWriter{w: w, b: bufio.NewWriterSize(w, 64<<10)}
}

func (r *rejectsWriter) write(p []byte) error {
	r.scratch = p[:0]
	_, err := r.b.Write(p)
	return err
}

func (r *rejectsWriter) flush() error {
	if err := r.b.Flush(); err != nil {
		return err
	}
	if s, ok := r.w.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}
