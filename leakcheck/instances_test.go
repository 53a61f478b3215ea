package leakcheck_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/supervise"
)

// The functions the tasks of the instance tests block in: each instance
// blocks in its own, so that a report that mixes them up shows.
//
//go:noinline
func blockFirst(stop <-chan struct{}) { <-stop }

//go:noinline
func blockSecond(stop <-chan struct{}) {
	var never chan struct{}
	select {
	case <-stop:
	case <-never:
	}
}

//go:noinline
func subFirst(stop <-chan struct{}) { <-stop }

//go:noinline
func subSecond(stop <-chan struct{}) { <-stop }

//go:noinline
func orphan(stop <-chan struct{}) { <-stop }

// twoWorkers starts two tasks of one name ("worker" and "worker#2") in a
// group named after the test, each blocking in its own function and each
// starting a goroutine of its own; worker#2 also starts a goroutine through
// a goroutine that has ended, so that nothing in the dump links it to its
// task. It returns the group's path, the lines of the two Go calls, and a
// func that stops everything and waits.
func twoWorkers(t *testing.T) (path string, lines [2]int, stop func()) {
	t.Helper()
	keepGODEBUG(t)
	quit := make(chan struct{})
	g := supervise.New(context.Background(), strings.ReplaceAll(t.Name(), "/", "-"), supervise.Logger(slog.New(slog.DiscardHandler)))
	ready := make(chan struct{}, 3)
	lines[0] = line() + 1
	g.Go("worker", func(context.Context) error {
		go subFirst(quit)
		ready <- struct{}{}
		blockFirst(quit)
		return nil
	})
	lines[1] = line() + 1
	g.Go("worker", func(context.Context) error {
		go subSecond(quit)
		middle := make(chan struct{})
		go func() {
			go orphan(quit)
			close(middle)
		}()
		<-middle
		ready <- struct{}{}
		blockSecond(quit)
		return nil
	})
	<-ready
	<-ready
	return strings.ReplaceAll(t.Name(), "/", "-"), lines, func() {
		close(quit)
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}
}

// hasFrame reports whether the stack has a frame of a function whose name
// ends in fn.
func hasFrame(st []leakcheck.Frame, fn string) bool {
	for _, f := range st {
		if strings.HasSuffix(f.Function, fn) {
			return true
		}
	}
	return false
}

// TestTasksOfOneNameEachGetTheirGoroutine: two tasks of one name share their
// pprof labels; each must still be shown with its own goroutine's stack and
// wait reason, and its own start line.
func TestTasksOfOneNameEachGetTheirGoroutine(t *testing.T) {
	// Last: the goroutines this test starts may still be on their way out
	// when it returns; wait for them, so the next test (VerifyNoneClean)
	// does not find them.
	defer leakcheck.VerifyNone(t)
	path, lines, stop := twoWorkers(t)
	defer stop()
	r := waitForReport(t, orphaned)
	want := map[string]struct {
		fn, state string
		line      int
	}{
		path + "/worker":   {"blockFirst", "chan receive", lines[0]},
		path + "/worker#2": {"blockSecond", "select", lines[1]},
	}
	seen := map[uint64]string{}
	for _, e := range r.Entries {
		w, ok := want[e.Name]
		if e.Kind != leakcheck.KindTask || !ok {
			continue
		}
		delete(want, e.Name)
		if !hasFrame(e.Stack, w.fn) || e.State != w.state || e.Site.Line != w.line || e.Goroutine == 0 {
			t.Errorf("task %s: state %q, site line %d, goroutine %d, stack %v;\nwant %s, line %d, a stack in %s",
				e.Name, e.State, e.Site.Line, e.Goroutine, e.Stack, w.state, w.line, w.fn)
		}
		if other, dup := seen[e.Goroutine]; dup {
			t.Errorf("tasks %s and %s both shown with goroutine %d", other, e.Name, e.Goroutine)
		}
		seen[e.Goroutine] = e.Name
	}
	for name := range want {
		t.Errorf("no task entry for %s", name)
	}
	if t.Failed() {
		t.Logf("report:\n%s", r)
	}
}

