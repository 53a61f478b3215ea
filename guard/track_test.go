package guard_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
)

// stateOf returns the leak-report state registered under name.
func stateOf(t *testing.T, name string) track.State {
	t.Helper()
	for _, st := range track.Snapshot() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no registered object named %q", name)
	return track.State{}
}

func counters(st track.State) string { return fmt.Sprint(st.Counters) }

func TestGuardInLeakReport(t *testing.T) {
	name := t.Name()
	site := testkit.Here(1)
	g := guard.New(name, 0)
	st := stateOf(t, name)
	if st.Kind != track.KindGuard || st.Site.String() != site || st.Created.IsZero() {
		t.Fatalf("state = %+v (site %s); want kind guard created at %s", st, st.Site, site)
	}
	if got, want := counters(st), "[{version 1} {updates 0} {conflicts 0} {retries 0} {max_retries 0}]"; got != want {
		t.Fatalf("counters %s, want %s", got, want)
	}
	if len(st.Items) != 0 || len(st.Problems) != 0 {
		t.Fatalf("a guard without conflicts must be quiet: items %v, problems %v", st.Items, st.Problems)
	}

	a, b := taskCtx(t, "app/a"), taskCtx(t, "app/b")
	s := g.Load()
	siteB := testkit.Here(1)
	g.CompareAndSwap(b, s.Version, 1)
	siteA := testkit.Here(1)
	g.CompareAndSwap(a, s.Version, 2)

	st = stateOf(t, name)
	if got, want := counters(st), "[{version 2} {updates 1} {conflicts 1} {retries 0} {max_retries 0}]"; got != want {
		t.Fatalf("counters %s, want %s", got, want)
	}
	if len(st.Problems) != 0 {
		t.Fatalf("conflicts are information, not problems: %v", st.Problems)
	}
	if len(st.Items) != 1 {
		t.Fatalf("items %+v, want the last conflict", st.Items)
	}
	it := st.Items[0]
	detail := fmt.Sprintf("app/a at %s wrote on v1, but app/b at %s had written v2", siteA, siteB)
	if it.Kind != track.ItemConflict || it.Owner != "app/a" || it.State != "conflict" || it.Site.String() != siteA ||
		it.Detail != detail || it.Since.IsZero() {
		t.Fatalf("item %+v (site %s)\nwant detail %q", it, it.Site, detail)
	}
	runtime.KeepAlive(g)
}

func TestMapInLeakReport(t *testing.T) {
	name := t.Name()
	m := guard.NewMap[string, int](name)
	ctx := taskCtx(t, "app/a")
	m.Update(ctx, "x", inc)
	m.Update(ctx, "y", inc)
	m.CompareAndSwap(ctx, "x", 0, 5)
	st := stateOf(t, name)
	if got, want := counters(st), "[{keys 2} {updates 2} {conflicts 1} {retries 0} {max_retries 0}]"; got != want {
		t.Fatalf("counters %s, want %s", got, want)
	}
	if len(st.Items) != 1 || st.Items[0].Name != `key "x"` || st.Items[0].Kind != track.ItemConflict {
		t.Fatalf("items %+v, want the conflict on key \"x\"", st.Items)
	}
	m.Delete(ctx, "y")
	m.Delete(ctx, "y")
	m.Delete(ctx, "never")
	if got, want := counters(stateOf(t, name)), "[{keys 1} {updates 2} {conflicts 1} {retries 0} {max_retries 0}]"; got != want {
		t.Fatalf("after Delete: counters %s, want %s", got, want)
	}
	runtime.KeepAlive(m)
}

