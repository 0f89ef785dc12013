package schema

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// Confluent wire format: magic byte 0, the writer schema id as 4 big-endian bytes, then the Avro binary datum.
const (
	confluentMagic     = 0
	confluentHeaderLen = 5
)

// ErrNotFramed: the record is not in the Confluent wire format at all (shorter than its 5-byte header, or a first
// byte other than 0, e.g. JSON on an Avro topic). No registry change can ever make it decodable, so the runtime
// dead-letters it as invalid_payload, not schema_error (which an operator replays after fixing a schema).
var ErrNotFramed = errors.New("not in the Confluent wire format")

// DefaultFailureTTL is how long a schema id that failed for good (not found, not Avro, an unresolvable reference)
// is remembered when RegistryConfig.FailureTTL is zero: records naming it are dead-lettered without asking the
// registry again until then.
const DefaultFailureTTL = time.Minute

// maxFailedIDs bounds the remembered failures (a topic of random bytes names random ids): past it, expired ones
// are swept and new failures are not remembered.
const maxFailedIDs = 10_000

// maxReferenceDepth bounds a chain of schema references (cycles are refused before that).
const maxReferenceDepth = 32

// AvroConfluentDecoder decodes records in the Confluent wire format (input format avro-confluent). The writer
// schema is fetched from the registry by id, with the schemas it references, parsed into a name cache of its own
// (a name one writer schema defines is never visible to another), checked against the event model, and kept for
// the life of the decoder: a Confluent schema id is immutable, so a cached schema never goes stale. It is safe
// for concurrent use.
//
// Exactly one registry fetch happens per id, and per referenced subject/version, however many records wait for
// it. A registry that cannot answer is not remembered: the next record asks again. An id that fails for good (not
// found, not Avro, an unresolvable reference) is remembered for RegistryConfig.FailureTTL, so a topic full of
// such records costs one registry request per id and period, not one per record.
type AvroConfluentDecoder struct {
	codec *avroCodec
	src   schemaSource

	schemas flight[int, avro.Schema]       // by schema id: the accepted writer schema
	refs    flight[refKey, registrySchema] // by subject/version: the referenced schema as the registry sent it
}

type refKey struct {
	subject string
	version int
}

// NewAvroConfluent returns a decoder fetching writer schemas from the registry described by reg. It does not
// contact the registry: the first record does.
func NewAvroConfluent(reg RegistryConfig, lim Limits) (*AvroConfluentDecoder, error) {
	client, err := newRegistryClient(reg)
	if err != nil {
		return nil, err
	}
	return newAvroConfluent(client, lim, reg.FailureTTL, time.Now)
}

func newAvroConfluent(src schemaSource, lim Limits, failureTTL time.Duration, now func() time.Time) (*AvroConfluentDecoder, error) {
	c, err := newAvroCodec(lim)
	if err != nil {
		return nil, err
	}
	if failureTTL <= 0 {
		failureTTL = DefaultFailureTTL
	}
	d := &AvroConfluentDecoder{codec: c, src: src}
	d.schemas.init(failureTTL, now)
	d.refs.init(failureTTL, now)
	return d, nil
}

// Decode implements Decoder. Errors wrap ErrNotFramed (not Confluent wire format), ErrSchema (about the record:
// DLQ) or ErrRegistryUnavailable (about the registry: retry), or are ctx's error when ctx ends while waiting for
// the registry.
func (d *AvroConfluentDecoder) Decode(ctx context.Context, data []byte, ev *Event) error {
	*ev = Event{}
	id, err := confluentSchemaID(data)
	if err != nil {
		return err
	}
	s, err := d.schemas.get(ctx, id, func(ctx context.Context) (avro.Schema, error) { return d.load(ctx, id) })
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return fmt.Errorf("schema id %d: waiting for the registry: %w", id, err)
		}
		return err
	}
	if err := d.codec.decode(s, data[confluentHeaderLen:], ev); err != nil {
		return fmt.Errorf("schema id %d: %w", id, err)
	}
	return nil
}

// confluentSchemaID checks the wire-format header and returns the schema id.
func confluentSchemaID(data []byte) (int, error) {
	if len(data) < confluentHeaderLen {
		return 0, fmt.Errorf("%w: record of %d bytes is shorter than the 5-byte header", ErrNotFramed, len(data))
	}
	if data[0] != confluentMagic {
		return 0, fmt.Errorf("%w: first byte 0x%02x, want the magic byte 0x00", ErrNotFramed, data[0])
	}
	return int(binary.BigEndian.Uint32(data[1:confluentHeaderLen])), nil
}

// load fetches schema id with its references, parses them into a name cache of this id's own (references first,
// depth first), then the schema, and checks it against the event model.
func (d *AvroConfluentDecoder) load(ctx context.Context, id int) (avro.Schema, error) {
	s, err := d.src.schemaByID(ctx, id)
	if err != nil {
		return nil, classifyFetchError(id, sr.SchemaReference{}, err)
	}
	if err := checkAvroType(s.SchemaType); err != nil {
		return nil, fmt.Errorf("%w: schema id %d: %w", ErrSchema, id, err)
	}
	r := &refResolver{d: d, id: id, cache: &avro.SchemaCache{}, parsed: map[refKey]bool{}}
	for _, ref := range s.References {
		if err := r.resolve(ctx, ref, nil); err != nil {
			return nil, err
		}
	}
	writer, err := avro.ParseWithCache(s.Schema, "", r.cache)
	if err != nil {
		return nil, fmt.Errorf("%w: schema id %d: registry schema is not usable Avro: %w", ErrSchema, id, err)
	}
	accepted, err := d.codec.accept(writer)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	return accepted, nil
}

