// Package processor assembles the transformation stages (decode → consent → map → normalize + hash → eligibility →
// validation → encode) into one Pipeline per configuration, with no Kafka and no HTTP involved. The delivery
// runtime (processor/stream) and the preview command both call Pipeline.Process, so what preview prints is exactly
// what the service sends.
package processor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capi-connector/capi-connector/processor/consent"
	"github.com/capi-connector/capi-connector/processor/eligibility"
	"github.com/capi-connector/capi-connector/processor/fbevent"
	"github.com/capi-connector/capi-connector/processor/mapping"
	"github.com/capi-connector/capi-connector/processor/normalize"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/schema"
)

// Decoder turns a record value into an Event. Decode must first reset *ev to the zero Event, on success and on
// error, as every schema decoder does: the pipeline reuses one Event across records and does not clear it itself
// (that would zero it twice per record), so a field a decoder leaves untouched would carry the previous record's
// data, personal data included, into this one. Errors wrapping schema.ErrSchema become schema_error rejections,
// errors wrapping schema.ErrInvalidJSON / schema.ErrInvalidField / schema.ErrNotFramed (bytes that are not
// Confluent-framed Avro at all) become invalid_payload rejections, and any other error (a schema registry that
// cannot be reached) is transient: Process returns it and the caller retries.
type Decoder interface {
	Decode(ctx context.Context, data []byte, ev *schema.Event) error
}

// LDU is Meta's Limited Data Use setting of a destination (data_processing_options ["LDU"] with a country and
// state; 0/0 lets Meta geolocate).
type LDU struct {
	Enabled bool
	Country int64
	State   int64
}

// Destination is what the transformation needs to know about one pixel. Delivery settings (token, batching) live
// in the runtime, not here.
type Destination struct {
	Name            string
	ConsentCategory string // "" = no consent filter
	DefaultRegion   string // phone default region, "" = none
	// Placeholders are user_data values that mean "no data" ("n/a", "null"): dropped, not hashed.
	Placeholders []string
	Include      []string
	Exclude      []string
	LDU          LDU
	Mapping      mapping.Options
	Rules        eligibility.Rules
}

// Record is the input of one Process call.
type Record struct {
	// Topic is the source topic; it selects the decoder when topics have different input formats.
	Topic string
	Value []byte
	// Timestamp is the Kafka record timestamp (preview: --now). It is the event_time of events that carry no
	// context.event_timestamp, so a replay keeps the original time.
	Timestamp time.Time
}

// Outcome is the result of one record for one destination: exactly one of Filtered, Rejection or JSON is set.
type Outcome struct {
	Destination int // index into the pipeline's destinations
	// Filtered is true when the destination's event filter excludes the event: nothing to send, nothing to DLQ.
	Filtered  bool
	Rejection *reject.Rejection
	// JSON is the encoded server event (owned by the caller), with the fields delivery needs.
	JSON         []byte
	EventID      string
	EventName    string
	EventTime    int64
	ActionSource string
	// MatchKeys has a bit per match key the delivered event carries (KeyEm…KeyFBC), for coverage metrics.
	MatchKeys MatchKeys
	// DroppedCustomParams counts custom parameters left out beyond mapping.MaxCustomParams.
	DroppedCustomParams int
	// Dropped names the user_data fields normalization dropped and why (set whether the event was then
	// delivered or rejected; empty when it never reached normalization).
	Dropped normalize.Drops
}

// MatchKeys is a set of the match keys Meta weighs most for Event Match Quality.
type MatchKeys uint8

// Match keys.
const (
	KeyEm MatchKeys = 1 << iota
	KeyPh
	KeyExternalID
	KeyFBP
	KeyFBC
)

// MatchKeyNames are the user_data names of the match keys, in bit order.
var MatchKeyNames = [...]string{"em", "ph", "external_id", "fbp", "fbc"}

func matchKeys(u *fbevent.UserData) MatchKeys {
	var k MatchKeys
	if u.Em != "" {
		k |= KeyEm
	}
	if u.Ph != "" {
		k |= KeyPh
	}
	if u.ExternalID != "" {
		k |= KeyExternalID
	}
	if u.FBP != "" {
		k |= KeyFBP
	}
	if u.FBC != "" {
		k |= KeyFBC
	}
	return k
}

// Pipeline runs the stages for every configured destination. It is safe for concurrent use.
type Pipeline struct {
	dec     Decoder
	byTopic map[string]Decoder
	dests   []dest
	scratch sync.Pool // of *scratch
}

