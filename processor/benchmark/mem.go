package benchmark

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// procStatus reads one "Vm…: N kB" field of /proc/self/status in bytes; 0 when unavailable (not Linux).
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		if len(f) > 1 && string(f[1]) == "kB" {
			n *= 1024
		}
		return n
	}
	return 0
}

// resetPeakRSS resets the kernel's VmHWM of this process (Linux ≥ 4.0, "echo 5 > /proc/self/clear_refs"), so the
// peak measured afterwards belongs to the part being measured and not to the set-up before it. It reports
// whether the reset worked; when it did not, only the sampled VmRSS is meaningful.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil && procStatus("VmHWM") > 0
}

// memSample is one observation of the process's memory.
type memSample struct {
	at   time.Time
	rss  int64 // VmRSS
	heap int64 // bytes of live and not yet swept heap objects
}

// memSampler samples RSS and heap at a fixed interval until stopped.
type memSampler struct {
	mu      sync.Mutex
	samples []memSample
	stop    chan struct{}
	done    chan struct{}
}

func startMemSampler(every time.Duration) *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(m)
			var heap int64
			if m[0].Value.Kind() == metrics.KindUint64 {
				heap = int64(m[0].Value.Uint64())
			}
			s.mu.Lock()
			s.samples = append(s.samples, memSample{at: time.Now(), rss: procStatus("VmRSS"), heap: heap})
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *memSampler) finish() []memSample {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// peaks returns the highest RSS and heap among samples taken in [from, to).
func peaks(samples []memSample, from, to time.Time) (rss, heap int64) {
	for _, m := range samples {
		if m.at.Before(from) || !m.at.Before(to) {
			continue
		}
		rss, heap = max(rss, m.rss), max(heap, m.heap)
	}
	return rss, heap
}
