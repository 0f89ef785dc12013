package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/service"
	"github.com/capi-connector/capi-connector/processor/service/servicetest"
	"github.com/capi-connector/capi-connector/schema/sample"
)

func newSamplesCluster(t *testing.T, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// seed is the client options reaching brokers, for servicetest's readers.
func seed(brokers string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(strings.Split(brokers, ",")...)}
}

// readTopic reads every record of topic, which must hold want.
func readTopic(t *testing.T, brokers, topic string, want int) []*kgo.Record {
	t.Helper()
	recs := servicetest.ReadAll(t, seed(brokers), topic)
	if len(recs) != want {
		t.Fatalf("%d records in %q, want %d", len(recs), topic, want)
	}
	return recs
}

func TestProduceSamples(t *testing.T) {
	tests := []struct {
		name           string
		seed           []kfake.Opt
		args           []string
		wantPartitions int
		wantInvalid    int
		wantTooOld     int
	}{
		{name: "creates the missing topic", args: []string{"--events", "100"}, wantPartitions: 6},
		{name: "creates with the given partitions", args: []string{"--events", "100", "--partitions", "3"}, wantPartitions: 3},
		{name: "existing topic is kept", seed: []kfake.Opt{kfake.SeedTopics(2, "events")}, args: []string{"--events", "100"}, wantPartitions: 2},
		{name: "special kinds", args: []string{"--events", "100", "--invalid-every", "10", "--too-old-every", "7"},
			wantPartitions: 6, wantInvalid: 10, wantTooOld: 13}, // multiples of 7 that are not multiples of 10: 14 - 1 (70)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers := newSamplesCluster(t, tt.seed...)
			var stdout, stderr bytes.Buffer
			args := append([]string{"--brokers", brokers, "--topic", "events"}, tt.args...)
			if err := runCommand(context.Background(), "produce-samples", args, nil, &stdout, &stderr); err != nil {
				t.Fatalf("produce-samples: %v\nstderr: %s", err, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), `produced 100 events to "events"`) {
				t.Errorf("stdout = %q, want the final count", stdout.String())
			}
			recs := readTopic(t, brokers, "events", 100)
			if len(recs) != 100 {
				t.Fatalf("got %d records, want 100", len(recs))
			}
			invalid, tooOld := 0, 0
			for _, r := range recs {
				if len(r.Key) == 0 {
					t.Fatalf("record at %d/%d has no key", r.Partition, r.Offset)
				}
				if !json.Valid(r.Value) {
					invalid++
					continue
				}
				var ev struct {
					Context struct {
						EventTimestamp int64 `json:"event_timestamp"`
					} `json:"context"`
				}
				if err := json.Unmarshal(r.Value, &ev); err != nil {
					t.Fatal(err)
				}
				if time.Since(time.UnixMilli(ev.Context.EventTimestamp)) > 7*24*time.Hour {
					tooOld++
				}
			}
			if invalid != tt.wantInvalid || tooOld != tt.wantTooOld {
				t.Errorf("invalid JSON %d, too old %d; want %d, %d", invalid, tooOld, tt.wantInvalid, tt.wantTooOld)
			}
			if got := len(servicetest.EndOffsets(t, seed(brokers), "events")); got != tt.wantPartitions {
				t.Errorf("topic has %d partitions, want %d", got, tt.wantPartitions)
			}
		})
	}
}