// scratch is the working memory of one Process call, pooled so that the hot path allocates only what it hands
// out. Nothing in it outlives the call: Outcome.JSON is a copy. The server event is not in it: it stays on
// process's stack, where writing its strings costs no GC write barrier.
type scratch struct {
	// ev is reset by the decoder at the start of every Decode (the Decoder contract), so it is not cleared again
	// on release: a pooled scratch keeps its last event's memory alive until reuse or the pool's GC-time drop,
	// and no record ever sees another's fields (TestPipelineNoStaleFields).
	ev  schema.Event
	buf []byte // the encoding of the server event
	// digests backs the hashed user_data of the server event being built (normalize.UserDataInto). The server
	// event is encoded before the next destination reuses it, and no Outcome field refers to user_data.
	digests normalize.Digests
	// contents backs custom_data.contents of the server event being built (mapping.Input.Contents), for the
	// same reason; cleared on release, as its elements point into the decoded event.
	contents [8]fbevent.Content
}

// maxPooledBuf is the largest encoding buffer kept in the pool; a rare huge event does not pin its memory.
const maxPooledBuf = 64 << 10

type dest struct {
	cfg     Destination
	include map[string]bool
	exclude map[string]bool
	norm    *normalize.Normalizer
	// dropped counts the fields normalization dropped, by field and reason (capi_user_data_dropped_total).
	dropped *[normalize.NumFields][normalize.NumReasons]atomic.Uint64
}

// New builds a pipeline. It fails on a destination whose settings cannot work (an unknown phone region).
func New(dec Decoder, dests []Destination) (*Pipeline, error) {
	if len(dests) == 0 {
		return nil, errors.New("processor: at least one destination is required")
	}
	p := &Pipeline{dec: dec}
	p.scratch.New = func() any { return &scratch{buf: make([]byte, 0, 2048)} }
	for _, d := range dests {
		n, err := normalize.NewWithOptions(normalize.Options{DefaultRegion: d.DefaultRegion, Placeholders: d.Placeholders})
		if err != nil {
			return nil, fmt.Errorf("destination %q: %w", d.Name, err)
		}
		p.dests = append(p.dests, dest{cfg: d, include: set(d.Include), exclude: set(d.Exclude), norm: n,
			dropped: new([normalize.NumFields][normalize.NumReasons]atomic.Uint64)})
	}
	return p, nil
}

