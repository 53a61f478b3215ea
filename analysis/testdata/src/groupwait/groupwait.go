// Package groupwait holds the analyzer's test cases.
package groupwait

import (
	"context"
	"errors"
	"sync"

	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

var errBad = errors.New("bad")

func task(context.Context) error { return nil }

func waited(ctx context.Context) error {
	g := supervise.New(ctx, "app")
	g.Go("a", task)
	return g.Wait()
}

func deferredWait(ctx context.Context) {
	g := supervise.New(ctx, "app")
	defer g.Wait()
	g.Go("a", task)
}

func shutdown(ctx context.Context) error {
	g := supervise.New(ctx, "app")
	g.Go("a", task)
	return g.Shutdown(ctx)
}

// An early return leaves the tasks running with nobody to see them fail.
func earlyReturn(ctx context.Context, urls []string) error {
	g := supervise.New(ctx, "fetch") // want `^groupwait: group from supervise.New is not waited on the path that returns at line 42; call g.Wait\(\) or g.Shutdown\(ctx\) before every return \(return g.Wait\(\) reports its tasks' failures\)$`
	for _, u := range urls {
		g.Go(u, task)
	}
	if len(urls) > 10 {
		return errBad
	}
	return g.Wait()
}

func never(ctx context.Context) {
	g := supervise.New(ctx, "app") // want `not waited on the path that reaches the end of the function at line 50`
	g.Go("a", task)
}

// Tasks that capture their own group do not wait for it.
func tasksCaptureGroup(ctx context.Context) {
	g := supervise.New(ctx, "app") // want `not waited`
	g.Go("parent", func(ctx context.Context) error {
		g.Go("child", task)
		return nil
	})
}

func tasksCaptureGroupWaited(ctx context.Context) error {
	g := supervise.New(ctx, "app")
	g.Go("parent", func(ctx context.Context) error {
		g.Go("child", task)
		return nil
	})
	return g.Wait()
}

// tether's own functions use a group; they do not take it over.
func serveOnly(ctx context.Context, srv *httptask.Server) {
	g := supervise.New(ctx, "http") // want `not waited`
	httptask.Serve(g, "api", srv)
}

func serveWaited(ctx context.Context, srv *httptask.Server) error {
	g := supervise.New(ctx, "http")
	httptask.Serve(g, "api", srv)
	return g.Wait()
}

// Handed off: returned, stored, passed to the caller's own code.
func returned(ctx context.Context) *supervise.Group {
	g := supervise.New(ctx, "app")
	g.Go("a", task)
	return g
}

type server struct{ g *supervise.Group }

func stored(ctx context.Context, s *server) {
	g := supervise.New(ctx, "app")
	s.g = g
}

func waitAll(g *supervise.Group) error { return g.Wait() }

func passed(ctx context.Context) error {
	g := supervise.New(ctx, "app")
	g.Go("a", task)
	return waitAll(g)
}

// Waited concurrently from a fan-out: handed to the closures.
func fanOut(ctx context.Context) []error {
	g := supervise.New(ctx, "app")
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = g.Wait() })
	}
	wg.Wait()
	return errs
}

// Discarded or only used in passing: nobody can wait.
func discarded(ctx context.Context) {
	supervise.New(ctx, "app")               // want `^groupwait: group from supervise.New is discarded, so it can never be waited; keep it in a variable and call g.Wait\(\) or g.Shutdown\(ctx\) before every return`
	supervise.New(ctx, "app").Go("a", task) // want `group from supervise.New is not kept \(only its Go is used\), so it can never be waited`
	_ = supervise.New(ctx, "app")           // want `assigned to _`
	_ = supervise.New(ctx, "app").Wait()    // waited where it was made
	supervise.Main("app", func(ctx context.Context, g *supervise.Group) error { return nil })
}

// A child group in a task, waited there.
func nested(ctx context.Context) error {
	g := supervise.New(ctx, "app")
	g.Go("ingest", func(ctx context.Context) error {
		child := supervise.New(ctx, "ingest")
		child.Go("read", task)
		return child.Wait()
	})
	g.Go("leaky", func(ctx context.Context) error {
		child := supervise.New(ctx, "leaky") // want `not waited on the path that returns at line 136`
		child.Go("read", task)
		return nil
	})
	return g.Wait()
}

func allowed(ctx context.Context, out chan<- error) {
	//tether:allow groupwait the worker's Wait is in the shutdown hook of the caller's process
	g := supervise.New(ctx, "bg")
	g.Go("a", task)
}