// TestGoroutinesStartedByTasksOfOneName: goroutines a task starts carry its
// labels, which the tasks of one name share. Each must be attributed to the
// task that started it when the dump shows which (its creator is the task's
// goroutine), and otherwise to the name, saying that which task is unknown,
// never to the first task of the name.
func TestGoroutinesStartedByTasksOfOneName(t *testing.T) {
	// Last: the goroutines this test starts may still be on their way out
	// when it returns; wait for them, so the next test (VerifyNoneClean)
	// does not find them.
	defer leakcheck.VerifyNone(t)
	path, _, stop := twoWorkers(t)
	defer stop()
	r := waitForReport(t, orphaned)
	owners := map[string]string{}
	var orphanEntry leakcheck.Entry
	for _, e := range r.Entries {
		if e.Kind != leakcheck.KindGoroutine {
			continue
		}
		for _, fn := range []string{"subFirst", "subSecond", "orphan"} {
			if hasFrame(e.Stack, fn) {
				owners[fn] = e.Owner
				if fn == "orphan" {
					orphanEntry = e
				}
			}
		}
	}
	if owners["subFirst"] != path+"/worker" || owners["subSecond"] != path+"/worker#2" {
		t.Errorf("owners = %q; want subFirst by %s/worker, subSecond by %s/worker#2", owners, path, path)
	}
	if owners["orphan"] != "" || orphanEntry.Role != path+"/worker" {
		t.Errorf("the goroutine whose creator ended: owner %q, role %q; want no owner, role %s/worker", owners["orphan"], orphanEntry.Role, path)
	}
	text := r.String()
	if want := "started by a task " + `"` + path + `/worker" (2 running)`; !strings.Contains(text, want) {
		t.Errorf("the report does not say %s", want)
	}
	if t.Failed() {
		t.Logf("report:\n%s", text)
	}
}

// waitForReport takes full snapshots with labels until ok accepts one or
// a minute has passed (far more than the goroutines need to block, so
// that a report that can never be right fails here, with the report,
// rather than at the test binary's timeout), and returns the last.
func waitForReport(t *testing.T, ok func(*leakcheck.Report) bool) *leakcheck.Report {
	t.Helper()
	giveUp := time.Now().Add(time.Minute)
	for {
		r := leakcheck.Snapshot(leakcheck.TracebackLabels())
		if ok(r) {
			return r
		}
		if time.Now().After(giveUp) {
			t.Fatalf("no acceptable report within a minute; the last:\n%s", r)
		}
		runtime.Gosched()
	}
}

// orphaned reports whether the report lists the goroutine "orphan" and not
// the goroutine that started it: that one has ended.
func orphaned(r *leakcheck.Report) bool {
	var parent uint64
	for _, e := range r.Entries {
		if hasFrame(e.Stack, "orphan") {
			parent = e.Parent
		}
	}
	if parent == 0 {
		return false
	}
	for _, e := range r.Entries {
		if e.Goroutine == parent {
			return false
		}
	}
	return true
}

// TestRunTasksOfOneNameEachGetTheirGoroutine: tasks of Group.Run (a
// server's requests, one name per route) run on their callers' goroutines;
// each is shown with its caller's goroutine, not as a goroutine started
// inside the first task of the name.
func TestRunTasksOfOneNameEachGetTheirGoroutine(t *testing.T) {
	// Last: the goroutines this test starts may still be on their way out
	// when it returns; wait for them, so the next test (VerifyNoneClean)
	// does not find them.
	defer leakcheck.VerifyNone(t)
	keepGODEBUG(t)
	name := strings.ReplaceAll(t.Name(), "/", "-")
	g := supervise.New(context.Background(), name, supervise.Logger(slog.New(slog.DiscardHandler)))
	quit := make(chan struct{})
	ready := make(chan struct{}, 2)
	done := make(chan error, 2)
	for _, block := range []func(<-chan struct{}){blockFirst, blockSecond} {
		go func() {
			done <- g.Run(context.Background(), "GET /x", func(context.Context) error {
				ready <- struct{}{}
				block(quit)
				return nil
			})
		}()
		<-ready // one at a time: the first Run is GET /x, the second GET /x#2
	}
	defer func() {
		close(quit)
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}()
	r := waitForReport(t, func(*leakcheck.Report) bool { return true })
	want := map[string]string{name + "/GET /x": "blockFirst", name + "/GET /x#2": "blockSecond"}
	for _, e := range r.Entries {
		if e.Kind == leakcheck.KindGoroutine && (hasFrame(e.Stack, "blockFirst") || hasFrame(e.Stack, "blockSecond")) {
			t.Errorf("a Run task's goroutine is listed as a goroutine started inside a task: %+v", e)
		}
		fn, ok := want[e.Name]
		if e.Kind != leakcheck.KindTask || !ok {
			continue
		}
		delete(want, e.Name)
		if !hasFrame(e.Stack, fn) || e.Goroutine == 0 {
			t.Errorf("task %s: goroutine %d, stack %v; want its own goroutine, blocked in %s", e.Name, e.Goroutine, e.Stack, fn)
		}
	}
	for name := range want {
		t.Errorf("no task entry for %s", name)
	}
	if t.Failed() {
		t.Logf("report:\n%s", r)
	}
}

