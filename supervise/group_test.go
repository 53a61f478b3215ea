package supervise_test

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

var errBoom = errors.New("boom")

func TestWaitReturnsNilWhenEveryTaskSucceeds(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	var mu sync.Mutex
	ran := 0
	for range 10 {
		g.Go("worker", func(context.Context) error {
			mu.Lock()
			ran++
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v, want nil", err)
	}
	if ran != 10 {
		t.Fatalf("%d tasks ran, want 10", ran)
	}
}

func TestTaskContextCarriesIdentityAndLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		release := make(chan struct{})
		got := make(map[string][3]string)
		var mu sync.Mutex
		for range 3 {
			g.Go("worker", func(ctx context.Context) error {
				task, _ := pprof.Label(ctx, track.LabelTask)
				group, _ := pprof.Label(ctx, track.LabelGroup)
				mu.Lock()
				got[track.TaskFrom(ctx).Path] = [3]string{task, group}
				mu.Unlock()
				<-release
				return nil
			})
		}
		synctest.Wait()
		close(release)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		// The labels name the task's group and name (its role), not its
		// number: they are built once per name.
		for _, p := range []string{"app/worker", "app/worker#2", "app/worker#3"} {
			if got[p] != [3]string{"app/worker", "app"} {
				t.Errorf("task %s: labels task=%q group=%q, want task=app/worker group=app", p, got[p][0], got[p][1])
			}
		}
		if len(got) != 3 {
			t.Errorf("task paths %v, want app/worker, app/worker#2, app/worker#3", got)
		}
	})
}

// TestTaskContextIsTheGroupsContext checks the invariant that lets a task
// be its own context (see task): Deadline, Done, Err and cancellation are
// those of the context it embeds, so contexts derived from a task's context
// attach to the group's cancellation directly (no goroutine watches them)
// and see its cause, in the order the failure and the derivations happen.
func TestTaskContextIsTheGroupsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		derived := make(chan struct{})
		fail := make(chan struct{})
		var causes [3]error
		g.Go("waiter", func(ctx context.Context) error {
			before := runtime.NumGoroutine()
			c1, cancel1 := context.WithCancel(ctx)
			defer cancel1()
			c2, cancel2 := context.WithTimeout(c1, time.Hour)
			defer cancel2()
			stop := context.AfterFunc(ctx, func() {})
			defer stop()
			if n := runtime.NumGoroutine(); n != before {
				t.Errorf("deriving from a task's context started %d goroutines; want 0 (the task must expose its group's cancelCtx)", n-before)
			}
			if d, ok := c2.Deadline(); !ok || d != time.Now().Add(time.Hour) {
				t.Errorf("derived Deadline = %v, %v; want now+1h", d, ok)
			}
			close(derived)
			<-c2.Done()
			causes = [3]error{context.Cause(ctx), context.Cause(c1), context.Cause(c2)}
			return ctx.Err()
		})
		g.Go("failer", func(context.Context) error { <-fail; return errBoom })
		<-derived
		synctest.Wait()
		close(fail)
		err := g.Wait()
		for i, c := range causes {
			var te *supervise.TaskError
			if !errors.As(c, &te) || te.Task != "app/failer" || !errors.Is(c, errBoom) {
				t.Errorf("cause %d seen by the waiter = %v; want the *TaskError of app/failer", i, c)
			}
		}
		if !errors.Is(err, errBoom) {
			t.Errorf("Wait = %v, want errBoom", err)
		}
	})
}

func TestPathNumbersAreNeverReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var got []string
		for range 2 {
			g.Go("once", func(ctx context.Context) error { got = append(got, track.TaskFrom(ctx).Path); return nil })
			synctest.Wait() // the task has ended before the next one starts
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"app/once", "app/once#2"}) {
			t.Fatalf("sequential tasks got paths %q, want app/once then app/once#2 (a path names one task instance)", got)
		}
	})
}

