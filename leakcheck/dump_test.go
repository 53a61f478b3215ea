package leakcheck

import (
	"encoding/json"
	"testing"

	"github.com/tether-go/tether/internal/stack"
)

//go:noinline
func recurse(n int, ready chan<- struct{}, stop chan struct{}) {
	if n == 0 {
		ready <- struct{}{}
		<-stop
		return
	}
	recurse(n-1, ready, stop)
}

// TestFullDumpFitsDeepStacks: goroutines far deeper than the first guess at
// a dump's size still come out whole (the dump is retried, larger).
func TestFullDumpFitsDeepStacks(t *testing.T) {
	const n, depth = 300, 90
	stop := make(chan struct{})
	defer close(stop)
	ready := make(chan struct{})
	for range n {
		go recurse(depth, ready, stop)
	}
	for range n {
		<-ready
	}
	deep := 0
	for _, g := range stack.ParseFull(liveDump()) {
		if g.HasFunc("github.com/tether-go/tether/leakcheck.recurse") && g.CreatedBy.Func != "" && (len(g.Frames) >= depth || g.Elided > 0) {
			deep++
		}
	}
	if deep < n {
		t.Fatalf("%d of %d deep goroutines came out whole in the dump", deep, n)
	}
}

// liveDump is fullDump's dump, not handed back for reuse.
func liveDump() []byte {
	d, _ := fullDump()
	return d
}

// TestReportOutlivesTheDumpBuffer: full snapshots reuse the buffer of the
// last dump, so a report must keep nothing that points into it: a report
// reads the same after later snapshots overwrote the buffer.
func TestReportOutlivesTheDumpBuffer(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	started := make(chan struct{})
	go func() { close(started); <-stop }()
	<-started
	r := Snapshot()
	before, _ := json.Marshal(r)
	for range 3 {
		go func() { <-stop }()
		Snapshot()
	}
	if after, _ := json.Marshal(r); string(after) != string(before) {
		t.Fatalf("a report changed when later snapshots reused the dump buffer:\nbefore %s\nafter  %s", before, after)
	}
}