// TestLightSnapshotOfTasksOfOneName: a light snapshot has no goroutine ids
// or receivers, so the goroutines of tasks sharing a label can be given to
// the tasks only when they are identical (one record): then each task is
// shown with that stack. Goroutines that differ are listed under the name,
// saying they run one of its tasks, not given to the first task.
func TestLightSnapshotOfTasksOfOneName(t *testing.T) {
	// Last: the goroutines this test starts may still be on their way out
	// when it returns; wait for them, so the next test (VerifyNoneClean)
	// does not find them.
	defer leakcheck.VerifyNone(t)
	for _, tc := range []struct {
		name      string
		second    func(<-chan struct{})
		identical bool
	}{
		{"identical", blockFirst, true},
		{"different", blockSecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := strings.ReplaceAll(t.Name(), "/", "-")
			g := supervise.New(context.Background(), path, supervise.Logger(slog.New(slog.DiscardHandler)))
			quit := make(chan struct{})
			ready := make(chan struct{}, 2)
			for _, block := range []func(<-chan struct{}){blockFirst, tc.second} {
				g.Go("worker", func(context.Context) error {
					ready <- struct{}{}
					block(quit)
					return nil
				})
			}
			<-ready
			<-ready
			defer func() {
				close(quit)
				if err := g.Wait(); err != nil {
					t.Error(err)
				}
			}()
			var r *leakcheck.Report
			giveUp := time.Now().Add(time.Minute) // see waitForReport
			for {
				// Wait until both block where they should.
				r = leakcheck.Snapshot(leakcheck.Light())
				if n := strings.Count(r.String(), "blockFirst"); (tc.identical && n == 2) || (!tc.identical && n == 1 && strings.Contains(r.String(), "blockSecond")) {
					break
				}
				if time.Now().After(giveUp) {
					t.Fatalf("the tasks never blocked:\n%s", r)
				}
				runtime.Gosched()
			}
			var stacked, roles int
			for _, e := range r.Entries {
				switch {
				case e.Kind == leakcheck.KindTask && strings.HasPrefix(e.Name, path+"/worker") && len(e.Stack) > 0:
					stacked++
				case e.Kind == leakcheck.KindGoroutine && e.Role == path+"/worker" && e.Owner == "":
					roles++
				case e.Kind == leakcheck.KindGoroutine && e.Owner != "":
					t.Errorf("a task goroutine is given to %s: %+v", e.Owner, e)
				}
			}
			if tc.identical && (stacked != 2 || roles != 0) {
				t.Errorf("%d tasks with a stack, %d goroutines under the name; want 2 and 0:\n%s", stacked, roles, r)
			}
			if !tc.identical && (stacked != 0 || roles != 2 || !strings.Contains(r.String(), `runs a task "`+path+`/worker" (2 running)`)) {
				t.Errorf("%d tasks with a stack, %d goroutines under the name; want 0 and 2, each running a task of the name:\n%s", stacked, roles, r)
			}
		})
	}
}

// TestRunnerFramesShowTheTaskRecord ties leakcheck's matching of task
// goroutines to supervise's code: a full dump must print the receiver of a
// running task's runner frame (track.FuncTaskRun, or FuncTaskRunHere for
// Group.Run) exactly, and it must be the task's Item.Runner. If a change to
// supervise's run or runHere (or to the compiler) stops that, tasks of one
// name are no longer told apart: keep the receiver live and spilled in
// those functions, or give leakcheck another way to find the goroutine.
func TestRunnerFramesShowTheTaskRecord(t *testing.T) {
	// Last: the goroutines this test starts may still be on their way out
	// when it returns; wait for them, so the next test (VerifyNoneClean)
	// does not find them.
	defer leakcheck.VerifyNone(t)
	path := strings.ReplaceAll(t.Name(), "/", "-")
	g := supervise.New(context.Background(), path, supervise.Logger(slog.New(slog.DiscardHandler)))
	quit := make(chan struct{})
	ready := make(chan struct{}, 2)
	g.Go("go", func(context.Context) error { ready <- struct{}{}; blockFirst(quit); return nil })
	done := make(chan error, 1)
	go func() {
		done <- g.Run(context.Background(), "run", func(context.Context) error { ready <- struct{}{}; blockSecond(quit); return nil })
	}()
	<-ready
	<-ready
	defer func() {
		close(quit)
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}()
	runners := map[uint64]string{}
	for _, st := range track.Snapshot() {
		if st.Kind == track.KindGroup && st.Name == path {
			for _, it := range st.Items {
				runners[it.Runner] = it.Name
			}
		}
	}
	buf := make([]byte, 1<<20)
	for runtime.Stack(buf, true) == len(buf) {
		buf = make([]byte, 2*len(buf))
	}
	found := map[string]string{}
	stack.EachFullArgs(buf, []string{track.FuncTaskRun, track.FuncTaskRunHere}, func(g *stack.Goroutine) {
		for _, a := range g.Args {
			if name, ok := runners[a.Value]; ok {
				found[name] = a.Func
			}
		}
	})
	if found[path+"/go"] != track.FuncTaskRun || found[path+"/run"] != track.FuncTaskRunHere {
		t.Errorf("tasks found by their runner frame's receiver: %v; want %s/go by %s and %s/run by %s",
			found, path, track.FuncTaskRun, path, track.FuncTaskRunHere)
	}
}