func TestGoroutinesStartedByATaskInheritItsLabels(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	release := make(chan struct{})
	started := make(chan struct{})
	g.Go("spawner", func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			close(started)
			<-release // a goroutine the task started, parked
		}()
		<-done
		return nil
	})
	<-started
	var buf strings.Builder
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	close(release)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(rec, "TestGoroutinesStartedByATaskInheritItsLabels.func1.1") {
			found = strings.Contains(rec, `"tether.task":"app/spawner"`) && strings.Contains(rec, `"tether.group":"app"`)
		}
	}
	if !found {
		t.Fatalf("the goroutine a task started does not carry the task's labels in the goroutine profile:\n%s", buf.String())
	}
}

func TestFirstFailureCancelsSiblingsWithTheCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		var cause error
		g.Go("waiter", func(ctx context.Context) error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err() // an echo of the cancellation: not a failure
		})
		g.Go("waiter2", func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx) // also an echo
		})
		synctest.Wait()
		g.Go("fails", func(context.Context) error { return errBoom })
		line := testkit.Here(-1)
		err := g.Wait()

		var te *supervise.TaskError
		if !errors.As(cause, &te) || te.Task != "app/fails" || !errors.Is(cause, errBoom) {
			t.Fatalf("sibling saw cause %v, want the *TaskError of app/fails wrapping boom", cause)
		}
		if got := paths(taskErrors(err)); !slices.Equal(got, []string{"app/fails"}) {
			t.Fatalf("Wait listed %v, want only app/fails; error:\n%v", got, err)
		}
		want := `supervise: task "app/fails" (started at ` + line + `) failed after 0s: boom`
		if err.Error() != want {
			t.Fatalf("Wait error:\n got %v\nwant %s", err, want)
		}
		if k := rec.kinds("app/waiter"); !slices.Equal(k, []string{"started", "canceled"}) {
			t.Fatalf("events of the echoing sibling: %v, want started, canceled", k)
		}
	})
}

func TestContinueOnErrorKeepsSiblingsRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", supervise.ContinueOnError(), quiet())
		proceed := make(chan struct{})
		siblingErr := errors.New("sibling")
		g.Go("a", func(context.Context) error { return errBoom })
		g.Go("b", func(ctx context.Context) error {
			<-proceed
			if ctx.Err() != nil {
				return errors.New("cancelled despite ContinueOnError")
			}
			return siblingErr
		})
		synctest.Wait()
		close(proceed)
		err := g.Wait()
		if got := paths(taskErrors(err)); !slices.Equal(got, []string{"app/a", "app/b"}) {
			t.Fatalf("Wait listed %v, want app/a and app/b; error:\n%v", got, err)
		}
		if !errors.Is(err, errBoom) || !errors.Is(err, siblingErr) {
			t.Fatalf("errors.Is does not see both failures through %v", err)
		}
		if !strings.HasPrefix(err.Error(), `supervise: group "app": 2 tasks failed:`) {
			t.Fatalf("Wait error does not start with a summary:\n%v", err)
		}
	})
}

func TestTaskErrorFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		g.Go("slow", func(ctx context.Context) error {
			synctestSleep(3)
			return errBoom
		})
		site := testkit.Here(-4)
		var te *supervise.TaskError
		if err := g.Wait(); !errors.As(err, &te) {
			t.Fatalf("Wait = %v, want a *TaskError", err)
		}
		if te.Task != "app/slow" || te.Site != site || te.End.Sub(te.Start) != 3e9 || te.Err != errBoom || te.Restarts != 0 {
			t.Fatalf("TaskError = %+v; want app/slow at %s, 3s, boom, 0 restarts", te, site)
		}
	})
}

