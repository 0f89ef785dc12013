package benchmark

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
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
	End     map[int32]int64 `json:"end,omitempty"`     // partition → end offset
	Records int64           `json:"records,omitempty"` // records produced (acknowledged)
	Kinds   map[string]int  `json:"kinds,omitempty"`
	Bytes   int64           `json:"bytes,omitempty"` // total value bytes produced
	// stats
	Stats *capitest.Stats `json:"stats,omitempty"`
	// cpu: the CPU time (user + system) the process serving the Env has used so far.
	CPUNanos int64 `json:"cpu_nanos,omitempty"`
}

// ErrEnv wraps failures reported by an Env.
var ErrEnv = errors.New("bench environment")

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
