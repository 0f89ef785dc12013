package capi

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

// TestOnStateChangeMayCallState: the callback runs outside gobreaker's lock, so asking the client's state from it
// (what a runtime deciding to pause or resume naturally does) must not deadlock.
func TestOnStateChangeMayCallState(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if req.N <= 2 {
			writeBody(w, 503, "")
			return
		}
		writeOK(w, len(req.IDs))
	})
	var (
		mu   sync.Mutex
		seen []gobreaker.State
		c    *Client
	)
	opt := fastOptions()
	opt.Breaker = BreakerSettings{ConsecutiveFailures: 2, OpenTimeout: 20 * time.Millisecond}
	opt.OnStateChange = func(_ string, _, to gobreaker.State) {
		_ = c.State()
		mu.Lock()
		seen = append(seen, to)
		mu.Unlock()
	}
	c = newTestClient(t, g.srv.URL, opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Send(ctx, testItems(2, eventTime)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []gobreaker.State{gobreaker.StateOpen, gobreaker.StateHalfOpen, gobreaker.StateClosed}
	if !slices.Equal(seen, want) {
		t.Errorf("transitions %v, want %v", seen, want)
	}
}

// TestNotifierOrderAndReentrance: transitions pushed while a delivery runs, including from the callback itself,
// are delivered once each, in order.
func TestNotifierOrderAndReentrance(t *testing.T) {
	t.Parallel()
	var n notifier
	var got []gobreaker.State
	var deliver func(transition)
	deliver = func(tr transition) {
		got = append(got, tr.to)
		if tr.to == gobreaker.StateOpen {
			n.push(transition{gobreaker.StateOpen, gobreaker.StateHalfOpen})
			n.flush(deliver) // re-entrant: must return at once and leave the work to the outer loop
		}
	}
	n.push(transition{gobreaker.StateClosed, gobreaker.StateOpen})
	n.flush(deliver)
	want := []gobreaker.State{gobreaker.StateOpen, gobreaker.StateHalfOpen}
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

// TestConcurrentSends: many Sends share one client under -race; the breaker and the pooled buffers hold up.
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t, func(w http.ResponseWriter, _ *http.Request, req graphRequest) {
		if req.N%7 == 0 {
			writeBody(w, 500, bodyUnknownError)
			return
		}
		for _, id := range req.IDs {
			if id == "ev-13" {
				writeBody(w, 400, bodyInsufficient)
				return
			}
		}
		writeOK(w, len(req.IDs))
	})
	c := newTestClient(t, g.srv.URL, fastOptions())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := c.Send(context.Background(), testItems(50, eventTime))
			if err != nil {
				t.Errorf("Send: %v", err)
				return
			}
			if len(res.Delivered) != 49 || len(res.Rejected) != 1 || res.Rejected[0].Index != 13 {
				t.Errorf("delivered %d, rejected %+v", len(res.Delivered), res.Rejected)
			}
		})
	}
	wg.Wait()
}