func TestPanicSurfacesOnceWithTaskAndLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		var siblingCause error
		g.Go("sibling", func(ctx context.Context) error {
			<-ctx.Done()
			siblingCause = context.Cause(ctx)
			return ctx.Err()
		})
		g.Go("parser", func(ctx context.Context) error {
			var s []int
			_ = s[3] // index out of range
			return nil
		})
		panicLine := testkit.Here(-3)
		goLine := testkit.Here(-6)
		err := g.Wait()

		panics := rec.eventsOf(supervise.Panicked)
		if len(panics) != 1 {
			t.Fatalf("%d Panicked events, want exactly 1: %+v", len(panics), panics)
		}
		pe, ok := panics[0].Err.(*supervise.PanicError)
		if !ok || pe.Task != "app/parser" || pe.At != panicLine || panics[0].Site != goLine {
			t.Fatalf("Panicked event = %+v (err %#v); want task app/parser, panic at %s, Go at %s", panics[0], panics[0].Err, panicLine, goLine)
		}
		if !strings.Contains(string(pe.Stack), "TestPanicSurfacesOnceWithTaskAndLine") ||
			strings.Contains(string(pe.Stack), "conc/panics") {
			t.Fatalf("stack should start at the panicking function:\n%s", pe.Stack)
		}
		if k := rec.kinds("app/parser"); !slices.Equal(k, []string{"started", "panicked"}) {
			t.Fatalf("events of the panicking task: %v, want started, panicked (no second report)", k)
		}
		var errorLogs int
		for _, r := range rec.logs() {
			if r.Level == slogError && attrs(r)["task"] == "app/parser" {
				errorLogs++
				if a := attrs(r); !strings.Contains(a["stack"], "TestPanicSurfacesOnceWithTaskAndLine") || a["site"] != goLine {
					t.Errorf("panic log attrs %v: want the stack and the Go site", a)
				}
			}
		}
		if errorLogs != 1 {
			t.Fatalf("%d error logs for the panic, want 1", errorLogs)
		}
		tes := taskErrors(err)
		if len(tes) != 1 {
			t.Fatalf("Wait listed %d failures, want 1:\n%v", len(tes), err)
		}
		var got *supervise.PanicError
		if !errors.As(err, &got) || got != pe {
			t.Fatalf("errors.As(Wait(), *PanicError) = %v, want the reported one", got)
		}
		var re runtime.Error
		if !errors.As(err, &re) {
			t.Fatalf("errors.As(runtime.Error) fails through %v", err)
		}
		want := `supervise: task "app/parser" (started at ` + goLine + `) panicked at ` + panicLine + `: runtime error: index out of range [3] with length 0`
		if err.Error() != want {
			t.Fatalf("Wait error:\n got %v\nwant %s", err, want)
		}
		if !errors.As(siblingCause, &got) || got != pe {
			t.Fatalf("sibling saw cause %v, want the panic", siblingCause)
		}
	})
}

func TestGoexitIsReported(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	g.Go("fatal", func(context.Context) error { runtime.Goexit(); return nil })
	err := g.Wait()
	if !errors.Is(err, supervise.ErrGoexit) || paths(taskErrors(err))[0] != "app/fatal" {
		t.Fatalf("Wait = %v, want ErrGoexit for app/fatal", err)
	}
}

func TestTasksAfterCancellationAreSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		g.Go("fails", func(context.Context) error { return errBoom })
		synctest.Wait()
		ran := false
		g.Go("late", func(context.Context) error { ran = true; return nil })
		err := g.Wait()
		if ran {
			t.Fatal("a task started after the group was cancelled ran")
		}
		if got := paths(taskErrors(err)); !slices.Equal(got, []string{"app/fails"}) {
			t.Fatalf("Wait listed %v, want only app/fails", got)
		}
		skipped := rec.eventsOf(supervise.Skipped)
		if len(skipped) != 1 || skipped[0].Task != "app/late" || !errors.Is(skipped[0].Err, errBoom) {
			t.Fatalf("Skipped events %+v, want app/late with the group's cause", skipped)
		}
	})
}

func TestGoAfterWaitPanics(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	testkit.WantPanic(t, "Go after Wait", func() { g.Go("late", func(context.Context) error { return nil }) },
		`supervise: group "app": Go("late")`, "after Wait or Shutdown returned")
}

func TestWaitIsRepeatableAndConcurrent(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	g.Go("fails", func(context.Context) error { return errBoom })
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = g.Wait() })
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, errBoom) || err.Error() != errs[0].Error() {
			t.Fatalf("Wait #%d = %v, want the same failure as #0 (%v)", i, err, errs[0])
		}
	}
}

func TestParentCancellationIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		g := supervise.New(parent, "req", quiet())
		g.Go("fetch", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		g.Go("render", func(ctx context.Context) error { <-ctx.Done(); return nil }) // finished its work
		synctest.Wait()
		cancel()
		synctest.Wait()
		g.Go("late", func(context.Context) error { return nil })
		err := g.Wait()
		if !errors.Is(err, context.Canceled) || len(taskErrors(err)) != 0 {
			t.Fatalf("Wait = %v; want a cancellation error (matching context.Canceled), no task failure", err)
		}
		want := `supervise: group "req" was cancelled by its parent context; 2 tasks stopped early or never started: "req/fetch", "req/late" (never started): context canceled`
		if err.Error() != want {
			t.Fatalf("Wait error:\n got %v\nwant %s", err, want)
		}
	})
}

func TestParentCancellationWithNoWorkLostIsClean(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	g := supervise.New(parent, "req", quiet())
	g.Go("server", func(ctx context.Context) error { <-ctx.Done(); return nil })
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v; tasks that stopped cleanly on cancellation are not an error", err)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	g := supervise.New(ctx, "app", quiet())
	defer g.Wait()
	testkit.WantPanic(t, "New nil ctx", func() { supervise.New(nil, "app") }, "supervise: New(nil, \"app\")") //nolint:staticcheck // testing the check
	testkit.WantPanic(t, "New empty", func() { supervise.New(ctx, "") }, "supervise: New", "is empty")
	testkit.WantPanic(t, "New slash", func() { supervise.New(ctx, "a/b") }, "supervise: New", `"a/b"`, "'/'")
	testkit.WantPanic(t, "New nil option", func() { supervise.New(ctx, "x", nil) }, "supervise: New", "option 0 is nil")
	testkit.WantPanic(t, "Go nil fn", func() { g.Go("x", nil) }, `supervise: group "app": Go("x", nil)`)
	testkit.WantPanic(t, "Go empty name", func() { g.Go("", fn) }, `supervise: group "app": Go: the task name "" is empty`)
	testkit.WantPanic(t, "Go hash", func() { g.Go("w#2", fn) }, `"w#2"`, "'#'")
	testkit.WantPanic(t, "Go nil option", func() { g.Go("x", fn, nil) }, `Go("x"): task option 0 is nil`)
	testkit.WantPanic(t, "WithLimit 0", func() { supervise.WithLimit(0) }, "supervise: WithLimit(0)")
	testkit.WantPanic(t, "Timeout 0", func() { supervise.Timeout(0) }, "supervise: Timeout(0s)")
	testkit.WantPanic(t, "Timeout negative", func() { supervise.Timeout(-1) }, "supervise: Timeout(-1ns)")
	testkit.WantPanic(t, "Logger nil", func() { supervise.Logger(nil) }, "supervise: Logger(nil)")
	testkit.WantPanic(t, "OnEvent nil", func() { supervise.OnEvent(nil) }, "supervise: OnEvent(nil)")
	testkit.WantPanic(t, "Shutdown nil", func() { g.Shutdown(nil) }, `supervise: group "app": Shutdown(nil)`) //nolint:staticcheck // testing the check
	testkit.WantPanic(t, "Defer nil", func() { g.Defer("x", nil) }, `Defer("x", nil)`)
	testkit.WantPanic(t, "Defer empty", func() { g.Defer("", fn) }, "needs a step name")
	for _, tc := range []struct {
		name  string
		p     supervise.Policy
		parts []string
	}{
		{"negative MinBackoff", supervise.Policy{MinBackoff: -1}, []string{"Policy.MinBackoff is -1ns"}},
		{"negative MaxBackoff", supervise.Policy{MaxBackoff: -1}, []string{"Policy.MaxBackoff is -1ns"}},
		{"negative Period", supervise.Policy{Period: -1}, []string{"Policy.Period is -1ns"}},
		{"negative MaxRestarts", supervise.Policy{MaxRestarts: -1}, []string{"Policy.MaxRestarts is -1"}},
		{"min above max", supervise.Policy{MinBackoff: 2e9, MaxBackoff: 1e9}, []string{"MinBackoff (2s) is larger than MaxBackoff (1s)"}},
	} {
		testkit.WantPanic(t, tc.name, func() { supervise.Restart(tc.p) }, append([]string{"supervise: Restart: "}, tc.parts...)...)
	}
}

