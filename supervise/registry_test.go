package supervise_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

func TestGroupIsRegisteredWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := track.WithTask(context.Background(), &track.Task{Path: "outside"})
		newSite := testkit.Here(1)
		g := supervise.New(ctx, "reg", quiet())
		release := make(chan struct{})
		goSite := testkit.Here(1)
		g.Go("worker", func(ctx context.Context) error { <-release; return nil })
		time.Sleep(time.Second)
		synctest.Wait()
		st, ok := findGroup("reg")
		if !ok {
			t.Fatal("group not registered")
		}
		if st.Owner != "outside" || st.Site.String() != newSite || time.Since(st.Created) != time.Second {
			t.Fatalf("state %+v; want owner outside, created at %s", st, newSite)
		}
		if len(st.Items) != 1 {
			t.Fatalf("items %+v, want the live task", st.Items)
		}
		it := st.Items[0]
		if it.Kind != track.ItemTask || it.Name != "reg/worker" || it.State != "running" || it.Site.String() != goSite ||
			time.Since(it.Since) != time.Second {
			t.Fatalf("task item %+v; want reg/worker running for 1s, started at %s", it, goSite)
		}
		counters := map[string]int64{}
		for _, c := range st.Counters {
			counters[c.Name] = c.Value
		}
		if counters["live"] != 1 || counters["started"] != 1 {
			t.Fatalf("counters %v", counters)
		}
		if len(st.Problems) != 0 {
			t.Fatalf("a running group has problems: %v", st.Problems)
		}
		close(release)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if _, ok := findGroup("reg"); ok {
			t.Fatal("group still registered after Wait")
		}
	})
}

func TestUnwaitedGroupProblems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "unwaited", quiet())
		g.Go("ok", func(context.Context) error { return nil })
		g.Go("bad", func(context.Context) error { return errBoom })
		synctest.Wait()
		st, _ := findGroup("unwaited")
		got := strings.Join(st.Problems, "; ")
		if got != "never waited (2 tasks finished); 1 failure never observed (call Wait)" {
			t.Fatalf("problems %q", got)
		}
		g.Wait()
	})
}

// dropFailedGroup starts a group whose task fails and drops it without Wait.
// If the group is lost, its lost record is sent on lost.
//
//go:noinline
func dropFailedGroup(name string, l *slog.Logger, fail bool, collected chan struct{}, lost chan track.Handle) (created string) {
	created = testkit.Here(1)
	g := supervise.New(context.Background(), name, supervise.Logger(l), supervise.OnLost(func(h track.Handle) { lost <- h }))
	done := make(chan struct{})
	g.Go("task", func(context.Context) error {
		defer close(done)
		if fail {
			return errBoom
		}
		return nil
	})
	<-done
	runtime.AddCleanup(g, func(ch chan struct{}) { ch <- struct{}{} }, collected)
	return created
}

// collect runs the garbage collector until done is true (testkit.Collect).
func collect(t *testing.T, done func() bool) bool { return testkit.Collect(t, done) }

func TestGroupCollectedWithUnseenFailuresIsReported(t *testing.T) {
	rec := &recorder{}
	l := slog.New(recordHandler{rec})
	lost := make(chan track.Handle, 1)
	created := dropFailedGroup(t.Name(), l, true, make(chan struct{}, 1), lost)
	var msg string
	if !collect(t, func() bool {
		for _, r := range rec.logs() {
			if strings.Contains(r.Message, "garbage-collected") {
				msg = r.Message
				return true
			}
		}
		return false
	}) {
		t.Fatal("a group dropped with an unseen failure was never reported")
	}
	h := <-lost // sent before the log line
	defer h.Unregister()
	for _, want := range []string{t.Name(), "created at " + created, "without Wait", "1 failure never observed", `task "` + t.Name() + `/task"`, "boom"} {
		if !strings.Contains(msg, want) {
			t.Errorf("report %q does not contain %q", msg, want)
		}
	}
	// The lost record is kept: later snapshots, after more collections,
	// still list it, naming the group, where it was created and what was lost.
	for range 3 {
		runtime.GC()
	}
	st, ok := findGroup(t.Name())
	want := "garbage-collected without Wait (created at " + created + "): 1 failure never observed: task \"" + t.Name() + "/task\""
	if !ok || st.Site.String() != created || st.Created.IsZero() || len(st.Problems) != 1 ||
		!strings.HasPrefix(st.Problems[0], want) || !strings.Contains(st.Problems[0], ") failed after ") || !strings.HasSuffix(st.Problems[0], ": boom") {
		t.Fatalf("lost record %+v (found %v); want a problem starting %q and naming the failure", st, ok, want)
	}
	h.Unregister()
	if _, ok := findGroup(t.Name()); ok {
		t.Fatal("lost record still listed after Unregister")
	}
}

func TestLostGroupIsListedInTheRegistry(t *testing.T) {
	h := supervise.LoseGroup(t.Name(), errBoom)
	site := testkit.Here(-1)
	defer h.Unregister()
	st, ok := findGroup(t.Name())
	if !ok || len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "garbage-collected without Wait (created at ") ||
		!strings.Contains(st.Problems[0], "1 failure never observed") {
		t.Fatalf("registry entry of a lost group: %+v (found %v)", st, ok)
	}
	if want := `garbage-collected without Wait (created at ` + site + `): 1 failure never observed: task "` + t.Name() + `/t" failed: boom`; st.Problems[0] != want || st.Site.String() != site {
		t.Fatalf("lost group problem %q at %s, want %q at %s", st.Problems[0], st.Site, want, site)
	}
}

func TestGroupCollectedWithoutFailuresIsNotReported(t *testing.T) {
	rec := &recorder{}
	collected := make(chan struct{}, 1)
	lost := make(chan track.Handle, 1)
	dropFailedGroup(t.Name(), slog.New(recordHandler{rec}), false, collected, lost)
	if !collect(t, func() bool { return len(collected) == 1 }) {
		t.Fatal("group never collected")
	}
	for range 3 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	for _, r := range rec.logs() {
		if strings.Contains(r.Message, "garbage-collected") {
			t.Fatalf("a group without failures was reported: %s", r.Message)
		}
	}
	if len(lost) != 0 {
		h := <-lost
		h.Unregister()
		t.Fatal("a group without failures was kept as lost")
	}
}
