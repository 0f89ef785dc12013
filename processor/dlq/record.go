// Package dlq defines the dead-letter record (docs/dlq.md): the source record's key, value and headers byte for
// byte, plus capi-* headers saying why, where and when. Replay reads the same headers back.
package dlq

import (
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/reject"
)

// Header names. They are contracts: replay filters and users' tooling read them.
const (
	HeaderReason          = "capi-reason"
	HeaderStage           = "capi-stage"
	HeaderError           = "capi-error"
	HeaderDestination     = "capi-destination"
	HeaderSourceTopic     = "capi-source-topic"
	HeaderSourcePartition = "capi-source-partition"
	HeaderSourceOffset    = "capi-source-offset"
	HeaderFailedAt        = "capi-failed-at"
	HeaderReplayCount     = "capi-replay-count"
	// HeaderSourceTimestamp is the source record's timestamp in Unix milliseconds. The DLQ record's own timestamp
	// is the time of failure; replay restores this one, so an event without context.event_timestamp keeps its
	// original event_time (docs/mapping.md) instead of the failure time.
	HeaderSourceTimestamp = "capi-source-timestamp"
	// HeaderFacebookCode and HeaderFacebookSubcode are set when Facebook rejected the event.
	HeaderFacebookCode    = "capi-facebook-code"
	HeaderFacebookSubcode = "capi-facebook-subcode"
	// HeaderValueOmitted is "true" on a reference record: the source record was too large for the DLQ topic, so
	// the DLQ holds its headers only; the original stays in the source topic at capi-source-partition /
	// capi-source-offset (until the source topic's retention removes it).
	HeaderValueOmitted = "capi-value-omitted"
	// HeaderSourceSize is the size in bytes of the source record (key + value + headers) on a reference record.
	HeaderSourceSize = "capi-source-size"
	headerPrefix     = "capi-"
)

// maxReferenceKey is the largest source key a reference record keeps; a longer key is omitted with the value.
const maxReferenceKey = 1024

// Size is the number of bytes of r that count against a topic's max.message.bytes, before the batch overhead: key,
// value and headers.
func Size(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// Reference turns the DLQ record r (built by Record) into a reference: the capi-* headers only, plus
// capi-value-omitted and capi-source-size, with why appended to capi-error. The source key is kept when it is short.
// A record too large for the DLQ topic cannot be dead-lettered whole, and holding its partition for ever would
// stall it; the reference says where the original is.
func Reference(r *kgo.Record, why string) *kgo.Record {
	hs := make([]kgo.RecordHeader, 0, 16)
	for _, h := range r.Headers {
		if !strings.HasPrefix(h.Key, headerPrefix) || h.Key == HeaderValueOmitted || h.Key == HeaderSourceSize {
			continue
		}
		if h.Key == HeaderError {
			v := string(h.Value)
			if v != "" {
				v += "; "
			}
			h.Value = []byte(v + why)
		}
		hs = append(hs, h)
	}
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderValueOmitted, Value: []byte("true")},
		kgo.RecordHeader{Key: HeaderSourceSize, Value: strconv.AppendInt(nil, int64(Size(r)), 10)})
	ref := &kgo.Record{Topic: r.Topic, Headers: hs}
	if len(r.Key) <= maxReferenceKey {
		ref.Key = r.Key
	}
	return ref
}

// IsReference reports whether the DLQ record headers hs mark a reference (value omitted).
func IsReference(hs []kgo.RecordHeader) bool {
	v, ok := Header(hs, HeaderValueOmitted)
	return ok && v == "true"
}

// Failure describes why a record goes to the DLQ.
type Failure struct {
	Rejection   *reject.Rejection
	Destination string // "" when the record failed for every destination (decode errors)
	FailedAt    time.Time
	// FacebookCode / FacebookSubcode are Facebook's error code and subcode when Facebook rejected the event.
	FacebookCode, FacebookSubcode int
}

// Record builds the DLQ record for src. The source key, value and non-capi headers are kept byte for byte (the
// slices are shared with src, which must not be modified afterwards); a capi-replay-count already on the source
// (a replayed record failing again) is carried over so the replay limit holds across rounds.
func Record(topic string, src *kgo.Record, f Failure) *kgo.Record {
	replays := ReplayCount(src.Headers)
	hs := make([]kgo.RecordHeader, 0, len(src.Headers)+12)
	for _, h := range src.Headers {
		if strings.HasPrefix(h.Key, headerPrefix) {
			continue
		}
		hs = append(hs, h)
	}
	// Every capi-* value is appended to one buffer, and the headers get their values only once all are in (so a
	// growth of the buffer moves nothing already sliced): one allocation instead of one per header.
	buf := make([]byte, 0, 128+len(f.Rejection.Reason)+len(f.Rejection.Stage)+len(f.Rejection.Detail)+len(f.Destination)+len(src.Topic))
	first := len(hs)
	var ends [12]int
	header := func(key string) { // the value of key is what buf gained since the previous header
		ends[len(hs)-first] = len(buf)
		hs = append(hs, kgo.RecordHeader{Key: key})
	}
	buf = append(buf, f.Rejection.Reason...)
	header(HeaderReason)
	buf = append(buf, f.Rejection.Stage...)
	header(HeaderStage)
	buf = append(buf, f.Rejection.Detail...)
	header(HeaderError)
	buf = append(buf, f.Destination...)
	header(HeaderDestination)
	buf = append(buf, src.Topic...)
	header(HeaderSourceTopic)
	buf = strconv.AppendInt(buf, int64(src.Partition), 10)
	header(HeaderSourcePartition)
	buf = strconv.AppendInt(buf, src.Offset, 10)
	header(HeaderSourceOffset)
	buf = f.FailedAt.UTC().AppendFormat(buf, time.RFC3339)
	header(HeaderFailedAt)
	buf = strconv.AppendInt(buf, int64(replays), 10)
	header(HeaderReplayCount)
	if !src.Timestamp.IsZero() {
		buf = strconv.AppendInt(buf, src.Timestamp.UnixMilli(), 10)
		header(HeaderSourceTimestamp)
	}
	if f.FacebookCode != 0 {
		buf = strconv.AppendInt(buf, int64(f.FacebookCode), 10)
		header(HeaderFacebookCode)
		buf = strconv.AppendInt(buf, int64(f.FacebookSubcode), 10)
		header(HeaderFacebookSubcode)
	}
	start := 0
	for i := range hs[first:] {
		end := ends[i]
		hs[first+i].Value = buf[start:end:end]
		start = end
	}
	return &kgo.Record{Topic: topic, Key: src.Key, Value: src.Value, Headers: hs}
}

// Header returns the value of the last header named key, and whether it exists.
func Header(hs []kgo.RecordHeader, key string) (string, bool) {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return string(hs[i].Value), true
		}
	}
	return "", false
}

// ReplayCount is the capi-replay-count header as a number (0 when absent or unreadable).
func ReplayCount(hs []kgo.RecordHeader) int {
	v, ok := Header(hs, HeaderReplayCount)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
