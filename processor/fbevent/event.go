// Package fbevent is the Conversions API server event as the connector sends it: the typed model, its
// deterministic JSON encoding (the exact bytes POSTed in "data"), and the shape rules of the Graph API that both
// the pipeline's validation stage and the Graph API simulator enforce.
package fbevent

// Event is one server event (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters).
// Field order here is the field order of the encoding. Zero values are omitted.
type Event struct {
	EventName      string // event_name
	EventTime      int64  // event_time, unix seconds
	EventID        string // event_id
	EventSourceURL string // event_source_url
	ReferrerURL    string // referrer_url
	ActionSource   string // action_source

	OptOut    bool // opt_out
	HasOptOut bool

	DataProcessingOptions           []string // data_processing_options; emitted when HasDataProcessingOptions
	HasDataProcessingOptions        bool
	DataProcessingOptionsCountry    int64 // data_processing_options_country
	HasDataProcessingOptionsCountry bool
	DataProcessingOptionsState      int64 // data_processing_options_state
	HasDataProcessingOptionsState   bool

	UserData   UserData
	CustomData CustomData

	// AppData is app_data, required when ActionSource is "app": one JSON object, raw and compact (the mapping
	// stage copies integrations.facebook.app_data), written verbatim after custom_data; omitted when empty.
	// Validate checks the members Meta requires (advertiser_tracking_enabled, application_tracking_enabled,
	// extinfo).
	AppData []byte
}

// UserData is user_data. The hashed fields hold lowercase hex SHA-256 once the normalize stage has run; before it
// they hold the mapped clear values. Client IP, user agent, fbc and fbp are never hashed.
type UserData struct {
	Em         string // em
	Ph         string // ph
	Fn         string // fn
	Ln         string // ln
	Ge         string // ge
	Db         string // db
	Ct         string // ct
	St         string // st
	Zp         string // zp
	Country    string // country
	ExternalID string // external_id

	ClientIPAddress string // client_ip_address
	ClientUserAgent string // client_user_agent
	FBC             string // fbc
	FBP             string // fbp
}

// CustomData is custom_data.
type CustomData struct {
	Value           float64 // value
	HasValue        bool
	Currency        string   // currency
	OrderID         string   // order_id
	SearchString    string   // search_string
	ContentIDs      []string // content_ids
	Contents        []Content
	ContentName     string // content_name
	ContentCategory string // content_category
	ContentType     string // content_type
	Status          string // status
	NumItems        int64  // num_items
	HasNumItems     bool

	// Extra are custom parameters (keys that are not one of the above), raw JSON values, encoded after the
	// typed fields in order. Keys are unique and never one of the typed keys.
	Extra []Param
	// DroppedParams counts the distinct custom parameter keys the mapping left out beyond its cap
	// (mapping.MaxCustomParams). Not encoded: it feeds capi_custom_params_dropped_total.
	DroppedParams int
}

// Content is one element of custom_data.contents.
type Content struct {
	ID           string  // id
	Quantity     int64   // quantity
	ItemPrice    float64 // item_price
	HasItemPrice bool
}

// Param is a custom parameter: key and raw JSON value.
type Param struct {
	Key   string
	Value []byte
}
