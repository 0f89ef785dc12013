package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/capi-connector/capi-connector/schema/jsonstr"
)

// The Avro decoder walks the WRITER schema and the event model side by side, matching record fields by name.
// That is Avro schema resolution done for our one reader: writer fields the model lacks are skipped, model fields
// the writer lacks stay absent (every field of commandersact_event.avsc defaults to null), and a writer may use
// non-nullable fields or wider/narrower types (int/long/float/double, string/bytes/enum, ids as int/long).
//
// It is written against hamba's low-level Reader rather than its reflection codec because the codec cannot decode
// a non-nullable writer field into a nullable (pointer) reader field, and its generic ReadNext does not bound
// block counts (a declared count of 2^40 spins and grows a slice). Here every block count is bounded by
// Limits.MaxSliceAllocSize, every string by Limits.MaxByteSliceSize, nesting by maxAvroDepth, and reader errors
// are checked after every element.

// maxAvroDepth bounds nesting of values decoded generically (unknown fields, raw JSON values): a recursive
// writer schema could otherwise nest as deep as the record is long.
const maxAvroDepth = 32

type avroKind uint8

const (
	kString  avroKind = iota + 1 // string, bytes (UTF-8), enum symbol, int/long as decimal text
	kDouble                      // double, float, int, long
	kLong                        // int, long
	kBool                        // boolean
	kStrings                     // array of kString elements
	kRecord                      // record with known fields
	kItems                       // array of Item records
	kRaw                         // map of any values → []RawField (JSON text)
	kObject                      // map of any values, record, or RawJSON → one JSON object (text)
)

// avroTarget is one node of the event model: where a writer value lands in the Event.
type avroTarget struct {
	kind    avroKind
	str     func(st *avroState, v string)
	f64     func(st *avroState, v float64)
	i64     func(st *avroState, v int64)
	boolean func(st *avroState, v bool)
	strs    func(st *avroState, v []string)
	raw     func(st *avroState, v []RawField)
	obj     func(st *avroState, v []byte)
	fields  map[string]*avroTarget // kRecord, and the element record of kItems
}

// avroState is the event being filled plus what the legacy folding needs at the end.
type avroState struct {
	ev        *Event
	item      *Item // the items[] element being decoded
	amount    float64
	hasAmount bool
	browserIP string
	browserUA string
}

func tStr(f func(st *avroState, v string)) *avroTarget { return &avroTarget{kind: kString, str: f} }
func tF64(f func(st *avroState, v float64)) *avroTarget {
	return &avroTarget{kind: kDouble, f64: f}
}
func tI64(f func(st *avroState, v int64)) *avroTarget { return &avroTarget{kind: kLong, i64: f} }
func tStrs(f func(st *avroState, v []string)) *avroTarget {
	return &avroTarget{kind: kStrings, strs: f}
}
func tRaw(f func(st *avroState, v []RawField)) *avroTarget { return &avroTarget{kind: kRaw, raw: f} }
func tRec(fields map[string]*avroTarget) *avroTarget {
	return &avroTarget{kind: kRecord, fields: fields}
}

