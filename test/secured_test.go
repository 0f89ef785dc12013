package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/capi-connector/capi-connector/test/proctest"
)

// The tests in this file run the real capi-connector binary through the secured listener of the real broker
// (CAPI_KAFKA_SECURED=1 test/kafka/start.sh; make test starts it so): SASL_SSL with a throwaway CA, SCRAM-SHA-512,
// OAUTHBEARER tokens from a local OIDC endpoint validated by the broker against its JWKS, and StandardAuthorizer.
// The connector's principals have no rights but the ACLs each test grants: exactly the least-privilege list of the
// README. The suite administers topics and ACLs over the PLAINTEXT listener, whose ANONYMOUS principal is a super
// user. They skip on kfake and on a broker without the secured listener.

// secured is what test/kafka/secured.sh wrote to secured.env.
type secured struct {
	brokers                          string
	caFile, otherCAFile              string
	scramUser, scramPassword         string
	oidcURL, tokenURL                string
	clientID, clientSecret           string
	badAudienceID, badAudienceSecret string
}

func requireSecured(t *testing.T) secured {
	t.Helper()
	requireRealBroker(t)
	st, err := managedBroker(strings.Split(os.Getenv(BrokersEnv), ","))
	if err != nil {
		t.Skipf("needs the secured listener of the broker test/kafka/start.sh runs: %v", err)
	}
	path := st["SECURED"]
	if path == "" {
		t.Skip("the broker has no secured listener: start it with CAPI_KAFKA_SECURED=1 test/kafka/start.sh (make test does)")
	}
	v, err := keyValues(path)
	if err != nil {
		t.Fatalf("secured settings: %v", err)
	}
	s := secured{
		brokers: v["SECURED_BROKERS"], caFile: v["CA_FILE"], otherCAFile: v["OTHER_CA_FILE"],
		scramUser: v["SCRAM_USER"], scramPassword: v["SCRAM_PASSWORD"],
		oidcURL: v["OIDC_URL"], tokenURL: v["TOKEN_URL"],
		clientID: v["OAUTH_CLIENT_ID"], clientSecret: v["OAUTH_CLIENT_SECRET"],
		badAudienceID: v["BAD_AUDIENCE_CLIENT_ID"], badAudienceSecret: v["BAD_AUDIENCE_CLIENT_SECRET"],
	}
	if s.brokers == "" || s.scramPassword == "" || s.clientSecret == "" {
		t.Fatalf("secured settings %s are incomplete", path)
	}
	return s
}

// securedEnvironment is what every secured test starts with: the secured settings (or a skip), the connector
// binary and an env with partitions.
func securedEnvironment(t *testing.T, partitions int32) (secured, string, *env) {
	t.Helper()
	s := requireSecured(t)
	return s, connectorBinary(t), newEnv(t, partitions)
}

// grant creates ACLs for principal (e.g. User:capi) over the PLAINTEXT (super user) connection.
func (e *env) grant(principal string, acls ...acl) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range acls {
		b := kadm.NewACLs().Allow(principal).AllowHosts("*").Operations(a.ops...)
		switch a.kind {
		case "topic":
			b = b.Topics(a.name)
		case "group":
			b = b.Groups(a.name)
		case "cluster":
			b = b.Clusters()
		}
		if a.prefixed {
			b = b.ResourcePatternType(kadm.ACLPatternPrefixed)
		}
		res, err := e.adm.CreateACLs(ctx, b)
		if err != nil {
			e.t.Fatalf("create ACLs %+v: %v", a, err)
		}
		for _, r := range res {
			if r.Err != nil {
				e.t.Fatalf("create ACL %+v: %v", a, r.Err)
			}
		}
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = e.adm.DeleteACLs(ctx, kadm.NewACLs().Allow(principal).AllowHosts("*").AnyResource().
			Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternMatch))
	})
}

// leastPrivilege is the README's ACL list for the service: READ+DESCRIBE on the source topics, READ on the group,
// WRITE+DESCRIBE on the DLQ topic. (CREATE is only needed when the connector may create a missing DLQ topic; the
// tests create it beforehand.)
func (e *env) leastPrivilege() []acl {
	return []acl{
		{kind: "topic", name: e.topic, ops: []kadm.ACLOperation{kadm.OpRead, kadm.OpDescribe}},
		{kind: "group", name: e.group, ops: []kadm.ACLOperation{kadm.OpRead}},
		{kind: "topic", name: e.dlqTopic, ops: []kadm.ACLOperation{kadm.OpWrite, kadm.OpDescribe}},
	}
}

