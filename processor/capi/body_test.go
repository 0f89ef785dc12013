package capi

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestPooledBodyWriteTo checks that io.Copy (what the HTTP transport uses) sends the body in one Write, resumes
// after a partial Read, and refuses to touch the buffer once the body is closed (it is back in the pool).
func TestPooledBodyWriteTo(t *testing.T) {
	t.Parallel()
	c := &Client{}
	payload := bytes.Repeat([]byte(`{"event_name":"Purchase"},`), 50_000) // ~1.3 MB, a 1000-event request
	newBody := func() *pooledBody {
		buf := c.getBuf()
		*buf = append(*buf, payload...)
		return &pooledBody{buf: buf, c: c}
	}

	w := &countingWriter{}
	b := newBody()
	if n, err := io.Copy(w, b); err != nil || n != int64(len(payload)) {
		t.Fatalf("io.Copy: %d bytes, %v", n, err)
	}
	if w.writes != 1 || !bytes.Equal(w.Bytes(), payload) {
		t.Errorf("%d writes (want 1), body intact %v", w.writes, bytes.Equal(w.Bytes(), payload))
	}

	b = newBody()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(b, head); err != nil {
		t.Fatal(err)
	}
	w = &countingWriter{}
	if _, err := io.Copy(w, b); err != nil {
		t.Fatal(err)
	}
	if got := append(head, w.Bytes()...); !bytes.Equal(got, payload) {
		t.Error("a Read then WriteTo did not yield the body once, in order")
	}

	b = newBody()
	_ = b.Close()
	if _, err := b.WriteTo(&countingWriter{}); !errors.Is(err, errBodyClosed) {
		t.Errorf("WriteTo after Close: %v, want errBodyClosed", err)
	}
}

// TestAppendBodySizedOnce checks the body is built in one allocation of the right size.
func TestAppendBodySizedOnce(t *testing.T) {
	t.Parallel()
	items := make([]Item, 1000)
	idx := make([]int, len(items))
	want := len(bodyHead) + len(`]}`)
	for i := range items {
		items[i].JSON = bytes.Repeat([]byte{'x'}, 900+i%300)
		idx[i] = i
		want += len(items[i].JSON) + 1
	}
	want-- // no comma before the first event
	got := appendBody(make([]byte, 0, 64<<10), items, idx, []byte(`]}`))
	if len(got) != want || cap(got) > want+want/8 {
		t.Errorf("body of %d bytes in a buffer of %d; want %d bytes, no doubling", len(got), cap(got), want)
	}
}
