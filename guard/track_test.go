package guard_test

import (
	"fmt"
	"runtime"
	"slices"
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
