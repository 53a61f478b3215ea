package supervise

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tether-go/tether/internal/retry"
	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/leakcheck"
)

// Main runs a whole service and exits the process: it is the body of func
// main.
//
//	func main() {
//		supervise.Main("app", func(ctx context.Context, g *supervise.Group) error {
//			db := openDB()
//			g.Defer("db", func(context.Context) error { return db.Close() })
//			g.Go("http", serveHTTP)
//			g.Go("sync", syncLoop)
//			return nil
//		})
//	}
//
// Main creates the root group name and runs run in it as the task
// "<name>/main", so run's context is a task's context, and a panic or error
// in run is a failure like any task's. run starts the service's tasks and
// registers its Defers; it may return at once or keep working.
//
// Main then waits until one of these happens: every task has ended, a task
// failed (which cancels the group, unless the group was given
// ContinueOnError), SIGINT or SIGTERM arrived, or the context given with
// [MainContext] was cancelled. It then shuts the group down with a deadline
// ([ShutdownTimeout], 10s by default): tasks are cancelled and waited for,
// the Defers run last-in first-out, and tasks that did not stop are named
// with their stacks. A second signal during shutdown stops waiting at once.
//
// Last, Main takes a leak report (package leakcheck) and prints it to
// stderr, and logs it, if anything is still running or held: a lease never
// released, a goroutine never stopped, a cleanup step never run. So that the
// report can name the task of every goroutine, Main takes it with
// leakcheck.TracebackLabels(), which sets GODEBUG tracebacklabels=1 for the
// process (unless GODEBUG already sets it): later goroutine tracebacks,
// and child processes started after, show pprof labels.
//
// The exit code is 0 for a clean run, and 1 if a task (or run) failed, a
// Defer failed, a task did not stop in time, or the leak report was not
// clean. Main returns only if the function given with [Exit] returns.
func Main(name string, run func(ctx context.Context, g *Group) error, opts ...MainOption) {
	m := mainSettings{
		ctx:             context.Background(),
		shutdownTimeout: 10 * time.Second,
		exit:            os.Exit,
		stderr:          os.Stderr,
		signals:         []os.Signal{os.Interrupt, syscall.SIGTERM},
	}
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("supervise: Main(%q): option %d is nil", name, i))
		}
		o.applyMain(&m)
	}
	if run == nil {
		panic(fmt.Sprintf("supervise: Main(%q, nil): pass the function that starts the service", name))
	}
	m.exit(runMain(name, run, &m))
}

// MainOption configures [Main].
type MainOption interface{ applyMain(*mainSettings) }

type mainSettings struct {
	ctx             context.Context
	shutdownTimeout time.Duration
	exit            func(int)
	stderr          io.Writer
	signals         []os.Signal
	groupOpts       []Option
	reportOpts      []leakcheck.Option
}

type mainFunc func(*mainSettings)

func (f mainFunc) applyMain(m *mainSettings) { f(m) }

// ShutdownTimeout bounds Main's shutdown: how long it waits for tasks to
// stop and Defers to run (10s by default). ShutdownTimeout panics if d is
// not positive.
func ShutdownTimeout(d time.Duration) MainOption {
	if d <= 0 {
		panic(fmt.Sprintf("supervise: ShutdownTimeout(%v): the shutdown needs a positive deadline", d))
	}
	return mainFunc(func(m *mainSettings) { m.shutdownTimeout = d })
}

// GroupOptions are passed to the root group's New: Logger, OnEvent,
// ContinueOnError, WithLimit. Main logs with the same logger.
func GroupOptions(opts ...Option) MainOption {
	return mainFunc(func(m *mainSettings) { m.groupOpts = append(m.groupOpts, opts...) })
}

// ReportOptions are passed to the leak report Main takes after shutdown,
// for example leakcheck.IgnoreCreatedBy for a library's background
// goroutine that is not the service's to stop.
func ReportOptions(opts ...leakcheck.Option) MainOption {
	return mainFunc(func(m *mainSettings) { m.reportOpts = append(m.reportOpts, opts...) })
}

// MainContext makes ctx the root of the service: its values reach every
// task, and its cancellation stops the service as a signal does. It is for
// embedding Main in a larger program and for tests. MainContext panics if
// ctx is nil.
func MainContext(ctx context.Context) MainOption {
	if ctx == nil {
		panic("supervise: MainContext(nil)")
	}
	return mainFunc(func(m *mainSettings) { m.ctx = ctx })
}

