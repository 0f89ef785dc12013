package e2e

import (
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/schema/sample"
)

const (
	adsPixel = "9876543210987"
	adsToken = "e2e-ads-token"
)

// withAds adds a second destination "ads" (its own pixel, batcher and breaker) to the same consumer; adsURL
// sends its requests to a simulator of its own.
func withAds(c *config.Config) {
	d := c.Destinations[0]
	d.Name, d.PixelID, d.AccessToken = "ads", adsPixel, adsToken
	c.Destinations = append(c.Destinations, d)
}

func adsURL(url string) service.Option { return service.WithGraphURL("ads", url) }

// multiGuard checks, on every observation, that no committed offset passes a record that one of the destinations
// has not acknowledged yet: a record's offset is committed only when every destination's outcome is durable.
type multiGuard struct {
	t     testing.TB
	sims  map[string]*capitest.Server
	byPos map[int32]map[int64]string // partition → offset → event id
	last  map[int32]int64
}

func newMultiGuard(e *env, p produced, sims map[string]*capitest.Server) *multiGuard {
	g := &multiGuard{t: e.t, sims: sims, byPos: map[int32]map[int64]string{}, last: map[int32]int64{}}
	for id, w := range p.where {
		if g.byPos[w.Partition] == nil {
			g.byPos[w.Partition] = map[int64]string{}
		}
		g.byPos[w.Partition][w.Offset] = id
	}
	return g
}

func (g *multiGuard) check(committed map[int32]int64) {
	g.t.Helper()
	ids := map[string]map[string]int{}
	for name, s := range g.sims {
		ids[name] = s.EventIDs()
	}
	for part, off := range committed {
		if off < g.last[part] {
			g.t.Errorf("partition %d: commit went backwards %d → %d", part, g.last[part], off)
		}
		g.last[part] = off
		for pos, id := range g.byPos[part] {
			for name := range g.sims {
				if pos < off && ids[name][id] == 0 {
					g.t.Errorf("partition %d committed at %d past event %s (offset %d) that %s has not acknowledged", part, off, id, pos, name)
				}
			}
		}
	}
}

