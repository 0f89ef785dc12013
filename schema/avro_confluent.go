package schema

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"
)

// Confluent wire format: magic byte 0, the writer schema id as 4 big-endian bytes, then the Avro binary datum.
const (
	confluentMagic     = 0
	confluentHeaderLen = 5
)

// AvroConfluentDecoder decodes records in the Confluent wire format (input format avro-confluent). The writer
// schema is fetched from the registry by id, checked against the event model, and kept for the life of the
// decoder: a Confluent schema id is immutable, so a cached schema never goes stale. It is safe for concurrent use.
//
// Exactly one registry fetch happens per id while it succeeds, however many records wait for it; a failed fetch
// is not cached, so the next record for that id asks again (a registry that recovers, or a schema registered
// late, is picked up without a restart).
type AvroConfluentDecoder struct {
	codec   *avroCodec
	fetcher schemaFetcher

	mu      sync.Mutex
	schemas map[int]*schemaEntry
}

// schemaEntry is one id's accepted writer schema, or the fetch in flight that will produce it.
type schemaEntry struct {
	done   chan struct{} // closed when schema/err are set
	schema avro.Schema   // the writer schema, accepted by the event model
	err    error
}

// NewAvroConfluent returns a decoder fetching writer schemas from the registry described by reg. It does not
// contact the registry: the first record does.
func NewAvroConfluent(reg RegistryConfig, lim Limits) (*AvroConfluentDecoder, error) {
	client, err := newRegistryClient(reg)
	if err != nil {
		return nil, err
	}
	return newAvroConfluent(client, lim)
}

func newAvroConfluent(f schemaFetcher, lim Limits) (*AvroConfluentDecoder, error) {
	c, err := newAvroCodec(lim)
	if err != nil {
		return nil, err
	}
	return &AvroConfluentDecoder{codec: c, fetcher: f, schemas: make(map[int]*schemaEntry)}, nil
}

// Decode implements Decoder. Errors wrap ErrSchema (about the record: DLQ) or ErrRegistryUnavailable (about the
// registry: retry), or are ctx's error when ctx ends while waiting for the registry.
func (d *AvroConfluentDecoder) Decode(ctx context.Context, data []byte, ev *Event) error {
	*ev = Event{}
	id, err := confluentSchemaID(data)
	if err != nil {
		return err
	}
	s, err := d.schema(ctx, id)
	if err != nil {
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
		return 0, fmt.Errorf("%w: record of %d bytes is shorter than the Confluent header", ErrSchema, len(data))
	}
	if data[0] != confluentMagic {
		return 0, fmt.Errorf("%w: bad magic byte 0x%02x, want 0x00 (not Confluent wire format)", ErrSchema, data[0])
	}
	return int(binary.BigEndian.Uint32(data[1:confluentHeaderLen])), nil
}

// schema returns the accepted writer schema for id, fetching it once. Concurrent callers for the same id share one
// fetch. The fetch is detached from the caller's cancellation (bounded by the registry timeout instead), so one
// record abandoned by shutdown or a rebalance does not fail the others waiting on the same id.
func (d *AvroConfluentDecoder) schema(ctx context.Context, id int) (avro.Schema, error) {
	d.mu.Lock()
	e, ok := d.schemas[id]
	if !ok {
		e = &schemaEntry{done: make(chan struct{})}
		d.schemas[id] = e
		go d.fetch(context.WithoutCancel(ctx), id, e)
	}
	d.mu.Unlock()

	select {
	case <-e.done:
		return e.schema, e.err
	case <-ctx.Done():
		return nil, fmt.Errorf("schema id %d: waiting for the registry: %w", id, ctx.Err())
	}
}

func (d *AvroConfluentDecoder) fetch(ctx context.Context, id int, e *schemaEntry) {
	writer, err := d.fetcher.GetSchema(ctx, id)
	if err != nil {
		e.err = classifyFetchError(ctx, id, err)
	} else if e.schema, err = d.codec.accept(writer); err != nil {
		e.err = fmt.Errorf("schema id %d: %w", id, err)
	}
	if e.err != nil {
		// Forget the failure so the next record retries; waiters already holding e still see this error.
		d.mu.Lock()
		delete(d.schemas, id)
		d.mu.Unlock()
	}
	close(e.done)
}
