package schema

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/hamba/avro/v2"
)

// rawJSONName is the full name of the RawJSON record of commandersact_event.avsc.
const rawJSONName = "com.commandersact.RawJSON"

// The encoders here exist for the demo, the e2e tests and sample producers: the connector itself only decodes.

// EncodeAvro returns the Avro binary encoding of v (no framing) under schemaText. v is a Go struct with avro tags
// or a generic map in hamba's convention (see EventToAvro); an empty schemaText means the event schema. refs are
// the texts of the schemas defining the named types schemaText uses without defining them (a registry's schema
// references), each after those it needs itself; all are parsed into a name cache of this call's own.
func EncodeAvro(schemaText string, v any, refs ...string) ([]byte, error) {
	if schemaText == "" {
		schemaText = eventSchemaText
	}
	cache := &avro.SchemaCache{}
	for i, r := range refs {
		if _, err := avro.ParseWithCache(r, "", cache); err != nil {
			return nil, fmt.Errorf("%w: parse reference %d: %w", ErrSchema, i, err)
		}
	}
	s, err := avro.ParseWithCache(schemaText, "", cache)
	if err != nil {
		return nil, fmt.Errorf("%w: parse schema: %w", ErrSchema, err)
	}
	b, err := avro.Marshal(s, v)
	if err != nil {
		return nil, fmt.Errorf("avro encode: %w", err)
	}
	return b, nil
}

// EncodeAvroConfluent returns v encoded in the Confluent wire format: magic byte 0, schemaID as 4 big-endian
// bytes, then EncodeAvro(schemaText, v, refs...). The caller registers schemaText (with its references) under
// schemaID.
func EncodeAvroConfluent(schemaID int, schemaText string, v any, refs ...string) ([]byte, error) {
	if schemaID < 0 || schemaID > math.MaxInt32 {
		return nil, fmt.Errorf("avro encode: schema id %d out of range", schemaID)
	}
	body, err := EncodeAvro(schemaText, v, refs...)
	if err != nil {
		return nil, err
	}
	out := make([]byte, confluentHeaderLen, confluentHeaderLen+len(body))
	out[0] = confluentMagic
	binary.BigEndian.PutUint32(out[1:], uint32(schemaID))
	return append(out, body...), nil
}

// EventToAvro returns ev as a generic value of the event schema, ready for EncodeAvro / EncodeAvroConfluent with
// an empty schema text. Decoding the result gives back ev, except that RawFields come back in sorted key order
// and numbers in canonical text (12.50 → 12.5). Absent fields are left out (the schema defaults them to null);
// a nullable record or map is wrapped as {"com.commandersact.<Name>": {...}} or {"map": {...}}, hamba's form for a
// union branch held in a Go map.
// Unknown-shaped RawField values (invalid JSON) are carried as RawJSON and fail at decode, as they should.
// AppData becomes the app_data map, one member per key (a repeated key keeps its last value); AppData that is not
// a JSON object (which no decoder produces) is left out.
func EventToAvro(ev *Event) map[string]any {
	m := map[string]any{}
	avroPutStr(m, "event_name", ev.EventName)
	avroPutStr(m, "event_id", ev.EventID)
	avroPutStr(m, "type", ev.Type)
	avroPutStr(m, "url", ev.URL)
	avroPutStr(m, "referrer", ev.Referrer)
	if ev.HasValue {
		m["value"] = ev.Value
	}
	avroPutStr(m, "currency", ev.Currency)
	avroPutStr(m, "id", ev.ID)
	avroPutStr(m, "search_term", ev.SearchTerm)
	avroPutStr(m, "name", ev.Name)
	avroPutStr(m, "category", ev.Category)
	avroPutStr(m, "status", ev.Status)
	if ev.Items != nil {
		items := make([]any, len(ev.Items))
		for i, it := range ev.Items {
			p := map[string]any{}
			avroPutStr(p, "id", it.Product.ID)
			avroPutStr(p, "name", it.Product.Name)
			if it.Product.HasPrice {
				p["price"] = it.Product.Price
			}
			avroPutStr(p, "currency", it.Product.Currency)
			avroPutStr(p, "category_1", it.Product.Category1)
			avroPutStr(p, "category_2", it.Product.Category2)
			avroPutStr(p, "category_3", it.Product.Category3)
			avroPutStr(p, "category_4", it.Product.Category4)
			avroPutStr(p, "category_5", it.Product.Category5)
			item := map[string]any{"product": avroWrap("Product", p)}
			if it.HasQuantity {
				item["quantity"] = it.Quantity
			}
			items[i] = item
		}
		m["items"] = items
	}
	if ev.ConsentCategories != nil {
		m["consent_categories"] = ev.ConsentCategories
	}
	avroPutStr(m, "fbp", ev.FBP)
	avroPutStr(m, "fbc", ev.FBC)
	if u := avroFromUser(&ev.User); len(u) > 0 {
		m["user"] = avroWrap("User", u)
	}
	if c := avroFromContext(&ev.Context); len(c) > 0 {
		m["context"] = avroWrap("Context", c)
	}
	if fb := avroFromFacebook(&ev.Integrations.Facebook); len(fb) > 0 {
		m["integrations"] = avroWrap("Integrations", map[string]any{"facebook": avroWrap("Facebook", fb)})
	}
	if ev.Extra != nil {
		m["extra"] = map[string]any{"map": avroFromRawFields(ev.Extra)}
	}
	return m
}

