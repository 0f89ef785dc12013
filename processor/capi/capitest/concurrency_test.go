package capitest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestConcurrentRequests hammers the server from several goroutines while faults change; run with -race. Every
// accepted event must be recorded exactly once and every request counted.
func TestConcurrentRequests(t *testing.T) {
	s, ts := NewTestServer(t, testConfig())
	const workers, perWorker, batch = 6, 15, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	okEvents, failed := 0, 0
	for w := range workers {
		wg.Go(func() {
			for r := range perWorker {
				evs := make([]any, batch)
				for i := range evs {
					evs[i] = validEvent(itoa(int64(w)) + "-" + itoa(int64(r)) + "-" + itoa(int64(i)))
				}
				req, _ := http.NewRequest(http.MethodPost, ts.URL+testPath+"?access_token="+testToken,
					bytes.NewReader(body(evs...)))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == 200 {
					okEvents += batch
				} else {
					failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Go(func() { // concurrent control traffic
		for i := range 30 {
			_ = s.SetFaults(Faults{FailNext: i % 2})
			_ = s.Faults()
			_ = s.Events()
			_ = s.Stats()
			_ = s.EventIDs()
		}
	})
	wg.Wait()

	st := s.Stats()
	if int(st.AcceptedEvents) != okEvents || len(s.Events()) != okEvents || len(s.EventIDs()) != okEvents ||
		int(st.RejectedRequests) != failed || st.Requests != workers*perWorker || st.DuplicateEvents != 0 {
		t.Fatalf("stats %+v, ok events %d, failed %d, recorded %d", st, okEvents, failed, len(s.Events()))
	}
}

// BenchmarkServe1000 measures the simulator itself (handler, no network) on a valid 1000-event batch shaped
// like the connector's (realisticEvent): what the end-to-end benchmark makes it validate.
func BenchmarkServe1000(b *testing.B) {
	evs := make([]any, 1000)
	for i := range evs {
		evs[i] = realisticEvent(i)
	}
	benchmarkServe(b, body(evs...))
}

// BenchmarkServe1000Minimal is BenchmarkServe1000 on minimal events (validEvent): four user_data keys, two
// custom_data keys.
func BenchmarkServe1000Minimal(b *testing.B) {
	evs := make([]any, 1000)
	for i := range evs {
		evs[i] = validEvent("e" + itoa(int64(i)))
	}
	benchmarkServe(b, body(evs...))
}

func benchmarkServe(b *testing.B, payload []byte) {
	cfg := testConfig()
	cfg.MaxRecordedEvents = -1 // measure validation, not an ever-growing record
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, testPath+"?access_token="+testToken, bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
}

// BenchmarkServe1000HTTP is the same over a loopback HTTP connection, as the connector sees it.
func BenchmarkServe1000HTTP(b *testing.B) {
	cfg := testConfig()
	cfg.MaxRecordedEvents = -1
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	evs := make([]any, 1000)
	for i := range evs {
		evs[i] = realisticEvent(i)
	}
	payload := body(evs...)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Post(ts.URL+testPath+"?access_token="+testToken, "application/json", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}
