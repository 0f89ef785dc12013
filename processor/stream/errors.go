package stream

import (
	"errors"
	"fmt"
)

// What Run returns when it could not end cleanly (after a clean drain it returns nil).

// ErrAborted is returned by Run after Abort.
var ErrAborted = errors.New("stream: aborted without draining or committing")

// ErrDrainTimeout reports a shutdown that could not finish in-flight work: the deadline passed, or a destination
// is misconfigured and could acknowledge nothing. Run returns it wrapped in an *AbandonedError.
var ErrDrainTimeout = errors.New("stream: drain deadline passed")

// AbandonedError says how many fetched records were left uncommitted by a shutdown that could not drain; they will
// be consumed again, with the same event ids.
type AbandonedError struct{ Records int64 }

func (e *AbandonedError) Error() string {
	return fmt.Sprintf("%v: %d records abandoned (not committed; they will be consumed again)", ErrDrainTimeout, e.Records)
}

func (e *AbandonedError) Unwrap() error { return ErrDrainTimeout }
