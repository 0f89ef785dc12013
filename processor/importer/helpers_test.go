package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

// memProducer acknowledges every record at once and keeps it (or fails from the failAt-th record on).
type memProducer struct {
	mu     sync.Mutex
	recs   []*kgo.Record
	failAt int // 0: never
	err    error
}

func (p *memProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	p.mu.Lock()
	n := len(p.recs) + 1
	if p.failAt > 0 && n >= p.failAt {
		p.mu.Unlock()
		promise(r, p.err)
		return
	}
	p.recs = append(p.recs, r)
	p.mu.Unlock()
	promise(r, nil)
}

func (p *memProducer) Flush(context.Context) error { return nil }

func (p *memProducer) events(t *testing.T) []map[string]any {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]map[string]any, len(p.recs))
	for i, r := range p.recs {
		out[i] = decodeEvent(t, r.Value)
		if id := get(out[i], "integrations.facebook.event_id"); id != string(r.Key) {
			t.Errorf("record %d: key %q, event_id %v", i, r.Key, id)
		}
	}
	return out
}

func decodeEvent(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("produced value is not a JSON object: %v\n%s", err, b)
	}
	return m
}

// get reads a dotted path; numbers come back as their text.
func get(m map[string]any, path string) any {
	v, ok := getPath(m, path)
	if !ok {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	return v
}

// importBytes runs one import of data into a memProducer.
func importBytes(t *testing.T, data []byte, o Options) (Summary, *memProducer, error) {
	t.Helper()
	p := &memProducer{}
	if o.Producer == nil && !o.DryRun {
		o.Producer = p
	}
	if o.Topic == "" {
		o.Topic = "events"
	}
	if o.Name == "" {
		o.Name = "test.csv"
	}
	s, err := Run(context.Background(), bytes.NewReader(data), o)
	return s, p, err
}

func mustImport(t *testing.T, data []byte, o Options) (Summary, []map[string]any, [][]byte) {
	t.Helper()
	s, p, err := importBytes(t, data, o)
	if err != nil {
		t.Fatalf("import: %v\nsummary: %+v", err, s)
	}
	var keys [][]byte
	for _, r := range p.recs {
		keys = append(keys, r.Key)
	}
	return s, p.events(t), keys
}

// testPipeline is the real transformation with one destination requiring consent category 2, phones in FR.
func testPipeline(t *testing.T) *processor.Pipeline {
	t.Helper()
	return servicetest.Pipeline(t)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var testNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
