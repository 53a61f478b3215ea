package cleanup_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
)

func TestRegistryDescribesTheScope(t *testing.T) {
	ctx := track.WithTask(context.Background(), &track.Task{Path: "app/worker"})
	s := cleanup.New(t.Name(), cleanup.OwnedBy(ctx))
	created := testkit.Here(-1)
	s.Defer("first", func(context.Context) error { return nil })
	first := testkit.Here(-1)
	s.Defer("second", func(context.Context) error { return nil })
	second := testkit.Here(-1)

	st, ok := findScope(t.Name())
	if !ok {
		t.Fatal("scope not in the registry")
	}
	if st.Owner != "app/worker" || st.Site.String() != created || st.Created.IsZero() {
		t.Fatalf("state = %+v; want owner app/worker, created at %s", st, created)
	}
	if len(st.Items) != 2 || st.Items[0].Name != "second" || st.Items[1].Name != "first" {
		t.Fatalf("items = %+v, want the pending steps in run order (second, first)", st.Items)
	}
	for i, site := range []string{second, first} {
		it := st.Items[i]
		if it.Kind != track.ItemStep || it.State != "pending" || it.Site.String() != site || it.Owner != "app/worker" {
			t.Errorf("item %d = %+v; want a pending step deferred at %s owned by app/worker", i, it, site)
		}
	}
	if len(st.Counters) != 1 || st.Counters[0] != (track.Counter{Name: "pending", Value: 2}) {
		t.Errorf("counters = %v, want pending=2", st.Counters)
	}
	if len(st.Problems) != 0 {
		t.Errorf("an open scope has problems: %v", st.Problems)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := findScope(t.Name()); ok {
		t.Fatal("scope still registered after Close")
	}
}

func TestRegistryShowsTheRunningStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New(t.Name())
		release := make(chan struct{})
		s.Defer("waiting", func(context.Context) error { return nil })
		s.Defer("slow", func(context.Context) error { <-release; return nil })
		done := make(chan error)
		go func() { done <- s.Close(context.Background()) }()
		time.Sleep(time.Second)
		synctest.Wait()
		st, _ := findScope(t.Name())
		if len(st.Items) != 2 || st.Items[0].Name != "slow" || st.Items[0].State != "running" ||
			time.Since(st.Items[0].Since) != time.Second || st.Items[1].State != "pending" {
			t.Fatalf("items while a step runs = %+v; want slow running for 1s, then waiting pending", st.Items)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// collect runs the garbage collector until done is true (testkit.Collect).
func collect(t *testing.T, done func() bool) bool { return testkit.Collect(t, done) }

// dropScope creates a scope with one step and drops it, reporting where.
// If the scope is lost, its lost record is sent on lost.
//
//go:noinline
func dropScope(name string, l *logSink, collected chan struct{}, closeIt bool, lost chan track.Handle) (created, deferred string) {
	s := cleanup.New(name, cleanup.Logger(l.logger()), cleanup.OnLost(func(h track.Handle) { lost <- h }))
	created = testkit.Here(-1)
	s.Defer("db pool", func(context.Context) error { return nil })
	deferred = testkit.Here(-1)
	runtime.AddCleanup(s, func(ch chan struct{}) { ch <- struct{}{} }, collected)
	if closeIt {
		s.Close(context.Background())
	}
	return created, deferred
}

func TestGarbageCollectedScopeIsReported(t *testing.T) {
	sink := newLogSink()
	collected := make(chan struct{}, 1)
	lost := make(chan track.Handle, 1)
	created, deferred := dropScope(t.Name(), sink, collected, false, lost)
	var rec slogRecord
	if !collect(t, func() bool {
		select {
		case r := <-sink.ch:
			rec = slogRecord{r.Message, r.Level.String()}
			return true
		default:
			return false
		}
	}) {
		t.Fatal("a scope dropped with a pending step was never reported")
	}
	h := <-lost // sent before the log line
	defer h.Unregister()
	for _, want := range []string{t.Name(), "created at " + created, `"db pool" deferred at ` + deferred, "without Close"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("log message %q does not contain %q", rec.msg, want)
		}
	}
	if rec.level != "ERROR" {
		t.Errorf("logged at %s, want ERROR", rec.level)
	}
	// The lost record is kept: later snapshots, after more collections,
	// still list it, naming the scope, where it was created and its step.
	for range 3 {
		runtime.GC()
	}
	st, ok := lostState(t.Name())
	if !ok || st.Site.String() != created || st.Created.IsZero() || len(st.Problems) != 1 ||
		st.Problems[0] != `garbage-collected without Close: 1 steps never ran: "db pool" (deferred at `+deferred+`)` {
		t.Fatalf("lost record %+v (found %v); want the scope created at %s and its step deferred at %s", st, ok, created, deferred)
	}
	h.Unregister()
	if _, ok := lostState(t.Name()); ok {
		t.Fatal("lost record still listed after Unregister")
	}
}

// TestScopeDroppedInAQuietProgramIsReported drops a scope with a pending
// step in a program that then does nothing but collect garbage: no other
// scope is created, no leak report is taken. The collector alone must find
// it (the registry lets go of it after a cycle), and it is reported.
func TestScopeDroppedInAQuietProgramIsReported(t *testing.T) {
	sink := newLogSink()
	collected := make(chan struct{}, 1)
	lost := make(chan track.Handle, 1)
	dropScope(t.Name(), sink, collected, false, lost)
	deadline := time.Now().Add(10 * time.Second)
	for len(lost) == 0 && time.Now().Before(deadline) {
		runtime.GC() // and nothing else: no Snapshot, no registration
		time.Sleep(time.Millisecond)
	}
	select {
	case h := <-lost:
		h.Unregister()
		if r := <-sink.ch; !strings.Contains(r.Message, "was garbage-collected without Close") {
			t.Fatalf("logged %q", r.Message)
		}
	default:
		t.Fatal("a scope dropped with a pending step was never reported by garbage collections alone")
	}
}

// lostState returns the registry state of the scope named name that
// reports problems (a lost scope's record).
func lostState(name string) (track.State, bool) {
	for _, st := range track.Snapshot() {
		if st.Kind == track.KindScope && st.Name == name && len(st.Problems) > 0 {
			return st, true
		}
	}
	return track.State{}, false
}

func TestLostScopeIsListedInTheRegistry(t *testing.T) {
	s := cleanup.New(t.Name(), cleanup.Logger(slog.New(slog.DiscardHandler)))
	s.Defer("db pool", func(context.Context) error { return nil })
	deferred := testkit.Here(-1)
	h := cleanup.LoseScope(s)
	defer h.Unregister()
	st, ok := lostState(t.Name())
	if !ok || len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "garbage-collected without Close: 1 steps never ran") ||
		len(st.Items) != 1 || st.Items[0].Site.String() != deferred {
		t.Fatalf("registry entry of a lost scope: %+v (found %v); want its pending step", st, ok)
	}
	s.Close(context.Background())
	h.Unregister()
	if _, ok := lostState(t.Name()); ok {
		t.Fatal("lost record still listed after Unregister")
	}
}

