package schema

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"
)

// hamba/avro is no longer maintained upstream, so it stays behind this file, avro_confluent.go, registry.go and
// avro_encode.go: nothing outside package schema imports it, and swapping it means rewriting these files only.

//go:embed commandersact_event.avsc
var eventSchemaText string

// EventAvroSchema returns the Avro schema of the Commanders Act event as the connector reads it
// (commandersact_event.avsc). It is the reader schema of every Avro decoder: writer schemas are resolved against it.
func EventAvroSchema() string { return eventSchemaText }

// Decoder turns a record value into an Event. Implementations: the JSON decoder (adapted by the runtime),
// AvroDecoder (fixed schema) and AvroConfluentDecoder (schema registry). Decode resets *ev first; on error *ev is
// the zero Event. Implementations are safe for concurrent use.
type Decoder interface {
	Decode(ctx context.Context, data []byte, ev *Event) error
}

var (
	// ErrSchema: the record cannot be decoded with its schema: malformed or truncated Avro, a bad Confluent magic
	// byte, an unknown schema id, a writer schema that is not Avro or not compatible with the reader schema, or a
	// value the event model cannot hold. It is about the record, so retrying cannot help: the runtime sends it to
	// the DLQ as schema_error.
	ErrSchema = errors.New("avro schema error")
	// ErrRegistryUnavailable: the schema registry could not answer (unreachable, timeout, 5xx, 429, or a
	// misconfiguration such as refused credentials or a wrong URL). It is not about the record: the runtime retries
	// and never sends the record to the DLQ for it.
	ErrRegistryUnavailable = errors.New("schema registry unavailable")
)

// errAvroPanic marks a panic inside hamba turned into an error; the fuzz test fails on it so such inputs get
// noticed, while production keeps running.
var errAvroPanic = errors.New("decoder panic")

// Limits bound what one hostile or corrupt record can make the Avro decoder allocate.
type Limits struct {
	// MaxByteSliceSize is the largest string or bytes value accepted, in bytes (default 1 MiB). A declared length
	// above it fails before any allocation; one below it may allocate up to that size before the truncation is
	// noticed, so this is the per-value memory bound.
	MaxByteSliceSize int
	// MaxSliceAllocSize is the largest number of elements accepted in one array (default 10000). Items are a few
	// hundred bytes each, so the default bounds one array to a few MiB.
	MaxSliceAllocSize int
}

// Default limits: far above any real event, far below what would hurt a small container.
const (
	DefaultMaxByteSliceSize  = 1 << 20
	DefaultMaxSliceAllocSize = 10_000
)

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxByteSliceSize < 0 || l.MaxSliceAllocSize < 0 {
		return l, errors.New("avro limits must not be negative (0 selects the default)")
	}
	if l.MaxByteSliceSize == 0 {
		l.MaxByteSliceSize = DefaultMaxByteSliceSize
	}
	if l.MaxSliceAllocSize == 0 {
		l.MaxSliceAllocSize = DefaultMaxSliceAllocSize
	}
	return l, nil
}

// avroCodec is the part shared by both Avro decoders: one frozen hamba config with explicit limits (owned by the
// decoder, never hamba's global DefaultConfig), the parsed reader schema, and a pool of readers.
type avroCodec struct {
	api    avro.API
	reader avro.Schema
	compat *avro.SchemaCompatibility
	pool   sync.Pool // of *avro.Reader
}

func newAvroCodec(lim Limits) (*avroCodec, error) {
	lim, err := lim.withDefaults()
	if err != nil {
		return nil, err
	}
	api := avro.Config{
		MaxByteSliceSize:  lim.MaxByteSliceSize,
		MaxSliceAllocSize: lim.MaxSliceAllocSize,
		// A writer union may carry branches our Go types do not know; resolve the others anyway.
		PartialUnionTypeResolution: true,
	}.Freeze()
	api.Register("com.commandersact.RawJSON", avroRawJSON{})
	reader, err := parseAvroSchema(eventSchemaText)
	if err != nil {
		return nil, fmt.Errorf("embedded event schema: %w", err)
	}
	c := &avroCodec{api: api, reader: reader, compat: avro.NewSchemaCompatibility()}
	c.pool.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(api)) }
	return c, nil
}

// parseAvroSchema parses with a private name cache: hamba's avro.Parse would read and grow its process-wide
// DefaultSchemaCache, letting one schema resolve names another one defined.
func parseAvroSchema(text string) (avro.Schema, error) {
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: parse schema: %w", ErrSchema, err)
	}
	return s, nil
}

// resolve returns the schema to decode data written with writer into the reader (event) schema: writer fields the
// reader lacks are skipped, reader fields the writer lacks take their default, promotions (int→long, float→double,
// string↔bytes) apply. An incompatible writer is an ErrSchema.
func (c *avroCodec) resolve(writer avro.Schema) (avro.Schema, error) {
	if writer.Fingerprint() == c.reader.Fingerprint() {
		return c.reader, nil
	}
	s, err := c.compat.Resolve(c.reader, writer)
	if err != nil {
		return nil, fmt.Errorf("%w: writer schema incompatible with the event schema: %w", ErrSchema, err)
	}
	return s, nil
}

// decode decodes one Avro binary datum written with the (resolved) schema into ev.
func (c *avroCodec) decode(s avro.Schema, data []byte, ev *Event) (err error) {
	*ev = Event{}
	var a avroEvent
	r := c.pool.Get().(*avro.Reader)
	r.Reset(data)
	r.Error = nil
	defer func() {
		r.Reset(nil)
		r.Error = nil
		c.pool.Put(r)
		// hamba decodes attacker-controlled bytes and is unmaintained: a panic in it (e.g. an unchecked
		// negative block count) must become a rejected record, not a crashed consumer.
		if p := recover(); p != nil {
			*ev = Event{}
			err = fmt.Errorf("%w: malformed avro: %w: %v", ErrSchema, errAvroPanic, p)
		}
	}()
	r.ReadVal(s, &a)
	// Unlike avro.Unmarshal, which reports io.EOF as success, a datum that ends early is an error here:
	// a truncated record must not decode into a partial event.
	if r.Error != nil {
		return fmt.Errorf("%w: malformed avro: %w", ErrSchema, r.Error)
	}
	if err := a.toEvent(ev); err != nil {
		*ev = Event{}
		return err
	}
	return nil
}

// AvroDecoder decodes plain Avro binary records (no framing) written with one fixed schema (input format
// avro-schema). It is safe for concurrent use.
type AvroDecoder struct {
	codec  *avroCodec
	schema avro.Schema // writer schema resolved against the event schema
}

// NewAvroFixed returns a decoder for records written with schemaText, which must be compatible with the event
// schema (EventAvroSchema); an empty schemaText means the event schema itself. Errors wrap ErrSchema when the
// schema is invalid or incompatible.
func NewAvroFixed(schemaText string, lim Limits) (*AvroDecoder, error) {
	c, err := newAvroCodec(lim)
	if err != nil {
		return nil, err
	}
	writer := c.reader
	if schemaText != "" {
		if writer, err = parseAvroSchema(schemaText); err != nil {
			return nil, err
		}
	}
	s, err := c.resolve(writer)
	if err != nil {
		return nil, err
	}
	return &AvroDecoder{codec: c, schema: s}, nil
}

// Decode implements Decoder. Errors wrap ErrSchema. ctx is unused: no I/O happens.
func (d *AvroDecoder) Decode(_ context.Context, data []byte, ev *Event) error {
	return d.codec.decode(d.schema, data, ev)
}
