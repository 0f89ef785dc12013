package stream

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/reject"
)

// Stats are the runtime's counters: the demo prints them and the metrics endpoint exports them. All methods are
// safe for concurrent use.
type Stats struct {
	Consumed      atomic.Int64 // records fetched and dispatched
	Batches       atomic.Int64 // Graph requests started by the batchers (bisection requests are counted by capi)
	Commits       atomic.Int64 // successful offset commits
	DLQErrors     atomic.Int64 // failed DLQ produce attempts (each is retried)
	DLQReferences atomic.Int64 // records too large for the DLQ topic, dead-lettered as references (value omitted)
	Retries       atomic.Int64 // waits before resending to the Graph API (transient, throttled, breaker open)
	Requests      atomic.Int64 // Graph API HTTP requests, bisection and retries included

	mu        sync.Mutex
	deliv     map[string]int64
	rejects   map[RejectKey]int64
	committed map[TopicPartition]int64
	keys      map[MatchKey]int64
	dropped   map[string]int64 // custom parameters dropped beyond the cap, by destination
}

// MatchKey counts delivered events carrying one match key, by destination.
type MatchKey struct {
	Destination string
	Key         string
}

// RejectKey counts rejections by destination and reason.
type RejectKey struct {
	Destination string
	Reason      reject.Reason
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func newStats() *Stats {
	return &Stats{deliv: map[string]int64{}, rejects: map[RejectKey]int64{}, committed: map[TopicPartition]int64{}, keys: map[MatchKey]int64{}, dropped: map[string]int64{}}
}

func (s *Stats) delivered(dest string, n int64, keys processor.MatchKeys) {
	s.mu.Lock()
	s.deliv[dest] += n
	for i, name := range processor.MatchKeyNames {
		if keys&(1<<i) != 0 {
			s.keys[MatchKey{dest, name}] += n
		}
	}
	s.mu.Unlock()
}

// MatchKeys returns delivered events carrying each match key, by destination.
func (s *Stats) MatchKeys() map[MatchKey]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.keys)
}

func (s *Stats) droppedParams(dest string, n int) {
	s.mu.Lock()
	s.dropped[dest] += int64(n)
	s.mu.Unlock()
}

// DroppedCustomParams returns the custom parameters dropped beyond mapping.MaxCustomParams, by destination.
func (s *Stats) DroppedCustomParams() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.dropped)
}

func (s *Stats) rejected(dest string, reason reject.Reason) {
	s.mu.Lock()
	s.rejects[RejectKey{dest, reason}]++
	s.mu.Unlock()
}

func (s *Stats) commit(tp TopicPartition, offset int64) {
	s.mu.Lock()
	s.committed[tp] = offset
	s.mu.Unlock()
}

// Delivered returns events acknowledged by Graph, by destination.
func (s *Stats) Delivered() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.deliv)
}

// Rejected returns events dead-lettered, by destination and reason (decode failures have destination "").
func (s *Stats) Rejected() map[RejectKey]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.rejects)
}

// Committed returns the last offset committed by this process, by partition.
func (s *Stats) Committed() map[TopicPartition]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.committed)
}

// countingObserver counts Graph requests and retries into Stats and forwards to the configured observer.
type countingObserver struct {
	stats *Stats
	next  capi.Observer
}

func (o countingObserver) Request(dest, outcome string, httpStatus, code int, dur time.Duration, events int) {
	o.stats.Requests.Add(1)
	if o.next != nil {
		o.next.Request(dest, outcome, httpStatus, code, dur, events)
	}
}

func (o countingObserver) Retry(dest, class string) {
	o.stats.Retries.Add(1)
	if o.next != nil {
		o.next.Retry(dest, class)
	}
}