func TestLostScopeRecordNamesEveryStep(t *testing.T) {
	s := cleanup.New(t.Name(), cleanup.Logger(slog.New(slog.DiscardHandler)))
	created := testkit.Here(-1)
	s.Defer("db pool", func(context.Context) error { return nil })
	deferred := testkit.Here(-1)
	s.Defer("cache", func(context.Context) error { return nil })
	deferredCache := testkit.Here(-1)
	h := cleanup.LoseScope(s)
	defer h.Unregister()
	defer s.Close(context.Background())
	st, ok := lostState(t.Name())
	want := `garbage-collected without Close: 2 steps never ran: "cache" (deferred at ` + deferredCache + `), "db pool" (deferred at ` + deferred + `)`
	if !ok || len(st.Problems) != 1 || st.Problems[0] != want || st.Site.String() != created {
		t.Fatalf("lost scope record %+v (found %v); want problem %q, created at %s", st, ok, want, created)
	}
	if len(st.Items) != 2 || st.Items[0].Name != "cache" || st.Items[0].State != "never run" || st.Items[1].Site.String() != deferred {
		t.Fatalf("lost scope items %+v; want both steps, never run, in run order", st.Items)
	}
}

type slogRecord struct{ msg, level string }

func TestClosedScopeIsNotReported(t *testing.T) {
	sink := newLogSink()
	collected := make(chan struct{}, 1)
	dropScope(t.Name(), sink, collected, true, nil)
	if !collect(t, func() bool { return len(collected) == 1 }) {
		t.Fatal("a closed scope was never garbage-collected")
	}
	for range 3 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if len(sink.ch) != 0 {
		t.Fatalf("a closed scope was reported when collected: %s", (<-sink.ch).Message)
	}
}
