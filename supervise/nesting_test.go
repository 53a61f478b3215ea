package supervise_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

func TestNestedGroupsFormATree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		root := supervise.New(context.Background(), "app", rec.options()...)
		release := make(chan struct{})
		childPaths := make(chan string, 2)
		root.Go("http", func(ctx context.Context) error {
			conns := supervise.New(ctx, "conns")
			for range 2 {
				conns.Go("handler", func(ctx context.Context) error {
					childPaths <- track.TaskFrom(ctx).Path
					<-release
					return nil
				})
			}
			other := supervise.New(ctx, "conns") // same name under the same task
			other.Go("handler", func(ctx context.Context) error { <-release; return nil })
			return errors.Join(conns.Wait(), other.Wait())
		})
		root.Go("sync", func(ctx context.Context) error { <-release; return nil })
		synctest.Wait()

		tree := root.Tasks()
		if len(tree) != 2 || tree[0].Path != "app/http" || tree[1].Path != "app/sync" {
			t.Fatalf("root tasks %+v", tree)
		}
		var kids []string
		for _, c := range tree[0].Children {
			kids = append(kids, c.Path)
		}
		if want := []string{"app/http/conns/handler", "app/http/conns/handler#2", "app/http/conns#2/handler"}; !slices.Equal(kids, want) {
			t.Fatalf("children of app/http = %v, want %v", kids, want)
		}
		if st, ok := findGroup("app/http/conns"); !ok || st.Owner != "app/http" {
			t.Fatalf("child group in the registry: %+v (found %v), want owner app/http", st, ok)
		}
		close(release)
		if err := root.Wait(); err != nil {
			t.Fatal(err)
		}
		// The child groups inherited the hook.
		if k := rec.kinds("app/http/conns/handler#2"); !slices.Equal(k, []string{"started", "completed"}) {
			t.Fatalf("events of a child group's task reached the root hook as %v", k)
		}
		if _, ok := findGroup("app/http/conns"); ok {
			t.Fatal("child group still registered after it was waited")
		}
	})
}

func TestChildPanicReachesTheRootThroughBothLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		root := supervise.New(context.Background(), "app", rec.options()...)
		root.Go("http", func(ctx context.Context) error {
			conns := supervise.New(ctx, "conns")
			conns.Go("handler", func(context.Context) error { panic("bad request") })
			return conns.Wait()
		})
		err := root.Wait()
		var pe *supervise.PanicError
		if !errors.As(err, &pe) || pe.Task != "app/http/conns/handler" {
			t.Fatalf("root Wait = %v; want the child's PanicError through both levels", err)
		}
		tes := taskErrors(err)
		if len(tes) != 1 || tes[0].Task != "app/http" {
			t.Fatalf("root failures %v, want app/http (whose error is the child group's)", paths(tes))
		}
		if n := len(rec.eventsOf(supervise.Panicked)); n != 1 {
			t.Fatalf("%d Panicked events, want 1", n)
		}
	})
}

func TestChildGroupOverridesInheritedLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, child := &recorder{}, &recorder{}
		root := supervise.New(context.Background(), "app", parent.options()...)
		root.Go("t", func(ctx context.Context) error {
			g := supervise.New(ctx, "sub", child.options()...)
			g.Go("x", func(context.Context) error { return nil })
			return g.Wait()
		})
		if err := root.Wait(); err != nil {
			t.Fatal(err)
		}
		if len(parent.kinds("app/t/sub/x")) != 0 || len(child.kinds("app/t/sub/x")) != 2 {
			t.Fatalf("a child group's own hook should replace the inherited one: parent saw %v, child %v",
				parent.kinds("app/t/sub/x"), child.kinds("app/t/sub/x"))
		}
	})
}
