package schema

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestFlightFailureBound: failures for good are remembered up to maxFailedIDs keys; past it a new failure is not
// remembered (asked again next time) until expired ones can be swept; registry failures are never remembered.
func TestFlightFailureBound(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var f flight[int, string]
	f.init(time.Minute, clock)
	calls := map[int]int{}
	fetch := func(key int, err error) func(context.Context) (string, error) {
		return func(context.Context) (string, error) {
			calls[key]++ // fetches of one key never overlap here: get waits for each
			return "", err
		}
	}
	permanent := fmt.Errorf("%w: schema id: not found", ErrSchema)
	ctx := context.Background()
	for k := range maxFailedIDs {
		if _, err := f.get(ctx, k, fetch(k, permanent)); !errors.Is(err, ErrSchema) {
			t.Fatalf("key %d: err = %v", k, err)
		}
	}
	for _, k := range []int{0, maxFailedIDs - 1} {
		if _, err := f.get(ctx, k, fetch(k, permanent)); !errors.Is(err, ErrSchema) || calls[k] != 1 {
			t.Fatalf("key %d: err = %v after %d fetches, want the remembered failure after 1", k, err, calls[k])
		}
	}
	over := maxFailedIDs
	for range 2 {
		_, _ = f.get(ctx, over, fetch(over, permanent))
	}
	if calls[over] != 2 {
		t.Fatalf("key past the bound fetched %d times by 2 gets, want 2 (not remembered)", calls[over])
	}

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	_, _ = f.get(ctx, over, fetch(over, permanent)) // sweeps the expired failures, then is remembered
	_, _ = f.get(ctx, over, fetch(over, permanent))
	if calls[over] != 3 {
		t.Fatalf("key past the bound fetched %d times, want 3 (remembered once expired ones were swept)", calls[over])
	}
	if _, _ = f.get(ctx, 0, fetch(0, permanent)); calls[0] != 2 {
		t.Fatalf("expired failure not asked again: %d fetches", calls[0])
	}

	unavailable := fmt.Errorf("%w: 503", ErrRegistryUnavailable)
	for range 3 {
		_, _ = f.get(ctx, -1, fetch(-1, unavailable))
	}
	if calls[-1] != 3 {
		t.Fatalf("registry failure fetched %d times by 3 gets, want 3 (never remembered)", calls[-1])
	}
	if v, err := f.get(ctx, -2, func(context.Context) (string, error) { return "ok", nil }); err != nil || v != "ok" {
		t.Fatalf("success: %q, %v", v, err)
	}
}