// avroEventModel is the root target: commandersact_event.avsc expressed as destinations in Event. Built once per
// decoder (it holds no state; the closures write through the avroState they are given).
func avroEventModel() *avroTarget {
	userFields := func(sel func(st *avroState) *UserFields) map[string]*avroTarget {
		return map[string]*avroTarget{
			"id":        tStr(func(st *avroState, v string) { sel(st).ID = v }),
			"email":     tStr(func(st *avroState, v string) { sel(st).Email = v }),
			"phone":     tStr(func(st *avroState, v string) { sel(st).Phone = v }),
			"firstname": tStr(func(st *avroState, v string) { sel(st).Firstname = v }),
			"lastname":  tStr(func(st *avroState, v string) { sel(st).Lastname = v }),
			"gender":    tStr(func(st *avroState, v string) { sel(st).Gender = v }),
			"birthdate": tStr(func(st *avroState, v string) { sel(st).Birthdate = v }),
			"city":      tStr(func(st *avroState, v string) { sel(st).City = v }),
			"state":     tStr(func(st *avroState, v string) { sel(st).State = v }),
			"zipcode":   tStr(func(st *avroState, v string) { sel(st).Zipcode = v }),
			"country":   tStr(func(st *avroState, v string) { sel(st).Country = v }),
		}
	}
	user := userFields(func(st *avroState) *UserFields { return &st.ev.User.UserFields })
	for k, t := range userFields(func(st *avroState) *UserFields { return &st.ev.User.SHA256 }) {
		user[k+"_sha256"] = t
	}
	user["consent_categories"] = tStrs(func(st *avroState, v []string) { st.ev.User.ConsentCategories = v })

	fb := func(st *avroState) *Facebook { return &st.ev.Integrations.Facebook }
	product := func(st *avroState) *Product { return &st.item.Product }
	return tRec(map[string]*avroTarget{
		"event_name":  tStr(func(st *avroState, v string) { st.ev.EventName = v }),
		"event_id":    tStr(func(st *avroState, v string) { st.ev.EventID = v }),
		"type":        tStr(func(st *avroState, v string) { st.ev.Type = v }),
		"url":         tStr(func(st *avroState, v string) { st.ev.URL = v }),
		"referrer":    tStr(func(st *avroState, v string) { st.ev.Referrer = v }),
		"value":       tF64(func(st *avroState, v float64) { st.ev.Value, st.ev.HasValue = v, true }),
		"amount":      tF64(func(st *avroState, v float64) { st.amount, st.hasAmount = v, true }),
		"currency":    tStr(func(st *avroState, v string) { st.ev.Currency = v }),
		"id":          tStr(func(st *avroState, v string) { st.ev.ID = v }),
		"search_term": tStr(func(st *avroState, v string) { st.ev.SearchTerm = v }),
		"name":        tStr(func(st *avroState, v string) { st.ev.Name = v }),
		"category":    tStr(func(st *avroState, v string) { st.ev.Category = v }),
		"status":      tStr(func(st *avroState, v string) { st.ev.Status = v }),
		"items": {kind: kItems, fields: map[string]*avroTarget{
			"quantity": tI64(func(st *avroState, v int64) { st.item.Quantity, st.item.HasQuantity = v, true }),
			"product": tRec(map[string]*avroTarget{
				"id":         tStr(func(st *avroState, v string) { product(st).ID = v }),
				"name":       tStr(func(st *avroState, v string) { product(st).Name = v }),
				"price":      tF64(func(st *avroState, v float64) { product(st).Price, product(st).HasPrice = v, true }),
				"currency":   tStr(func(st *avroState, v string) { product(st).Currency = v }),
				"category_1": tStr(func(st *avroState, v string) { product(st).Category1 = v }),
				"category_2": tStr(func(st *avroState, v string) { product(st).Category2 = v }),
				"category_3": tStr(func(st *avroState, v string) { product(st).Category3 = v }),
				"category_4": tStr(func(st *avroState, v string) { product(st).Category4 = v }),
				"category_5": tStr(func(st *avroState, v string) { product(st).Category5 = v }),
			}),
		}},
		"consent_categories": tStrs(func(st *avroState, v []string) { st.ev.ConsentCategories = v }),
		"fbp":                tStr(func(st *avroState, v string) { st.ev.FBP = v }),
		"fbc":                tStr(func(st *avroState, v string) { st.ev.FBC = v }),
		"user":               tRec(user),
		"context": tRec(map[string]*avroTarget{
			"event_timestamp": tI64(func(st *avroState, v int64) {
				st.ev.Context.EventTimestamp, st.ev.Context.HasEventTimestamp = v, true
			}),
			"event_id": tStr(func(st *avroState, v string) { st.ev.Context.EventID = v }),
			"page": tRec(map[string]*avroTarget{
				"url":      tStr(func(st *avroState, v string) { st.ev.Context.Page.URL = v }),
				"referrer": tStr(func(st *avroState, v string) { st.ev.Context.Page.Referrer = v }),
			}),
			"device": tRec(map[string]*avroTarget{
				"ip":         tStr(func(st *avroState, v string) { st.ev.Context.Device.IP = v }),
				"user_agent": tStr(func(st *avroState, v string) { st.ev.Context.Device.UserAgent = v }),
				"cookie":     tStr(func(st *avroState, v string) { st.ev.Context.Device.Cookie = v }),
			}),
		}),
		"browser": tRec(map[string]*avroTarget{
			"ip":         tStr(func(st *avroState, v string) { st.browserIP = v }),
			"user_agent": tStr(func(st *avroState, v string) { st.browserUA = v }),
		}),
		"integrations": tRec(map[string]*avroTarget{
			"facebook": tRec(map[string]*avroTarget{
				"event_name":    tStr(func(st *avroState, v string) { fb(st).EventName = v }),
				"event_id":      tStr(func(st *avroState, v string) { fb(st).EventID = v }),
				"action_source": tStr(func(st *avroState, v string) { fb(st).ActionSource = v }),
				"fbp":           tStr(func(st *avroState, v string) { fb(st).FBP = v }),
				"fbc":           tStr(func(st *avroState, v string) { fb(st).FBC = v }),
				"opt_out": {kind: kBool, boolean: func(st *avroState, v bool) {
					fb(st).OptOut, fb(st).HasOptOut = v, true
				}},
				"data_processing_options": tStrs(func(st *avroState, v []string) {
					fb(st).DataProcessingOptions, fb(st).HasDataProcessingOptions = v, true
				}),
				"data_processing_options_country": tI64(func(st *avroState, v int64) {
					fb(st).DataProcessingOptionsCountry, fb(st).HasDataProcessingOptionsCountry = v, true
				}),
				"data_processing_options_state": tI64(func(st *avroState, v int64) {
					fb(st).DataProcessingOptionsState, fb(st).HasDataProcessingOptionsState = v, true
				}),
				"user_data":   tRaw(func(st *avroState, v []RawField) { fb(st).UserData = v }),
				"custom_data": tRaw(func(st *avroState, v []RawField) { fb(st).CustomData = v }),
				"app_data":    {kind: kObject, obj: func(st *avroState, v []byte) { fb(st).AppData = v }},
			}),
		}),
		"extra": tRaw(func(st *avroState, v []RawField) { st.ev.Extra = v }),
	})
}

