package leakcheck_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
)

// line returns the line of its caller.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// TestRealLeaksOfEveryKind plants one real leak of each kind, with tether's
// own packages, and checks that a snapshot reports each with the right
// owner and the right line of this file.
func TestRealLeaksOfEveryKind(t *testing.T) {
	keepGODEBUG(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	p, err := pool.New(pool.Config[int]{
		Name: "real-db", MaxSize: 1, AcquireTimeout: time.Minute, Logger: quiet,
		New: func(context.Context) (int, error) { return 1, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close() // in case the test fails early

	stop := make(chan struct{})
	holding := make(chan struct{})
	var goLine, rawLine, acquireLine, waitLine, deferLine, finishedLine, looseLine int

	g := supervise.New(ctx, "real", supervise.Logger(quiet))
	goLine = line() + 1
	g.Go("holder", func(ctx context.Context) error {
		acquireLine = line() + 1
		lease, err := p.Acquire(ctx)
		if err != nil {
			return err
		}
		defer lease.Release()
		rawLine = line() + 1
		go func() { <-stop }() // a raw goroutine under the task
		close(holding)
		<-stop
		return nil
	})
	<-holding
	waiting := make(chan error, 1)
	waitLine = line() + 2
	go func() { // blocks: the pool is drained
		l, err := p.Acquire(ctx)
		l.Release()
		waiting <- err
	}()

	scope := cleanup.New("real-scope")
	deferLine = line() + 1
	scope.Defer("close files", func(context.Context) error { return nil })

	finished := supervise.New(ctx, "forgotten", supervise.Logger(quiet))
	finishedLine = line() - 1
	finished.Go("quick", func(context.Context) error { return nil })

	scores := guard.New("real-scores", 0)
	snap := scores.Load()
	if _, err := scores.CompareAndSwap(ctx, snap.Version, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := scores.CompareAndSwap(ctx, snap.Version, 2); err == nil {
		t.Fatal("stale CompareAndSwap succeeded")
	}

	looseLine = line() + 1
	go func() { <-stop }()

	// Let every goroutine park, the forgotten group's task finish, and
	// the waiter block.
	var r *leakcheck.Report
	deadline := time.Now().Add(5 * time.Second)
	for {
		r = leakcheck.Snapshot(leakcheck.TracebackLabels())
		if complete(r, rawLine, looseLine) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	text := r.String()
	for _, want := range []struct {
		kind, owner string
		line        int
		state       string
	}{
		{leakcheck.KindTask, "real/holder", goLine, "chan receive"},
		{leakcheck.KindGoroutine, "real/holder", rawLine, "chan receive"},
		{leakcheck.KindLease, "real/holder", acquireLine, "held"},
		{leakcheck.KindWaiter, "", waitLine, "waiting"},
		{leakcheck.KindStep, "", deferLine, ""},
		{leakcheck.KindProblem, "", finishedLine, "never waited"},
		{leakcheck.KindUnsupervised, "", looseLine, "chan receive"},
	} {
		e := findByLine(r, want.kind, want.line)
		switch {
		case e == nil:
			t.Errorf("no %s entry at integration_test.go:%d in\n%s", want.kind, want.line, text)
		case want.kind != leakcheck.KindTask && e.Owner != want.owner:
			t.Errorf("%s entry owner %q, want %q", want.kind, e.Owner, want.owner)
		case !strings.Contains(e.State, want.state):
			t.Errorf("%s entry state %q, want it to say %q", want.kind, e.State, want.state)
		}
	}
	if task := findByLine(r, leakcheck.KindTask, goLine); task != nil && task.Name != "real/holder" {
		t.Errorf("task entry named %q, want real/holder", task.Name)
	}
	conflict := false
	for _, e := range r.Info {
		conflict = conflict || (e.Kind == leakcheck.KindConflict && e.ObjectName == "real-scores")
	}
	if !conflict || !strings.Contains(text, `guard "real-scores": 1 conflict`) {
		t.Errorf("the guard's conflict is not reported:\n%s", text)
	}
	// The registry holds the guard weakly: until here, it must not be
	// collected (the snapshots above run the collector's promotion).
	runtime.KeepAlive(scores)
	if t.Failed() {
		t.Logf("report:\n%s", text)
	}

	// Clean up, and check the report becomes clean.
	close(stop)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
	if err := finished.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := scope.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	leakcheck.VerifyNone(t)

	// A guard stays registered until it is garbage-collected: drop this
	// one and wait for that, so that later tests (in any order) do not
	// find its conflict in their reports.
	scores = nil
	if !testkit.Collect(t, func() bool { _, ok := testkit.Registered(track.KindGuard, "real-scores"); return !ok }) {
		t.Fatal("the dropped guard was never collected")
	}
}

// complete reports whether every planted leak is visible yet, with the
// planted goroutines parked.
func complete(r *leakcheck.Report, parked ...int) bool {
	kinds := map[string]bool{}
	for _, e := range r.Entries {
		if e.Kind == leakcheck.KindTask && e.Stack == nil {
			return false // its goroutine is not parked yet
		}
		kinds[e.Kind] = true
	}
	for _, k := range []string{leakcheck.KindTask, leakcheck.KindGoroutine, leakcheck.KindLease,
		leakcheck.KindWaiter, leakcheck.KindStep, leakcheck.KindProblem, leakcheck.KindUnsupervised} {
		if !kinds[k] {
			return false
		}
	}
	for _, l := range parked {
		e := findByLine(r, leakcheck.KindGoroutine, l)
		if e == nil {
			e = findByLine(r, leakcheck.KindUnsupervised, l)
		}
		if e == nil || e.State != "chan receive" {
			return false
		}
	}
	return true
}

func findByLine(r *leakcheck.Report, kind string, line int) *leakcheck.Entry {
	for i := range r.Entries {
		if e := &r.Entries[i]; e.Kind == kind && e.Site.Line == line && strings.HasSuffix(e.Site.File, "integration_test.go") {
			return e
		}
	}
	return nil
}
