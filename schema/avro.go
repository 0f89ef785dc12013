package schema

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"
)

// hamba/avro is no longer maintained upstream, so it stays behind this file, avro_model.go, avro_confluent.go,
// registry.go and avro_encode.go: nothing outside package schema imports it, and swapping it means rewriting these
// files only. What is used of it: schema parsing (always with a name cache of the schema's own, never avro.Parse
// and its process-wide DefaultSchemaCache), the low-level binary Reader (with explicit limits), and the encoder for
// test/demo records. The registry is reached with franz-go's client (registry.go says why). Its reflection codec and schema resolution are not used for
// decoding (see avro_model.go for why).

//go:embed commandersact_event.avsc
var eventSchemaText string

// EventAvroSchema returns the Avro schema of the Commanders Act event as the connector reads it
// (commandersact_event.avsc). It documents the model that writer schemas are matched against, by field name
// (avro_model.go); producers may use it as is or any schema that fits.
func EventAvroSchema() string { return eventSchemaText }

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

// avroCodec is the part shared by both Avro decoders: the event model, explicit limits, and a pool of hamba
// readers configured with those limits (a frozen config owned by the decoder, never hamba's global DefaultConfig).
type avroCodec struct {
	lim   Limits
	model *avroTarget
	pool  sync.Pool // of *avro.Reader
}

func newAvroCodec(lim Limits) (*avroCodec, error) {
	lim, err := lim.withDefaults()
	if err != nil {
		return nil, err
	}
	api := avro.Config{MaxByteSliceSize: lim.MaxByteSliceSize, MaxSliceAllocSize: lim.MaxSliceAllocSize}.Freeze()
	c := &avroCodec{lim: lim, model: avroEventModel()}
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

// accept checks once that records written with writer can be read into the event model (see avro_model.go):
// the root is a record and every model field it carries has a type that fits. Otherwise it is an ErrSchema.
func (c *avroCodec) accept(writer avro.Schema) (avro.Schema, error) {
	if deref(writer).Type() != avro.Record {
		return nil, fmt.Errorf("%w: writer schema is a %s, want a record", ErrSchema, deref(writer).Type())
	}
	if err := checkWriter(writer, c.model, ""); err != nil {
		return nil, fmt.Errorf("writer schema incompatible with the event model: %w", err)
	}
	return writer, nil
}

// decode decodes one Avro binary datum written with writer (already accepted) into ev.
func (c *avroCodec) decode(writer avro.Schema, data []byte, ev *Event) (err error) {
	*ev = Event{}
	r := c.pool.Get().(*avro.Reader)
	r.Reset(data)
	r.Error = nil
	defer func() {
		r.Reset(nil)
		r.Error = nil
		c.pool.Put(r)
		// The reader is unmaintained code fed attacker-controlled bytes: a panic in it must become a rejected
		// record, not a crashed consumer.
		if p := recover(); p != nil {
			*ev = Event{}
			err = fmt.Errorf("%w: malformed avro: %w: %v", ErrSchema, errAvroPanic, p)
		}
	}()
	st := &avroState{ev: ev}
	w := &avroWalker{r: r, st: st, lim: c.lim}
	if err := w.read(writer, c.model, "", 0); err != nil {
		*ev = Event{}
		return err
	}
	st.finish()
	return nil
}

// AvroDecoder decodes plain Avro binary records (no framing) written with one fixed schema (input format
// avro-schema). It is safe for concurrent use.
type AvroDecoder struct {
	codec  *avroCodec
	schema avro.Schema // the writer schema, accepted by the event model
}

// NewAvroFixed returns a decoder for records written with schemaText, which must be compatible with the event
// schema (EventAvroSchema); an empty schemaText means the event schema itself. Errors wrap ErrSchema when the
// schema is invalid or incompatible.
func NewAvroFixed(schemaText string, lim Limits) (*AvroDecoder, error) {
	c, err := newAvroCodec(lim)
	if err != nil {
		return nil, err
	}
	if schemaText == "" {
		schemaText = eventSchemaText
	}
	writer, err := parseAvroSchema(schemaText)
	if err != nil {
		return nil, err
	}
	s, err := c.accept(writer)
	if err != nil {
		return nil, err
	}
	return &AvroDecoder{codec: c, schema: s}, nil
}

// Decode implements Decoder. Errors wrap ErrSchema. ctx is unused: no I/O happens.
func (d *AvroDecoder) Decode(_ context.Context, data []byte, ev *Event) error {
	return d.codec.decode(d.schema, data, ev)
}
