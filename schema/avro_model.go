package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The avro* types mirror commandersact_event.avsc field for field. Nullable unions decode into pointers (nil =
// null = absent), so the conversion to Event can apply the same "absent vs zero" rules as the JSON decoder.

type avroEvent struct {
	EventName         *string           `avro:"event_name"`
	EventID           *string           `avro:"event_id"`
	Type              *string           `avro:"type"`
	URL               *string           `avro:"url"`
	Referrer          *string           `avro:"referrer"`
	Value             *float64          `avro:"value"`
	Amount            *float64          `avro:"amount"`
	Currency          *string           `avro:"currency"`
	ID                *string           `avro:"id"`
	SearchTerm        *string           `avro:"search_term"`
	Name              *string           `avro:"name"`
	Category          *string           `avro:"category"`
	Status            *string           `avro:"status"`
	Items             *[]avroItem       `avro:"items"`
	ConsentCategories *[]string         `avro:"consent_categories"`
	FBP               *string           `avro:"fbp"`
	FBC               *string           `avro:"fbc"`
	User              *avroUser         `avro:"user"`
	Context           *avroContext      `avro:"context"`
	Browser           *avroBrowser      `avro:"browser"`
	Integrations      *avroIntegrations `avro:"integrations"`
	Extra             *map[string]any   `avro:"extra"`
}

type avroItem struct {
	Product  *avroProduct `avro:"product"`
	Quantity *int64       `avro:"quantity"`
}

type avroProduct struct {
	ID        *string  `avro:"id"`
	Name      *string  `avro:"name"`
	Price     *float64 `avro:"price"`
	Currency  *string  `avro:"currency"`
	Category1 *string  `avro:"category_1"`
	Category2 *string  `avro:"category_2"`
	Category3 *string  `avro:"category_3"`
	Category4 *string  `avro:"category_4"`
	Category5 *string  `avro:"category_5"`
}

type avroUser struct {
	ID                *string   `avro:"id"`
	Email             *string   `avro:"email"`
	Phone             *string   `avro:"phone"`
	Firstname         *string   `avro:"firstname"`
	Lastname          *string   `avro:"lastname"`
	Gender            *string   `avro:"gender"`
	Birthdate         *string   `avro:"birthdate"`
	City              *string   `avro:"city"`
	State             *string   `avro:"state"`
	Zipcode           *string   `avro:"zipcode"`
	Country           *string   `avro:"country"`
	IDSHA256          *string   `avro:"id_sha256"`
	EmailSHA256       *string   `avro:"email_sha256"`
	PhoneSHA256       *string   `avro:"phone_sha256"`
	FirstnameSHA256   *string   `avro:"firstname_sha256"`
	LastnameSHA256    *string   `avro:"lastname_sha256"`
	GenderSHA256      *string   `avro:"gender_sha256"`
	BirthdateSHA256   *string   `avro:"birthdate_sha256"`
	CitySHA256        *string   `avro:"city_sha256"`
	StateSHA256       *string   `avro:"state_sha256"`
	ZipcodeSHA256     *string   `avro:"zipcode_sha256"`
	CountrySHA256     *string   `avro:"country_sha256"`
	ConsentCategories *[]string `avro:"consent_categories"`
}

type avroContext struct {
	EventTimestamp *int64      `avro:"event_timestamp"`
	EventID        *string     `avro:"event_id"`
	Page           *avroPage   `avro:"page"`
	Device         *avroDevice `avro:"device"`
}

type avroPage struct {
	URL      *string `avro:"url"`
	Referrer *string `avro:"referrer"`
}

type avroDevice struct {
	IP        *string `avro:"ip"`
	UserAgent *string `avro:"user_agent"`
	Cookie    *string `avro:"cookie"`
}

type avroBrowser struct {
	IP        *string `avro:"ip"`
	UserAgent *string `avro:"user_agent"`
}

type avroIntegrations struct {
	Facebook *avroFacebook `avro:"facebook"`
}

type avroFacebook struct {
	EventName                    *string         `avro:"event_name"`
	EventID                      *string         `avro:"event_id"`
	ActionSource                 *string         `avro:"action_source"`
	FBP                          *string         `avro:"fbp"`
	FBC                          *string         `avro:"fbc"`
	OptOut                       *bool           `avro:"opt_out"`
	DataProcessingOptions        *[]string       `avro:"data_processing_options"`
	DataProcessingOptionsCountry *int64          `avro:"data_processing_options_country"`
	DataProcessingOptionsState   *int64          `avro:"data_processing_options_state"`
	UserData                     *map[string]any `avro:"user_data"`
	CustomData                   *map[string]any `avro:"custom_data"`
}

// avroRawJSON is the RawJSON record: a nested JSON value carried as text.
type avroRawJSON struct {
	JSON string `avro:"json"`
}

// rawJSONName is the full name of the RawJSON record, also the key hamba uses when it wraps a union value it could
// not map to a Go type.
const rawJSONName = "com.commandersact.RawJSON"

func avroStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// avroStrs keeps the JSON decoder's convention: null → nil, an empty array → a non-nil empty slice.
func avroStrs(p *[]string) []string {
	if p == nil {
		return nil
	}
	return append(make([]string, 0, len(*p)), *p...)
}

func avroFinite(field string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: field %q: NaN or infinite number", ErrSchema, field)
	}
	return nil
}

