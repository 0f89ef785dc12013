package benchmark

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
)

// Env is the world the benchmark measures against: a Kafka cluster and a Graph API simulator. Everything in it
// that is not the connector (the broker's record store, the producer of the test records, the simulator's
// bookkeeping of event ids) can live in another process, so the memory figures of the backlog part are the
// connector's own: kfake keeps every record in memory (2 million × 700 bytes is 1.4 GB) and the simulator
// remembers every event id it accepted.
type Env interface {
	// Brokers are the bootstrap addresses.
	Brokers() []string
	// SimURL is the simulator's base URL (the Graph API root).
	SimURL() string
	// Do runs one request (fill a topic, set the latency, reset or read the simulator).
	Do(ctx context.Context, req Request) (Response, error)
	// Close stops what the Env started.
	Close() error
}

// Request is one operation on an Env.
type Request struct {
	Op string `json:"op"` // "fill", "latency", "reset", "stats", "cpu"
	// fill: create Topic with Partitions (and Topic+".dlq" with one) and produce Events generated with Seed;
	// DeliverableOnly keeps only the events the simulator accepts.
	Topic           string `json:"topic,omitempty"`
	Partitions      int    `json:"partitions,omitempty"`
	Events          int    `json:"events,omitempty"`
	Seed            uint64 `json:"seed,omitempty"`
	DeliverableOnly bool   `json:"deliverable_only,omitempty"`
	// latency: the simulator's latency per request.
	Latency time.Duration `json:"latency,omitempty"`
}

// Response answers a Request.
type Response struct {
	Error string `json:"error,omitempty"`
	// fill
	End   map[int32]int64 `json:"end,omitempty"` // partition → end offset
	Kinds map[string]int  `json:"kinds,omitempty"`
	Bytes int64           `json:"bytes,omitempty"` // total value bytes produced
	// stats
	Stats *capitest.Stats `json:"stats,omitempty"`
	// cpu: the CPU time (user + system) the process serving the Env has used so far.
	CPUNanos int64 `json:"cpu_nanos,omitempty"`
}

// ErrEnv wraps failures reported by an Env.
var ErrEnv = errors.New("bench environment")

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
	resp := Response{End: res.End, Kinds: map[string]int{}, Bytes: res.Bytes}
	for k, n := range res.Kinds {
		resp.Kinds[k.String()] = n
	}
	return resp, nil
}

// Serve runs an in-process Env for a parent process (see Child): it writes one JSON line with the brokers and
// the simulator URL to out, then answers one JSON Request per line of in with one JSON Response line, until in
// ends.
func Serve(ctx context.Context, brokers []string, in io.Reader, out io.Writer) error {
	env, err := InProcess(brokers)
	if err != nil {
		return err
	}
	defer env.Close()
	enc := json.NewEncoder(out)
	if err := enc.Encode(hello{Brokers: env.Brokers(), SimURL: env.SimURL()}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var req Request
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = err.Error()
		} else if resp, err = env.Do(ctx, req); err != nil {
			resp.Error = err.Error()
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
	return sc.Err()
}

type hello struct {
	Brokers []string `json:"brokers"`
	SimURL  string   `json:"sim_url"`
}

// child is an Env served by another process running Serve.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	hello hello
	mu    sync.Mutex
}

// Child starts cmd, which must run Serve on its stdin and stdout, and talks to it. Closing the Env closes the
// child's stdin and waits for it to exit.
func Child(cmd *exec.Cmd) (Env, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %v", ErrEnv, cmd.Path, err)
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	c.out.Buffer(make([]byte, 64<<10), 16<<20)
	if !c.out.Scan() {
		c.Close()
		return nil, fmt.Errorf("%w: the environment process exited before it was ready", ErrEnv)
	}
	if err := json.Unmarshal(c.out.Bytes(), &c.hello); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: environment process: %v", ErrEnv, err)
	}
	return c, nil
}

func (c *child) Brokers() []string { return c.hello.Brokers }
func (c *child) SimURL() string    { return c.hello.SimURL }

func (c *child) Do(_ context.Context, req Request) (Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrEnv, err)
	}
	if !c.out.Scan() {
		return Response{}, fmt.Errorf("%w: the environment process exited", ErrEnv)
	}
	var resp Response
	if err := json.Unmarshal(c.out.Bytes(), &resp); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrEnv, err)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("%w: %s", ErrEnv, resp.Error)
	}
	return resp, nil
}

func (c *child) Close() error {
	_ = c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		return <-done
	}
}

// NewEnv returns the environment of a bench run and its label for the report: by default a child process (this
// binary re-executed as `bench --serve-env`, so that the broker's and the simulator's memory stay out of the
// connector's figures), or everything in this process. brokers names a real Kafka instead of kfake;
// envCPUProfile, when set, makes the child write a CPU profile of itself there.
func NewEnv(brokers []string, inProcess bool, envCPUProfile string, stderr io.Writer) (Env, string, error) {
	label := "kfake (separate process)"
	if len(brokers) > 0 {
		label = strings.Join(brokers, ",")
	}
	if inProcess {
		if len(brokers) == 0 {
			label = "kfake (in process: its records count in the RSS)"
		}
		e, err := InProcess(brokers)
		return e, label, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	childArgs := []string{"bench", "--serve-env"}
	if len(brokers) > 0 {
		childArgs = append(childArgs, "--brokers", strings.Join(brokers, ","))
	}
	if envCPUProfile != "" {
		childArgs = append(childArgs, "--cpuprofile", envCPUProfile)
	}
	cmd := exec.Command(exe, childArgs...)
	cmd.Stderr = stderr
	e, err := Child(cmd)
	return e, label, err
}
