package dlq

import (
	"bytes"
	"testing"
	"time"
)

func TestReplayProgressLine(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := &ProgressLine{W: &b}
	p.Print(Progress{Scanned: 500, Replayed: 300, Skipped: 200, Total: 2000, Elapsed: 2 * time.Second})
	p.End()
	want := "\rscanned 500/2000 (25%)  replayed 300  skipped 200  250 rec/s  ETA 6s   \n"
	if b.String() != want {
		t.Errorf("progress line %q, want %q", b.String(), want)
	}
}
