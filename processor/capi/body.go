package capi

import (
	"errors"
	"io"
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

func (b *pooledBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf != nil {
		b.c.putBuf(b.buf)
		b.buf = nil
	}
	return nil
}
