package leakcheck

import (
	"bytes"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/track"
)

// fullDump returns runtime.Stack(all) and about how many goroutines it
// holds. Its first goroutine is the caller's own. The caller must hand the
// dump to putDump once nothing refers to it (parsing copies what entries
// keep).
//
// The buffer is sized from the goroutine count: every attempt stops the
// world for a whole dump, so a second one is worth avoiding, but a buffer
// far too large costs too (the memory is cleared and faulted in, a
// measurable share of a snapshot). A dump that does not fit is retried once
// with the size its first part shows it needs. The buffer of the last
// snapshot is reused when it is large enough and not far too large: the
// runtime writes the dump while the world is stopped, and into memory
// already faulted in it writes it faster (VerifyNone and Handler take
// snapshot after snapshot; BenchmarkSnapshot).
func fullDump() ([]byte, int) {
	n := runtime.NumGoroutine()
	size := 64<<10 + n*dumpBytesPerGoroutine
	var buf []byte
	if p, ok := dumps.Get().(*[]byte); ok && cap(*p) >= size && cap(*p) <= 4*size {
		buf = (*p)[:cap(*p)]
	}
	for {
		if buf == nil {
			buf = make([]byte, size)
		}
		w := runtime.Stack(buf, true)
		if w < len(buf) {
			return buf[:w], n
		}
		fitted := max(bytes.Count(buf, []byte("\ngoroutine ")), 1)
		need := w / fitted * max(n, runtime.NumGoroutine()) * 5 / 4
		size = max(2*len(buf), need)
		buf = nil
	}
}

// dumps holds the buffer of the last full dump (a *[]byte), for the next.
var dumps sync.Pool

// putDump keeps a full dump's buffer for the next snapshot.
func putDump(dump []byte) { dumps.Put(&dump) }

// dumpBytesPerGoroutine is the first guess at a goroutine's share of a full
// dump: a goroutine parked a couple of frames deep in a module with long
// paths takes about 300 bytes.
const dumpBytesPerGoroutine = 384

// lightDump returns the goroutine profile at debug=1.
func lightDump() []byte {
	var b bytes.Buffer
	b.Grow(max(16<<10, runtime.NumGoroutine()*64))
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		return nil
	}
	return b.Bytes()
}

// labelsInTracebacks reports whether full goroutine dumps carry pprof
// labels, which is how goroutines are matched to tasks. The runtime prints
// them only under GODEBUG tracebacklabels=1, which is off by default and
// cannot be set with a //go:debug directive in Go 1.26. If GODEBUG says
// tracebacklabels (either way), that choice is kept. Otherwise, if the
// caller asked (the TracebackLabels option), it is turned on for the
// process with os.Setenv, which the runtime re-reads at once.
func labelsInTracebacks(enable bool) bool {
	godebug := os.Getenv("GODEBUG")
	on, set := false, false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "tracebacklabels="); ok {
			on, set = v == "1", true // the last setting wins, as in the runtime
		}
	}
	if set || !enable {
		return on
	}
	if godebug != "" {
		godebug += ","
	}
	if os.Setenv("GODEBUG", godebug+"tracebacklabels=1") != nil {
		return false
	}
	return true
}

// infrastructure reports whether g belongs to the testing framework, the
// runtime's signal handling, its cleanup and finalizer goroutine (shown
// while it runs a cleanup, tether's own included), or synctest's machinery
// rather than to the program under test.
func infrastructure(g *stack.Goroutine) bool {
	switch g.Top() {
	case "testing.(*T).Run", "testing.(*T).Parallel", "testing.runTests", "testing.(*M).Run",
		"testing.(*B).run1", "testing.(*B).Run", "testing.(*B).doBench", "testing.(*F).Fuzz",
		"testing.runFuzzTests", "testing.runFuzzing", "testing.tRunner.func1",
		"internal/synctest.Run", "testing/synctest.testingSynctestTest",
		"os/signal.loop", "os/signal.signal_recv", "runtime.ensureSigM":
		return true
	}
	switch g.CreatedBy.Func {
	case "os/signal.Notify.func1.1", "runtime.ensureSigM",
		"testing.runExample": // copies an Example's stdout
		return true
	}
	return g.HasFunc("runtime.runCleanups") || g.HasFunc("runtime.runFinalizers")
}

// mainRoot reports whether g is the goroutine running supervise.Main (or a
// goroutine of Main's own, a closure of it): the program's root, waiting
// with bounded waits for the service it runs, not a leak.
func mainRoot(g *stack.Goroutine) bool {
	for i := range g.Frames {
		if fn := g.Frames[i].Func; fn == track.FuncMain || strings.HasPrefix(fn, track.FuncMain+".func") {
			return true
		}
	}
	return strings.HasPrefix(g.CreatedBy.Func, track.FuncMain+".func") || g.CreatedBy.Func == track.FuncMain
}

// ownDump reports whether g is the goroutine writing a light snapshot.
func ownDump(g *stack.Goroutine) bool {
	return g.HasFunc("runtime/pprof.writeGoroutine")
}
