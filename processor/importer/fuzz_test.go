package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzImport feeds arbitrary bytes as CSV and as JSON Lines: never a panic; either the input is refused as a
// whole (ErrInput, ErrMapping) or every row is produced or rejected, and every produced value is a JSON object
// whose integrations.facebook.event_id is the record key.
func FuzzImport(f *testing.F) {
	for _, s := range []string{storeSales, crmExport, noIDFile, salesFile(20),
		"event_name,id\npurchase,\"1\n", "a;b\n\"x\"y;1\n", "\xff\xfee\x00v\x00", "{\"event_name\":\"x\"}\n[]\nnull\n{\"integrations\":{\"facebook\":1}}\n"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, ndjson bool) {
		format := FormatCSV
		if ndjson {
			format = FormatNDJSON
		}
		p := &memProducer{}
		var rej bytes.Buffer
		var s Summary
		var err error
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			s, err = Run(context.Background(), bytes.NewReader(data), Options{Name: "fuzz", Topic: "events", Format: format, Producer: p, Rejects: &rej})
		}()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("import hangs on %q", data)
		}
		if err != nil {
			if errors.Is(err, ErrInput) || errors.Is(err, ErrMapping) {
				return
			}
			t.Fatalf("%v %+v", err, s)
		}
		if s.Rows != s.Produced+s.RejectsWritten || s.Produced != int64(len(p.recs)) {
			t.Fatalf("rows not accounted for: %+v", s)
		}
		for _, r := range p.recs {
			var m map[string]any
			if err := json.Unmarshal(r.Value, &m); err != nil {
				t.Fatalf("produced value is not a JSON object: %v\n%q", err, r.Value)
			}
			if id, _ := getPath(m, pathFBEventID); id != string(r.Key) || len(r.Key) == 0 {
				t.Fatalf("event id %v, key %q", id, r.Key)
			}
		}
	})
}
