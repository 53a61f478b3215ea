package leakcheck_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// fakeObject stands in for a pool, group, scope or guard: it registers a
// fixed state, the way the real packages register their live state.
type fakeObject struct{ state track.State }

func (f *fakeObject) describe() track.State { return f.state }

func register(t *testing.T, st track.State) {
	t.Helper()
	o := &fakeObject{state: st}
	h := track.Register(o, (*fakeObject).describe)
	t.Cleanup(func() {
		h.Unregister()
		runtime.KeepAlive(o)
	})
}

// keepGODEBUG restores GODEBUG when the test ends: snapshots taken with
// leakcheck.TracebackLabels() set it for the process.
func keepGODEBUG(t *testing.T) {
	t.Helper()
	t.Setenv("GODEBUG", os.Getenv("GODEBUG"))
}

// leakGoroutine starts a goroutine, under the given pprof labels if any,
// that blocks until the test ends. It returns the line of the go statement.
func leakGoroutine(t *testing.T, labels ...string) int {
	t.Helper()
	stop := make(chan struct{})
	started := make(chan int)
	start := func(context.Context) {
		_, _, line, _ := runtime.Caller(0)
		go func() { started <- line + 1; <-stop }()
	}
	if len(labels) > 0 {
		pprof.Do(context.Background(), pprof.Labels(labels...), start)
	} else {
		start(context.Background())
	}
	t.Cleanup(func() { close(stop) })
	line := <-started
	waitParked(t, fmt.Sprintf("helpers_test.go:%d", line))
	return line
}

// waitParked polls goroutine dumps until the goroutine whose top frame is at
// loc is blocked on a channel: after its handshake a goroutine is runnable
// for a moment before it parks.
func waitParked(t *testing.T, loc string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		dump := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(dump, "\n\n") {
			header, body, _ := strings.Cut(g, "\n")
			if strings.Contains(header, "[chan receive") && strings.Contains(firstFrames(body), loc+" ") {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("the goroutine at %s never parked", loc)
}

// firstFrames returns the first frame (function and location lines) of a
// goroutine's stack text.
func firstFrames(body string) string {
	lines := strings.SplitN(body, "\n", 3)
	if len(lines) < 2 {
		return body
	}
	return lines[0] + "\n" + lines[1]
}
