package leakcheck_test

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tether-go/tether/leakcheck"
)

// parkedWorker blocks until stop is closed; benchmarks start many of them.
//
//go:noinline
func parkedWorker(started chan<- struct{}, stop chan struct{}) {
	started <- struct{}{}
	<-stop
}

// park starts n parked workers and returns once all of them run (a
// goroutine that has not run yet shows only its entry wrapper in a dump).
func park(n int, stop chan struct{}) {
	started := make(chan struct{})
	for range n {
		go parkedWorker(started, stop)
	}
	for range n {
		<-started
	}
}

// pauseMeter reads the runtime's histogram of non-GC stop-the-world pauses
// (runtime.Stack and the goroutine profile stop the world) and reports the
// pause per operation and the longest single pause, and the process's CPU
// time per operation (on a machine shared with other work, a steadier
// figure than the wall clock).
type pauseMeter struct {
	sample []metrics.Sample
	before []uint64
	cpu    int64 // processCPU at the start
}

const pauseMetric = "/sched/pauses/total/other:seconds"

func newPauseMeter() *pauseMeter {
	m := &pauseMeter{sample: []metrics.Sample{{Name: pauseMetric}}}
	metrics.Read(m.sample)
	h := m.sample[0].Value.Float64Histogram()
	m.before = append([]uint64(nil), h.Counts...)
	m.cpu = processCPU()
	return m
}

// report adds stw-ns/op (approximate total, from bucket lower bounds) and
// max-stw-ns (the upper bound of the highest bucket that grew).
func (m *pauseMeter) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-m.cpu)/float64(b.N), "cpu-ns/op")
	metrics.Read(m.sample)
	h := m.sample[0].Value.Float64Histogram()
	var total, maxPause float64
	for i, c := range h.Counts {
		d := c - m.before[i]
		if d == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		if math.IsInf(lo, -1) {
			lo = 0
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		total += float64(d) * lo
		maxPause = max(maxPause, hi)
	}
	b.ReportMetric(total*1e9/float64(b.N), "stw-ns/op")
	b.ReportMetric(maxPause*1e9, "max-stw-ns")
}

// BenchmarkSnapshot measures a snapshot of a program with n parked
// goroutines, side by side with what it is built on (runtime.Stack of all
// goroutines) and with goleak.Find.
//
//	go test -run '^$' -bench Snapshot -benchtime 20x ./leakcheck
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		stop := make(chan struct{})
		park(n, stop)
		buf := make([]byte, 64<<20)
		impls := []struct {
			name string
			run  func()
		}{
			{"impl=leakcheck-full", func() { leakcheck.Snapshot() }},
			{"impl=leakcheck-light", func() { leakcheck.Snapshot(leakcheck.Light()) }},
			{"impl=runtime.Stack", func() { runtime.Stack(buf, true) }},
			{"impl=goleak.Find", func() {
				if err := goleak.Find(
					goleak.IgnoreTopFunction("github.com/tether-go/tether/leakcheck_test.parkedWorker"),
					goleak.IgnoreTopFunction("testing.(*B).run1"), // the benchmark runner
				); err != nil {
					b.Fatal(err)
				}
			}},
		}
		for _, impl := range impls {
			b.Run(fmt.Sprintf("goroutines=%d/%s", n, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				m := newPauseMeter()
				for b.Loop() {
					impl.run()
				}
				m.report(b)
			})
		}
		close(stop)
	}
}

// TestSnapshotSeesParkedGoroutines keeps the benchmark honest: the parked
// goroutines it measures are really in the report.
func TestSnapshotSeesParkedGoroutines(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	park(50, stop)
	for _, opts := range [][]leakcheck.Option{nil, {leakcheck.Light()}} {
		n := 0
		for _, e := range leakcheck.Snapshot(opts...).Entries {
			if len(e.Stack) > 0 && strings.HasSuffix(e.Stack[0].Function, ".parkedWorker") {
				n += max(e.Count, 1)
			}
		}
		if n != 50 {
			t.Errorf("snapshot %v saw %d parked workers, want 50", opts, n)
		}
	}
}
