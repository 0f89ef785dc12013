package benchmark

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
)

// local is an Env in this process: kfake (or given brokers) and the simulator over loopback HTTP.
type local struct {
	brokers []string
	cluster *kfake.Cluster
	sim     *capitest.Server
	srv     *http.Server
	simURL  string
	adm     *kadm.Client
	admCl   *kgo.Client
}

// InProcess starts an Env in this process: an in-process kfake cluster when brokers is empty, else those brokers;
// the simulator always runs here. Its memory (kfake's records, the simulator's ids) counts in this process's RSS.
func InProcess(brokers []string) (Env, error) {
	l := &local{brokers: brokers}
	if len(brokers) == 0 {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return nil, fmt.Errorf("%w: kfake: %v", ErrEnv, err)
		}
		l.cluster, l.brokers = c, c.ListenAddrs()
	}
	sim, err := capitest.New(capitest.Config{AcceptAnyPixel: true, MaxRecordedEvents: -1})
	if err != nil {
		l.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		return nil, err
	}
	l.sim, l.simURL = sim, "http://"+ln.Addr().String()
	l.srv = &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	l.admCl, err = kgo.NewClient(kgo.SeedBrokers(l.brokers...))
	if err != nil {
		l.Close()
		return nil, err
	}
	l.adm = kadm.NewClient(l.admCl)
	return l, nil
}

func (l *local) Brokers() []string { return l.brokers }
func (l *local) SimURL() string    { return l.simURL }

func (l *local) Close() error {
	if l.srv != nil {
		_ = l.srv.Close()
	}
	if l.admCl != nil {
		l.admCl.Close()
	}
	if l.cluster != nil {
		l.cluster.Close()
	}
	return nil
}

func (l *local) Do(ctx context.Context, req Request) (Response, error) {
	switch req.Op {
	case "fill":
		return l.fill(ctx, req)
	case "latency":
		f := l.sim.Faults()
		f.Latency = req.Latency
		return Response{}, l.sim.SetFaults(f)
	case "reset":
		l.sim.Reset()
		return Response{}, nil
	case "stats":
		st := l.sim.Stats()
		return Response{Stats: &st}, nil
	case "cpu":
		return Response{CPUNanos: processCPU().Nanoseconds()}, nil
	}
	return Response{}, fmt.Errorf("%w: unknown op %q", ErrEnv, req.Op)
}

// fill creates the topics and produces the generated events, acknowledged by the broker, before it returns.
func (l *local) fill(ctx context.Context, req Request) (Response, error) {
	for topic, p := range map[string]int32{req.Topic: int32(req.Partitions), req.Topic + ".dlq": 1} {
		resp, err := l.adm.CreateTopic(ctx, p, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			return Response{}, fmt.Errorf("%w: create topic %s: %v", ErrEnv, topic, err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.brokers...), kgo.DefaultProduceTopic(req.Topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(20000))
	if err != nil {
		return Response{}, err
	}
	defer cl.Close()
	res, err := service.ProduceSamples(ctx, cl, service.ProduceOptions{Topic: req.Topic, Events: req.Events, Seed: req.Seed,
		DeliverableOnly: req.DeliverableOnly}, nil)
	if err != nil {
		return Response{}, fmt.Errorf("%w: produce: %v", ErrEnv, err)
	}
	resp := Response{End: res.End, Records: int64(res.Acked), Kinds: map[string]int{}, Bytes: res.Bytes}
	for k, n := range res.Kinds {
		resp.Kinds[k.String()] = n
	}
	return resp, nil
}
