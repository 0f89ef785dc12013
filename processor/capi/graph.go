package capi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The HTTP exchanges with the Graph API: the POST of a batch of events (post, its answer read by interpret), the
// GET of the destination's pixel (CheckPixel), and what both do with an answer — Facebook's error body parsed into
// a *GraphError with the destination's secrets scrubbed, the URL (and so the token) stripped from transport errors.

// maxResponseBody bounds what is read of an answer: Graph answers are a few hundred bytes.
const maxResponseBody = 1 << 20

// post makes the HTTP call and interprets the answer.
func (c *Client) post(ctx context.Context, items []Item, idx []int) outcome {
	buf := c.getBuf()
	*buf = appendBody(*buf, items, idx, c.tail)
	size := len(*buf)
	body := &pooledBody{buf: buf, c: c}

	rctx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint, body)
	if err != nil { // cannot happen: New validated the URL
		body.Close()
		return outcome{err: &transportError{path: c.path, err: errors.New("cannot build request")}, class: Misconfigured,
			graph: &GraphError{Message: "cannot build request for " + c.path}}
	}
	req.ContentLength = int64(size)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{err: ctx.Err(), cancelled: true}
		}
		return outcome{err: &transportError{path: c.path, err: stripURL(err)}, class: Transient}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		if ctx.Err() != nil {
			return outcome{err: ctx.Err(), cancelled: true}
		}
		return outcome{err: &transportError{path: c.path, status: resp.StatusCode, err: stripURL(err)},
			class: Transient, status: resp.StatusCode}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return c.interpret(resp.StatusCode, resp.Header, data, len(idx))
}

// stripURL drops the *url.Error wrapper, whose message holds the URL and so the access token.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) interpret(status int, h http.Header, data []byte, sent int) outcome {
	if status >= 200 && status < 300 {
		var ok struct {
			EventsReceived *int `json:"events_received"`
		}
		if err := json.Unmarshal(data, &ok); err != nil || ok.EventsReceived == nil {
			return outcome{err: &transportError{path: c.path, status: status, err: errors.New("answer without events_received")},
				class: Transient, status: status}
		}
		if *ok.EventsReceived != sent {
			return outcome{err: &transportError{path: c.path, status: status,
				err: fmt.Errorf("events_received %d for %d events sent", *ok.EventsReceived, sent)}, class: Transient, status: status}
		}
		return outcome{status: status}
	}
	ge := c.parseGraphError(status, data)
	o := outcome{err: ge, graph: ge, class: ge.Class(), status: status}
	if o.class == Throttled || o.class == Transient {
		o.hint = throttleHint(h, time.Now())
	}
	return o
}

func (c *Client) parseGraphError(status int, data []byte) *GraphError {
	var body struct {
		Error *struct {
			Message     string `json:"message"`
			Type        string `json:"type"`
			Code        int    `json:"code"`
			Subcode     int    `json:"error_subcode"`
			IsTransient bool   `json:"is_transient"`
			UserTitle   string `json:"error_user_title"`
			UserMsg     string `json:"error_user_msg"`
			FBTraceID   string `json:"fbtrace_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Error == nil || (body.Error.Code == 0 && body.Error.Message == "") {
		return &GraphError{HTTPStatus: status, Message: fmt.Sprintf("POST %s: HTTP %d without a Graph API error body", c.path, status)}
	}
	e := body.Error
	return &GraphError{
		HTTPStatus: status, Message: c.scrub(e.Message), Type: e.Type, Code: e.Code, Subcode: e.Subcode,
		IsTransient: e.IsTransient, UserTitle: c.scrub(e.UserTitle), UserMsg: c.scrub(e.UserMsg), FBTraceID: e.FBTraceID,
	}
}

// scrub removes the destination's secrets from a text Facebook wrote (it may echo a malformed token).
func (c *Client) scrub(s string) string {
	for _, secret := range c.secrets {
		if secret != "" && strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// Pixel is what Graph says about the destination's dataset (pixel) when the token may use it.
type Pixel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CheckPixel reads the destination's pixel node (GET /{version}/{pixel_id}?fields=id,name) with the destination's
// token and appsecret_proof: the same credentials, pixel and API version a delivery uses, and no event sent. It
// succeeds when the token is valid for the pixel; otherwise the error is a *GraphError (see Advice) or a network
// error. It does not touch the circuit breaker, the throttling state or the metrics.
func (c *Client) CheckPixel(ctx context.Context) (Pixel, error) {
	endpoint := strings.Replace(c.endpoint, "/events?", "?fields=id,name&", 1)
	path := strings.TrimSuffix(c.path, "/events")
	rctx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return Pixel{}, &transportError{path: path, err: errors.New("cannot build request")}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return Pixel{}, &transportError{method: http.MethodGet, path: path, err: stripURL(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return Pixel{}, &transportError{method: http.MethodGet, path: path, status: resp.StatusCode, err: stripURL(err)}
	}
	if resp.StatusCode != http.StatusOK {
		ge := c.parseGraphError(resp.StatusCode, data)
		if ge.Code == 0 {
			ge.Message = fmt.Sprintf("GET %s: HTTP %d without a Graph API error body", path, resp.StatusCode)
		}
		return Pixel{}, ge
	}
	var p Pixel
	if err := json.Unmarshal(data, &p); err != nil || p.ID == "" {
		return Pixel{}, &transportError{method: http.MethodGet, path: path, status: resp.StatusCode,
			err: fmt.Errorf("answer without the pixel id: not the Graph API?")}
	}
	return p, nil
}
