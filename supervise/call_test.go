package supervise_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// goid returns the calling goroutine's id, from its traceback header.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := bytes.Cut(bytes.TrimPrefix(buf, []byte("goroutine ")), []byte(" "))
	return string(id)
}

func counter(st track.State, name string) int64 {
	for _, c := range st.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return -1
}

func TestRunIsATaskOnTheCallingGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		type key struct{}
		ctx := context.WithValue(context.Background(), key{}, "v")
		caller := goid()
		before := goroutineLabels()
		var paths, inside []string
		for range 2 {
			err := g.Run(ctx, "GET /orders/{id}", func(ctx context.Context) error {
				path := track.TaskFrom(ctx).String()
				paths = append(paths, path)
				if id := goid(); id != caller {
					t.Errorf("fn ran on goroutine %s, want the caller's, %s", id, caller)
				}
				if v := ctx.Value(key{}); v != "v" {
					t.Errorf("ctx.Value = %v, want the caller's value", v)
				}
				if l := labelsOf(ctx); l[track.LabelTask] != "app/GET /orders/{id}" || l[track.LabelGroup] != "app" {
					t.Errorf("ctx labels %v, want the task's (its group and name)", l)
				}
				inside = append(inside, goroutineLabels())
				if ts := g.Tasks(); len(ts) != 1 || ts[0].Path != path || ts[0].State != "running" || ts[0].Site == "" {
					t.Errorf("Tasks while Run runs = %+v, want %s running", ts, path)
				}
				st, _ := findGroup("app")
				if len(st.Items) != 1 || st.Items[0].Name != path {
					t.Errorf("leak report items while Run runs = %+v, want %s", st.Items, path)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		}
		want := []string{"app/GET /orders/{id}", "app/GET /orders/{id}#2"}
		if !slices.Equal(paths, want) {
			t.Fatalf("Run task paths %q, want %q", paths, want)
		}
		if want := `{"tether.group":"app", "tether.task":"app/GET /orders/{id}"}`; inside[1] != want {
			t.Errorf("goroutine labels inside fn %s, want %s", inside[1], want)
		}
		if after := goroutineLabels(); after != before {
			t.Errorf("goroutine labels after Run %s, want them restored to %s", after, before)
		}
		if k := rec.kinds(want[1]); !slices.Equal(k, []string{"started", "completed"}) {
			t.Errorf("events %v, want started, completed", k)
		}
		if len(g.Tasks()) != 0 {
			t.Errorf("Tasks after Run returned = %+v, want none", g.Tasks())
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunPanicIsTheCallersAndDoesNotCancelTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		release := make(chan struct{})
		var siblingErr error
		g.Go("sibling", func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				siblingErr = context.Cause(ctx)
			case <-release:
			}
			return nil
		})
		var panicLine string
		runLine := testkit.Here(1)
		err := g.Run(context.Background(), "handler", func(ctx context.Context) error {
			panicLine = testkit.Here(1)
			panic("bad request")
		})
		var te *supervise.TaskError
		var pe *supervise.PanicError
		if !errors.As(err, &te) || te.Task != "app/handler" || te.Site != runLine || !errors.As(err, &pe) || pe.At != panicLine || pe.Value != "bad request" {
			t.Fatalf("Run = %#v, want a *TaskError for app/handler (Run at %s) wrapping the panic at %s", err, runLine, panicLine)
		}
		synctest.Wait()
		if siblingErr != nil {
			t.Fatalf("a panic in Run cancelled the group: sibling saw %v", siblingErr)
		}
		if k := rec.kinds("app/handler"); !slices.Equal(k, []string{"started", "panicked"}) {
			t.Errorf("events %v, want started, panicked (reported once)", k)
		}
		errorLogs := 0
		for _, r := range rec.logs() {
			if r.Level == slogError && attrs(r)["task"] == "app/handler" {
				errorLogs++
			}
		}
		if errorLogs != 1 {
			t.Errorf("%d error logs for the panic, want 1", errorLogs)
		}
		st, _ := findGroup("app")
		if counter(st, "failed") != 1 || counter(st, "panicked") != 1 || len(st.Problems) != 0 {
			t.Errorf("group state %+v: want failed 1, panicked 1, no problem (the caller has the failure)", st)
		}
		close(release)
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait = %v; a failure of Run is its caller's, not Wait's", err)
		}
	})
}

func TestRunErrorIsReportedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		line := testkit.Here(1)
		err := g.Run(context.Background(), "job", func(context.Context) error { time.Sleep(time.Second); return errBoom })
		var te *supervise.TaskError
		if !errors.As(err, &te) || te.Err != errBoom || te.Site != line || te.End.Sub(te.Start) != time.Second {
			t.Fatalf("Run = %+v, want a *TaskError wrapping boom, started at %s, 1s", err, line)
		}
		want := `supervise: task "app/job" (started at ` + line + `) failed after 1s: boom`
		if err.Error() != want {
			t.Errorf("Run error\n got %v\nwant %s", err, want)
		}
		if f := rec.eventsOf(supervise.Failed); len(f) != 1 || f[0].Task != "app/job" || f[0].Err != errBoom || f[0].Duration != time.Second {
			t.Errorf("Failed events %+v, want one for app/job", f)
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait = %v, want nil", err)
		}
	})
}

func TestRunContextIsCancelledByTheCallerOrTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		callerCause := errors.New("client went away")
		deadline := time.Now().Add(time.Hour)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		ctx, cancelCause := context.WithCancelCause(ctx)
		time.AfterFunc(time.Second, func() { cancelCause(callerCause) })
		var cause error
		err := g.Run(ctx, "req", func(ctx context.Context) error {
			if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
				t.Errorf("Deadline = %v %v, want the caller's %v", d, ok, deadline)
			}
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		if cause != callerCause || !errors.Is(err, context.Canceled) {
			t.Fatalf("after the caller's cancellation: cause %v, Run = %v; want the caller's cause, and an error matching Canceled", cause, err)
		}
		if k := rec.kinds("app/req"); !slices.Equal(k, []string{"started", "canceled"}) {
			t.Errorf("events %v, want started, canceled (an echo of the cancellation is not a failure)", k)
		}

		// The group's cancellation reaches fn, with the group's cause.
		ready := make(chan struct{})
		go func() {
			<-ready
			g.Go("fails", func(context.Context) error { return errBoom })
		}()
		err = g.Run(context.Background(), "req", func(ctx context.Context) error {
			close(ready)
			<-ctx.Done()
			cause = context.Cause(ctx)
			return nil
		})
		var te *supervise.TaskError
		if err != nil || !errors.As(cause, &te) || te.Task != "app/fails" {
			t.Fatalf("after the group's cancellation: Run = %v, cause %v; want nil and the failure of app/fails", err, cause)
		}
		if err := g.Wait(); !errors.Is(err, errBoom) || len(taskErrors(err)) != 1 {
			t.Fatalf("Wait = %v, want only the failure of app/fails", err)
		}
	})
}

func TestRunShutdownCancelsAndNamesAStuckRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var cause error
		done := make(chan error)
		go func() {
			done <- g.Run(context.Background(), "polite", func(ctx context.Context) error {
				<-ctx.Done()
				cause = context.Cause(ctx)
				return ctx.Err()
			})
		}()
		release := make(chan struct{})
		stuck := make(chan error)
		go func() {
			stuck <- g.Run(context.Background(), "stuck", func(ctx context.Context) error { <-release; return nil })
		}()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := g.Shutdown(ctx)
		if !errors.Is(cause, supervise.ErrShutdown) {
			t.Errorf("a Run task's cause after Shutdown = %v, want ErrShutdown", cause)
		}
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want an error matching Canceled", err)
		}
		if !errors.Is(err, supervise.ErrNotStopped) || !strings.Contains(err.Error(), `task "app/stuck"`) ||
			!strings.Contains(err.Error(), "TestRunShutdownCancelsAndNamesAStuckRun") {
			t.Errorf("Shutdown = %v, want app/stuck named as not stopped, with its stack", err)
		}
		close(release)
		if err := <-stuck; err != nil {
			t.Errorf("stuck Run = %v", err)
		}
	})
}

func TestRunDoesNotRunAfterCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		ran := false
		fn := func(context.Context) error { ran = true; return nil }

		// The caller's context is done.
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errBoom)
		err := g.Run(ctx, "req", fn)
		if ran || !errors.Is(err, context.Canceled) || !errors.Is(err, errBoom) {
			t.Fatalf("Run with a done ctx = %v (ran %v); want fn not run, an error matching Canceled and the cause", err, ran)
		}
		want := `supervise: group "app": task "app/req" did not run: its context was done: boom`
		if err.Error() != want {
			t.Errorf("Run error\n got %v\nwant %s", err, want)
		}

		// The group failed.
		g.Go("fails", func(context.Context) error { return errBoom })
		synctest.Wait()
		err = g.Run(context.Background(), "req", fn)
		var te *supervise.TaskError
		if ran || !errors.Is(err, context.Canceled) || !errors.As(err, &te) || te.Task != "app/fails" {
			t.Fatalf("Run after a failure = %v (ran %v); want fn not run, an error matching Canceled wrapping app/fails's failure", err, ran)
		}
		if s := rec.eventsOf(supervise.Skipped); len(s) != 2 || s[1].Task != "app/req#2" {
			t.Errorf("Skipped events %+v, want app/req and app/req#2", s)
		}
		if err := g.Wait(); len(taskErrors(err)) != 1 || strings.Contains(err.Error(), "req") {
			t.Errorf("Wait = %v, want only the failure of app/fails", err)
		}

		// After Shutdown.
		g2 := supervise.New(context.Background(), "app2", quiet())
		stop := make(chan struct{})
		go func() {
			defer close(stop)
			g2.Go("holder", func(ctx context.Context) error { <-ctx.Done(); return nil })
			synctest.Wait()
			g2.Shutdown(context.Background())
		}()
		<-stop
		testkit.WantPanic(t, "Run after Shutdown", func() { g2.Run(context.Background(), "req", fn) },
			`supervise: group "app2": Run(ctx, "req")`, "after Wait or Shutdown returned")
	})
}

func TestRunShutdownBeforeRunStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		block := make(chan struct{})
		g.Go("holder", func(ctx context.Context) error { <-block; return nil })
		shut := make(chan error)
		go func() { shut <- g.Shutdown(context.Background()) }()
		synctest.Wait() // Shutdown cancelled the group and waits for holder
		err := g.Run(context.Background(), "req", func(context.Context) error { return nil })
		if !errors.Is(err, supervise.ErrShutdown) || !errors.Is(err, context.Canceled) {
			t.Errorf("Run during Shutdown = %v, want an error matching ErrShutdown and Canceled", err)
		}
		close(block)
		if err := <-shut; err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunWaitsForALimitSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", supervise.WithLimit(1), quiet())
		release := make(chan struct{})
		g.Go("holder", func(context.Context) error { <-release; return nil })
		start := time.Now()
		ran := make(chan time.Duration, 1)
		done := make(chan error)
		go func() {
			done <- g.Run(context.Background(), "req", func(context.Context) error { ran <- time.Since(start); return nil })
		}()
		synctest.Wait()
		if ts := g.Tasks(); len(ts) != 2 || ts[1].Path != "app/req" || ts[1].State != "waiting-for-slot" {
			t.Fatalf("Tasks = %+v, want app/req waiting-for-slot", ts)
		}

		// A Run whose caller gives up while it waits does not run.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := g.Run(ctx, "impatient", func(context.Context) error { t.Error("impatient ran"); return nil })
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 2*time.Second {
			t.Fatalf("Run = %v after %v, want DeadlineExceeded after 2s", err, time.Since(start))
		}
		if ts := g.Tasks(); len(ts) != 2 {
			t.Fatalf("Tasks after the impatient Run gave up = %+v, want holder and req", ts)
		}
		time.Sleep(time.Second)
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if d := <-ran; d != 3*time.Second {
			t.Fatalf("Run ran after %v, want 3s (when the slot freed)", d)
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var inner, between, child string
		err := g.Run(context.Background(), "outer", func(ctx context.Context) error {
			err := g.Run(ctx, "inner", func(ctx context.Context) error {
				inner = goroutineLabels()
				return errBoom
			})
			between = goroutineLabels()
			c := supervise.New(ctx, "sub")
			c.Go("w", func(ctx context.Context) error { child = track.TaskFrom(ctx).Path; return nil })
			if err := c.Wait(); err != nil {
				return err
			}
			return err
		})
		if want := `{"tether.group":"app", "tether.task":"app/inner"}`; inner != want {
			t.Errorf("labels in the inner Run %s, want %s", inner, want)
		}
		if want := `{"tether.group":"app", "tether.task":"app/outer"}`; between != want {
			t.Errorf("labels after the inner Run %s, want the outer's back: %s", between, want)
		}
		if child != "app/outer/sub/w" {
			t.Errorf("a group made in a Run task has task %q, want app/outer/sub/w", child)
		}
		tes := taskErrors(err)
		var inner2 *supervise.TaskError
		if len(tes) != 1 || tes[0].Task != "app/outer" || !errors.As(tes[0].Err, &inner2) || inner2.Task != "app/inner" {
			t.Fatalf("Run = %v, want app/outer's failure wrapping app/inner's", err)
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunFromAGoTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var in, after string
		g.Go("worker", func(ctx context.Context) error {
			err := g.Run(ctx, "step", func(ctx context.Context) error {
				in = track.TaskFrom(ctx).Path
				panic("step broke")
			})
			after = goroutineLabels()
			return err
		})
		err := g.Wait()
		if in != "app/step" {
			t.Errorf("Run's task in a Go task is %q, want app/step", in)
		}
		if want := `{"tether.group":"app", "tether.task":"app/worker"}`; after != want {
			t.Errorf("labels after Run in a Go task %s, want the Go task's %s", after, want)
		}
		var pe *supervise.PanicError
		if tes := taskErrors(err); len(tes) != 1 || tes[0].Task != "app/worker" || !errors.As(err, &pe) || pe.Task != "app/step" {
			t.Fatalf("Wait = %v, want app/worker's failure, wrapping app/step's panic", err)
		}
	})
}

func TestRunGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		returned := false
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.Run(context.Background(), "fatal", func(context.Context) error { runtime.Goexit(); return nil })
			returned = true
		}()
		<-done
		if returned {
			t.Fatal("Run returned after runtime.Goexit")
		}
		if f := rec.eventsOf(supervise.Failed); len(f) != 1 || !errors.Is(f[0].Err, supervise.ErrGoexit) {
			t.Fatalf("Failed events %+v, want one with ErrGoexit", f)
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait = %v, want nil", err)
		}
	})
}

func TestRunDoesNotKeepItsContext(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	defer g.Wait()
	w := runWithBigContext(t, g)
	if !testkit.Collect(t, func() bool { return w.Value() == nil }) {
		t.Fatal("the caller's context is still reachable from the group after Run returned (a callback left on the group's context)")
	}
}

// runWithBigContext calls Run with a context holding a value nobody else
// references, and returns a weak pointer to the value.
func runWithBigContext(t *testing.T, g *supervise.Group) weak.Pointer[[1 << 10]byte] {
	type key struct{}
	big := new([1 << 10]byte)
	ctx := context.WithValue(context.Background(), key{}, big)
	if err := g.Run(ctx, "req", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return weak.Make(big)
}

func TestRunMisuse(t *testing.T) {
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	g := supervise.New(ctx, "app", quiet())
	testkit.WantPanic(t, "nil ctx", func() { g.Run(nil, "x", fn) }, `supervise: group "app": Run(nil, "x")`) //nolint:staticcheck // testing the check
	testkit.WantPanic(t, "nil fn", func() { g.Run(ctx, "x", nil) }, `supervise: group "app": Run(ctx, "x", nil)`)
	testkit.WantPanic(t, "empty name", func() { g.Run(ctx, "", fn) }, `supervise: group "app": Run: the task name "" is empty`)
	testkit.WantPanic(t, "hash", func() { g.Run(ctx, "a#2", fn) }, `"a#2" contains '#'`)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	testkit.WantPanic(t, "after Wait", func() { g.Run(ctx, "x", fn) }, `supervise: group "app": Run(ctx, "x")`, "after Wait or Shutdown returned")
}

func TestTryGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", append(rec.options(), supervise.WithLimit(1))...)
		release := make(chan struct{})
		var paths []string
		fn := func(ctx context.Context) error {
			paths = append(paths, track.TaskFrom(ctx).Path)
			<-release
			return nil
		}
		if !g.TryGo("w", fn) {
			t.Fatal("TryGo on an idle group = false")
		}
		synctest.Wait()
		if g.TryGo("w", fn) {
			t.Fatal("TryGo with the limit reached = true")
		}
		if ts := g.Tasks(); len(ts) != 1 {
			t.Fatalf("Tasks after a refused TryGo = %+v, want only the first", ts)
		}
		close(release)
		synctest.Wait()
		if !g.TryGo("w", fn) {
			t.Fatal("TryGo after the slot freed = false")
		}
		g.Go("fails", func(context.Context) error { return errBoom })
		synctest.Wait()
		if g.TryGo("w", fn) {
			t.Fatal("TryGo after the group failed = true")
		}
		if s := rec.eventsOf(supervise.Skipped); len(s) != 1 || s[0].Task != "app/w#3" {
			t.Errorf("Skipped events %+v, want app/w#3 (a refused TryGo records no task)", s)
		}
		g.Wait()
		if !slices.Equal(paths, []string{"app/w", "app/w#2"}) {
			t.Errorf("paths %v, want app/w, app/w#2", paths)
		}
		testkit.WantPanic(t, "TryGo after Wait", func() { g.TryGo("w", fn) }, `supervise: group "app": TryGo("w")`, "after Wait")
		testkit.WantPanic(t, "TryGo nil", func() { g.TryGo("w", nil) }, `TryGo("w", nil)`)
	})
}

func TestTryGoWithoutLimitAlwaysStarts(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	var n atomic.Int32
	for range 100 {
		if !g.TryGo("w", func(context.Context) error { n.Add(1); return nil }) {
			t.Fatal("TryGo without a limit = false")
		}
	}
	if err := g.Wait(); err != nil || n.Load() != 100 {
		t.Fatalf("Wait = %v, %d ran, want nil and 100", err, n.Load())
	}
}
