package dlq_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
)

func TestRecordHeaders(t *testing.T) {
	t.Parallel()
	failedAt := time.Date(2026, 11, 29, 18, 4, 5, 0, time.FixedZone("CET", 3600))
	rej := reject.New(reject.FacebookRejected, reject.StageDelivery, "Invalid parameter (code 100)")
	tests := []struct {
		name    string
		src     *kgo.Record
		f       dlq.Failure
		want    map[string]string
		absent  []string
		userHdr int // source headers kept
	}{
		{
			name: "facebook rejection with a timestamp",
			src: &kgo.Record{Topic: "events", Partition: 3, Offset: 123456789, Timestamp: time.UnixMilli(1795960800123),
				Key: []byte("k"), Value: []byte(`{"x":1}`), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t1")}}},
			f: dlq.Failure{Rejection: rej, Destination: "main", FailedAt: failedAt, FacebookCode: 100, FacebookSubcode: 2804003},
			want: map[string]string{dlq.HeaderReason: "facebook_rejected", dlq.HeaderStage: reject.StageDelivery,
				dlq.HeaderError: "Invalid parameter (code 100)", dlq.HeaderDestination: "main", dlq.HeaderSourceTopic: "events",
				dlq.HeaderSourcePartition: "3", dlq.HeaderSourceOffset: "123456789", dlq.HeaderFailedAt: "2026-11-29T17:04:05Z",
				dlq.HeaderReplayCount: "0", dlq.HeaderSourceTimestamp: "1795960800123", dlq.HeaderFacebookCode: "100",
				dlq.HeaderFacebookSubcode: "2804003"},
			userHdr: 1,
		},
		{
			name: "replayed record failing again, no timestamp, no Facebook code",
			src: &kgo.Record{Topic: "t", Value: []byte("v"), Headers: []kgo.RecordHeader{
				{Key: dlq.HeaderReplayCount, Value: []byte("2")}, {Key: dlq.HeaderReason, Value: []byte("old")}, {Key: "a", Value: []byte("b")}}},
			f: dlq.Failure{Rejection: reject.New(reject.NoConsent, reject.StageConsent, ""), FailedAt: failedAt},
			want: map[string]string{dlq.HeaderReason: "no_consent", dlq.HeaderError: "", dlq.HeaderDestination: "",
				dlq.HeaderSourcePartition: "0", dlq.HeaderSourceOffset: "0", dlq.HeaderReplayCount: "2"},
			absent:  []string{dlq.HeaderSourceTimestamp, dlq.HeaderFacebookCode, dlq.HeaderFacebookSubcode},
			userHdr: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dlq.Record("events.dlq", tt.src, tt.f)
			if r.Topic != "events.dlq" || string(r.Key) != string(tt.src.Key) || string(r.Value) != string(tt.src.Value) {
				t.Errorf("record %s key %q value %q", r.Topic, r.Key, r.Value)
			}
			seen := map[string]int{}
			user := 0
			for _, h := range r.Headers {
				seen[h.Key]++
				if len(h.Key) < 5 || h.Key[:5] != "capi-" {
					user++
				}
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("header %s appears %d times", k, n)
				}
			}
			if user != tt.userHdr {
				t.Errorf("%d source headers kept, want %d", user, tt.userHdr)
			}
			for k, want := range tt.want {
				if got, ok := dlq.Header(r.Headers, k); !ok || got != want {
					t.Errorf("%s = %q (present %v), want %q", k, got, ok, want)
				}
			}
			for _, k := range tt.absent {
				if _, ok := dlq.Header(r.Headers, k); ok {
					t.Errorf("%s present", k)
				}
			}
			// Values are independent slices: appending to one must not overwrite the next.
			for i := range r.Headers {
				before := map[string]string{}
				for _, h := range r.Headers {
					before[h.Key] = string(h.Value)
				}
				r.Headers[i].Value = append(r.Headers[i].Value, 'X')
				for j, h := range r.Headers {
					if j != i && string(h.Value) != before[h.Key] {
						t.Fatalf("appending to %s changed %s", r.Headers[i].Key, h.Key)
					}
				}
				r.Headers[i].Value = r.Headers[i].Value[:len(r.Headers[i].Value)-1]
			}
		})
	}
}

func BenchmarkRecord(b *testing.B) {
	src := &kgo.Record{Topic: "events", Partition: 3, Offset: 123456789, Timestamp: time.UnixMilli(1795960800123),
		Key: []byte("k"), Value: make([]byte, 800)}
	f := dlq.Failure{Rejection: reject.New(reject.NoConsent, reject.StageConsent, "consent category 2 not granted"), Destination: "main",
		FailedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if r := dlq.Record("events.dlq", src, f); len(r.Headers) != 10 {
			b.Fatal(len(r.Headers))
		}
	}
}

// A reference keeps every capi-* header, marks the value omitted with the source size, says why in capi-error,
// and drops the value, the source's own headers and a long key.
func TestReference(t *testing.T) {
	failedAt := time.Date(2026, 11, 29, 18, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		key     []byte
		keyKept bool
	}{
		{"short key kept", []byte("user-1"), true},
		{"long key omitted", make([]byte, 2000), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			value := make([]byte, 3<<20)
			src := &kgo.Record{Topic: "events", Partition: 2, Offset: 77, Key: tt.key, Value: value,
				Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t1")}}}
			whole := dlq.Record("events.dlq", src, dlq.Failure{Rejection: reject.New(reject.InvalidPayload, reject.StageDecode, "syntax error"), FailedAt: failedAt})
			ref := dlq.Reference(whole, "value omitted: too large")
			h := func(k string) string { v, _ := dlq.Header(ref.Headers, k); return v }
			if len(ref.Value) != 0 || !dlq.IsReference(ref.Headers) || dlq.IsReference(whole.Headers) {
				t.Fatalf("value %d bytes, reference %v", len(ref.Value), dlq.IsReference(ref.Headers))
			}
			if h(dlq.HeaderReason) != "invalid_payload" || h(dlq.HeaderSourceTopic) != "events" || h(dlq.HeaderSourcePartition) != "2" ||
				h(dlq.HeaderSourceOffset) != "77" || h(dlq.HeaderError) != "syntax error; value omitted: too large" {
				t.Fatalf("headers %v", ref.Headers)
			}
			if want := dlq.Size(whole); h(dlq.HeaderSourceSize) != strconv.Itoa(want) || want < len(value) {
				t.Fatalf("capi-source-size %q, want %d", h(dlq.HeaderSourceSize), want)
			}
			if _, ok := dlq.Header(ref.Headers, "trace"); ok {
				t.Error("the source's own headers are kept in a reference")
			}
			if (string(ref.Key) == string(tt.key)) != tt.keyKept {
				t.Errorf("key kept = %v, want %v", string(ref.Key) == string(tt.key), tt.keyKept)
			}
			if again := dlq.Reference(ref, "again"); len(again.Headers) != len(ref.Headers) {
				t.Errorf("a reference of a reference repeats headers: %d vs %d", len(again.Headers), len(ref.Headers))
			}
		})
	}
}
