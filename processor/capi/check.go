package capi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

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
