package processor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/fbevent"
)

const (
	simPixel = "1234567890"
	simToken = "test-token"
)

// postToSimulator sends events as one Graph API request to a fresh simulator whose clock is the golden events'
// now, and returns the HTTP status and body.
func postToSimulator(t *testing.T, events [][]byte) (int, []byte) {
	t.Helper()
	_, ts := capitest.NewTestServer(t, capitest.Config{
		AccessTokens: map[string]string{simPixel: simToken},
		Now:          func() time.Time { return now },
	})
	body := fbevent.AppendBatch(nil, events, "", "")
	resp, err := http.Post(ts.URL+"/v24.0/"+simPixel+"/events?access_token="+simToken, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

func processGolden(t *testing.T, p *processor.Pipeline, file string) processor.Outcome {
	t.Helper()
	in := readTestdata(t, "golden/"+file)
	outs, err := p.Process(context.Background(), processor.Record{Value: bytes.TrimSpace(in), Timestamp: now}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return outs[0]
}

// TestSimulatorAcceptsDeliveredGoldens: every golden event the pipeline delivers, the app event included, is
// accepted by the Graph API simulator in one batch (one refused event would fail them all).
func TestSimulatorAcceptsDeliveredGoldens(t *testing.T) {
	p := newPipeline(t)
	var events [][]byte
	for _, f := range []string{"purchase.json", "offline_purchase.json", "custom_event.json", "prehashed.json", "app_event.json"} {
		o := processGolden(t, p, f)
		if o.JSON == nil {
			t.Fatalf("%s: not delivered: %+v", f, o.Rejection)
		}
		events = append(events, o.JSON)
	}
	status, answer := postToSimulator(t, events)
	if status != http.StatusOK {
		t.Fatalf("simulator answered %d: %s", status, answer)
	}
	var ok struct {
		EventsReceived int `json:"events_received"`
	}
	if err := json.Unmarshal(answer, &ok); err != nil || ok.EventsReceived != len(events) {
		t.Fatalf("answer %s: want events_received %d", answer, len(events))
	}

	// The same app event without its app_data is what the pipeline now refuses; the simulator refuses it too.
	var app map[string]json.RawMessage
	if err := json.Unmarshal(events[len(events)-1], &app); err != nil {
		t.Fatal(err)
	}
	delete(app, "app_data")
	stripped, err := json.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	if status, answer := postToSimulator(t, [][]byte{stripped}); status != http.StatusBadRequest || !bytes.Contains(answer, []byte("app_data")) {
		t.Fatalf("app event without app_data: simulator answered %d: %s", status, answer)
	}
}

// TestAppDataValidationMatchesSimulator: on these shapes fbevent.Validate and the simulator agree. What Validate
// lets through the simulator must accept (else one app event fails its whole batch); the converse holds here
// too, though Validate may be stricter elsewhere (it refuses a repeated app_data key).
func TestAppDataValidationMatchesSimulator(t *testing.T) {
	p := newPipeline(t)
	o := processGolden(t, p, "app_event.json")
	if o.JSON == nil {
		t.Fatalf("not delivered: %+v", o.Rejection)
	}
	var base map[string]json.RawMessage
	if err := json.Unmarshal(o.JSON, &base); err != nil {
		t.Fatal(err)
	}
	for _, appData := range []string{
		`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":["a2"]}`,
		`{"advertiser_tracking_enabled":false,"application_tracking_enabled":true,"extinfo":["i2","x"],"campaign_ids":"c"}`,
		`{"advertiser_tracking_enabled":0,"application_tracking_enabled":0,"extinfo":["i2",1,null]}`,
		`{}`,
		`{"application_tracking_enabled":1,"extinfo":["a2"]}`,
		`{"advertiser_tracking_enabled":1,"extinfo":["a2"]}`,
		`{"advertiser_tracking_enabled":2,"application_tracking_enabled":1,"extinfo":["a2"]}`,
		`{"advertiser_tracking_enabled":"1","application_tracking_enabled":1,"extinfo":["a2"]}`,
		`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1}`,
		`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":[]}`,
		`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":"a2"}`,
		`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":["a1"]}`,
		`{"advertiser_tracking_enabled":1,"application_tracking_enabled":1,"extinfo":[2]}`,
		`["a2"]`,
		`"app"`,
	} {
		t.Run(appData, func(t *testing.T) {
			ev := map[string]json.RawMessage{}
			for k, v := range base {
				ev[k] = v
			}
			ev["app_data"] = json.RawMessage(appData)
			encoded, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			validateErr := pipelineWithAppData(t, p, []byte(appData))
			status, answer := postToSimulator(t, [][]byte{encoded})
			if validateErr == nil && status != http.StatusOK {
				t.Fatalf("Validate accepts, the simulator answers %d: %s", status, answer)
			}
			if validateErr != nil && status == http.StatusOK {
				t.Fatalf("Validate refuses (%v) what the simulator accepts", validateErr)
			}
		})
	}
}

// pipelineWithAppData processes the golden app event with its app_data replaced and returns the rejection (the
// decoder's for a non-object, fbevent.Validate's otherwise), or nil when the event is delivered.
func pipelineWithAppData(t *testing.T, p *processor.Pipeline, appData []byte) error {
	t.Helper()
	in := readTestdata(t, "golden/app_event.json")
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(in, &rec); err != nil {
		t.Fatal(err)
	}
	rec["integrations"] = json.RawMessage(`{"facebook":{"event_id":"app-evt-77","app_data":` + string(appData) + `}}`)
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := p.Process(context.Background(), processor.Record{Value: raw, Timestamp: now}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := outs[0].Rejection; r != nil {
		return r
	}
	return nil
}
