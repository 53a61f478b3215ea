package supervise_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/supervise"
)

// mainRun runs Main with exit and stderr captured, stopped by the returned
// cancel (as a signal would), and with signals off: Main's tests run in
// synctest bubbles, where os/signal's process-wide goroutine must not start.
type mainRun struct {
	code   int
	exited bool
	stderr bytes.Buffer
	events []supervise.Event
	mu     sync.Mutex
}

func runMain(t *testing.T, ctx context.Context, run func(context.Context, *supervise.Group) error, opts ...supervise.MainOption) *mainRun {
	t.Helper()
	r := &mainRun{}
	base := []supervise.MainOption{
		supervise.MainContext(ctx),
		supervise.Signals(),
		supervise.Exit(func(code int) { r.code, r.exited = code, true }),
		supervise.Stderr(&r.stderr),
		supervise.GroupOptions(
			supervise.Logger(slog.New(slog.DiscardHandler)),
			supervise.OnEvent(func(e supervise.Event) {
				r.mu.Lock()
				r.events = append(r.events, e)
				r.mu.Unlock()
			})),
	}
	supervise.Main("app", run, append(base, opts...)...)
	if !r.exited {
		t.Fatal("Main returned without calling its exit function")
	}
	return r
}

func TestMainCleanStopOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var order []string
		r := runMain(t, ctx, func(ctx context.Context, g *supervise.Group) error {
			g.Defer("first", func(context.Context) error { order = append(order, "first"); return nil })
			g.Defer("second", func(context.Context) error { order = append(order, "second"); return nil })
			g.Go("worker", func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			})
			time.AfterFunc(time.Second, cancel)
			return nil
		})
		if r.code != 0 || r.stderr.Len() != 0 {
			t.Fatalf("clean stop: exit %d, stderr:\n%s", r.code, r.stderr.String())
		}
		if strings.Join(order, ",") != "second,first" {
			t.Fatalf("Defers ran %v, want second,first (last in, first out)", order)
		}
	})
}

func TestMainEndsWhenEveryTaskEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := runMain(t, t.Context(), func(ctx context.Context, g *supervise.Group) error {
			g.Go("batch", func(ctx context.Context) error {
				time.Sleep(3 * time.Second)
				return nil
			})
			return nil
		})
		if r.code != 0 || r.stderr.Len() != 0 {
			t.Fatalf("batch run: exit %d, stderr:\n%s", r.code, r.stderr.String())
		}
		// Main ends when the batch task ends, plus at most the settling
		// of its leak report (the task's goroutine is still on its way
		// out for a moment after it is counted as ended).
		if d := time.Since(start); d < 3*time.Second || d >= 4*time.Second {
			t.Fatalf("Main returned after %v, want when the batch task ended (3s), not the settling limit", d)
		}
	})
}

func TestMainTaskFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runMain(t, t.Context(), func(ctx context.Context, g *supervise.Group) error {
			g.Go("sync", func(ctx context.Context) error { return errors.New("disk full") })
			g.Go("http", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			return nil
		})
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		if out := r.stderr.String(); !strings.Contains(out, `"app/sync"`) || !strings.Contains(out, "disk full") {
			t.Fatalf("stderr does not name the failed task and its error:\n%s", out)
		}
	})
}

func TestMainPanicNamesTaskAndLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var line int
		r := runMain(t, t.Context(), func(ctx context.Context, g *supervise.Group) error {
			g.Go("sync", func(ctx context.Context) error {
				var m map[string]int
				_, _, line, _ = runtime.Caller(0)
				m["x"]++ // the panic: assignment to entry in nil map
				return nil
			})
			return nil
		})
		want := fmt.Sprintf("main_func_test.go:%d", line+1)
		if out := r.stderr.String(); r.code != 1 || !strings.Contains(out, "app/sync") || !strings.Contains(out, want) {
			t.Fatalf("exit %d; stderr does not name app/sync and %s:\n%s", r.code, want, out)
		}
		panicked := 0
		for _, e := range r.events {
			if e.Kind == supervise.Panicked {
				panicked++
			}
		}
		if panicked != 1 {
			t.Fatalf("%d Panicked events, want exactly 1", panicked)
		}
	})
}

func TestMainRunError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runMain(t, t.Context(), func(ctx context.Context, g *supervise.Group) error {
			return errors.New("config missing")
		})
		if out := r.stderr.String(); r.code != 1 || !strings.Contains(out, "app/main") || !strings.Contains(out, "config missing") {
			t.Fatalf("exit %d; stderr:\n%s", r.code, out)
		}
	})
}

func TestMainShutdownOverrun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		release := make(chan struct{})
		start := time.Now()
		r := runMain(t, ctx, func(ctx context.Context, g *supervise.Group) error {
			g.Go("stubborn", func(context.Context) error {
				<-release // ignores its context
				return nil
			})
			time.AfterFunc(time.Second, cancel)
			return nil
		}, supervise.ShutdownTimeout(5*time.Second))
		// The report after shutdown waits up to a second for stragglers.
		if d := time.Since(start); d != 7*time.Second {
			t.Errorf("Main took %v, want 1s running + 5s shutdown deadline + 1s settling = 7s", d)
		}
		out := r.stderr.String()
		if r.code != 1 || !strings.Contains(out, "app/stubborn") || !strings.Contains(out, "did not stop") {
			t.Errorf("exit %d; stderr does not name the stuck task:\n%s", r.code, out)
		}
		if !strings.Contains(out, "leakcheck: 1 task still running") {
			t.Errorf("the leak report does not list the stuck task:\n%s", out)
		}
		close(release)
	})
}

func TestMainLeakFailsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop := make(chan struct{})
		var goLine int
		r := runMain(t, t.Context(), func(ctx context.Context, g *supervise.Group) error {
			_, _, goLine, _ = runtime.Caller(0)
			go func() { <-stop }() // a raw goroutine nobody stops
			return nil
		})
		out := r.stderr.String()
		if r.code != 1 {
			t.Errorf("exit %d, want 1", r.code)
		}
		// The task has ended, so the report names it by its name only
		// (the tasks of one name share their labels).
		want := fmt.Sprintf(`started by a task "app/main" (none running): chan receive, created at main_func_test.go:%d`, goLine+1)
		if !strings.Contains(out, want) {
			t.Errorf("report does not attribute the goroutine to app/main at line %d:\n%s", goLine+1, out)
		}
		close(stop)
	})
}

// TestMainSignals sends real signals to the test process: SIGTERM stops the
// service, and a second one cuts a stuck shutdown short.
//
// The second signal is sent only once Main has taken the first (it logs
// "shutting down"): two signals sent before Main reads the first can
// arrive as one (os/signal coalesces a pending signal), and Main would
// then wait its whole ShutdownTimeout.
func TestMainSignals(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	logs := &signalLog{shuttingDown: make(chan struct{}), failed: release}
	var stderr bytes.Buffer
	code := -1
	done := make(chan struct{})
	go func() {
		defer close(done)
		supervise.Main("app", func(ctx context.Context, g *supervise.Group) error {
			g.Go("stubborn", func(context.Context) error { <-release; return nil })
			close(started)
			return nil
		},
			// This goroutine, which waits for Main, is not a leak.
			supervise.ReportOptions(leakcheck.IgnoreTopFunction("github.com/tether-go/tether/supervise_test.TestMainSignals")),
			supervise.ShutdownTimeout(time.Hour),
			supervise.Exit(func(c int) { code = c }),
			supervise.Stderr(&stderr),
			supervise.GroupOptions(supervise.Logger(slog.New(logs))))
	}()
	<-started // Main installed its signal handler before it ran run
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-logs.shuttingDown
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done // without the second signal Main would wait an hour
	if code != 1 || !strings.Contains(stderr.String(), "app/stubborn") || !strings.Contains(stderr.String(), "did not stop") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// signalLog is TestMainSignals's handshake with Main through its log: it
// closes shuttingDown when Main has taken the first signal, and failed
// (which lets the stubborn task end, so that the leak report after it is
// clean at once) when Main has given up on the shutdown.
type signalLog struct {
	once1, once2         sync.Once
	shuttingDown, failed chan struct{}
}

func (h *signalLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalLog) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "supervise: shutting down":
		h.once1.Do(func() { close(h.shuttingDown) })
	case "supervise: service failed":
		h.once2.Do(func() { close(h.failed) })
	}
	return nil
}
func (h *signalLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *signalLog) WithGroup(string) slog.Handler      { return h }

func TestMainBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"nil run", func() { supervise.Main("app", nil, supervise.Exit(func(int) {})) }, "supervise: Main(\"app\", nil)"},
		{"nil option", func() { supervise.Main("app", func(context.Context, *supervise.Group) error { return nil }, nil) }, "option 0 is nil"},
		{"zero timeout", func() { supervise.ShutdownTimeout(0) }, "ShutdownTimeout(0s)"},
		{"nil context", func() { supervise.MainContext(nil) }, "MainContext(nil)"},
		{"nil exit", func() { supervise.Exit(nil) }, "Exit(nil)"},
		{"nil stderr", func() { supervise.Stderr(nil) }, "Stderr(nil)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

func TestMainListsTheLastRunFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runMain(t, t.Context(), func(ctx context.Context, g *supervise.Group) error {
			for i := range 10 {
				g.Run(ctx, "req", func(context.Context) error {
					if i == 9 {
						panic("last one")
					}
					return fmt.Errorf("request %d", i+1)
				})
			}
			return nil
		})
		out := r.stderr.String()
		if r.code != 0 {
			t.Errorf("exit %d, want 0: Run's failures are its callers'", r.code)
		}
		if !strings.Contains(out, `supervise: main "app": 10 Run calls failed (each returned to its caller); the last 8:`) ||
			!strings.Contains(out, `task "app/req#3" `) || !strings.Contains(out, "request 3\n") ||
			!strings.Contains(out, `task "app/req#10" `) || !strings.Contains(out, "panicked at") ||
			strings.Contains(out, "request 2\n") {
			t.Errorf("stderr does not list the last 8 of 10 Run failures:\n%s", out)
		}
	})
}