func TestPanicInsideTetherNamesTheCallersLine(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	var line string
	g.Go("misuse", func(ctx context.Context) error {
		line = testkit.Here(1)
		cleanup.New("") // panics inside package cleanup
		return nil
	})
	var pe *supervise.PanicError
	if err := g.Wait(); !errors.As(err, &pe) || pe.At != line {
		t.Fatalf("PanicError.At = %v, want %s: the first frame outside runtime, conc and tether", pe, line)
	}
}

// TestPathsOfManyTasks checks the paths of many tasks of a few names, long
// and short, started in an interleaved order: each name counts on its own,
// from "#2" on, without gaps or repeats.
// TestTaskIdentityOnce checks the lazily built identity of a task (see
// task.identity): goroutines of one task asking for it at once, in every
// order the scheduler picks, all get the same *track.Task with the task's
// path, and the events and errors name the same path. Under -race, a
// non-atomic lazy build fails here.
func TestTaskIdentityOnce(t *testing.T) {
	var events sync.Map // task path -> true, from the hook
	hook := supervise.OnEvent(func(e supervise.Event) { events.Store(e.Task, true) })
	for round := range 50 {
		opts := []supervise.Option{quiet()}
		withHook := round%2 == 1 // the identity is built in Go, before the task runs
		if withHook {
			opts = append(opts, hook)
		}
		g := supervise.New(context.Background(), "app", opts...)
		g.Go("w", func(context.Context) error { return nil })
		ids := make([]*track.Task, 8)
		g.Go("w", func(ctx context.Context) error {
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range ids {
				wg.Go(func() { <-start; ids[i] = track.TaskFrom(ctx) })
			}
			close(start)
			wg.Wait()
			return errBoom
		})
		err := g.Wait()
		var te *supervise.TaskError
		if !errors.As(err, &te) || te.Task != "app/w#2" {
			t.Fatalf("round %d: Wait = %v, want the failure of app/w#2", round, err)
		}
		for i, id := range ids {
			if id != ids[0] || id.Path != "app/w#2" {
				t.Fatalf("round %d (hook %v): goroutine %d got identity %p %q, goroutine 0 got %p %q; want one identity, app/w#2", round, withHook, i, id, id.Path, ids[0], ids[0].Path)
			}
		}
	}
	for _, p := range []string{"app/w", "app/w#2"} {
		if _, ok := events.Load(p); !ok {
			t.Errorf("the hook saw no event of %s", p)
		}
	}
}