// checkAvroType refuses a schema the registry holds as another type (Protobuf, JSON Schema); "" means Avro.
func checkAvroType(t string) error {
	if t != "" && !strings.EqualFold(t, "AVRO") {
		return fmt.Errorf("the registry holds a %s schema, not Avro", t)
	}
	return nil
}

// refResolver parses the references of one schema id into that id's own name cache.
type refResolver struct {
	d      *AvroConfluentDecoder
	id     int
	cache  *avro.SchemaCache
	parsed map[refKey]bool // references already in cache (a type referenced twice is parsed once)
}

// resolve parses ref into r.cache, its own references first. path is the chain of references being resolved,
// to refuse cycles.
func (r *refResolver) resolve(ctx context.Context, ref sr.SchemaReference, path []refKey) error {
	k := refKey{ref.Subject, ref.Version}
	for i, p := range path {
		if p == k {
			chain := make([]string, 0, len(path)-i+1)
			for _, q := range append(path[i:], k) {
				chain = append(chain, fmt.Sprintf("%s/%d", q.subject, q.version))
			}
			return fmt.Errorf("%w: schema id %d: reference %s: reference cycle %s", ErrSchema, r.id, ref.Name,
				strings.Join(chain, " → "))
		}
	}
	if len(path) >= maxReferenceDepth {
		return fmt.Errorf("%w: schema id %d: reference %s: references nested deeper than %d", ErrSchema, r.id,
			ref.Name, maxReferenceDepth)
	}
	if r.parsed[k] {
		return nil
	}
	ss, err := r.d.refs.get(ctx, k, func(ctx context.Context) (registrySchema, error) {
		ss, err := r.d.src.schemaByVersion(ctx, k.subject, k.version)
		if err != nil {
			return ss, classifyFetchError(r.id, ref, err)
		}
		return ss, nil
	})
	if err != nil {
		var re *RegistryError
		if errors.As(err, &re) {
			// The answer is shared by every id referencing this subject/version: name this record's id and
			// reference name.
			own := *re
			own.SchemaID, own.Reference = r.id, ref.Name
			return &own
		}
		return err
	}
	if err := checkAvroType(ss.SchemaType); err != nil {
		return fmt.Errorf("%w: schema id %d: reference %s (subject %q version %d): %w", ErrSchema, r.id, ref.Name,
			k.subject, k.version, err)
	}
	for _, sub := range ss.References {
		if err := r.resolve(ctx, sub, append(path, k)); err != nil {
			return err
		}
	}
	if _, err := avro.ParseWithCache(ss.Schema, "", r.cache); err != nil {
		return fmt.Errorf("%w: schema id %d: reference %s (subject %q version %d) is not usable Avro: %w", ErrSchema,
			r.id, ref.Name, k.subject, k.version, err)
	}
	r.parsed[k] = true
	return nil
}

// flight is a cache of values fetched once per key: concurrent callers for a missing key share one fetch, a
// success is kept for good, a failure for good (ErrSchema) for a bounded time, any other failure not at all.
type flight[K comparable, V any] struct {
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	m      map[K]*flightEntry[V]
	failed int // entries in m holding a remembered failure
}

type flightEntry[V any] struct {
	done  chan struct{} // closed when val/err are set
	val   V
	err   error
	until time.Time // a remembered failure: forgotten at that time (set under flight.mu)
}

func (f *flight[K, V]) init(ttl time.Duration, now func() time.Time) {
	f.ttl, f.now, f.m = ttl, now, make(map[K]*flightEntry[V])
}

// get returns the value for key, running fetch once for all concurrent callers. fetch runs detached from the
// caller's cancellation (bounded by the registry timeout instead), so a caller abandoned by shutdown or a
// rebalance does not fail the others waiting on the same key; the caller stops waiting when ctx ends.
func (f *flight[K, V]) get(ctx context.Context, key K, fetch func(context.Context) (V, error)) (V, error) {
	f.mu.Lock()
	e, ok := f.m[key]
	if ok && !e.until.IsZero() && !f.now().Before(e.until) {
		delete(f.m, key)
		f.failed--
		ok = false
	}
	if !ok {
		e = &flightEntry[V]{done: make(chan struct{})}
		f.m[key] = e
		go f.run(context.WithoutCancel(ctx), key, e, fetch)
	}
	f.mu.Unlock()

	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func (f *flight[K, V]) run(ctx context.Context, key K, e *flightEntry[V], fetch func(context.Context) (V, error)) {
	v, err := fetch(ctx)
	f.mu.Lock()
	e.val, e.err = v, err
	if err != nil {
		if errors.Is(err, ErrSchema) && !errors.Is(err, ErrRegistryUnavailable) && f.remember() {
			e.until = f.now().Add(f.ttl)
			f.failed++
		} else {
			delete(f.m, key) // the next caller asks again; waiters already holding e still see this error
		}
	}
	f.mu.Unlock()
	close(e.done)
}

// remember reports whether one more failure may be kept, sweeping expired ones when the bound is reached.
// Called with f.mu held.
func (f *flight[K, V]) remember() bool {
	if f.failed < maxFailedIDs {
		return true
	}
	now := f.now()
	for k, e := range f.m {
		if !e.until.IsZero() && !now.Before(e.until) {
			delete(f.m, k)
			f.failed--
		}
	}
	return f.failed < maxFailedIDs
}
