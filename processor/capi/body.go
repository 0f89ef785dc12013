package capi

import (
	"errors"
	"io"
	"slices"
	"sync"
)

const bodyHead = `{"data":[`

// maxPooledBody: bodies larger than this are left to the garbage collector rather than pinned in the pool
// (1000 events of ~1 KiB is ~1 MiB; a pathological batch should not stay resident).
const maxPooledBody = 8 << 20

// appendBody appends {"data":[items[idx[0]],…]<tail> to dst: the events' bytes are copied verbatim, never
// re-encoded. The format is fbevent.AppendBatch's; it is re-implemented over indices so a bisected half needs no
// [][]byte of its own.
func appendBody(dst []byte, items []Item, idx []int, tail []byte) []byte {
	// Sized once: growing a pooled 64 KiB buffer to a 1000-event body by doubling left ~1 MiB of garbage behind
	// per request whenever the pool had been emptied by a GC.
	n := len(bodyHead) + len(idx) + len(tail)
	for _, i := range idx {
		n += len(items[i].JSON)
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, bodyHead...)
	for n, i := range idx {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, items[i].JSON...)
	}
	return append(dst, tail...)
}

func (c *Client) getBuf() *[]byte {
	if b, ok := c.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (c *Client) putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBody {
		*b = (*b)[:0]
		c.bufs.Put(b)
	}
}

var errBodyClosed = errors.New("capi: request body read after close")

// pooledBody is a request body over a pooled buffer. The transport may close (and, per RoundTripper's contract,
// even read) the body on its own goroutine after Do returned, so the buffer goes back to the pool only on Close,
// and a Read after Close fails instead of touching a buffer someone else may be filling.
type pooledBody struct {
	mu  sync.Mutex
	buf *[]byte
	off int
	c   *Client
}

func (b *pooledBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return 0, errBodyClosed
	}
	if b.off >= len(*b.buf) {
		return 0, io.EOF
	}
	n := copy(p, (*b.buf)[b.off:])
	b.off += n
	return n, nil
}

// WriteTo writes the rest of the body in one call. The transport hands the body to io.Copy, which prefers it:
// without it the body went out through a 32 KiB copy buffer, ~40 write system calls for a 1000-event request.
// The lock is held during the write so Close (possibly on another goroutine) cannot pool the buffer under it.
func (b *pooledBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return 0, errBodyClosed
	}
	n, err := w.Write((*b.buf)[b.off:])
	b.off += n
	return int64(n), err
}

func (b *pooledBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf != nil {
		b.c.putBuf(b.buf)
		b.buf = nil
	}
	return nil
}

var _ io.ReadCloser = (*pooledBody)(nil)