// Signals replaces the signals that stop the service (SIGINT and SIGTERM
// by default). Signals() with none makes Main ignore signals.
func Signals(sig ...os.Signal) MainOption {
	return mainFunc(func(m *mainSettings) { m.signals = sig })
}

// Exit replaces os.Exit as the way Main ends: Main calls exit with its exit
// code, and returns if exit returns. For tests and for programs that run
// Main more than once.
func Exit(exit func(code int)) MainOption {
	if exit == nil {
		panic("supervise: Exit(nil)")
	}
	return mainFunc(func(m *mainSettings) { m.exit = exit })
}

// Stderr replaces os.Stderr as where Main prints failures and the leak
// report.
func Stderr(w io.Writer) MainOption {
	if w == nil {
		panic("supervise: Stderr(nil)")
	}
	return mainFunc(func(m *mainSettings) { m.stderr = w })
}

// runMain runs the service and returns its exit code.
func runMain(name string, run func(context.Context, *Group) error, m *mainSettings) int {
	start := time.Now()
	sig := make(chan os.Signal, 1)
	if len(m.signals) > 0 {
		signal.Notify(sig, m.signals...)
		defer signal.Stop(sig)
	}
	// The group does not inherit m.ctx's cancellation: a stop request is
	// turned into Shutdown below, so that every cancellation is the
	// group's own and not a failure.
	g := New(context.WithoutCancel(m.ctx), name, m.groupOpts...)
	g.Go("main", func(ctx context.Context) error { return run(ctx, g) })

	var reason string
	select {
	case <-g.tasksEnded():
		reason = "every task ended"
	case <-g.ctx.Done():
		reason = "a task failed"
	case s := <-sig:
		reason = "signal " + s.String()
	case <-m.ctx.Done():
		reason = "context: " + context.Cause(m.ctx).Error()
	}
	g.log(slog.LevelInfo, "supervise: shutting down", "group", g.path, "reason", reason, "timeout", m.shutdownTimeout)

	sctx, cancel := context.WithTimeoutCause(context.WithoutCancel(m.ctx), m.shutdownTimeout,
		fmt.Errorf("supervise: main %q: shutdown took longer than %v", name, m.shutdownTimeout))
	defer cancel()
	//tether:allow nakedgo the second-signal watcher belongs to Main itself, not to any group; cancel ends it before runMain returns
	go func() {
		// A second signal cuts the wait short. This goroutine ends with
		// runMain: cancel unblocks it.
		select {
		case s := <-sig:
			g.log(slog.LevelWarn, "supervise: second signal, not waiting any longer", "group", g.path, "signal", s.String())
			cancel()
		case <-sctx.Done():
		}
	}()
	err := g.Shutdown(sctx)
	cancel()

	code := 0
	if err != nil {
		code = 1
		fmt.Fprintf(m.stderr, "supervise: main %q failed:\n%v\n", name, err)
		// The whole error is on stderr; the log record carries its first
		// line, so a terminal showing both does not repeat every stack.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		g.log(slog.LevelError, "supervise: service failed", "group", g.path, "err", msg)
	}
	if n, last := g.runFailures(); n > 0 {
		// Not a failure of the service: each was returned to Run's caller.
		fmt.Fprintf(m.stderr, "supervise: main %q: %s (each returned to its caller); the last %d:\n", name, text.Count(n, "Run call failed", "Run calls failed"), len(last))
		for _, te := range last {
			fmt.Fprintf(m.stderr, "\t* %s\n", strings.TrimPrefix(te.Error(), "supervise: "))
		}
	}
	report := settledReport(append([]leakcheck.Option{leakcheck.TracebackLabels()}, m.reportOpts...))
	if !report.Clean() {
		fmt.Fprintf(m.stderr, "%s", report)
		g.log(slog.LevelError, "supervise: leaks after shutdown", "group", g.path, "summary", report.Summary())
		code = 1
	}
	g.log(slog.LevelInfo, "supervise: stopped", "group", g.path, "ran", time.Since(start), "exit", code)
	return code
}

// settleFor is how long Main lets goroutines on their way out finish before
// it reports them: connections closing after an HTTP server's Shutdown,
// for example.
const settleFor = time.Second

// settledReport takes leak reports until one is clean or settleFor has
// passed, and returns the last.
func settledReport(opts []leakcheck.Option) *leakcheck.Report {
	var r *leakcheck.Report
	retry.Until(time.Now().Add(settleFor), 100*time.Microsecond, func() bool {
		r = leakcheck.Snapshot(opts...)
		return r.Clean()
	})
	return r
}

// tasksEnded returns a channel that is closed once the group has no live
// task.
func (g *Group) tasksEnded() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return g.idleChan()
}