func (a *avroEvent) toEvent(ev *Event) error {
	ev.EventName = avroStr(a.EventName)
	ev.EventID = avroStr(a.EventID)
	ev.Type = avroStr(a.Type)
	ev.URL = avroStr(a.URL)
	ev.Referrer = avroStr(a.Referrer)
	switch {
	case a.Value != nil:
		ev.Value, ev.HasValue = *a.Value, true
	case a.Amount != nil:
		ev.Value, ev.HasValue = *a.Amount, true
	}
	if ev.HasValue {
		if err := avroFinite("value", ev.Value); err != nil {
			return err
		}
	}
	ev.Currency = avroStr(a.Currency)
	ev.ID = avroStr(a.ID)
	ev.SearchTerm = avroStr(a.SearchTerm)
	ev.Name = avroStr(a.Name)
	ev.Category = avroStr(a.Category)
	ev.Status = avroStr(a.Status)
	if a.Items != nil {
		ev.Items = make([]Item, len(*a.Items))
		for i, it := range *a.Items {
			if err := it.toItem(&ev.Items[i]); err != nil {
				return fmt.Errorf("items[%d]: %w", i, err)
			}
		}
	}
	ev.ConsentCategories = avroStrs(a.ConsentCategories)
	ev.FBP = avroStr(a.FBP)
	ev.FBC = avroStr(a.FBC)
	if a.User != nil {
		a.User.toUser(&ev.User)
	}
	if c := a.Context; c != nil {
		if c.EventTimestamp != nil {
			ev.Context.EventTimestamp, ev.Context.HasEventTimestamp = *c.EventTimestamp, true
		}
		ev.Context.EventID = avroStr(c.EventID)
		if c.Page != nil {
			ev.Context.Page = Page{URL: avroStr(c.Page.URL), Referrer: avroStr(c.Page.Referrer)}
		}
		if c.Device != nil {
			ev.Context.Device = Device{IP: avroStr(c.Device.IP), UserAgent: avroStr(c.Device.UserAgent), Cookie: avroStr(c.Device.Cookie)}
		}
	}
	// Older location, as in the JSON decoder: browser.* fills only what context.device leaves empty.
	if b := a.Browser; b != nil {
		if ev.Context.Device.IP == "" {
			ev.Context.Device.IP = avroStr(b.IP)
		}
		if ev.Context.Device.UserAgent == "" {
			ev.Context.Device.UserAgent = avroStr(b.UserAgent)
		}
	}
	if a.Integrations != nil && a.Integrations.Facebook != nil {
		if err := a.Integrations.Facebook.toFacebook(&ev.Integrations.Facebook); err != nil {
			return err
		}
	}
	var err error
	if ev.Extra, err = avroRawFields("extra", a.Extra); err != nil {
		return err
	}
	return nil
}

func (it *avroItem) toItem(out *Item) error {
	if it.Quantity != nil {
		out.Quantity, out.HasQuantity = *it.Quantity, true
	}
	p := it.Product
	if p == nil {
		return nil
	}
	out.Product = Product{
		ID: avroStr(p.ID), Name: avroStr(p.Name), Currency: avroStr(p.Currency),
		Category1: avroStr(p.Category1), Category2: avroStr(p.Category2), Category3: avroStr(p.Category3),
		Category4: avroStr(p.Category4), Category5: avroStr(p.Category5),
	}
	if p.Price != nil {
		if err := avroFinite("product.price", *p.Price); err != nil {
			return err
		}
		out.Product.Price, out.Product.HasPrice = *p.Price, true
	}
	return nil
}

