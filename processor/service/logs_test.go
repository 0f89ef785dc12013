package service_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/processor/reject"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/processor/stream"
	"github.com/capi-connector/capi-connector/schema/sample"
)

// The personal data of the test events, each value distinctive enough that finding it in the logs can only be a
// leak.
var pii = struct {
	email, phone, phoneE164, first, last, ip, ip6, userID, birth, street string
}{
	email: "zephyrine.quintavalle@pii-example.com", phone: "06 98 76 54 32", phoneE164: "33698765432",
	first: "Zéphyrine", last: "Quintavalle", ip: "198.51.100.77", ip6: "2001:db8:77::1f",
	userID: "CUST-7781-PII", birth: "1984-07-19", street: "Rue-des-Secrets",
}

const (
	saslUser     = "capi"
	saslPassword = "sasl-pa55word-do-not-log"
	logsPixelA   = "1111111111111"
	logsPixelB   = "2222222222222"
	logsTokenA   = "EAAB-token-A-do-not-log"
	logsTokenB   = "EAAB-token-B-do-not-log"
	logsSecretA  = "app-secret-A-do-not-log"
)

// piiEvent is a Commanders Act event carrying every kind of personal data. mutate edits the JSON object before it
// is encoded (remove or change fields to steer the event to a rejection).
func piiEvent(id string, ts time.Time, mutate func(map[string]any)) []byte {
	ev := map[string]any{
		"event_name": "purchase", "id": "ORD-" + id, "value": 42.5, "currency": "EUR",
		"consent_categories": []string{sample.ConsentCategory},
		"user": map[string]any{
			"id": pii.userID, "email": pii.email, "phone": pii.phone, "firstname": pii.first, "lastname": pii.last,
			"birthdate": pii.birth, "city": "Paris", "zipcode": "75011", "country": "FR",
		},
		"context": map[string]any{
			"event_timestamp": ts.UnixMilli(),
			"page":            map[string]any{"url": "https://shop.example.com/confirm?email=" + pii.email + "&street=" + pii.street},
			"device":          map[string]any{"ip": pii.ip, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"},
		},
		"integrations": map[string]any{"facebook": map[string]any{"event_id": id}},
	}
	if mutate != nil {
		mutate(ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

func user(ev map[string]any) map[string]any { return ev["user"].(map[string]any) }

// echoGraph answers like a Graph API that echoes what it received in its error messages — the worst case for
// logs: the request's query string (access token, appsecret_proof) and body (hashed user data, the client IP and
// URL in clear). Requests carrying poisonID are refused as an invalid event; the first request is refused with a
// transient 500 and the second has its connection dropped; everything else goes to the simulator.
type echoGraph struct {
	sim      *capitest.Server
	poisonID string
	n        atomic.Int64
}

func (g *echoGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	echo := "received token " + q.Get("access_token") + " proof " + q.Get("appsecret_proof") + " " + string(body)
	switch n := g.n.Add(1); {
	case n == 1:
		writeGraphErr(w, 500, map[string]any{"message": "An unexpected error has occurred: " + echo, "code": 2, "is_transient": true})
		return
	case n == 2:
		hj, _ := w.(http.Hijacker)
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
		return
	case bytes.Contains(body, []byte(g.poisonID)):
		writeGraphErr(w, 400, map[string]any{"message": "Invalid parameter: " + echo, "code": 100, "error_subcode": 2804019,
			"error_user_title": "Invalid value " + pii.email, "error_user_msg": "The event " + echo + " is invalid"})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.sim.ServeHTTP(w, r)
}

// expiredGraph answers every request with 190 "Malformed access token <token>", as Meta does for a bad token.
func expiredGraph(w http.ResponseWriter, r *http.Request) {
	writeGraphErr(w, 400, map[string]any{"message": "Malformed access token " + r.URL.Query().Get("access_token"),
		"type": "OAuthException", "code": 190})
}

func writeGraphErr(w http.ResponseWriter, status int, e map[string]any) {
	e["fbtrace_id"] = "AbCdEf123"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// Events full of personal data go through every path — delivered, rejected at every stage, refused by Facebook with
// an error echoing the payload and the token, transient errors and dropped connections echoing the same, a token
// refused as misconfiguration, dead-letter produces failing — with the logger at debug level, franz-go's logs
// included (kzerolog through KafkaOpts). No personal value, hash of one, access token, app secret or SASL password
// may appear in the captured logs.
func TestLogsCarryNoPersonalDataOrSecrets(t *testing.T) {
	names := servicetest.NewNames(t)
	c := servicetest.NewCluster(t, names, 2, kfake.EnableSASL(), kfake.Superuser(config.SASLPlain, saslUser, saslPassword))
	admin := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(plain.Auth{User: saslUser, Pass: saslPassword}.AsMechanism())}

	// The first DLQ produces are refused: the writer's retry and its error log are exercised.
	dlqID := servicetest.TopicID(t, admin, names.DLQ)
	var dlqRefusals atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if !servicetest.ProducesTo(pr, names.DLQ, dlqID) || dlqRefusals.Load() >= 3 {
			return nil, nil, false
		}
		dlqRefusals.Add(1)
		return servicetest.RefuseProduce(pr, kerr.TopicAuthorizationFailed.Code), nil, true
	})

	sim, err := capitest.New(capitest.Config{AccessTokens: map[string]string{logsPixelA: logsTokenA}, AppSecret: logsSecretA})
	if err != nil {
		t.Fatal(err)
	}
	echo := &echoGraph{sim: sim, poisonID: "pii-poison"}
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, logsPixelB) {
			expiredGraph(w, r)
			return
		}
		echo.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	cfg := servicetest.Config(c.ListenAddrs(), names, srv.URL)
	cfg.Kafka.SASL = config.SASL{Mechanism: config.SASLPlain, Username: saslUser, Password: saslPassword}
	cfg.ShutdownTimeout = time.Second // destination B never delivers: do not wait for it
	a := cfg.Destinations[0]
	a.Name, a.PixelID, a.AccessToken, a.AppSecret = "shop", logsPixelA, logsTokenA, logsSecretA
	a.Batch.Linger = 200 * time.Millisecond // the servicetest.Deliverable events and the poisoned one share batches: bisection
	b := a
	b.Name, b.PixelID, b.AccessToken, b.AppSecret = "ads", logsPixelB, logsTokenB, ""
	cfg.Destinations = []config.Destination{a, b}
	var logs servicetest.SyncBuffer
	log := service.NewLogger(&logs, "debug", config.LogJSON)

	now := time.Now()
	var events [][]byte
	for i := range 20 {
		events = append(events, piiEvent(fmt.Sprintf("pii-ok-%d", i), now.Add(-time.Minute), nil))
	}
	events = append(events,
		piiEvent("pii-poison", now.Add(-time.Minute), nil),
		piiEvent("pii-no-consent", now, func(ev map[string]any) { ev["consent_categories"] = []string{"9"} }),
		piiEvent("pii-insufficient", now, func(ev map[string]any) {
			ev["event_name"] = "page_view"
			ev["user"] = map[string]any{"firstname": pii.first}
		}),
		piiEvent("pii-purchase-no-em", now, func(ev map[string]any) {
			delete(user(ev), "email")
			delete(user(ev), "phone")
		}),
		piiEvent("pii-too-old", now.Add(-10*24*time.Hour), nil),
		piiEvent("pii-future", now.Add(24*time.Hour), nil),
		piiEvent("pii-no-name", now, func(ev map[string]any) { delete(ev, "event_name") }),
		piiEvent("pii-bad-email", now, func(ev map[string]any) { user(ev)["email"] = "not-an-address-" + pii.last }),
		piiEvent("pii-schema", now, func(ev map[string]any) { user(ev)["email"] = map[string]any{"value": pii.email} }),
		piiEvent("pii-schema2", now, func(ev map[string]any) { ev["value"] = "forty-two " + pii.email }),
		piiEvent("pii-ipv6", now, func(ev map[string]any) {
			ev["context"].(map[string]any)["device"].(map[string]any)["ip"] = pii.ip6
		}),
		[]byte(`{"event_name":"purchase","user":{"email":"`+pii.email+`","phone":"`+pii.phone+`"`), // truncated JSON
		[]byte("\x00\x01 "+pii.email+" "+pii.ip),                                                   // not JSON at all
	)
	recs := make([]sample.Event, len(events))
	for i, v := range events {
		recs[i] = sample.Event{Key: []byte(pii.userID), Value: v}
	}
	servicetest.Produce(t, admin, names.Topic, recs)

	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	svc := servicetest.Start(t, cfg, log)
	servicetest.WaitFor(t, 20*time.Second, "delivery, the Facebook rejection, the misconfiguration and the DLQ retries", func() bool {
		st := svc.Runner().Stats()
		rejected := st.Rejected()
		return st.Delivered()["shop"] >= 20 && rejected[stream.RejectKey{Destination: "shop", Reason: reject.FacebookRejected}] == 1 &&
			!svc.Runner().Ready() && dlqRefusals.Load() >= 3 && st.DLQErrors.Load() >= 1
	})
	time.Sleep(300 * time.Millisecond) // DLQ retries land

	_ = svc.Stop(t)
	out := logs.String()

	// The paths really ran and were logged (otherwise finding nothing proves nothing).
	for _, want := range []string{
		`"level":"error"`,                                 // misconfiguration and DLQ produce failures
		`"destination":"ads"`,                             // the misconfigured destination is named
		"graph api rejected an event",                     // Facebook's refusal, at debug
		"graph api call failed: retrying",                 // the transient 500 and the dropped connection
		"dead-letter produce failed",                      // DLQ produce failures
		`"fbtrace_id":"AbCdEf123"`,                        // what Meta support asks for is kept
		`"message":"connection initialized successfully"`, // franz-go's own debug logs (kzerolog)
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %q: the path was not exercised or not logged", want)
		}
	}
	if n := len(servicetest.LogLines(out)); n < 20 {
		t.Errorf("only %d log lines at debug level", n)
	}

	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	forbidden := map[string]string{
		"email": pii.email, "email hash": sum(pii.email), "phone": pii.phone, "phone E.164": pii.phoneE164,
		"phone hash": sum(pii.phoneE164), "first name": pii.first, "first name (lower)": strings.ToLower(pii.first),
		"last name": pii.last, "last name (lower)": strings.ToLower(pii.last), "last name hash": sum(strings.ToLower(pii.last)),
		"IPv4": pii.ip, "IPv6": pii.ip6, "user id": pii.userID, "birth date": pii.birth, "birth date (normalized)": "19840719",
		"street in URL": pii.street, "access token A": logsTokenA, "access token B": logsTokenB, "app secret": logsSecretA,
		"appsecret_proof": capi.AppSecretProof(logsSecretA, logsTokenA), "SASL password": saslPassword,
	}
	for what, v := range forbidden {
		for _, l := range servicetest.LogLines(out) {
			if strings.Contains(strings.ToLower(l), strings.ToLower(v)) {
				t.Errorf("%s in clear in the logs: %s", what, l)
				break
			}
		}
	}

	// Rejection details written by our own stages (capi-error of the DLQ) carry no personal data either; Facebook's
	// own message is kept verbatim there by design (it is Meta's diagnosis, next to the record's own bytes).
	for _, r := range servicetest.ReadAll(t, admin, names.DLQ) {
		reason, _ := dlq.Header(r.Headers, dlq.HeaderReason)
		detail, _ := dlq.Header(r.Headers, dlq.HeaderError)
		if reason == "facebook_rejected" {
			continue
		}
		for what, v := range forbidden {
			if strings.Contains(strings.ToLower(detail), strings.ToLower(v)) {
				t.Errorf("DLQ %s detail carries the %s: %s", reason, what, detail)
			}
		}
	}
}