func TestPathsOfManyTasks(t *testing.T) {
	long := strings.Repeat("n", 70) // longer than the fast path's buffer
	g := supervise.New(context.Background(), "app", quiet())
	var mu sync.Mutex
	got := map[string]int{}
	counts := map[string]int{}
	for i := range 300 {
		name := []string{"w", "w", "x", long}[i%4]
		counts[name]++
		g.Go(name, func(ctx context.Context) error {
			mu.Lock()
			got[track.TaskFrom(ctx).Path]++
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for name, n := range counts {
		for k := 1; k <= n; k++ {
			want := "app/" + name
			if k > 1 {
				want += "#" + strconv.Itoa(k)
			}
			if got[want] != 1 {
				t.Errorf("path %q seen %d times, want once", want, got[want])
			}
			delete(got, want)
		}
	}
	if len(got) != 0 {
		t.Errorf("unexpected paths: %v", got)
	}
}

// labelsOf returns the pprof labels ctx carries.
func labelsOf(ctx context.Context) map[string]string {
	m := map[string]string{}
	pprof.ForLabels(ctx, func(k, v string) bool { m[k] = v; return true })
	return m
}

// TestTaskLabelsReplaceTethersAndKeepTheUsers checks the labels of a task
// of a nested group (its parent task's tether labels are replaced, not
// kept beside), of a group created under the user's pprof.Do (the user's
// labels are kept), and that pprof.Do inside a task keeps tether's labels
// and restores them on the goroutine afterwards.
func TestTaskLabelsReplaceTethersAndKeepTheUsers(t *testing.T) {
	type key struct{}
	base := context.WithValue(context.Background(), key{}, "v")
	var nested, user, inDo map[string]string
	var after string
	var value any
	var derivedCanceled bool
	g := supervise.New(base, "app", quiet())
	g.Go("http", func(ctx context.Context) error {
		c := supervise.New(ctx, "conns")
		c.Go("handler", func(ctx context.Context) error {
			nested = labelsOf(ctx)
			value = ctx.Value(key{}) // values of the group's context are visible
			return nil
		})
		if err := c.Wait(); err != nil {
			return err
		}
		var err error
		pprof.Do(ctx, pprof.Labels("req", "42"), func(ctx context.Context) {
			inDo = labelsOf(ctx)
			u := supervise.New(ctx, "user")
			u.Go("w", func(ctx context.Context) error { user = labelsOf(ctx); return nil })
			err = u.Wait()
		})
		// After pprof.Do, the goroutine is labelled with ctx's labels
		// again: a goroutine started now inherits the task's.
		after = goroutineLabels()
		// A context derived from the task's is cancelled with the group.
		d, cancel := context.WithCancel(ctx)
		defer cancel()
		go g.Go("fail", func(context.Context) error { return errBoom })
		<-d.Done()
		derivedCanceled = context.Cause(d) != nil
		return err
	})
	err := g.Wait()
	if !errors.Is(err, errBoom) || len(taskErrors(err)) != 1 {
		t.Fatalf("Wait = %v, want only the failure of app/fail", err)
	}
	want := map[string]string{track.LabelGroup: "app/http/conns", track.LabelTask: "app/http/conns/handler"}
	if !maps.Equal(nested, want) || value != "v" {
		t.Errorf("nested task labels %v value %v, want %v and v", nested, value, want)
	}
	if want := map[string]string{track.LabelGroup: "app", track.LabelTask: "app/http", "req": "42"}; !maps.Equal(inDo, want) {
		t.Errorf("labels inside pprof.Do in a task %v, want %v", inDo, want)
	}
	if want := map[string]string{track.LabelGroup: "app/http/user", track.LabelTask: "app/http/user/w", "req": "42"}; !maps.Equal(user, want) {
		t.Errorf("labels of a task of a group made under pprof.Do %v, want %v", user, want)
	}
	if want := `{"tether.group":"app", "tether.task":"app/http"}`; after != want {
		t.Errorf("goroutine labels after pprof.Do returned %s, want the task's %s", after, want)
	}
	if !derivedCanceled {
		t.Error("a context derived from the task's was not cancelled with the group")
	}
}

// goroutineLabels returns the pprof labels of a goroutine started by the
// caller (it inherits the caller's), as the goroutine profile prints them.
// It returns once the probe goroutine is gone, so that the next call does
// not find it.
func goroutineLabels() string {
	stop := make(chan struct{})
	parked := make(chan struct{})
	go labelProbe(parked, stop)
	<-parked
	labels := "(probe not found)"
	for rec := range probeRecords() {
		labels = "(no labels)"
		for _, line := range strings.Split(rec, "\n") {
			if l, ok := strings.CutPrefix(line, "# labels: "); ok {
				labels = l
			}
		}
	}
	close(stop)
	for len(probeRecords()) > 0 {
		runtime.Gosched() // the probe is on its way out
	}
	return labels
}

// probeRecords returns the goroutine profile's records of labelProbe.
func probeRecords() map[string]bool {
	var buf strings.Builder
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	out := map[string]bool{}
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(rec, "supervise_test.labelProbe") {
			out[rec] = true
		}
	}
	return out
}

//go:noinline
func labelProbe(parked, stop chan struct{}) {
	close(parked)
	<-stop
}
