package service_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/capi-connector/capi-connector/processor/health"
	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
)

type fakeCredentials struct {
	mu  sync.Mutex
	err error
}

func (f *fakeCredentials) Health() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeCredentials) set(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// Credentials that cannot be renewed (an OAuth token endpoint failing) make brokers_reachable fail with the reason
// even while the open connections still answer — the next connection or re-authentication will not — and the
// check recovers by itself once they can.
func TestCredentialsFailureIsNotReadyThenRecovers(t *testing.T) {
	names := servicetest.NewNames(t)
	c := servicetest.NewCluster(t, names, 1)
	_, simURL := servicetest.NewSim(t)
	cfg := servicetest.Config(c.ListenAddrs(), names, simURL)
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = time.Second
	svc, err := service.New(cfg, zerolog.Nop(), service.WithTuning(service.Tuning{HealthInterval: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	creds := &fakeCredentials{}
	service.SetCredentialsHealth(svc, creds)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-svc.Started():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not started within 10 s")
	}
	base := "http://" + svc.OpsAddr()
	brokers := func() (int, health.Check) {
		code, s := readyz(t, base)
		ch, _ := checkOf(s, health.BrokersReachable)
		return code, ch
	}
	servicetest.WaitFor(t, 10*time.Second, "brokers_reachable ok", func() bool { _, ch := brokers(); return ch.OK })

	creds.set(errors.New(`OAuth token endpoint https://idp.example/token, client_id "capi": HTTP 503 Service Unavailable`))
	servicetest.WaitFor(t, 10*time.Second, "/readyz 503 naming the token endpoint", func() bool {
		code, ch := brokers()
		return code == http.StatusServiceUnavailable && !ch.OK &&
			strings.HasPrefix(ch.Reason, "kafka credentials: OAuth token endpoint https://idp.example/token")
	})
	creds.set(nil)
	servicetest.WaitFor(t, 10*time.Second, "brokers_reachable ok again", func() bool { _, ch := brokers(); return ch.OK })
}
