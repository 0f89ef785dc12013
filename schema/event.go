// Package schema holds the typed Commanders Act event the connector accepts and the decoders (JSON, Avro) that
// produce it. Every decoder yields the same Event for the same logical input, so the pipeline after decoding is one.
package schema

// Event is a Commanders Act event as the connector understands it (docs/mapping.md). Absent fields are zero values;
// numeric fields that may legitimately be zero carry a Has* flag so "absent" and "0" stay distinct.
//
// Older field names are folded in by the decoders: `amount` fills Value when `value` is absent, `browser.ip` and
// `browser.user_agent` fill Context.Device when the context fields are absent.
type Event struct {
	EventName string // event_name
	EventID   string // root event_id
	Type      string // type: "offline" → physical_store, "app" → app

	URL      string // root url (fallback for context.page.url)
	Referrer string // root referrer (fallback for context.page.referrer)

	Value    float64 // value, else amount
	HasValue bool
	Currency string // currency
	ID       string // id → custom_data.order_id
	// SearchTerm is search_term → custom_data.search_string.
	SearchTerm string
	Name       string // name → content_name
	Category   string // category → content_category
	Status     string // status
	Items      []Item

	// ConsentCategories is the root consent_categories (strings or numbers, kept as their decimal text).
	ConsentCategories []string

	FBP string // root fbp
	FBC string // root fbc

	User         User
	Context      Context
	Integrations Integrations

	// Extra holds the root fields the decoder does not know, in input order, as raw JSON values. The mapping
	// sends scalar ones as custom_data parameters when the destination allows it.
	Extra []RawField
}

// UserFields are the personal fields of user.* in clear (or, in User.SHA256, already hashed).
type UserFields struct {
	ID        string // id → external_id
	Email     string // email → em
	Phone     string // phone → ph
	Firstname string // firstname → fn
	Lastname  string // lastname → ln
	Gender    string // gender → ge
	Birthdate string // birthdate → db
	City      string // city → ct
	State     string // state → st
	Zipcode   string // zipcode → zp
	Country   string // country → country
}

// User is the user object. SHA256 holds the user.<field>_sha256 inputs (e.g. email_sha256), taken as already hashed.
type User struct {
	UserFields
	SHA256            UserFields
	ConsentCategories []string // user.consent_categories
}

// Item is one element of items[].
type Item struct {
	Product     Product
	Quantity    int64
	HasQuantity bool
}

// Product is items[].product.
type Product struct {
	ID        string // number ids are kept as their decimal text
	Name      string
	Price     float64
	HasPrice  bool
	Currency  string
	Category1 string
	Category2 string
	Category3 string
	Category4 string
	Category5 string
}

// Context is the context object.
type Context struct {
	// EventTimestamp is context.event_timestamp in milliseconds since the epoch.
	EventTimestamp    int64
	HasEventTimestamp bool
	EventID           string // context.event_id
	Page              Page
	Device            Device
}

// Page is context.page.
type Page struct {
	URL      string
	Referrer string
}

// Device is context.device (with browser.ip / browser.user_agent folded in by the decoder).
type Device struct {
	IP        string
	UserAgent string
	Cookie    string // the raw Cookie header value; _fbp / _fbc are read from it
}

// Integrations is the integrations object; only integrations.facebook concerns us.
type Integrations struct {
	Facebook Facebook
}

// Facebook is integrations.facebook: per-event overrides chosen by the tag or the sender.
type Facebook struct {
	EventName    string
	EventID      string
	ActionSource string
	FBP          string
	FBC          string

	OptOut    bool
	HasOptOut bool

	// DataProcessingOptions is data_processing_options (e.g. ["LDU"]); HasDataProcessingOptions distinguishes an
	// explicit empty list (no LDU) from absence.
	DataProcessingOptions           []string
	HasDataProcessingOptions        bool
	DataProcessingOptionsCountry    int64
	HasDataProcessingOptionsCountry bool
	DataProcessingOptionsState      int64
	HasDataProcessingOptionsState   bool

	// UserData and CustomData are integrations.facebook.user_data / custom_data, in input order, raw JSON values.
	UserData   []RawField
	CustomData []RawField

	// AppData is integrations.facebook.app_data, the Conversions API app_data object that app events
	// (action_source app) require: one compact JSON object (e.g. {"advertiser_tracking_enabled":1,
	// "application_tracking_enabled":1,"extinfo":["a2",…]}), nil when absent or null. Its content is the
	// sender's; the validation stage checks the shape Meta requires.
	AppData []byte
}

// RawField is a key and its value as JSON text (e.g. `"abc"`, `12.5`, `true`, `{"a":1}`). The bytes are owned by the
// Event (copied out of the decoder's buffers).
type RawField struct {
	Key   string
	Value []byte
}
