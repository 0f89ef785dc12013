package stream

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestWatermarkIsContiguous(t *testing.T) {
	tests := []struct {
		name    string
		offsets []int64
		done    []int // indices acknowledged, in this order
		want    int64 // offset to commit after all acks, -1 for none
	}{
		{"nothing done", []int64{10, 11, 12}, nil, -1},
		{"head done", []int64{10, 11, 12}, []int{0}, 11},
		{"gap holds the mark", []int64{10, 11, 12}, []int{1, 2}, -1},
		{"gap filled", []int64{10, 11, 12}, []int{2, 1, 0}, 13},
		{"non-contiguous offsets (compaction)", []int64{10, 15, 40}, []int{0, 1}, 16},
		{"partial", []int64{0, 1, 2, 3, 4}, []int{0, 1, 3}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPartition("t", 0, newInflight())
			var es []*entry
			for _, o := range tc.offsets {
				es = append(es, p.add(o, 3, 1))
			}
			for _, i := range tc.done {
				es[i].ack()
			}
			got, epoch := p.advance()
			if got != tc.want {
				t.Fatalf("advance() = %d, want %d", got, tc.want)
			}
			if got >= 0 && epoch != 3 {
				t.Fatalf("epoch = %d, want 3", epoch)
			}
			if wantIn := int64(len(tc.offsets) - len(tc.done)); p.inflight.count() != wantIn {
				t.Fatalf("in flight = %d, want %d", p.inflight.count(), wantIn)
			}
		})
	}
}

func TestCommittedNeverGoesBackwards(t *testing.T) {
	p := newPartition("t", 0, newInflight())
	e := p.add(5, 0, 1)
	e.ack()
	off, _ := p.advance()
	if off != 6 {
		t.Fatalf("advance = %d, want 6", off)
	}
	p.committedAt(6)
	if off, _ := p.advance(); off != -1 {
		t.Fatalf("advance after commit = %d, want -1 (nothing new)", off)
	}
	p.committedAt(3) // an older commit answer arriving late must not move it back
	if p.committed != 6 {
		t.Fatalf("committed = %d, want 6", p.committed)
	}
}

func TestMultipleOutcomesPerRecord(t *testing.T) {
	p := newPartition("t", 0, newInflight())
	e := p.add(0, 0, 3)
	e.ack()
	e.ack()
	if off, _ := p.advance(); off != -1 {
		t.Fatalf("record with one outcome pending committed: %d", off)
	}
	e.ack()
	if off, _ := p.advance(); off != 1 {
		t.Fatalf("advance = %d, want 1", off)
	}
}

func TestCloseAbandonsAndIgnoresLateAcks(t *testing.T) {
	in := newInflight()
	p := newPartition("t", 0, in)
	a := p.add(0, 0, 1)
	b := p.add(1, 0, 2)
	a.ack()
	p.close()
	if in.count() != 0 {
		t.Fatalf("in flight after close = %d, want 0", in.count())
	}
	b.ack()
	b.ack()
	if in.count() != 0 {
		t.Fatalf("late acks changed the in-flight count: %d", in.count())
	}
	if e := p.add(2, 0, 1); e != nil {
		t.Fatal("closed partition accepted a record")
	}
	if off, _ := p.advance(); off != -1 {
		t.Fatalf("closed partition advanced to %d", off)
	}
}

func TestConcurrentAcksReachTheEnd(t *testing.T) {
	in := newInflight()
	p := newPartition("t", 0, in)
	const n = 5000
	es := make([]*entry, n)
	for i := range es {
		es[i] = p.add(int64(i), 0, 2)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for _, i := range r.Perm(n) {
				if i%4 == w || (i+1)%4 == w { // every entry acked twice, by two workers
					es[i].ack()
				}
			}
		}()
	}
	var last int64 = -1
	for in.count() > 0 { // watermarks observed while acks race never go backwards
		if off, _ := p.advance(); off > last {
			last = off
			p.committedAt(off)
		}
	}
	wg.Wait()
	if off, _ := p.advance(); off > last {
		last = off
	}
	if last != n {
		t.Fatalf("final watermark = %d, want %d", last, n)
	}
}
