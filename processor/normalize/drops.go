package normalize

import "iter"

// Reason says why a user_data value was dropped instead of hashed. It names a class of problem, never the value:
// it is shown by preview, counted by capi_user_data_dropped_total and may appear in DLQ headers.
type Reason uint8

// The reasons; Kept (the zero value) means the field was not dropped.
const (
	Kept Reason = iota
	// ReasonPlaceholder: the value is one of the configured placeholders ("n/a", "null", "unknown", "-", …), a
	// stand-in for "no data" that would otherwise be hashed as if it were a name, a city or a zip code.
	ReasonPlaceholder
	// ReasonEmpty: nothing the field's rule keeps is left (a name or city of digits and punctuation only).
	ReasonEmpty
	// ReasonTooLong: longer than any real value of the field (512 bytes).
	ReasonTooLong
	// ReasonInvalidEmail: not shaped like an address.
	ReasonInvalidEmail
	// ReasonInvalidPhone: neither the national reading (event country, else the destination's region) nor the
	// international reading is a number libphonenumber calls valid.
	ReasonInvalidPhone
	// ReasonUnparseableDate: not a date in any accepted form, or a day that does not exist.
	ReasonUnparseableDate
	// ReasonImplausibleDate: a real date outside the plausibility window (1900-01-01 to today).
	ReasonImplausibleDate
	// ReasonUnknownGender: not a recognized spelling of female or male.
	ReasonUnknownGender
	// ReasonUnknownCountry: not an ISO 3166-1 code or a known country name.
	ReasonUnknownCountry
	// ReasonInvalidZip: not 3 to 10 letters and digits once spaces and punctuation are removed.
	ReasonInvalidZip
	numReasons
)

var reasonNames = [numReasons]string{
	Kept:                  "",
	ReasonPlaceholder:     "placeholder",
	ReasonEmpty:           "empty_after_normalization",
	ReasonTooLong:         "too_long",
	ReasonInvalidEmail:    "invalid_email",
	ReasonInvalidPhone:    "invalid_phone",
	ReasonUnparseableDate: "unparseable_date",
	ReasonImplausibleDate: "implausible_date",
	ReasonUnknownGender:   "unknown_gender",
	ReasonUnknownCountry:  "unknown_country",
	ReasonInvalidZip:      "invalid_zip",
}

// String returns the reason's code ("invalid_phone"), "" for Kept.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Fields returns the user_data keys of the hashed fields, in a fixed order.
func Fields() []string { return keys[:] }

// NumFields and NumReasons size tables indexed by FieldIndex and Reason.
const (
	NumFields  = int(numFields)
	NumReasons = int(numReasons)
)

// Drops records which hashed user_data fields of one event were dropped and why. The zero value drops nothing.
// It is a small array (one byte per field), copied by value, so carrying it costs no allocation.
type Drops [numFields]Reason

// Any reports whether a field was dropped.
func (d *Drops) Any() bool { return *d != Drops{} }

// Len returns how many fields were dropped.
func (d *Drops) Len() int {
	n := 0
	for _, r := range d {
		if r != Kept {
			n++
		}
	}
	return n
}

// Get returns the reason the field with user_data key k ("ph") was dropped, Kept if it was not.
func (d *Drops) Get(k string) Reason {
	for i, key := range keys {
		if key == k {
			return d[i]
		}
	}
	return Kept
}

// All yields the dropped fields as (user_data key, reason) in field order.
func (d *Drops) All() iter.Seq2[string, Reason] {
	return func(yield func(string, Reason) bool) {
		for i, r := range d {
			if r != Kept && !yield(keys[i], r) {
				return
			}
		}
	}
}

// Indexes yields the dropped fields as (field index, reason), for counters indexed by field.
func (d *Drops) Indexes() iter.Seq2[int, Reason] {
	return func(yield func(int, Reason) bool) {
		for i, r := range d {
			if r != Kept && !yield(i, r) {
				return
			}
		}
	}
}

// AppendJSON appends the drops as a JSON object, {"ph":"invalid_phone","db":"unparseable_date"} ({} for none).
// Keys and reasons are fixed ASCII words: nothing needs escaping.
func (d *Drops) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for k, r := range d.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, r.String()...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// AppendText appends the drops as "ph invalid_phone, db unparseable_date" (rejection details).
func (d *Drops) AppendText(b []byte) []byte {
	first := true
	for k, r := range d.All() {
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, k...)
		b = append(b, ' ')
		b = append(b, r.String()...)
	}
	return b
}
