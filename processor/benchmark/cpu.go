package benchmark

import (
	"context"
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) this process has used so far; 0 where getrusage is unavailable.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU time this process and the environment's process spend over one interval, so a part
// can say where the machine's cores went (the connector, or the broker and the simulator it shares them with).
type cpuMeter struct {
	env          Env
	self, envCPU time.Duration
	envOK        bool
}

func startCPU(ctx context.Context, env Env) *cpuMeter {
	m := &cpuMeter{env: env, self: processCPU()}
	m.envCPU, m.envOK = envCPU(ctx, env)
	return m
}

// stop returns the CPU time used since start by this process and by the environment (envOK false when the
// environment runs in this process or cannot tell).
func (m *cpuMeter) stop(ctx context.Context) (self, env time.Duration, envOK bool) {
	self = processCPU() - m.self
	e, ok := envCPU(ctx, m.env)
	return self, e - m.envCPU, ok && m.envOK
}

func envCPU(ctx context.Context, env Env) (time.Duration, bool) {
	c, ok := env.(*child)
	if !ok {
		return 0, false
	}
	resp, err := c.Do(ctx, Request{Op: "cpu"})
	if err != nil {
		return 0, false
	}
	return time.Duration(resp.CPUNanos), true
}
