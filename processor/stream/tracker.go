package stream

import (
	"sync"
	"sync/atomic"
)

// abandoned is stored in an entry's pending counter when its partition is revoked or lost before the entry
// completed: late acknowledgments then drive the counter further negative and never reach zero again, so an
// abandoned record is never counted as done and never moves a watermark.
const abandoned = -1 << 30

// entry is one source record in flight. pending counts the outcomes (one per destination that must deliver or
// dead-letter it, plus a guard held while the record is being dispatched) that are not durable yet.
type entry struct {
	offset  int64
	epoch   int32
	pending atomic.Int32
	owner   *partition
}

// ack records that one outcome of the entry is durable. It is safe to call from any goroutine and after the
// partition was revoked (it then does nothing).
func (e *entry) ack() {
	if e.pending.Add(-1) == 0 {
		e.owner.inflight.done()
	}
}

// partition tracks the records of one assigned partition in offset order and computes the contiguous watermark:
// the offset of the first record that is not done. Only that offset is ever committed, so no offset passes
// unacknowledged work, whatever order batches finish in.
type partition struct {
	topic string
	part  int32

	inflight *inflight

	mu     sync.Mutex
	recs   []*entry // offset order; done entries are popped from the front by advance
	head   int      // index of the first entry not yet popped
	closed bool
	// mark is the next offset to commit (last done offset + 1) with the leader epoch of that record; -1 until a
	// record completes.
	mark      int64
	markEpoch int32
	committed int64 // last offset committed for this partition by us, -1 if none
}

func newPartition(topic string, part int32, in *inflight) *partition {
	return &partition{topic: topic, part: part, inflight: in, mark: -1, committed: -1}
}

// add registers a record; it returns nil when the partition is no longer ours (revoked or lost).
func (p *partition) add(offset int64, epoch int32, outcomes int32) *entry {
	e := &entry{offset: offset, epoch: epoch, owner: p}
	e.pending.Store(outcomes)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.inflight.add()
	p.recs = append(p.recs, e)
	return e
}

// advance pops the done records at the front and returns the offset to commit (-1 when nothing new).
func (p *partition) advance() (offset int64, epoch int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.head < len(p.recs) && p.recs[p.head].pending.Load() == 0 {
		e := p.recs[p.head]
		p.recs[p.head] = nil
		p.head++
		p.mark, p.markEpoch = e.offset+1, e.epoch
	}
	if p.head > 1024 && p.head*2 > len(p.recs) { // compact so the slice does not grow with the backlog
		n := copy(p.recs, p.recs[p.head:])
		clear(p.recs[n:])
		p.recs = p.recs[:n]
		p.head = 0
	}
	if p.mark > p.committed {
		return p.mark, p.markEpoch
	}
	return -1, 0
}

// committedAt records a successful commit.
func (p *partition) committedAt(offset int64) {
	p.mu.Lock()
	if offset > p.committed {
		p.committed = offset
	}
	p.mu.Unlock()
}

// outstanding is the number of registered records not done yet.
func (p *partition) outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.recs[p.head:] {
		if e.pending.Load() > 0 {
			n++
		}
	}
	return n
}

// close makes the partition refuse new records and abandons the ones not done: their late acknowledgments are
// ignored and they no longer count against the in-flight cap.
func (p *partition) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, e := range p.recs[p.head:] {
		for {
			n := e.pending.Load()
			if n <= 0 {
				break
			}
			if e.pending.CompareAndSwap(n, abandoned) {
				p.inflight.done()
				break
			}
		}
	}
	p.recs, p.head = nil, 0
}

// inflight counts records registered and not done, across partitions, wakes the poll loop when room frees and
// the commit loop when nothing is left in flight.
type inflight struct {
	n     atomic.Int64
	space chan struct{}
	idle  chan struct{}
}

func newInflight() *inflight {
	return &inflight{space: make(chan struct{}, 1), idle: make(chan struct{}, 1)}
}

func (f *inflight) add() { f.n.Add(1) }

func (f *inflight) done() {
	if f.n.Add(-1) == 0 {
		select {
		case f.idle <- struct{}{}:
		default:
		}
	}
	select {
	case f.space <- struct{}{}:
	default:
	}
}

func (f *inflight) count() int64 { return f.n.Load() }
