package schema

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/schema/registrytest"
)

func mustAvroConfluent(t testing.TB, cfg RegistryConfig) *AvroConfluentDecoder {
	t.Helper()
	d, err := NewAvroConfluent(cfg, Limits{})
	if err != nil {
		t.Fatalf("NewAvroConfluent: %v", err)
	}
	return d
}

func mustEncodeConfluent(t testing.TB, id int, schema string, v any) []byte {
	t.Helper()
	b, err := EncodeAvroConfluent(id, schema, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAvroConfluentDecode(t *testing.T) {
	reg := newRegistry(t)
	reg.Add(42, EventAvroSchema())
	d := mustAvroConfluent(t, registryConfig(reg))
	want := fullAvroEvent()
	data := mustEncodeConfluent(t, 42, "", EventToAvro(want))

	for range 3 {
		var got Event
		if err := d.Decode(context.Background(), data, &got); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("decoded event differs\n got: %+v\nwant: %+v", got, *want)
		}
	}
	if n := reg.Fetches(42); n != 1 {
		t.Fatalf("registry fetched schema 42 %d times, want 1", n)
	}
}

// TestAvroConfluentOneFetchPerID: 50 concurrent decodes of a cold id make exactly one registry request.
func TestAvroConfluentOneFetchPerID(t *testing.T) {
	reg := newRegistry(t)
	reg.Add(1, EventAvroSchema())
	reg.Add(2, EventAvroSchema())
	reg.SetDelay(50 * time.Millisecond) // keep the first fetch in flight while the others arrive
	d := mustAvroConfluent(t, registryConfig(reg))
	rec1 := mustEncodeConfluent(t, 1, "", EventToAvro(&Event{EventName: "one"}))
	rec2 := mustEncodeConfluent(t, 2, "", EventToAvro(&Event{EventName: "two"}))

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	start := make(chan struct{})
	for i := range 100 {
		wg.Go(func() {
			<-start
			data, want := rec1, "one"
			if i%2 == 1 {
				data, want = rec2, "two"
			}
			var ev Event
			if err := d.Decode(context.Background(), data, &ev); err != nil {
				errs <- err
				return
			}
			if ev.EventName != want {
				errs <- errors.New("wrong event " + ev.EventName)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		if n := reg.Fetches(id); n != 1 {
			t.Errorf("schema %d fetched %d times by 50 concurrent decodes, want 1", id, n)
		}
	}
}

// TestAvroConfluentEvolution: records of one topic written with three schema versions decode into the event schema.
func TestAvroConfluentEvolution(t *testing.T) {
	reg := newRegistry(t)
	d := mustAvroConfluent(t, registryConfig(reg))
	for i, tc := range avroEvolutionCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			id := 10 + i
			reg.Add(id, tc.schema)
			data := append([]byte{0, 0, 0, 0, byte(id)}, tc.data...)
			var got Event
			if err := d.Decode(context.Background(), data, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestAvroConfluentErrors(t *testing.T) {
	reg := newRegistry(t)
	reg.Add(1, EventAvroSchema())
	reg.Add(3, string(readAvroTestdata(t, "event_incompatible.avsc")))
	reg.Add(4, `syntax = "proto3"; message Event { string event_name = 1; }`) // a Protobuf schema under an Avro topic
	d := mustAvroConfluent(t, registryConfig(reg))
	good := mustEncodeConfluent(t, 1, "", EventToAvro(fullAvroEvent()))

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty record", nil, ErrNotFramed},
		{"header only partly", []byte{0, 0, 0}, ErrNotFramed},
		{"bad magic byte", append([]byte{1}, good[1:]...), ErrNotFramed},
		{"json instead of avro", []byte(`{"event_name":"purchase"}`), ErrNotFramed},
		{"unknown schema id", append([]byte{0, 0, 0, 0, 7}, good[5:]...), ErrSchema},
		{"incompatible writer schema", append([]byte{0, 0, 0, 0, 3}, good[5:]...), ErrSchema},
		{"non-avro writer schema", append([]byte{0, 0, 0, 0, 4}, good[5:]...), ErrSchema},
		{"truncated payload", good[:len(good)-3], ErrSchema},
		{"header without payload", good[:5], ErrSchema},
		{"huge string length", []byte{0, 0, 0, 0, 1, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, ErrSchema},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{EventName: "stale"}
			err := d.Decode(context.Background(), tc.data, &ev)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(err, ErrRegistryUnavailable) {
				t.Fatalf("err = %v is also ErrRegistryUnavailable", err)
			}
			if errors.Is(err, ErrNotFramed) && errors.Is(err, ErrSchema) {
				t.Fatalf("err = %v is both ErrNotFramed and ErrSchema: replaying schema_error would pick it up", err)
			}
			if !reflect.DeepEqual(ev, Event{}) {
				t.Fatalf("event not reset: %+v", ev)
			}
		})
	}

	t.Run("unknown id carries the registry answer", func(t *testing.T) {
		var ev Event
		err := d.Decode(context.Background(), append([]byte{0, 0, 0, 0, 7}, good[5:]...), &ev)
		var re *RegistryError
		if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.Code != 40403 || re.SchemaID != 7 {
			t.Fatalf("err = %#v, want a RegistryError 404/40403 for id 7", err)
		}
	})
}

// TestAvroConfluentRegistryUnavailable: failures of the registry itself are transient, never ErrSchema, and are
// not cached: the next record retries and succeeds once the registry is back.
func TestAvroConfluentRegistryUnavailable(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *registrytest.Server, cfg *RegistryConfig)
	}{
		{"503", func(r *registrytest.Server, _ *RegistryConfig) { r.FailWith(http.StatusServiceUnavailable) }},
		{"down behind a load balancer (503, plain text)", func(r *registrytest.Server, _ *RegistryConfig) { r.SetDown(true) }},
		{"500", func(r *registrytest.Server, _ *RegistryConfig) { r.FailWith(http.StatusInternalServerError) }},
		{"429", func(r *registrytest.Server, _ *RegistryConfig) { r.FailWith(http.StatusTooManyRequests) }},
		{"wrong password", func(r *registrytest.Server, cfg *RegistryConfig) {
			r.SetBasicAuth("svc", "right-secret")
			cfg.Username, cfg.Password = "svc", "wrong-secret"
		}},
		{"wrong base path (plain 404)", func(r *registrytest.Server, cfg *RegistryConfig) { cfg.URL += "/not/the/registry" }},
		{"html answer", func(r *registrytest.Server, _ *RegistryConfig) { r.SetContentType("text/html; charset=utf-8") }},
		{"timeout", func(r *registrytest.Server, cfg *RegistryConfig) {
			r.SetDelay(300 * time.Millisecond)
			cfg.Timeout = 50 * time.Millisecond
		}},
		{"server closed", func(r *registrytest.Server, _ *RegistryConfig) { r.Close() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry(t)
			reg.Add(1, EventAvroSchema())
			cfg := registryConfig(reg)
			tc.setup(reg, &cfg)
			d := mustAvroConfluent(t, cfg)
			data := mustEncodeConfluent(t, 1, "", EventToAvro(&Event{EventName: "purchase"}))

			var ev Event
			err := d.Decode(context.Background(), data, &ev)
			if !errors.Is(err, ErrRegistryUnavailable) || errors.Is(err, ErrSchema) {
				t.Fatalf("err = %v, want ErrRegistryUnavailable only", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}

	t.Run("recovers without restart", func(t *testing.T) {
		reg := newRegistry(t)
		reg.Add(1, EventAvroSchema())
		reg.FailWith(http.StatusServiceUnavailable)
		d := mustAvroConfluent(t, registryConfig(reg))
		data := mustEncodeConfluent(t, 1, "", EventToAvro(&Event{EventName: "purchase"}))
		var ev Event
		if err := d.Decode(context.Background(), data, &ev); !errors.Is(err, ErrRegistryUnavailable) {
			t.Fatalf("err = %v, want ErrRegistryUnavailable", err)
		}
		reg.FailWith(0)
		if err := d.Decode(context.Background(), data, &ev); err != nil || ev.EventName != "purchase" {
			t.Fatalf("after recovery: err = %v, event %q", err, ev.EventName)
		}
	})
}

func TestAvroConfluentBasicAuth(t *testing.T) {
	reg := newRegistry(t)
	reg.SetBasicAuth("svc", "s3cret")
	reg.Add(1, EventAvroSchema())
	d := mustAvroConfluent(t, registryConfig(reg))
	var ev Event
	if err := d.Decode(context.Background(), mustEncodeConfluent(t, 1, "", EventToAvro(&Event{EventName: "x"})), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventName != "x" {
		t.Fatalf("EventName = %q", ev.EventName)
	}
}

// TestAvroConfluentContext: a caller whose context ends stops waiting, without failing the fetch that other
// records share.
func TestAvroConfluentContext(t *testing.T) {
	reg := newRegistry(t)
	reg.Add(1, EventAvroSchema())
	reg.SetDelay(100 * time.Millisecond)
	d := mustAvroConfluent(t, registryConfig(reg))
	data := mustEncodeConfluent(t, 1, "", EventToAvro(&Event{EventName: "x"}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	var ev Event
	if err := d.Decode(ctx, data, &ev); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if err := d.Decode(context.Background(), data, &ev); err != nil || ev.EventName != "x" {
		t.Fatalf("second decode: err = %v, event %q", err, ev.EventName)
	}
	if n := reg.Fetches(1); n != 1 {
		t.Fatalf("fetched %d times, want 1 (the abandoned wait must not cancel the shared fetch)", n)
	}
}

func TestEncodeAvroConfluentHeader(t *testing.T) {
	b, err := EncodeAvroConfluent(0x01020304, "", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 1, 2, 3, 4}; !reflect.DeepEqual(b[:5], want) {
		t.Fatalf("header = %v, want %v", b[:5], want)
	}
	if _, err := EncodeAvroConfluent(-1, "", map[string]any{}); err == nil {
		t.Fatal("negative id accepted")
	}
}
