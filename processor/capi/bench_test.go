package capi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSend1000 measures the client's own cost per 1000-event request against a trivial 200 server on
// loopback (body building, HTTP, response parsing); Facebook's latency is not part of it.
func BenchmarkSend1000(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"events_received":1000,"messages":[],"fbtrace_id":"AbCdEf"}`)
	}))
	defer srv.Close()
	c, err := New(Destination{PixelID: testPixel, AccessToken: testToken, AppSecret: testSecret, BaseURL: srv.URL, APIVersion: testAPIVersion}, configOptions())
	if err != nil {
		b.Fatal(err)
	}
	items := testItems(1000, eventTime)
	var size int
	for _, it := range items {
		size += len(it.JSON) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Send(context.Background(), items)
		if err != nil || len(res.Delivered) != 1000 {
			b.Fatalf("Send: %v (%d delivered)", err, len(res.Delivered))
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}
