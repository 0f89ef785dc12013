package capitest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxEventsPerRequest is the Graph API's cap on data.
const MaxEventsPerRequest = 1000

// requestKeys are the top-level parameters of POST /{pixel}/events, wherever they come from (query string, JSON
// body or form). Anything else is refused.
var requestKeys = map[string]bool{
	"data": true, "test_event_code": true, "partner_agent": true, "namespace_id": true, "upload_id": true,
	"upload_tag": true, "upload_source": true, "access_token": true, "appsecret_proof": true,
}

// params are the request's parameters. data is the raw JSON text of the events array; jsonData, when the JSON body
// carried data as an array, is that array already parsed (in the caller's document).
type params struct {
	values   map[string]string
	data     string
	hasData  bool
	jsonData jval
}

// readParams merges query-string and body parameters the way the Graph API does: a JSON body, an urlencoded form
// or a multipart form; any other Content-Type leaves the body unread, so the request then lacks data. A parameter
// given twice (in the query and the body, or twice in a form) is refused.
func readParams(r *http.Request, body []byte, bodyErr error, doc *jsonDoc) (*params, *graphError) {
	out := &params{values: map[string]string{}}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, paramError("The query string is malformed")
	}
	if gerr := out.addForm(query); gerr != nil {
		return nil, gerr
	}
	if r.Method != http.MethodPost {
		return out, nil
	}
	if bodyErr != nil {
		return nil, bodyReadError(bodyErr)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return out, nil
	}
	switch ct {
	case "application/json":
		return out, out.addJSON(body, doc)
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, paramError("The form body is malformed")
		}
		return out, out.addForm(form)
	case "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(int64(len(body)) + 1); err != nil {
			return nil, paramError("The multipart body is malformed")
		}
		if len(r.MultipartForm.File) > 0 {
			return nil, paramError("File uploads are not supported on this edge")
		}
		return out, out.addForm(r.MultipartForm.Value)
	}
	return out, nil
}

// readBody reads a POST body whole into buf, up to max bytes, before anything else happens: the simulator then
// notices a client that goes away during injected latency (net/http watches the connection only once the body is
// consumed). The body returned is buf's memory.
func readBody(w http.ResponseWriter, r *http.Request, max int64, buf *bytes.Buffer) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, nil
	}
	buf.Reset()
	if n := r.ContentLength; n > 0 && n <= max {
		// Sized once; MinRead spare bytes let the final read see EOF without growing.
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	return buf.Bytes(), err
}

func bodyReadError(err error) *graphError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		e := paramError("The request body exceeds %d bytes", tooBig.Limit)
		e.status = http.StatusRequestEntityTooLarge
		return e
	}
	return paramError("The request body could not be read")
}

func (p *params) set(key, value string) *graphError {
	if !requestKeys[key] {
		return paramError("Param %s is not a valid parameter of this endpoint", key)
	}
	if _, dup := p.values[key]; dup || (key == "data" && p.hasData) {
		return paramError("Param %s is given more than once", key)
	}
	if key == "data" {
		p.data, p.hasData = value, true
		return nil
	}
	p.values[key] = value
	return nil
}

func (p *params) addForm(form url.Values) *graphError {
	for k, vs := range form {
		if len(vs) != 1 {
			return paramError("Param %s is given more than once", k)
		}
		if gerr := p.set(k, vs[0]); gerr != nil {
			return gerr
		}
	}
	return nil
}

// addJSON reads a JSON object body into doc. data may be the events array itself or a string holding it (as SDKs
// that form-encode send it); other parameters are strings, ids may also be integers.
func (p *params) addJSON(body []byte, doc *jsonDoc) *graphError {
	// doc's parser is the strict judge of JSON syntax, exactly as encoding/json (no NaN, no control characters,
	// no bad escapes) except for UTF-8, checked here.
	if !utf8.Valid(body) || !doc.parse(body) {
		return paramError("The request body is not valid JSON")
	}
	obj := doc.root()
	if obj.kind() != jsonObject {
		return paramError("The request body must be a JSON object")
	}
	for k, v := range obj.members() {
		key := string(k)
		var gerr *graphError
		switch {
		case key == "data" && v.kind() == jsonArray:
			if gerr = p.set(key, ""); gerr == nil {
				p.jsonData = v
			}
		case v.kind() == jsonString:
			s, _ := v.str()
			gerr = p.set(key, string(s))
		case v.kind() == jsonNumber && (key == "namespace_id" || key == "upload_id"):
			gerr = p.set(key, string(v.raw()))
		case !requestKeys[key]:
			gerr = p.set(key, "")
		default:
			gerr = paramError("Param %s must be a string", key)
			if key == "data" {
				gerr = paramError("Param data must be an array")
			}
		}
		if gerr != nil {
			return gerr
		}
	}
	return nil
}

// accessToken is the token from the parameters, else from an "Authorization: Bearer|OAuth <token>" header.
func accessToken(r *http.Request, p *params) string {
	if t := p.values["access_token"]; t != "" {
		return t
	}
	auth := r.Header.Get("Authorization")
	for _, scheme := range [...]string{"Bearer ", "OAuth "} {
		if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
			return strings.TrimSpace(auth[len(scheme):])
		}
	}
	return ""
}