func (u *avroUser) toUser(out *User) {
	out.UserFields = UserFields{
		ID: avroStr(u.ID), Email: avroStr(u.Email), Phone: avroStr(u.Phone), Firstname: avroStr(u.Firstname),
		Lastname: avroStr(u.Lastname), Gender: avroStr(u.Gender), Birthdate: avroStr(u.Birthdate), City: avroStr(u.City),
		State: avroStr(u.State), Zipcode: avroStr(u.Zipcode), Country: avroStr(u.Country),
	}
	out.SHA256 = UserFields{
		ID: avroStr(u.IDSHA256), Email: avroStr(u.EmailSHA256), Phone: avroStr(u.PhoneSHA256),
		Firstname: avroStr(u.FirstnameSHA256), Lastname: avroStr(u.LastnameSHA256), Gender: avroStr(u.GenderSHA256),
		Birthdate: avroStr(u.BirthdateSHA256), City: avroStr(u.CitySHA256), State: avroStr(u.StateSHA256),
		Zipcode: avroStr(u.ZipcodeSHA256), Country: avroStr(u.CountrySHA256),
	}
	out.ConsentCategories = avroStrs(u.ConsentCategories)
}

func (f *avroFacebook) toFacebook(out *Facebook) error {
	out.EventName = avroStr(f.EventName)
	out.EventID = avroStr(f.EventID)
	out.ActionSource = avroStr(f.ActionSource)
	out.FBP = avroStr(f.FBP)
	out.FBC = avroStr(f.FBC)
	if f.OptOut != nil {
		out.OptOut, out.HasOptOut = *f.OptOut, true
	}
	if f.DataProcessingOptions != nil {
		out.DataProcessingOptions, out.HasDataProcessingOptions = avroStrs(f.DataProcessingOptions), true
	}
	if f.DataProcessingOptionsCountry != nil {
		out.DataProcessingOptionsCountry, out.HasDataProcessingOptionsCountry = *f.DataProcessingOptionsCountry, true
	}
	if f.DataProcessingOptionsState != nil {
		out.DataProcessingOptionsState, out.HasDataProcessingOptionsState = *f.DataProcessingOptionsState, true
	}
	var err error
	if out.UserData, err = avroRawFields("integrations.facebook.user_data", f.UserData); err != nil {
		return err
	}
	out.CustomData, err = avroRawFields("integrations.facebook.custom_data", f.CustomData)
	return err
}

// avroRawFields turns an Avro map of scalar unions into RawFields, keys sorted: an Avro map has no meaningful order
// (producers usually encode from a hash map), and a sorted order keeps the Event, and so the Facebook payload,
// deterministic for the same record.
func avroRawFields(field string, m *map[string]any) ([]RawField, error) {
	if m == nil || len(*m) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(*m))
	for k := range *m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]RawField, len(keys))
	for i, k := range keys {
		v, err := avroValueJSON((*m)[k])
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %w", ErrSchema, field+"."+k, err)
		}
		out[i] = RawField{Key: k, Value: v}
	}
	return out, nil
}

// avroValueJSON converts one decoded union value into JSON text (the RawField contract): string → JSON string,
// long → integer text, double → shortest round-trip text, boolean → true/false, null → null, RawJSON → its
// text after validation. Any other shape (a writer union with a branch this model does not know) is rejected.
func avroValueJSON(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte("null"), nil
	case string:
		return json.Marshal(x)
	case bool:
		return strconv.AppendBool(nil, x), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case float64:
		return avroFloatJSON(x)
	case float32:
		return avroFloatJSON(float64(x))
	case avroRawJSON:
		return avroRawJSONText(x.JSON)
	case map[string]any:
		// hamba's generic form for a union branch it could not map to a Go type: {"<branch name>": value}.
		if len(x) == 1 {
			if r, ok := x[rawJSONName].(map[string]any); ok {
				if s, ok := r["json"].(string); ok {
					return avroRawJSONText(s)
				}
			}
			for name, inner := range x {
				switch name {
				case "null", "boolean", "int", "long", "float", "double", "string":
					return avroValueJSON(inner)
				}
			}
		}
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// avroFloatJSON formats like encoding/json (shortest round-trip text, exponent only for very large or small
// magnitudes); JSON has no NaN or infinity, so those are rejected.
func avroFloatJSON(f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("NaN or infinite number")
	}
	return json.Marshal(f)
}

func avroRawJSONText(s string) ([]byte, error) {
	b := []byte(strings.TrimSpace(s))
	if !json.Valid(b) {
		return nil, errors.New("RawJSON is not valid JSON")
	}
	return b, nil
}
