package stack_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/tether-go/tether/internal/stack"
)

//go:noinline
func parkedWorker(started chan<- struct{}, stop chan struct{}) {
	started <- struct{}{}
	<-stop
}

// BenchmarkParse parses a full dump of 10,000 parked goroutines (the
// workload of leakcheck's BenchmarkSnapshot), all at once and streamed,
// and the goroutine profile of the same program.
func BenchmarkParse(b *testing.B) {
	stop := make(chan struct{})
	defer close(stop)
	started := make(chan struct{})
	const n = 10000
	for range n {
		go parkedWorker(started, stop)
	}
	for range n {
		<-started
	}
	buf := make([]byte, 64<<20)
	dump := buf[:runtime.Stack(buf, true)]
	var prof bytes.Buffer
	if err := pprofGoroutine(&prof); err != nil {
		b.Fatal(err)
	}
	b.Run("form=full/how=slice", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(dump)))
		for b.Loop() {
			if len(stack.ParseFull(dump)) < n {
				b.Fatal("goroutines missing")
			}
		}
	})
	b.Run("form=full/how=stream", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(dump)))
		for b.Loop() {
			count := 0
			stack.EachFull(dump, func(*stack.Goroutine) { count++ })
			if count < n {
				b.Fatal("goroutines missing")
			}
		}
	})
	b.Run("form=profile/how=slice", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(prof.Len()))
		for b.Loop() {
			stack.ParseProfile(prof.Bytes())
		}
	})
}