// TestDroppedGuardIsCollected checks that registering with the leak report
// does not keep a guard alive: it never unregisters, so it must not need to.
func TestDroppedGuardIsCollected(t *testing.T) {
	collected := make(chan string, 2)
	func() {
		g := guard.New(t.Name()+"/guard", "x")
		m := guard.NewMap[int, int](t.Name() + "/map")
		runtime.AddCleanup(g, func(n string) { collected <- n }, "guard")
		runtime.AddCleanup(m, func(n string) { collected <- n }, "map")
	}()
	track.Snapshot() // the registry now holds both weakly
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := t.Deadline(); ok && d.Add(-time.Second).Before(deadline) {
		deadline = d.Add(-time.Second)
	}
	var got []string
	for len(got) < 2 && time.Now().Before(deadline) {
		runtime.GC()
		select {
		case n := <-collected:
			got = append(got, n)
		case <-time.After(time.Millisecond):
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"guard", "map"}) {
		t.Fatalf("collected %v, want the dropped guard and map", got)
	}
	for _, st := range track.Snapshot() {
		if st.Name == t.Name()+"/guard" || st.Name == t.Name()+"/map" {
			t.Fatalf("collected %s still reported", st.Name)
		}
	}
}

// writes are the ways a user can reach a Guard's or a Map's writes, which
// the compiler may route through generated wrappers of the generic methods.
type (
	guardUpdater interface {
		Update(ctx context.Context, fn func(int) (int, error), opts ...guard.UpdateOption) (guard.Snapshot[int], error)
		CompareAndSwap(ctx context.Context, base uint64, next int) (guard.Snapshot[int], error)
	}
	mapUpdater interface {
		Update(ctx context.Context, key string, fn func(int) (int, error), opts ...guard.UpdateOption) (guard.Snapshot[int], error)
	}
)

// TestSiteThroughWrappers checks that a write records the user's line
// however the user called it: through an interface or a method value, the
// call passes through one or two wrappers the compiler generates for a
// generic method, whose line is the method's own in package guard.
func TestSiteThroughWrappers(t *testing.T) {
	ctx := taskCtx(t, "app/w")
	g := guard.New(t.Name(), 0)
	m := guard.NewMap[string, int](t.Name())
	var gi guardUpdater = g
	var mi mapUpdater = m
	update, cas, mapUpdate := g.Update, g.CompareAndSwap, m.Update
	updateExpr := (*guard.Guard[int]).Update
	cases := []struct {
		name  string
		write func() (guard.Snapshot[int], error, string)
	}{
		{"Update direct", func() (guard.Snapshot[int], error, string) {
			s, err := g.Update(ctx, inc)
			return s, err, testkit.Here(-1)
		}},
		{"Update via interface", func() (guard.Snapshot[int], error, string) {
			s, err := gi.Update(ctx, inc)
			return s, err, testkit.Here(-1)
		}},
		{"Update via method value", func() (guard.Snapshot[int], error, string) {
			s, err := update(ctx, inc)
			return s, err, testkit.Here(-1)
		}},
		{"Update via method expression", func() (guard.Snapshot[int], error, string) {
			s, err := updateExpr(g, ctx, inc)
			return s, err, testkit.Here(-1)
		}},
		{"CompareAndSwap via interface", func() (guard.Snapshot[int], error, string) {
			cur := g.Load()
			s, err := gi.CompareAndSwap(ctx, cur.Version, cur.Value+1)
			return s, err, testkit.Here(-1)
		}},
		{"CompareAndSwap via method value", func() (guard.Snapshot[int], error, string) {
			cur := g.Load()
			s, err := cas(ctx, cur.Version, cur.Value+1)
			return s, err, testkit.Here(-1)
		}},
		{"Map.Update via interface", func() (guard.Snapshot[int], error, string) {
			s, err := mi.Update(ctx, "k", inc)
			return s, err, testkit.Here(-1)
		}},
		{"Map.Update via method value", func() (guard.Snapshot[int], error, string) {
			s, err := mapUpdate(ctx, "k", inc)
			return s, err, testkit.Here(-1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err, want := tc.write()
			if err != nil || s.Site.String() != want || s.Writer != "app/w" {
				t.Fatalf("write = %+v (site %s), %v; want a version written by app/w at %s", s, s.Site, err, want)
			}
		})
	}
	// A refused write names the user's line too.
	_, err := gi.CompareAndSwap(ctx, 1, 0)
	site := testkit.Here(-1)
	var ce *guard.ConflictError
	if !errors.As(err, &ce) || ce.Site.String() != site || !strings.Contains(err.Error(), site) {
		t.Fatalf("stale CompareAndSwap via interface = %v; want a ConflictError at %s", err, site)
	}
}
