package health

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func readyz(t *testing.T, r *Registry) (int, Status) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var s Status
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("/readyz body %q is not JSON: %v", rec.Body.String(), err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Code, s
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	r := New()
	code, s := readyz(t, r)
	if code != http.StatusServiceUnavailable || s.Ready {
		t.Fatalf("a new registry answers %d ready=%v, want 503 before anything joined", code, s.Ready)
	}
	want := []string{GroupJoined, BrokersReachable, SourceTopics, DLQWritable}
	for i, n := range want {
		if s.Checks[i].Name != n {
			t.Fatalf("check %d is %q, want %q (order of registration)", i, s.Checks[i].Name, n)
		}
	}
	if s.Checks[0].Reason == "" {
		t.Error("a failing check without a reason")
	}

	r.Set(GroupJoined, true, "ignored")
	r.Set(BrokersReachable, true, "")
	r.Set(SourceTopics, true, "")
	r.Set(Destination("shop"), true, "")
	if code, s = readyz(t, r); code != http.StatusOK || !s.Ready {
		t.Fatalf("all checks ok: %d %+v", code, s)
	}
	if c, _ := r.Get(GroupJoined); c.Reason != "" {
		t.Errorf("an ok check keeps reason %q", c.Reason)
	}

	r.Set(DLQWritable, false, "not authorized to write topic events.dlq")
	code, s = readyz(t, r)
	if code != http.StatusServiceUnavailable || s.Ready {
		t.Fatalf("a failing check: %d ready=%v", code, s.Ready)
	}
	var found bool
	for _, c := range s.Checks {
		if c.Name == DLQWritable {
			found = !c.OK && c.Reason == "not authorized to write topic events.dlq"
		}
	}
	if !found {
		t.Fatalf("dlq_writable not reported with its reason: %+v", s.Checks)
	}
	r.Set(DLQWritable, true, "")
	if !r.Ready() {
		t.Fatal("recovered check: not ready")
	}
	r.Stopping()
	if r.Ready() {
		t.Fatal("ready while stopping")
	}
	r.Set(GroupJoined, true, "")
	if r.Ready() {
		t.Fatal("stopping is for good: a late assignment must not make it ready again")
	}
}