// finish applies the JSON decoder's folding of older field names: amount fills Value when value is absent,
// browser.* fill context.device fields that are absent or empty.
func (st *avroState) finish() {
	ev := st.ev
	if !ev.HasValue && st.hasAmount {
		ev.Value, ev.HasValue = st.amount, true
	}
	if ev.Context.Device.IP == "" {
		ev.Context.Device.IP = st.browserIP
	}
	if ev.Context.Device.UserAgent == "" {
		ev.Context.Device.UserAgent = st.browserUA
	}
}

func errIncompatible(path string, s avro.Schema) error {
	return fmt.Errorf("%w: field %q: writer type %s does not fit the event model", ErrSchema, path, s.Type())
}

func deref(s avro.Schema) avro.Schema {
	for s.Type() == avro.Ref {
		s = s.(*avro.RefSchema).Schema()
	}
	return s
}

// branches returns the non-null alternatives of s (s itself when it is not a union).
func branches(s avro.Schema) []avro.Schema {
	s = deref(s)
	if s.Type() != avro.Union {
		return []avro.Schema{s}
	}
	var out []avro.Schema
	for _, b := range s.(*avro.UnionSchema).Types() {
		if b = deref(b); b.Type() != avro.Null {
			out = append(out, b)
		}
	}
	return out
}

// fits reports whether a (non-union) writer schema can land in a target of kind k.
func fits(s avro.Schema, t *avroTarget) bool {
	switch t.kind {
	case kString:
		switch s.Type() {
		case avro.String, avro.Bytes, avro.Enum, avro.Int, avro.Long:
			return true
		}
	case kDouble:
		switch s.Type() {
		case avro.Double, avro.Float, avro.Int, avro.Long:
			return true
		}
	case kLong:
		return s.Type() == avro.Int || s.Type() == avro.Long
	case kBool:
		return s.Type() == avro.Boolean
	case kStrings:
		if s.Type() != avro.Array {
			return false
		}
		return slices.ContainsFunc(branches(s.(*avro.ArraySchema).Items()), func(b avro.Schema) bool {
			return fits(b, &avroTarget{kind: kString})
		})
	case kRecord:
		return s.Type() == avro.Record
	case kItems:
		if s.Type() != avro.Array {
			return false
		}
		return slices.ContainsFunc(branches(s.(*avro.ArraySchema).Items()), func(b avro.Schema) bool {
			return b.Type() == avro.Record
		})
	case kRaw:
		return s.Type() == avro.Map
	case kObject:
		return s.Type() == avro.Map || s.Type() == avro.Record
	}
	return false
}

