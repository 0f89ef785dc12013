package importer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// discardProducer acknowledges every record at once and keeps nothing: the benchmark measures the import
// (reading, decoding, mapping, hashing ids, the acknowledgement window), not a broker.
type discardProducer struct{ n atomic.Int64 }

func (p *discardProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	p.n.Add(1)
	promise(r, nil)
}

func (p *discardProducer) Flush(context.Context) error { return nil }

// writeBenchFile writes rows rows of a realistic ';' export (BOM, decimal commas, a quoted field every 10th row).
func writeBenchFile(b *testing.B, rows int) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("\xEF\xBB\xBFevent_name;id;value;currency;user.email;user.phone;user.firstname;user.lastname;user.city;user.zipcode;user.country;consent_categories;context.event_timestamp;name\r\n")
	for i := range rows {
		name := "Pull laine"
		if i%10 == 0 {
			name = `"Pull; ""laine"""`
		}
		fmt.Fprintf(w, "purchase;ORD-%d;%d,%02d;EUR;client%d@example.fr;06 12 %02d %02d %02d;Jean;Dupont;Lyon;69003;FR;1|2;2026-11-%02d %02d:%02d:00;%s\r\n",
			i, i%500, i%100, i, i%100, (i/100)%100, (i/10000)%100, 1+i%28, i%24, i%60, name)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return path, st.Size()
}

// peakRSS reads the process's resident-set high-water mark (Linux; 0 elsewhere).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS makes VmHWM restart from the current RSS (Linux ≥ 4.0), so the figure is the import's own peak.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkImport1M imports a 1-million-row file (about 190 MB) and reports rows/s and the peak RSS during the
// import. Run it alone: go test -run '^$' -bench Import1M -benchtime 1x ./processor/importer/
func BenchmarkImport1M(b *testing.B) {
	const rows = 1_000_000
	path, size := writeBenchFile(b, rows)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		resetPeakRSS()
		p := &discardProducer{}
		start := time.Now()
		s, err := Run(context.Background(), f, Options{Name: "bench.csv", Size: size, Topic: "events", Producer: p})
		elapsed := time.Since(start)
		f.Close()
		if err != nil || s.Produced != rows {
			b.Fatalf("%v %+v", err, s)
		}
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	}
}