// The same seed produces the same records, so a run can be compared with another (and event_ids repeat).
func TestProduceSamplesDeterministic(t *testing.T) {
	brokers := newSamplesCluster(t, kfake.SeedTopics(1, "a", "b"))
	for _, topic := range []string{"a", "b"} {
		args := []string{"--brokers", brokers, "--topic", topic, "--events", "20", "--seed", "7", "--poison-every", "5"}
		if err := runCommand(context.Background(), "produce-samples", args, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := readTopic(t, brokers, "a", 20), readTopic(t, brokers, "b", 20)
	gen := sample.New(7, time.Now())
	gen.PoisonEvery = 5
	for i := range a {
		want := gen.Next()
		if !bytes.Equal(a[i].Key, want.Key) || !bytes.Equal(a[i].Key, b[i].Key) {
			t.Fatalf("record %d: keys %q, %q; want %q", i, a[i].Key, b[i].Key, want.Key)
		}
		if want.EventID != "" && !bytes.Contains(a[i].Value, []byte(want.EventID)) {
			t.Fatalf("record %d lacks event_id %s", i, want.EventID)
		}
	}
}

func TestProduceSamplesRate(t *testing.T) {
	brokers := newSamplesCluster(t, kfake.SeedTopics(1, "events"))
	start := time.Now()
	args := []string{"--brokers", brokers, "--topic", "events", "--events", "21", "--rate", "100"}
	if err := runCommand(context.Background(), "produce-samples", args, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	// 21 events at 100/s: the last is due 200ms after the first.
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("21 events at 100/s took %s, want ≥ 200ms", el)
	}
}

// --events 0 runs until interrupted; an interrupt is its normal end, and the count is still printed.
func TestProduceSamplesForeverStopsOnInterrupt(t *testing.T) {
	brokers := newSamplesCluster(t, kfake.SeedTopics(1, "events"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stdout bytes.Buffer
	args := []string{"--brokers", brokers, "--topic", "events", "--events", "0", "--rate", "200"}
	if err := runCommand(ctx, "produce-samples", args, nil, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("interrupting --events 0: %v", err)
	}
	if !strings.HasPrefix(stdout.String(), "produced ") || strings.HasPrefix(stdout.String(), "produced 0 ") {
		t.Errorf("stdout = %q, want a positive final count", stdout.String())
	}
}

func TestProduceSamplesInterruptedCountIsAnError(t *testing.T) {
	brokers := newSamplesCluster(t, kfake.SeedTopics(1, "events"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	args := []string{"--brokers", brokers, "--topic", "events", "--events", "1000", "--rate", "50"}
	err := runCommand(ctx, "produce-samples", args, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, service.ErrProduceInterrupted) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want an interruption", err)
	}
}

// A produce failure stops the run and is returned, typed.
func TestProduceSamplesFailure(t *testing.T) {
	brokers := newSamplesCluster(t) // no topic, and produce-samples is not allowed to create it
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.UnknownTopicRetries(0), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	res, err := service.ProduceSamples(context.Background(), cl, service.ProduceOptions{Topic: "missing", Events: 50, Seed: 1}, nil)
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("err = %v, want UnknownTopicOrPartition", err)
	}
	if res.Acked != 0 {
		t.Errorf("acked %d records to a missing topic", res.Acked)
	}
}

func TestProduceSamplesUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want any // *usageError or *configError
	}{
		{"negative events", []string{"--events", "-1"}, nil, new(*usageError)},
		{"negative rate", []string{"--rate", "-2"}, nil, new(*usageError)},
		{"NaN rate", []string{"--rate", "NaN"}, nil, new(*usageError)},
		{"negative poison", []string{"--poison-every", "-1"}, nil, new(*usageError)},
		{"unknown flag", []string{"--nope"}, nil, new(*usageError)},
		{"extra argument", []string{"events"}, nil, new(*usageError)},
		{"several topics", nil, map[string]string{"CAPI_KAFKA_TOPIC": "a,b"}, new(*usageError)},
		{"bad broker", []string{"--brokers", "kafka"}, nil, new(*configError)},
		{"bad sasl", nil, map[string]string{"CAPI_KAFKA_SASL_MECHANISM": "GSSAPI"}, new(*configError)},
		{"unparsable env", nil, map[string]string{"CAPI_KAFKA_TLS_ENABLED": "maybe"}, new(*configError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := runCommand(context.Background(), "produce-samples", tt.args, nil, &bytes.Buffer{}, &bytes.Buffer{})
			switch target := tt.want.(type) {
			case **usageError:
				if !errors.As(err, target) {
					t.Fatalf("err = %v (%T), want a usage error", err, err)
				}
			case **configError:
				if !errors.As(err, target) {
					t.Fatalf("err = %v (%T), want a config error", err, err)
				}
			}
		})
	}
	if err := runCommand(context.Background(), "produce-samples", []string{"-h"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Errorf("-h: %v", err)
	}
}

func TestProduceSamplesProgress(t *testing.T) {
	brokers := newSamplesCluster(t, kfake.SeedTopics(1, "events"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var progress bytes.Buffer
	o := service.ProduceOptions{Topic: "events", Events: 30, Rate: 300, Seed: 1, ProgressEvery: 20 * time.Millisecond}
	res, err := service.ProduceSamples(context.Background(), cl, o, &progress)
	if err != nil || res.Acked != 30 {
		t.Fatalf("acked %d, err %v", res.Acked, err)
	}
	n := 0
	for k, c := range res.Kinds {
		if k < sample.Deliverable || k > sample.InvalidJSON {
			t.Errorf("unknown kind %d", k)
		}
		n += c
	}
	if n != 30 {
		t.Errorf("kinds add up to %d, want 30", n)
	}
	if !strings.Contains(progress.String(), "/30 acknowledged") {
		t.Errorf("progress = %q, want progress lines", progress.String())
	}
}