func set(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// SetTopicDecoder makes records of topic decode with dec instead of the default decoder (input format per source
// topic). Call it before the pipeline is used.
func (p *Pipeline) SetTopicDecoder(topic string, dec Decoder) {
	if p.byTopic == nil {
		p.byTopic = map[string]Decoder{}
	}
	p.byTopic[topic] = dec
}

// Destinations returns the destinations in index order.
func (p *Pipeline) Destinations() []Destination {
	out := make([]Destination, len(p.dests))
	for i, d := range p.dests {
		out[i] = d.cfg
	}
	return out
}

// Process runs one record through every destination and appends one Outcome per destination to out. The only
// error is a transient decoder failure (nothing appended); the caller retries the same record later.
func (p *Pipeline) Process(ctx context.Context, rec Record, now time.Time, out []Outcome) ([]Outcome, error) {
	sc := p.scratch.Get().(*scratch)
	defer p.release(sc)
	if blank(rec.Value) {
		// Said as it is rather than as a syntax error at byte 0: a tombstone (a null value, e.g. a compaction delete)
		// or an empty record is a producer's doing an operator should recognise at once.
		detail := "empty record"
		if rec.Value == nil {
			detail = "tombstone (null value)"
		}
		rej := &reject.Rejection{Reason: reject.InvalidPayload, Stage: reject.StageDecode, Detail: detail}
		for i := range p.dests {
			out = append(out, Outcome{Destination: i, Rejection: rej})
		}
		return out, nil
	}
	dec := p.dec
	if d, ok := p.byTopic[rec.Topic]; ok {
		dec = d
	}
	if err := dec.Decode(ctx, rec.Value, &sc.ev); err != nil {
		rej := decodeRejection(err)
		if rej == nil {
			return out, err
		}
		for i := range p.dests {
			out = append(out, Outcome{Destination: i, Rejection: rej})
		}
		return out, nil
	}
	for i := range p.dests {
		out = append(out, p.dests[i].process(sc, rec, now, i))
	}
	return out, nil
}

// blank reports whether b holds nothing but JSON white space; it stops at the first other byte (the first byte
// of every real event).
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func (p *Pipeline) release(sc *scratch) {
	clear(sc.contents[:])
	if cap(sc.buf) > maxPooledBuf {
		return
	}
	p.scratch.Put(sc)
}

func decodeRejection(err error) *reject.Rejection {
	switch {
	case errors.Is(err, schema.ErrSchema):
		return &reject.Rejection{Reason: reject.SchemaError, Stage: reject.StageDecode, Detail: err.Error()}
	case errors.Is(err, schema.ErrInvalidJSON), errors.Is(err, schema.ErrInvalidField), errors.Is(err, schema.ErrNotFramed):
		return &reject.Rejection{Reason: reject.InvalidPayload, Stage: reject.StageDecode, Detail: err.Error()}
	}
	return nil
}

// process runs the stages after decoding for one destination; the outcome refers to nothing in sc.
func (d *dest) process(sc *scratch, rec Record, now time.Time, idx int) Outcome {
	ev := &sc.ev
	var event fbevent.Event
	fb := &event
	o := Outcome{Destination: idx}
	if d.filtered(ev.EventName) {
		o.Filtered = true
		return o
	}
	if rej := consent.Check(d.cfg.ConsentCategory, ev); rej != nil {
		o.Rejection = rej
		return o
	}
	if rej := mapping.Map(ev, mapping.Input{Raw: rec.Value, RecordTime: rec.Timestamp, Contents: sc.contents[:]}, d.cfg.Mapping, fb); rej != nil {
		o.Rejection = rej
		return o
	}
	if d.cfg.LDU.Enabled && !fb.HasDataProcessingOptions {
		fb.DataProcessingOptions = []string{"LDU"}
		fb.HasDataProcessingOptions = true
		fb.DataProcessingOptionsCountry, fb.HasDataProcessingOptionsCountry = d.cfg.LDU.Country, true
		fb.DataProcessingOptionsState, fb.HasDataProcessingOptionsState = d.cfg.LDU.State, true
	}
	// The hashed fields alias sc.digests from here on: fb must not be retained past this call (the outcome
	// takes copies of nothing but event-level strings, which never alias it).
	o.Dropped = d.norm.UserDataInto(&fb.UserData, &sc.digests)
	if o.Dropped.Any() {
		for f, r := range o.Dropped.Indexes() {
			d.dropped[f][r].Add(1)
		}
	}
	if rej := eligibility.Check(fb, now, d.cfg.Rules); rej != nil {
		o.Rejection = withDrops(rej, &o.Dropped)
		return o
	}
	if err := fbevent.Validate(fb, now); err != nil {
		o.Rejection = &reject.Rejection{Reason: reject.InvalidEvent, Stage: reject.StageValidate, Detail: err.Error()}
		return o
	}
	// Encoded into the pooled buffer, then copied: one exactly sized allocation that the caller owns (make and
	// copy rather than bytes.Clone, whose append rounds the capacity up to the next size class). Written as
	// make and copy between local variables, the pair compiles to runtime.makeslicecopy, which does not zero the
	// memory it is about to overwrite.
	buf := fbevent.AppendJSON(sc.buf[:0], fb)
	sc.buf = buf
	js := make([]byte, len(buf))
	copy(js, buf)
	o.JSON = js
	o.EventID, o.EventName, o.EventTime, o.ActionSource = fb.EventID, fb.EventName, fb.EventTime, fb.ActionSource
	o.MatchKeys = matchKeys(&fb.UserData)
	o.DroppedCustomParams = fb.CustomData.DroppedParams
	return o
}

// withDrops adds the dropped fields to an eligibility rejection's detail ("…; dropped: ph invalid_phone"), so
// that the DLQ and preview say why a field the event carried did not count. Field names and reasons only.
func withDrops(rej *reject.Rejection, drops *normalize.Drops) *reject.Rejection {
	if !drops.Any() {
		return rej
	}
	b := make([]byte, 0, len(rej.Detail)+64)
	b = append(b, rej.Detail...)
	b = append(b, "; dropped: "...)
	b = drops.AppendText(b)
	return reject.NewDetail(rej.Reason, rej.Stage, string(b))
}

// DroppedUserData calls fn for every (destination, user_data field, reason) whose count of dropped values is
// not zero: the source of capi_user_data_dropped_total. Safe to call concurrently with Process.
func (p *Pipeline) DroppedUserData(fn func(destination, field, reason string, n uint64)) {
	fields := normalize.Fields()
	for i := range p.dests {
		d := &p.dests[i]
		for f := range d.dropped {
			for r := range d.dropped[f] {
				if n := d.dropped[f][r].Load(); n > 0 {
					fn(d.cfg.Name, fields[f], normalize.Reason(r).String(), n)
				}
			}
		}
	}
}

func (d *dest) filtered(name string) bool {
	if d.include != nil && !d.include[name] {
		return true
	}
	return d.exclude[name]
}
