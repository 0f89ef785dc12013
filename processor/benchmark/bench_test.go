package benchmark

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play the environment process of TestChildEnv (the helper-process pattern).
func TestMain(m *testing.M) {
	if os.Getenv("CAPI_BENCH_SERVE_ENV") == "1" {
		if err := Serve(context.Background(), nil, os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestChildEnv drives an environment in another process: fill a topic, set the latency, read and reset the
// simulator's counters.
func TestChildEnv(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CAPI_BENCH_SERVE_ENV=1")
	cmd.Stderr = os.Stderr
	env, err := Child(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	if len(env.Brokers()) == 0 || env.SimURL() == "" {
		t.Fatalf("brokers %v, simulator %q", env.Brokers(), env.SimURL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := env.Do(ctx, Request{Op: "fill", Topic: "child-env", Partitions: 3, Events: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, end := range resp.End {
		n += end
	}
	kinds := 0
	for _, c := range resp.Kinds {
		kinds += c
	}
	if n != 200 || resp.Records != 200 || kinds != 200 || len(resp.End) != 3 || resp.Kinds["deliverable"] == 0 || resp.Kinds["no_consent"] == 0 {
		t.Errorf("fill: end offsets %v (sum %d), %d records, kinds %v; want 200 records over 3 partitions, mixed kinds",
			resp.End, n, resp.Records, resp.Kinds)
	}
	resp, err = env.Do(ctx, Request{Op: "fill", Topic: "child-env-ok", Partitions: 1, Events: 50, Seed: 1, DeliverableOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Kinds["deliverable"] != 50 || len(resp.Kinds) != 1 {
		t.Errorf("deliverable-only fill: kinds %v", resp.Kinds)
	}
	for _, req := range []Request{{Op: "latency", Latency: 10 * time.Millisecond}, {Op: "reset"}} {
		if _, err := env.Do(ctx, req); err != nil {
			t.Errorf("%s: %v", req.Op, err)
		}
	}
	st, err := env.Do(ctx, Request{Op: "stats"})
	if err != nil || st.Stats == nil || st.Stats.Requests != 0 {
		t.Errorf("stats: %+v, %v", st.Stats, err)
	}
	if _, err := env.Do(ctx, Request{Op: "nope"}); err == nil {
		t.Error("an unknown op was accepted")
	}
	// The environment's CPU time is its own process's: it grows with work done there (a fill), and the meter
	// reports it apart from this process's.
	m := startCPU(ctx, env)
	if _, err := env.Do(ctx, Request{Op: "fill", Topic: "child-env-cpu", Partitions: 1, Events: 2000, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	self, envUsed, ok := m.stop(ctx)
	if !ok || envUsed <= 0 || self < 0 {
		t.Errorf("CPU meter: self %v, environment %v (ok %v); want the environment's fill to show", self, envUsed, ok)
	}
}

// TestTableSkipsPartsNotRun checks that a part that did not run shows as such, never as a goal met with zeros.
func TestTableSkipsPartsNotRun(t *testing.T) {
	var b strings.Builder
	Result{Parts: []string{"e2e"}, ConsumeCeilingRPS: 1000, E2ERPS: 600, E2ERatio: 0.6, E2EAccountedFor: true}.WriteTable(&b)
	out := b.String()
	for _, want := range []string{"(transform not run)", "(latency not run)", "(backlog not run)", "ratio to the ceiling"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"transform only", "peak RSS", "MISSED"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("table shows %q for a part that did not run:\n%s", unwanted, out)
		}
	}
}

func TestSteadyRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	round := func(l *requestLog, k int, at time.Duration, events int) {
		for range k {
			l.done = append(l.done, completion{at: t0.Add(at), events: events, dur: 200 * time.Millisecond})
		}
	}
	tests := []struct {
		name   string
		k      int
		rounds []int // events per request of each round, 200ms apart
		want   float64
	}{
		{"K=1 full batches", 1, []int{1000, 1000, 1000, 1000}, 5000},
		{"K=4 ramp-up and tail excluded", 4, []int{10, 1000, 1000, 1000, 3}, 20000},
		{"K=2 half-full batches", 2, []int{500, 500, 500}, 5000},
	}
	// Ramp-up fragments: two extra small requests complete in the first round, so the number of completions is
	// not a multiple of k; the window must still span whole rounds (here 3 rounds of 4 × 1000 in 600ms).
	t.Run("K=4 with ramp-up fragments", func(t *testing.T) {
		l := &requestLog{}
		l.done = append(l.done, completion{at: t0, events: 24, dur: 200 * time.Millisecond},
			completion{at: t0.Add(5 * time.Millisecond), events: 536, dur: 200 * time.Millisecond})
		for i, ev := range []int{1000, 1000, 1000, 1000, 1000, 440} {
			round(l, 4, time.Duration(i+1)*200*time.Millisecond, ev)
		}
		got, _, _, err := l.steadyRate(4)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-20000) > 1 {
			t.Errorf("rate %.1f, want 20000", got)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &requestLog{}
			for i, ev := range tt.rounds {
				round(l, tt.k, time.Duration(i+1)*200*time.Millisecond, ev)
			}
			got, _, dur, err := l.steadyRate(tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > 1 || dur != 200*time.Millisecond {
				t.Errorf("rate %.1f, request time %v; want %.0f, 200ms", got, dur, tt.want)
			}
		})
	}
	if _, _, _, err := (&requestLog{}).steadyRate(4); err == nil {
		t.Error("no requests: want an error")
	}
}
