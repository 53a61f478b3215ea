package leakcheck

import (
	"bytes"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/tether-go/tether/internal/track"
)

const (
	labelGroup = track.LabelGroup
	labelTask  = track.LabelTask
)

// fullDump returns runtime.Stack(all) as text. Its first goroutine is the
// caller's own.
func fullDump() string {
	size := max(64<<10, runtime.NumGoroutine()*1024)
	for {
		buf := make([]byte, size)
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		size *= 2
	}
}

// lightDump returns the goroutine profile at debug=1 as text.
func lightDump() string {
	var b bytes.Buffer
	b.Grow(max(16<<10, runtime.NumGoroutine()*64))
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		return ""
	}
	return b.String()
}

// tracebackLabels makes sure full goroutine dumps carry pprof labels, which
// is how goroutines are matched to tasks. The runtime prints them only under
// GODEBUG tracebacklabels=1, and that setting cannot be made with a
// //go:debug directive in Go 1.26, so the first full snapshot turns it on
// for the process with os.Setenv, which the runtime re-reads at once. It is
// left on: its only effect is that goroutine tracebacks (a crash, a
// runtime.Stack call, the debug=2 profile) also show each goroutine's pprof
// labels, which names the task that crashed. If GODEBUG already says
// tracebacklabels (either way) that choice is kept; with tracebacklabels=0
// full snapshots cannot attribute goroutines, and say so in Report.Notes.
func tracebackLabels() bool {
	godebug := os.Getenv("GODEBUG")
	on, set := false, false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "tracebacklabels="); ok {
			on, set = v == "1", true // the last setting wins, as in the runtime
		}
	}
	if set {
		return on
	}
	if godebug != "" {
		godebug += ","
	}
	os.Setenv("GODEBUG", godebug+"tracebacklabels=1")
	return true
}

// infrastructure reports whether g belongs to the testing framework, the
// runtime's signal handling or synctest's machinery rather than to the
// program under test.
func infrastructure(g *goroutine) bool {
	switch g.topFunction() {
	case "testing.(*T).Run", "testing.(*T).Parallel", "testing.runTests", "testing.(*M).Run",
		"testing.(*B).run1", "testing.(*B).Run", "testing.(*B).doBench", "testing.(*F).Fuzz",
		"testing.runFuzzTests", "testing.runFuzzing", "testing.tRunner.func1",
		"internal/synctest.Run", "testing/synctest.testingSynctestTest",
		"os/signal.loop", "os/signal.signal_recv", "runtime.ensureSigM":
		return true
	}
	switch g.created.fn {
	case "os/signal.Notify.func1.1", "runtime.ensureSigM",
		"testing.runExample": // copies an Example's stdout
		return true
	}
	return false
}

// mainRoot reports whether g is the goroutine running supervise.Main: the
// program's root, waiting (with bounded waits) for the service it runs, not
// a leak. Only called for goroutines with supervise frames.
func mainRoot(g *goroutine) bool {
	return g.hasFramePrefix(supervisePrefix + "runMain")
}

// ownDump reports whether g is the goroutine writing a light snapshot.
func ownDump(g *goroutine) bool {
	return g.hasFramePrefix("runtime/pprof.writeGoroutine")
}