// checkWriter verifies once per writer schema that every model field it carries has at least one alternative that
// fits, so an incompatible producer schema is an ErrSchema before any record. A union alternative that does not
// fit is tolerated here and rejected if a record uses it.
func checkWriter(s avro.Schema, t *avroTarget, path string) error {
	var ok bool
	for _, b := range branches(s) {
		if !fits(b, t) {
			continue
		}
		ok = true
		var rec *avro.RecordSchema
		switch t.kind {
		case kRecord:
			rec = b.(*avro.RecordSchema)
		case kItems:
			for _, ib := range branches(b.(*avro.ArraySchema).Items()) {
				if ib.Type() == avro.Record {
					rec = ib.(*avro.RecordSchema)
				}
			}
		}
		if rec != nil {
			for _, f := range rec.Fields() {
				if ft := t.fields[f.Name()]; ft != nil {
					if err := checkWriter(f.Type(), ft, joinPath(path, f.Name())); err != nil {
						return err
					}
				}
			}
		}
	}
	if !ok && len(branches(s)) > 0 {
		return errIncompatible(path, deref(s))
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// avroWalker decodes one datum. It is single-use per record; errors name field paths, never values.
type avroWalker struct {
	r   *avro.Reader
	st  *avroState
	lim Limits
}

func (w *avroWalker) fail(path, reason string) error {
	return fmt.Errorf("%w: field %q: %s", ErrSchema, path, reason)
}

// readErr turns a reader error into ErrSchema, including io.EOF: a datum that ends early is truncated.
func (w *avroWalker) readErr(path string) error {
	if w.r.Error == nil {
		return nil
	}
	if path == "" {
		return fmt.Errorf("%w: malformed avro: %w", ErrSchema, w.r.Error)
	}
	return fmt.Errorf("%w: field %q: malformed avro: %w", ErrSchema, path, w.r.Error)
}

// branch resolves a union: it reads the index and returns the chosen alternative (nil for null).
func (w *avroWalker) branch(s avro.Schema, path string) (avro.Schema, error) {
	s = deref(s)
	if s.Type() != avro.Union {
		return s, nil
	}
	types := s.(*avro.UnionSchema).Types()
	idx := w.r.ReadLong()
	if err := w.readErr(path); err != nil {
		return nil, err
	}
	if idx < 0 || idx >= int64(len(types)) {
		return nil, w.fail(path, "union index out of range")
	}
	b := deref(types[idx])
	if b.Type() == avro.Null {
		return nil, nil
	}
	return b, nil
}

// blocks reads an array or map: count-prefixed blocks until a zero count. The total element count is bounded by
// MaxSliceAllocSize before any element is read, whatever the blocks declare.
func (w *avroWalker) blocks(path string, each func() error) error {
	total := int64(0)
	for {
		n := w.r.ReadLong()
		if err := w.readErr(path); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			if n == math.MinInt64 {
				return w.fail(path, "invalid block count")
			}
			n = -n
			if w.r.ReadLong(); w.readErr(path) != nil { // block size in bytes: not needed
				return w.readErr(path)
			}
		}
		if n > int64(w.lim.MaxSliceAllocSize)-total {
			return w.fail(path, "more elements than the decode limit")
		}
		total += n
		for range n {
			if err := each(); err != nil {
				return err
			}
			if err := w.readErr(path); err != nil {
				return err
			}
		}
	}
}

// read decodes a writer value of schema s into target t (nil: skip it).
func (w *avroWalker) read(s avro.Schema, t *avroTarget, path string, depth int) error {
	if t == nil {
		return w.skip(s, path, depth)
	}
	b, err := w.branch(s, path)
	if err != nil || b == nil {
		return err
	}
	if !fits(b, t) {
		return errIncompatible(path, b)
	}
	st := w.st
	switch t.kind {
	case kString:
		v, err := w.readString(b, path)
		if err != nil {
			return err
		}
		t.str(st, v)
	case kDouble:
		var v float64
		switch b.Type() {
		case avro.Double:
			v = w.r.ReadDouble()
		case avro.Float:
			v = float64(w.r.ReadFloat())
		case avro.Int:
			v = float64(w.r.ReadInt())
		default:
			v = float64(w.r.ReadLong())
		}
		if err := w.readErr(path); err != nil {
			return err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return w.fail(path, "NaN or infinite number")
		}
		t.f64(st, v)
	case kLong:
		var v int64
		if b.Type() == avro.Int {
			v = int64(w.r.ReadInt())
		} else {
			v = w.r.ReadLong()
		}
		if err := w.readErr(path); err != nil {
			return err
		}
		t.i64(st, v)
	case kBool:
		v := w.r.ReadBool()
		if err := w.readErr(path); err != nil {
			return err
		}
		t.boolean(st, v)
	case kStrings:
		items := b.(*avro.ArraySchema).Items()
		list := []string{} // present: non-nil even when empty, as in the JSON decoder
		err := w.blocks(path, func() error {
			ib, err := w.branch(items, path)
			if err != nil || ib == nil { // null elements carry nothing
				return err
			}
			v, err := w.readString(ib, path)
			if err != nil {
				return err
			}
			list = append(list, v)
			return nil
		})
		if err != nil {
			return err
		}
		t.strs(st, list)
	case kRecord:
		for _, f := range b.(*avro.RecordSchema).Fields() {
			if err := w.read(f.Type(), t.fields[f.Name()], joinPath(path, f.Name()), depth+1); err != nil {
				return err
			}
		}
	case kItems:
		items := b.(*avro.ArraySchema).Items()
		st.ev.Items = []Item{}
		err := w.blocks(path, func() error {
			ib, err := w.branch(items, path)
			if err != nil {
				return err
			}
			st.ev.Items = append(st.ev.Items, Item{})
			if ib == nil { // a null item is an empty one, as JSON's {} would be
				return nil
			}
			if ib.Type() != avro.Record {
				return errIncompatible(path, ib)
			}
			st.item = &st.ev.Items[len(st.ev.Items)-1]
			for _, f := range ib.(*avro.RecordSchema).Fields() {
				if err := w.read(f.Type(), t.fields[f.Name()], path+"[]."+f.Name(), depth+1); err != nil {
					return err
				}
			}
			return nil
		})
		st.item = nil
		if err != nil {
			return err
		}
	case kRaw:
		fields, err := w.readRaw(b.(*avro.MapSchema), path, depth)
		if err != nil {
			return err
		}
		t.raw(st, fields)
	case kObject:
		obj, err := w.readObject(b, path, depth)
		if err != nil {
			return err
		}
		t.obj(st, obj)
	}
	return nil
}

// readObject reads a value that must become one JSON object, compact: a map (members converted like readRaw,
// so in sorted key order, a repeated key keeping its last value), a record (its fields in schema order), or a
// RawJSON record whose text is an object.
func (w *avroWalker) readObject(s avro.Schema, path string, depth int) ([]byte, error) {
	var obj []byte
	if s.Type() == avro.Map {
		fields, err := w.readRaw(s.(*avro.MapSchema), path, depth)
		if err != nil {
			return nil, err
		}
		obj = append(obj, '{')
		for i, f := range fields {
			if i > 0 {
				obj = append(obj, ',')
			}
			obj = append(append(appendJSONString(obj, f.Key), ':'), f.Value...)
		}
		obj = append(obj, '}')
	} else {
		var err error
		if obj, err = w.appendJSON(nil, s, path, depth+1); err != nil {
			return nil, err
		}
		if len(obj) == 0 || obj[0] != '{' {
			return nil, w.fail(path, "RawJSON is not a JSON object")
		}
	}
	// RawJSON texts are kept as written, white space included; the object is sent as is, so compact it.
	var buf bytes.Buffer
	if err := json.Compact(&buf, obj); err != nil {
		return nil, w.fail(path, "not valid JSON")
	}
	return buf.Bytes(), nil
}

// readString reads a value of a string-like schema as text.
func (w *avroWalker) readString(s avro.Schema, path string) (string, error) {
	var v string
	switch s.Type() {
	case avro.String:
		v = w.r.ReadString()
	case avro.Bytes:
		v = string(w.r.ReadBytes())
	case avro.Enum:
		v = w.readEnum(s.(*avro.EnumSchema), path)
	case avro.Int:
		v = strconv.FormatInt(int64(w.r.ReadInt()), 10)
	case avro.Long:
		v = strconv.FormatInt(w.r.ReadLong(), 10)
	default:
		return "", errIncompatible(path, s)
	}
	if err := w.readErr(path); err != nil {
		return "", err
	}
	if !utf8.ValidString(v) {
		return "", w.fail(path, "invalid UTF-8")
	}
	return v, nil
}

func (w *avroWalker) readEnum(s *avro.EnumSchema, path string) string {
	idx := w.r.ReadInt()
	if w.r.Error == nil && (idx < 0 || int(idx) >= len(s.Symbols())) {
		w.r.ReportError(path, "enum index out of range")
		return ""
	}
	if w.r.Error != nil {
		return ""
	}
	return s.Symbols()[idx]
}

// readRaw turns an Avro map into RawFields (the RawField contract: JSON text), keys sorted: an Avro map has no
// meaningful order (producers usually encode from a hash map), and a sorted order keeps the Event, and so the
// Facebook payload, deterministic for the same record.
func (w *avroWalker) readRaw(s *avro.MapSchema, path string, depth int) ([]RawField, error) {
	var out []RawField
	err := w.blocks(path, func() error {
		k := w.r.ReadString()
		if err := w.readErr(path); err != nil {
			return err
		}
		buf, err := w.appendJSON(nil, s.Values(), path+"[key]", depth+1) // map keys are data: kept out of errors
		if err != nil {
			return err
		}
		out = append(out, RawField{Key: k, Value: buf})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(out, func(a, b RawField) int { return strings.Compare(a.Key, b.Key) })
	// A key written twice keeps its last value, as a JSON object would.
	dedup := out[:0]
	for i, f := range out {
		if i+1 < len(out) && out[i+1].Key == f.Key {
			continue
		}
		dedup = append(dedup, f)
	}
	return dedup, nil
}

// appendJSON appends the JSON text of one value: string → JSON string, int/long → integer, float/double →
// shortest round-trip number (NaN/Inf rejected), boolean → true/false, null → null, enum → its symbol as a string,
// bytes → a JSON string when valid UTF-8, record RawJSON{json} → that JSON text after validation, any other
// record → an object, array → an array, map → an object.
func (w *avroWalker) appendJSON(dst []byte, s avro.Schema, path string, depth int) ([]byte, error) {
	if depth > maxAvroDepth {
		return nil, w.fail(path, "value nested too deeply")
	}
	b, err := w.branch(s, path)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return append(dst, "null"...), nil
	}
	switch b.Type() {
	case avro.Boolean:
		dst = strconv.AppendBool(dst, w.r.ReadBool())
	case avro.Int:
		dst = strconv.AppendInt(dst, int64(w.r.ReadInt()), 10)
	case avro.Long:
		dst = strconv.AppendInt(dst, w.r.ReadLong(), 10)
	case avro.Float, avro.Double:
		var f float64
		if b.Type() == avro.Float {
			f = float64(w.r.ReadFloat())
		} else {
			f = w.r.ReadDouble()
		}
		if err := w.readErr(path); err != nil {
			return nil, err
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, w.fail(path, "NaN or infinite number")
		}
		enc, _ := json.Marshal(f) // cannot fail for a finite float
		dst = append(dst, enc...)
	case avro.String, avro.Bytes, avro.Enum:
		v, err := w.readString(b, path)
		if err != nil {
			return nil, err
		}
		dst = appendJSONString(dst, v)
	case avro.Record:
		rec := b.(*avro.RecordSchema)
		if isRawJSONRecord(rec) {
			v := strings.TrimSpace(w.r.ReadString())
			if err := w.readErr(path); err != nil {
				return nil, err
			}
			if !json.Valid([]byte(v)) {
				return nil, w.fail(path, "RawJSON is not valid JSON")
			}
			return append(dst, v...), nil
		}
		dst = append(dst, '{')
		for i, f := range rec.Fields() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendJSONString(dst, f.Name()), ':')
			if dst, err = w.appendJSON(dst, f.Type(), joinPath(path, f.Name()), depth+1); err != nil {
				return nil, err
			}
		}
		dst = append(dst, '}')
	case avro.Array:
		dst = append(dst, '[')
		n := 0
		err := w.blocks(path, func() error {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			var err error
			dst, err = w.appendJSON(dst, b.(*avro.ArraySchema).Items(), path, depth+1)
			return err
		})
		if err != nil {
			return nil, err
		}
		dst = append(dst, ']')
	case avro.Map:
		dst = append(dst, '{')
		n := 0
		err := w.blocks(path, func() error {
			k := w.r.ReadString()
			if err := w.readErr(path); err != nil {
				return err
			}
			if !utf8.ValidString(k) {
				return w.fail(path, "invalid UTF-8 key")
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = append(appendJSONString(dst, k), ':')
			var err error
			dst, err = w.appendJSON(dst, b.(*avro.MapSchema).Values(), path+"[key]", depth+1) // map keys are data: kept out of errors
			return err
		})
		if err != nil {
			return nil, err
		}
		dst = append(dst, '}')
	default: // fixed, and anything newer: no JSON meaning we can vouch for
		return nil, w.fail(path, "unsupported value type "+string(b.Type()))
	}
	if err := w.readErr(path); err != nil {
		return nil, err
	}
	return dst, nil
}

// isRawJSONRecord recognises the RawJSON escape record by shape and name, whatever its namespace.
func isRawJSONRecord(rec *avro.RecordSchema) bool {
	f := rec.Fields()
	return rec.Name() == "RawJSON" && len(f) == 1 && f[0].Name() == "json" && deref(f[0].Type()).Type() == avro.String
}

// skip reads past a value the model does not use, with the same bounds as decoding.
func (w *avroWalker) skip(s avro.Schema, path string, depth int) error {
	if depth > maxAvroDepth {
		return w.fail(path, "value nested too deeply")
	}
	b, err := w.branch(s, path)
	if err != nil || b == nil {
		return err
	}
	r := w.r
	switch b.Type() {
	case avro.Boolean:
		r.SkipBool()
	case avro.Int, avro.Enum:
		r.SkipInt()
	case avro.Long:
		r.SkipLong()
	case avro.Float:
		r.SkipFloat()
	case avro.Double:
		r.SkipDouble()
	case avro.String, avro.Bytes:
		return w.skipBytes(path)
	case avro.Fixed:
		r.SkipNBytes(b.(*avro.FixedSchema).Size())
	case avro.Record:
		for _, f := range b.(*avro.RecordSchema).Fields() {
			if err := w.skip(f.Type(), joinPath(path, f.Name()), depth+1); err != nil {
				return err
			}
		}
	case avro.Array:
		return w.blocks(path, func() error { return w.skip(b.(*avro.ArraySchema).Items(), path, depth+1) })
	case avro.Map:
		return w.blocks(path, func() error {
			if err := w.skipBytes(path); err != nil {
				return err
			}
			return w.skip(b.(*avro.MapSchema).Values(), path, depth+1)
		})
	default:
		return w.fail(path, "unsupported type "+string(b.Type()))
	}
	return w.readErr(path)
}

// skipBytes skips a length-prefixed string or bytes value without allocating it.
func (w *avroWalker) skipBytes(path string) error {
	n := w.r.ReadLong()
	if err := w.readErr(path); err != nil {
		return err
	}
	if n < 0 || n > math.MaxInt32 {
		return w.fail(path, "invalid length")
	}
	w.r.SkipNBytes(int(n))
	return w.readErr(path)
}

// appendJSONString appends s as the JSON decoder keeps strings in raw values (jsonstr.AppendMinimal), so a value
// becomes the same bytes whether the event came as JSON or as Avro. Text that is not valid UTF-8 (Avro bytes, or a
// string a producer did not check) keeps what it always got: encoding/json's form, invalid bytes as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		enc, _ := json.Marshal(s) // cannot fail for a string
		return append(dst, enc...)
	}
	return jsonstr.AppendMinimal(dst, s)
}