func avroWrap(name string, v map[string]any) map[string]any {
	return map[string]any{"com.commandersact." + name: v}
}

func avroPutStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func avroFromUser(u *User) map[string]any {
	m := map[string]any{}
	for _, f := range []struct {
		suffix string
		fields *UserFields
	}{{"", &u.UserFields}, {"_sha256", &u.SHA256}} {
		avroPutStr(m, "id"+f.suffix, f.fields.ID)
		avroPutStr(m, "email"+f.suffix, f.fields.Email)
		avroPutStr(m, "phone"+f.suffix, f.fields.Phone)
		avroPutStr(m, "firstname"+f.suffix, f.fields.Firstname)
		avroPutStr(m, "lastname"+f.suffix, f.fields.Lastname)
		avroPutStr(m, "gender"+f.suffix, f.fields.Gender)
		avroPutStr(m, "birthdate"+f.suffix, f.fields.Birthdate)
		avroPutStr(m, "city"+f.suffix, f.fields.City)
		avroPutStr(m, "state"+f.suffix, f.fields.State)
		avroPutStr(m, "zipcode"+f.suffix, f.fields.Zipcode)
		avroPutStr(m, "country"+f.suffix, f.fields.Country)
	}
	if u.ConsentCategories != nil {
		m["consent_categories"] = u.ConsentCategories
	}
	return m
}

func avroFromContext(c *Context) map[string]any {
	m := map[string]any{}
	if c.HasEventTimestamp {
		m["event_timestamp"] = c.EventTimestamp
	}
	avroPutStr(m, "event_id", c.EventID)
	if c.Page != (Page{}) {
		p := map[string]any{}
		avroPutStr(p, "url", c.Page.URL)
		avroPutStr(p, "referrer", c.Page.Referrer)
		m["page"] = avroWrap("Page", p)
	}
	if c.Device != (Device{}) {
		d := map[string]any{}
		avroPutStr(d, "ip", c.Device.IP)
		avroPutStr(d, "user_agent", c.Device.UserAgent)
		avroPutStr(d, "cookie", c.Device.Cookie)
		m["device"] = avroWrap("Device", d)
	}
	return m
}

func avroFromFacebook(f *Facebook) map[string]any {
	m := map[string]any{}
	avroPutStr(m, "event_name", f.EventName)
	avroPutStr(m, "event_id", f.EventID)
	avroPutStr(m, "action_source", f.ActionSource)
	avroPutStr(m, "fbp", f.FBP)
	avroPutStr(m, "fbc", f.FBC)
	if f.HasOptOut {
		m["opt_out"] = f.OptOut
	}
	if f.HasDataProcessingOptions {
		dpo := f.DataProcessingOptions
		if dpo == nil {
			dpo = []string{}
		}
		m["data_processing_options"] = dpo
	}
	if f.HasDataProcessingOptionsCountry {
		m["data_processing_options_country"] = f.DataProcessingOptionsCountry
	}
	if f.HasDataProcessingOptionsState {
		m["data_processing_options_state"] = f.DataProcessingOptionsState
	}
	if f.UserData != nil {
		m["user_data"] = map[string]any{"map": avroFromRawFields(f.UserData)}
	}
	if f.CustomData != nil {
		m["custom_data"] = map[string]any{"map": avroFromRawFields(f.CustomData)}
	}
	if f.AppData != nil {
		var members map[string]json.RawMessage
		if json.Unmarshal(f.AppData, &members) == nil && members != nil {
			app := make(map[string]any, len(members))
			for k, v := range members {
				app[k] = avroFromRawValue(v)
			}
			m["app_data"] = map[string]any{"map": app}
		}
	}
	return m
}

// avroFromRawFields maps RawField JSON text back onto the value union: the inverse of avroValueJSON.
func avroFromRawFields(fields []RawField) map[string]any {
	m := make(map[string]any, len(fields))
	for _, f := range fields {
		m[f.Key] = avroFromRawValue(f.Value)
	}
	return m
}

func avroFromRawValue(raw []byte) any {
	t := bytes.TrimSpace(raw)
	switch {
	case string(t) == "null":
		return nil
	case string(t) == "true":
		return true
	case string(t) == "false":
		return false
	case len(t) > 0 && t[0] == '"':
		var s string
		if json.Unmarshal(t, &s) == nil {
			return s
		}
	case len(t) > 0 && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')):
		if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(string(t), 64); err == nil && json.Valid(t) {
			return f
		}
	}
	return map[string]any{rawJSONName: map[string]any{"json": string(raw)}}
}