// securedEnv is the connector environment for the secured listener with TLS trusting the suite's CA; the
// mechanism's variables are added by the caller.
func (e *env) securedEnv(s secured, name string) map[string]string {
	v := e.connectorEnv(name)
	v["CAPI_KAFKA_BROKERS"] = s.brokers
	v["CAPI_KAFKA_TLS_ENABLED"] = "true"
	v["CAPI_KAFKA_TLS_CA_FILE"] = s.caFile
	v["CAPI_METRICS_ADDR"] = proctest.FreeAddr(e.t)
	return v
}

func writeSecret(t testing.TB, name, value string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// oidcTokens returns how many tokens the suite's OIDC endpoint issued to clientID.
func oidcTokens(t *testing.T, s secured, clientID string) int {
	t.Helper()
	resp, err := http.Get(s.oidcURL + "/_ctl/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		ByClient map[string]int `json:"by_client"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.ByClient[clientID]
}

// oidcFail makes the token endpoint answer status (0 restores it).
func oidcFail(t *testing.T, s secured, status int) {
	t.Helper()
	method, url := http.MethodDelete, s.oidcURL+"/_ctl/fail"
	if status != 0 {
		method, url = http.MethodPut, fmt.Sprintf("%s?status=%d", url, status)
	}
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
}

// SCRAM-SHA-512 over TLS with a CA file and only the README's ACLs: every event is delivered or dead-lettered
// once, offsets are committed to the end. Then the user's password is changed on the broker: re-authentication
// (every 10 s) fails until the password file is updated, which the connector picks up without a restart.
func TestSecuredSCRAMLeastPrivilegeAndRotatedPassword(t *testing.T) {
	s, bin, e := securedEnvironment(t, 3)
	user := fmt.Sprintf("capi-rot-%d", time.Now().UnixNano()%1e9)
	setSCRAM(t, e, user, "first-password-do-not-log")
	e.grant("User:"+user, e.leastPrivilege()...)
	events := mixSeeded(301, 300, 37, 53, 299) // one invalid record: identical bytes could not be told apart
	if err := e.sim.SetFaults(capitest.Faults{PoisonedEventIDs: poisonedIDs(events)}); err != nil {
		t.Fatal(err)
	}
	p := e.produce(events, -1)

	pwFile := writeSecret(t, "password", "first-password-do-not-log")
	vars := e.securedEnv(s, "scram")
	vars["CAPI_KAFKA_SASL_MECHANISM"] = "SCRAM-SHA-512"
	vars["CAPI_KAFKA_SASL_USERNAME"] = user
	vars["CAPI_KAFKA_SASL_PASSWORD_FILE"] = pwFile
	c := e.startConnector(bin, "scram", vars)
	e.waitCommitted(p.end, 90*time.Second, func(map[int32]int64) { c.RequireRunning() })
	e.verify(p, true)

	// Rotation: the broker first, the mounted secret a little later (as a secret manager does).
	setSCRAM(t, e, user, "second-password-do-not-log")
	if err := eventually(30*time.Second, func() bool {
		c.RequireRunning()
		return strings.Contains(c.LogText(), "SASL_AUTHENTICATION_FAILED")
	}); err != nil {
		t.Fatal("re-authentication with the old password never failed: the rotation proves nothing")
	}
	if err := os.WriteFile(pwFile, []byte("second-password-do-not-log\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	more := e.produce(mixSeeded(302, 100, 0, 0, 0), -1)
	e.waitCommitted(more.end, 90*time.Second, func(map[int32]int64) { c.RequireRunning() })
	c.Terminate(30 * time.Second)
	e.verify(more, false)
	for _, secret := range []string{"first-password-do-not-log", "second-password-do-not-log"} {
		if strings.Contains(c.LogText(), secret) {
			t.Errorf("the SASL password appears in the log")
		}
	}

	// replay, as its own principal with only replay's ACLs from the README, moves the rejected records.
	replayUser := user + "-replay"
	setSCRAM(t, e, replayUser, "replay-password-do-not-log")
	target := e.topic + ".replayed"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, target); err != nil {
		t.Fatal(err)
	}
	e.grant("User:"+replayUser,
		acl{kind: "topic", name: e.dlqTopic, ops: []kadm.ACLOperation{kadm.OpRead, kadm.OpDescribe}},
		acl{kind: "group", name: e.group + "-replay-", ops: []kadm.ACLOperation{kadm.OpRead}, prefixed: true},
		acl{kind: "topic", name: target, ops: []kadm.ACLOperation{kadm.OpWrite, kadm.OpDescribe}})
	rvars := e.securedEnv(s, "replay")
	rvars["CAPI_KAFKA_SASL_MECHANISM"] = "SCRAM-SHA-512"
	rvars["CAPI_KAFKA_SASL_USERNAME"] = replayUser
	rvars["CAPI_KAFKA_SASL_PASSWORD"] = "replay-password-do-not-log"
	out := proctest.Output(t, bin, rvars, "replay", "--reason", "facebook_rejected", "--to", target, "--json")
	var sum struct {
		Replayed int `json:"replayed"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("replay summary %q: %v", out, err)
	}
	if want := countKind(events, sample.Poisoned); sum.Replayed != want || want == 0 {
		t.Errorf("replayed %d records, want the %d Facebook rejected", sum.Replayed, want)
	}
}

func setSCRAM(t *testing.T, e *env, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512,
		Iterations: 4096, Password: password}})
	if err != nil {
		t.Fatalf("alter SCRAM user %s: %v", user, err)
	}
	if err := res.Error(); err != nil {
		t.Fatalf("alter SCRAM user %s: %v", user, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = e.adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	})
}

// Settings the brokers or the identity provider refuse end the service at once with exit status 3 and a message
// that names who and how (user and mechanism, client id) or which broker and what x509 problem — never a secret.
func TestSecuredRefusalsExitWithTheReason(t *testing.T) {
	s, bin, e := securedEnvironment(t, 1)
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		want   []string
		secret string
	}{
		{"wrong password", map[string]string{"CAPI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
			"CAPI_KAFKA_SASL_USERNAME": s.scramUser, "CAPI_KAFKA_SASL_PASSWORD": "wrong-pa55word"},
			[]string{"SASL authentication failed", `user "` + s.scramUser + `"`, "SCRAM-SHA-512"}, "wrong-pa55word"},
		{"TLS without the CA", map[string]string{"CAPI_KAFKA_TLS_CA_FILE": "", "CAPI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
			"CAPI_KAFKA_SASL_USERNAME": s.scramUser, "CAPI_KAFKA_SASL_PASSWORD": s.scramPassword},
			[]string{"broker " + s.brokers, "x509: certificate signed by unknown authority", "kafka.tls.ca_file"}, s.scramPassword},
		{"untrusted CA", map[string]string{"CAPI_KAFKA_TLS_CA_FILE": s.otherCAFile, "CAPI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
			"CAPI_KAFKA_SASL_USERNAME": s.scramUser, "CAPI_KAFKA_SASL_PASSWORD": s.scramPassword},
			[]string{"broker " + s.brokers, "x509: certificate signed by unknown authority"}, s.scramPassword},
		{"name mismatch", map[string]string{"CAPI_KAFKA_TLS_SERVER_NAME": "kafka.wrong.example", "CAPI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
			"CAPI_KAFKA_SASL_USERNAME": s.scramUser, "CAPI_KAFKA_SASL_PASSWORD": s.scramPassword},
			[]string{"broker " + s.brokers, "name mismatch", "localhost, 127.0.0.1", "not kafka.wrong.example"}, s.scramPassword},
		{"wrong client secret", map[string]string{"CAPI_KAFKA_SASL_MECHANISM": "OAUTHBEARER",
			"CAPI_KAFKA_SASL_OAUTH_TOKEN_URL": s.tokenURL, "CAPI_KAFKA_SASL_OAUTH_CLIENT_ID": s.clientID,
			"CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET": "wrong-client-secret"},
			[]string{"SASL authentication failed", `client_id "` + s.clientID + `"`, "OAUTHBEARER", "invalid_client"}, "wrong-client-secret"},
		{"token refused by the broker", map[string]string{"CAPI_KAFKA_SASL_MECHANISM": "OAUTHBEARER",
			"CAPI_KAFKA_SASL_OAUTH_TOKEN_URL": s.tokenURL, "CAPI_KAFKA_SASL_OAUTH_CLIENT_ID": s.badAudienceID,
			"CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET": s.badAudienceSecret},
			[]string{"SASL authentication failed", `client_id "` + s.badAudienceID + `"`, "OAUTHBEARER", "invalid_token"}, s.badAudienceSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := e.securedEnv(s, "refused")
			for k, v := range tc.vars {
				vars[k] = v
			}
			if vars["CAPI_KAFKA_TLS_CA_FILE"] == "" {
				delete(vars, "CAPI_KAFKA_TLS_CA_FILE")
			}
			start := time.Now()
			c := e.startConnector(bin, "refused", vars)
			select {
			case <-c.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("the connector did not exit within 30 s")
			}
			if c.ExitCode() != 3 {
				t.Errorf("exit = %v, want status 3", c.Err())
			}
			log := c.LogText()
			for _, w := range tc.want {
				if !strings.Contains(log, w) {
					t.Errorf("the log lacks %q:\n%s", w, log)
				}
			}
			if strings.Contains(log, tc.secret) {
				t.Errorf("the secret appears in the log")
			}
			t.Logf("exited in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// OAUTHBEARER with OIDC client credentials while events trickle in over several token lifetimes (8 s tokens, 10 s
// broker re-authentication): every event is delivered exactly once (no connection dropped mid-flight, nothing
// consumed twice), and tokens were fetched again and again. Then the token endpoint fails: the connector turns
// not ready with the reason and, once the endpoint is back, recovers by itself and delivers the rest.
func TestSecuredOAuthReauthenticationAndTokenEndpointOutage(t *testing.T) {
	s, bin, e := securedEnvironment(t, 2)
	e.grant("User:"+s.clientID, e.leastPrivilege()...)
	vars := e.securedEnv(s, "oauth")
	vars["CAPI_KAFKA_SASL_MECHANISM"] = "OAUTHBEARER"
	vars["CAPI_KAFKA_SASL_OAUTH_TOKEN_URL"] = s.tokenURL
	vars["CAPI_KAFKA_SASL_OAUTH_CLIENT_ID"] = s.clientID
	vars["CAPI_KAFKA_SASL_OAUTH_CLIENT_SECRET_FILE"] = writeSecret(t, "client-secret", s.clientSecret)
	vars["CAPI_KAFKA_SASL_OAUTH_SCOPE"] = "kafka"
	vars["CAPI_LOG_LEVEL"] = "debug" // the token and secret must not appear even there
	tokensBefore := oidcTokens(t, s, s.clientID)
	c := e.startConnector(bin, "oauth", vars)

	// 18 s of trickle: more than two token lifetimes, so tokens are replaced on live connections.
	events := only(180, sample.Deliverable)
	var first produced
	for i := 0; i < len(events); i += 10 {
		c.RequireRunning()
		p := e.produce(events[i:i+10], -1)
		first.events = append(first.events, p.events...)
		first.end = mergeEnds(first.end, p.end)
		time.Sleep(time.Second)
	}
	e.waitCommitted(first.end, 60*time.Second, func(map[int32]int64) { c.RequireRunning() })
	ids := e.sim.EventIDs()
	for _, ev := range first.events {
		if n := ids[ev.EventID]; n != 1 {
			t.Errorf("event %s delivered %d times across re-authentications, want once", ev.EventID, n)
		}
	}
	fetched := oidcTokens(t, s, s.clientID) - tokensBefore
	if fetched < 3 {
		t.Errorf("%d tokens fetched over 18 s of 8-second tokens, want at least 3", fetched)
	}
	ops := vars["CAPI_METRICS_ADDR"]
	if code, body := readyz(ops); code != http.StatusOK {
		t.Errorf("/readyz = %d %s while delivering", code, body)
	}

	// The token endpoint fails: not ready, with the reason.
	oidcFail(t, s, http.StatusServiceUnavailable)
	outage := only(30, sample.Deliverable)
	second := e.produce(outage[:15], -1)
	var body string
	if err := eventually(30*time.Second, func() bool {
		c.RequireRunning()
		var code int
		code, body = readyz(ops)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "token endpoint")
	}); err != nil {
		t.Fatalf("/readyz never reported the failing token endpoint; last body %q", body)
	}
	t.Logf("/readyz during the outage: %s", strings.TrimSpace(body))
	oidcFail(t, s, 0)
	restored := time.Now()
	third := e.produce(outage[15:], -1)
	if err := eventually(60*time.Second, func() bool {
		c.RequireRunning()
		code, _ := readyz(ops)
		return code == http.StatusOK
	}); err != nil {
		t.Fatal("/readyz did not recover after the token endpoint came back")
	}
	t.Logf("ready again %s after the token endpoint came back", time.Since(restored).Round(time.Millisecond))
	e.waitCommitted(mergeEnds(second.end, third.end), 90*time.Second, func(map[int32]int64) { c.RequireRunning() })
	c.Terminate(30 * time.Second)
	all := produced{events: append(append(first.events, second.events...), third.events...)}
	e.verify(all, false)
	log := c.LogText()
	if strings.Contains(log, s.clientSecret) {
		t.Error("the client secret appears in the log")
	}
	if strings.Contains(log, "eyJ") { // every JWT starts with the base64 of {"
		t.Error("a token appears in the log")
	}
	t.Logf("%d tokens fetched over %d events", oidcTokens(t, s, s.clientID)-tokensBefore, len(all.events))
}

// The DLQ topic without WRITE (the README's list minus one grant): the records that must be dead-lettered cannot
// be, so nothing is committed past the first of them and nothing is lost; /readyz says so (dlq_writable, naming the
// operation and the topic). Granting WRITE recovers the connector without a restart: the dead-lettered records
// arrive, commits reach the end, /readyz is 200 again.
func TestSecuredDLQWithoutWriteThenGranted(t *testing.T) {
	s, bin, e := securedEnvironment(t, 1)
	user := fmt.Sprintf("capi-dlq-%d", time.Now().UnixNano()%1e9)
	setSCRAM(t, e, user, "dlq-test-password")
	e.grant("User:"+user,
		acl{kind: "topic", name: e.topic, ops: []kadm.ACLOperation{kadm.OpRead, kadm.OpDescribe}},
		acl{kind: "group", name: e.group, ops: []kadm.ACLOperation{kadm.OpRead}},
		acl{kind: "topic", name: e.dlqTopic, ops: []kadm.ACLOperation{kadm.OpDescribe}})
	events := mixSeeded(401, 100, 0, 0, 0)
	p := e.produce(events, 0)
	firstDLQ := int64(-1)
	for _, ev := range events {
		if ev.Kind != sample.Deliverable {
			if o := p.where[ev.EventID].Offset; firstDLQ < 0 || o < firstDLQ {
				firstDLQ = o
			}
		}
	}
	if firstDLQ < 0 {
		t.Fatal("no event bound for the DLQ: the test proves nothing")
	}

	vars := e.securedEnv(s, "dlq")
	vars["CAPI_KAFKA_SASL_MECHANISM"] = "SCRAM-SHA-512"
	vars["CAPI_KAFKA_SASL_USERNAME"] = user
	vars["CAPI_KAFKA_SASL_PASSWORD"] = "dlq-test-password"
	c := e.startConnector(bin, "dlq", vars)
	ops := vars["CAPI_METRICS_ADDR"]
	guard := func() {
		c.RequireRunning()
		if off := e.committed()[0]; off > firstDLQ {
			t.Fatalf("committed %d, past the record at offset %d that could not be dead-lettered", off, firstDLQ)
		}
	}
	var body string
	if err := eventually(60*time.Second, func() bool {
		guard()
		var code int
		code, body = readyz(ops)
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"dlq_writable"`) &&
			strings.Contains(body, "not authorized to write topic "+e.dlqTopic)
	}); err != nil {
		t.Fatalf("/readyz never said the DLQ topic is not writable; last body %s", body)
	}
	t.Logf("/readyz without WRITE: %s", strings.TrimSpace(body))
	// Held for a few seconds: still nothing past the record, nothing in the DLQ.
	for range 20 {
		guard()
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.dlqEnd(); n != 0 {
		t.Fatalf("%d DLQ records without WRITE", n)
	}

	granted := time.Now()
	e.grant("User:"+user, acl{kind: "topic", name: e.dlqTopic, ops: []kadm.ACLOperation{kadm.OpWrite}})
	e.waitCommitted(p.end, 90*time.Second, func(map[int32]int64) { c.RequireRunning() })
	t.Logf("recovered %s after the grant", time.Since(granted).Round(time.Millisecond))
	if err := eventually(30*time.Second, func() bool { code, _ := readyz(ops); return code == http.StatusOK }); err != nil {
		code, body := readyz(ops)
		t.Errorf("/readyz after the grant = %d %s", code, body)
	}
	c.Terminate(30 * time.Second)
	e.verify(p, false)
}

// dlqEnd is the number of records in the DLQ topic (its end offsets), retrying a broker that is electing leaders
// (an earlier test restarts it).
func (e *env) dlqEnd() int64 {
	e.t.Helper()
	var n int64
	var last error
	if err := eventually(15*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := e.adm.ListEndOffsets(ctx, e.dlqTopic)
		if err == nil {
			err = ends.Error()
		}
		if last = err; err != nil {
			return false
		}
		n = 0
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return true
	}); err != nil {
		e.t.Fatalf("end offsets of %s: %v", e.dlqTopic, last)
	}
	return n
}
