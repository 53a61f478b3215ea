package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-go/tether/supervise"
)

func ExampleGroup() {
	g := supervise.New(context.Background(), "app", supervise.Logger(slog.New(slog.DiscardHandler)))
	rendering := make(chan struct{})
	g.Go("render", func(ctx context.Context) error {
		close(rendering)
		<-ctx.Done() // the failure of fetch cancels the group
		fmt.Println("render stopped because:", context.Cause(ctx).(*supervise.TaskError).Task, "failed")
		return ctx.Err() // only echoes the cancellation: not reported as a failure
	})
	g.Go("fetch", func(ctx context.Context) error {
		<-rendering
		return errors.New("connection refused")
	})
	err := g.Wait()
	var te *supervise.TaskError
	if errors.As(err, &te) {
		fmt.Printf("failed: %s: %v\n", te.Task, te.Err)
	}
	// Output:
	// render stopped because: app/fetch failed
	// failed: app/fetch: connection refused
}

func ExampleGroup_panic() {
	g := supervise.New(context.Background(), "app", supervise.Logger(slog.New(slog.DiscardHandler)))
	g.Go("parse", func(ctx context.Context) error {
		var fields []string
		_ = fields[2] // panics
		return nil
	})
	err := g.Wait()
	var pe *supervise.PanicError
	if errors.As(err, &pe) {
		fmt.Println("task:", pe.Task)
		fmt.Println("value:", pe.Value)
	}
	// Output:
	// task: app/parse
	// value: runtime error: index out of range [2] with length 0
}

func ExampleRestart() {
	g := supervise.New(context.Background(), "app",
		supervise.Logger(slog.New(slog.DiscardHandler)),
		supervise.OnEvent(func(e supervise.Event) {
			if e.Kind == supervise.Restarting {
				fmt.Printf("%s %s after: %v\n", e.Task, e.Kind, e.Err)
			}
		}))
	attempts := 0
	g.Go("sync", func(ctx context.Context) error {
		attempts++
		if attempts < 3 {
			return fmt.Errorf("attempt %d: upstream unavailable", attempts)
		}
		return nil
	}, supervise.Restart(supervise.Policy{MinBackoff: time.Millisecond, MaxRestarts: 5, Period: time.Minute}))
	fmt.Println("Wait:", g.Wait())
	// Output:
	// app/sync restarting after: attempt 1: upstream unavailable
	// app/sync restarting after: attempt 2: upstream unavailable
	// Wait: <nil>
}

func ExampleGroup_Tasks() {
	root := supervise.New(context.Background(), "app")
	release := make(chan struct{})
	ready := make(chan struct{})
	root.Go("http", func(ctx context.Context) error {
		conns := supervise.New(ctx, "conns") // a child of the task app/http
		conns.Go("handler", func(ctx context.Context) error { <-release; return nil })
		conns.Go("handler", func(ctx context.Context) error { <-release; return nil })
		close(ready)
		return conns.Wait()
	})
	<-ready
	var show func(indent string, ts []supervise.TaskInfo)
	show = func(indent string, ts []supervise.TaskInfo) {
		for _, t := range ts {
			fmt.Println(indent + t.Path)
			show(indent+"  ", t.Children)
		}
	}
	show("", root.Tasks())
	close(release)
	fmt.Println("Wait:", root.Wait())
	// Output:
	// app/http
	//   app/http/conns/handler
	//   app/http/conns/handler#2
	// Wait: <nil>
}

func ExampleGroup_Shutdown() {
	g := supervise.New(context.Background(), "app")
	g.Go("server", func(ctx context.Context) error {
		<-ctx.Done()
		fmt.Println("server stopping:", context.Cause(ctx))
		return nil
	})
	g.Defer("db", func(ctx context.Context) error {
		fmt.Println("db closed after every task ended")
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("Shutdown:", g.Shutdown(ctx))
	// Output:
	// server stopping: supervise: group "app" shut down
	// db closed after every task ended
	// Shutdown: <nil>
}

func ExampleWithLimit() {
	g := supervise.New(context.Background(), "crawl", supervise.WithLimit(2))
	for _, url := range []string{"a", "b", "c", "d"} {
		g.Go("fetch", func(ctx context.Context) error { // at most 2 run at once; Go waits for a slot
			_ = url
			return nil
		})
	}
	fmt.Println("Wait:", g.Wait())
	// Output:
	// Wait: <nil>
}

// A request handler runs as a task on its own goroutine with Run: its
// failure is returned to it, and does not cancel the server's group.
func ExampleGroup_Run() {
	g := supervise.New(context.Background(), "server", supervise.Logger(slog.New(slog.DiscardHandler)))
	err := g.Run(context.Background(), "GET /orders/{id}", func(ctx context.Context) error {
		var orders map[string]int
		orders["42"]++ // panics: assignment to entry in nil map
		return nil
	})
	var pe *supervise.PanicError
	if errors.As(err, &pe) {
		fmt.Println("request task:", pe.Task)
	}
	fmt.Println("Wait:", g.Wait())
	// Output:
	// request task: server/GET /orders/{id}
	// Wait: <nil>
}

// TryGo starts a task only if the group's limit leaves room for it, as
// errgroup's TryGo does: a producer can drop or defer work instead of
// waiting.
func ExampleGroup_TryGo() {
	g := supervise.New(context.Background(), "app", supervise.WithLimit(1), supervise.Logger(slog.New(slog.DiscardHandler)))
	release := make(chan struct{})
	fmt.Println(g.TryGo("slow", func(ctx context.Context) error { <-release; return nil }))
	fmt.Println(g.TryGo("slow", func(ctx context.Context) error { return nil })) // the one slot is taken
	close(release)
	fmt.Println(g.Wait())
	// Output:
	// true
	// false
	// <nil>
}
