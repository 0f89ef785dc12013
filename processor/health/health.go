// Package health holds the readiness checks of the process (/readyz): named checks, each ok or failing with a
// reason an operator can act on. The parts of the connector that can tell (the Kafka runtime, the DLQ writer, the
// destinations) set them; the ops server serves them as JSON and the metrics export them as capi_ready{check}.
//
// The registry exists before anything talks to Kafka, so /readyz can answer (503, with the reason) from the moment
// the configuration is valid.
package health

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Check names (contracts: alerts and the runbook name them).
const (
	GroupJoined      = "group_joined"
	BrokersReachable = "brokers_reachable"
	SourceTopics     = "source_topics"
	DLQWritable      = "dlq_writable"
	// SchemaRegistry fails while records wait for a schema registry that cannot answer (they are retried in
	// place, never dead-lettered); it appears the first time that happens.
	SchemaRegistry = "schema_registry"
)

// Destination is the check name of one destination.
func Destination(name string) string { return "destination:" + name }

// Check is the state of one check.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}

// Status is the /readyz body.
type Status struct {
	Ready  bool    `json:"ready"`
	Checks []Check `json:"checks"`
}

// Registry holds the checks in the order they were first set. The zero value is not usable; use New. Safe for
// concurrent use.
type Registry struct {
	mu       sync.Mutex
	checks   []Check
	stopping bool
}

// New returns a registry with the process-wide checks failing until someone says otherwise: a process that has not
// joined its group yet is not ready.
func New() *Registry {
	r := &Registry{}
	r.Set(GroupJoined, false, "not joined yet: waiting for Kafka")
	r.Set(BrokersReachable, false, "not connected yet")
	r.Set(SourceTopics, false, "not checked yet")
	r.Set(DLQWritable, true, "")
	return r
}

// Set records the state of check name (ok clears the reason).
func (r *Registry) Set(name string, ok bool, reason string) {
	if ok {
		reason = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.checks {
		if r.checks[i].Name == name {
			r.checks[i].OK, r.checks[i].Reason = ok, reason
			return
		}
	}
	r.checks = append(r.checks, Check{Name: name, OK: ok, Reason: reason})
}

// Get returns the state of check name and whether it exists.
func (r *Registry) Get(name string) (Check, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Stopping makes the process not ready for good (shutdown): every load balancer should stop counting on it.
func (r *Registry) Stopping() {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	r.Set(GroupJoined, false, "shutting down")
}

// Status returns every check and whether all pass.
func (r *Registry) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{Ready: !r.stopping && len(r.checks) > 0, Checks: append([]Check(nil), r.checks...)}
	for _, c := range r.checks {
		s.Ready = s.Ready && c.OK
	}
	return s
}

// Ready reports whether every check passes.
func (r *Registry) Ready() bool { return r.Status().Ready }

// ServeHTTP answers /readyz: 200 when ready, else 503, with the Status as JSON either way.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s := r.Status()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !s.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(s)
}