// One consumer, two destinations. While "ads" is stopped (dead token, then a throttled app), "shop" keeps
// delivering everything already fetched, consumption stops at the in-flight cap (bounded memory), and no offset is
// committed past a record "ads" has not acknowledged. Once "ads" works again (token fixed and restart; throttling
// over) every event reaches both destinations and the commits reach the end.
func TestOneStoppedDestinationDoesNotStallTheOthers(t *testing.T) {
	const total, capRecords = 900, 300
	small := func(c *config.Config) {
		c.Kafka.MaxInFlightRecords = capRecords
		c.ShutdownTimeout = 500 * time.Millisecond // the stopped destination's records are abandoned, not waited for
		for i := range c.Destinations {
			c.Destinations[i].Batch.MaxEvents = 50
		}
	}

	t.Run("dead token, fixed by a restart", func(t *testing.T) {
		e := newEnv(t, 3)
		ads, adsSrv := capitest.NewTestServer(t, capitest.Config{AccessTokens: map[string]string{adsPixel: adsToken}})
		if err := ads.SetFaults(capitest.Faults{TokenExpired: true}); err != nil {
			t.Fatal(err)
		}
		p := e.produce(only(total, sample.Deliverable), -1)
		guard := newMultiGuard(e, p, map[string]*capitest.Server{"shop": e.sim, "ads": ads})
		run := e.start(e.config(withAds, small), adsURL(adsSrv.URL))

		// The window fetched before the pause is delivered to shop in full, while ads delivers nothing.
		stalled(t, e, run, guard, capRecords, "ads")
		if n := len(ads.EventIDs()); n != 0 {
			t.Fatalf("ads accepted %d events with an expired token", n)
		}
		if run.Runner().Ready() {
			t.Error("ready while ads is misconfigured")
		}
		if err := run.Stop(t); err == nil {
			t.Log("stopped") // ErrDrainTimeout is expected: ads' records were abandoned, to be consumed again
		}
		guard.check(e.committed())
		if n := len(e.dlqRecords()); n != 0 {
			t.Fatalf("a dead token sent %d records to the DLQ", n)
		}

		// The operator fixes the token and restarts: everything reaches both, shop's window again with the same
		// event ids (Facebook deduplicates them).
		if err := ads.SetFaults(capitest.Faults{}); err != nil {
			t.Fatal(err)
		}
		run2 := e.start(e.config(withAds, small), adsURL(adsSrv.URL))
		e.waitCommitted(p.end, 60*time.Second, guard.check)
		if err := run2.Stop(t); err != nil {
			t.Fatal(err)
		}
		everywhere(t, p, map[string]*capitest.Server{"shop": e.sim, "ads": ads})
		if d := ads.Stats().DuplicateEvents; d != 0 {
			t.Errorf("ads saw %d duplicates", d)
		}
		t.Logf("shop re-received %d events of the window after the restart (same event ids)", e.sim.Stats().DuplicateEvents)
	})

	t.Run("throttled app, recovers in place", func(t *testing.T) {
		e := newEnv(t, 3)
		ads, adsSrv := capitest.NewTestServer(t, capitest.Config{AccessTokens: map[string]string{adsPixel: adsToken}})
		if err := ads.SetFaults(capitest.Faults{Throttle: true, ThrottleCode: capitest.CodeUserRateLimit}); err != nil {
			t.Fatal(err)
		}
		p := e.produce(only(total, sample.Deliverable), -1)
		guard := newMultiGuard(e, p, map[string]*capitest.Server{"shop": e.sim, "ads": ads})
		run := e.start(e.config(withAds, small), adsURL(adsSrv.URL))
		stalled(t, e, run, guard, capRecords, "ads")
		if err := ads.SetFaults(capitest.Faults{}); err != nil {
			t.Fatal(err)
		}
		e.waitCommitted(p.end, 60*time.Second, guard.check)
		if err := run.Stop(t); err != nil {
			t.Fatal(err)
		}
		everywhere(t, p, map[string]*capitest.Server{"shop": e.sim, "ads": ads})
		if n := len(e.dlqRecords()); n != 0 {
			t.Errorf("throttling sent %d records to the DLQ", n)
		}
	})
}

// stalled waits until the healthy destination delivered every fetched record while the stopped one holds
// consumption at the cap, then watches that state for a while.
func stalled(t *testing.T, e *env, run *running, guard *multiGuard, capRecords int64, stopped string) {
	t.Helper()
	consumed := func() int64 { return run.Runner().Stats().Consumed.Load() }
	if err := eventually(20*time.Second, func() bool {
		guard.check(e.committed())
		return consumed() == capRecords && int64(len(e.sim.EventIDs())) == capRecords
	}); err != nil {
		t.Fatalf("shop delivered %d of %d consumed records (cap %d) while %s was stopped", len(e.sim.EventIDs()), consumed(), capRecords, stopped)
	}
	for range 10 { // the state holds: no more fetching, nothing committed, in flight at the cap
		time.Sleep(50 * time.Millisecond)
		guard.check(e.committed())
		if n := consumed(); n > capRecords {
			t.Fatalf("consumed %d records past the in-flight cap %d while %s was stopped", n, capRecords, stopped)
		}
		if n := run.Runner().InFlight(); n > capRecords {
			t.Fatalf("in-flight records %d exceed the cap %d", n, capRecords)
		}
	}
	if !run.Runner().Paused() {
		t.Errorf("fetching not paused while %s is stopped", stopped)
	}
	for part, off := range e.committed() {
		if off != 0 {
			t.Errorf("partition %d committed to %d while %s acknowledged nothing", part, off, stopped)
		}
	}
}

// everywhere checks that every produced event reached every destination.
func everywhere(t *testing.T, p produced, sims map[string]*capitest.Server) {
	t.Helper()
	for name, s := range sims {
		ids := s.EventIDs()
		missing := 0
		for _, ev := range p.events {
			if ids[ev.EventID] == 0 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s is missing %d of %d events", name, missing, len(p.events))
		}
	}
}
