package supervise_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// runner is one implementation of "start n tasks, wait for them": tether and
// its peers, behind one tiny interface.
type runner func(n int, fn func(context.Context) error) error

var quietLogger = slog.New(slog.DiscardHandler)

func tetherRunner(opts ...supervise.Option) runner {
	opts = append(opts, supervise.Logger(quietLogger))
	return func(n int, fn func(context.Context) error) error {
		g := supervise.New(context.Background(), "bench", opts...)
		for range n {
			g.Go("task", fn)
		}
		return g.Wait()
	}
}

var impls = []struct {
	name string
	run  runner
}{
	{"tether", tetherRunner()},
	{"tether-nolabels", tetherRunner(supervise.WithoutLabels())},
	{"tether-hook", tetherRunner(supervise.OnEvent(func(supervise.Event) {}))},
	{"errgroup", func(n int, fn func(context.Context) error) error {
		var g errgroup.Group
		ctx := context.Background()
		for range n {
			g.Go(func() error { return fn(ctx) })
		}
		return g.Wait()
	}},
	{"errgroup-ctx", func(n int, fn func(context.Context) error) error {
		g, ctx := errgroup.WithContext(context.Background())
		for range n {
			g.Go(func() error { return fn(ctx) })
		}
		return g.Wait()
	}},
	{"conc", func(n int, fn func(context.Context) error) error {
		var wg conc.WaitGroup
		ctx := context.Background()
		for range n {
			wg.Go(func() { fn(ctx) })
		}
		wg.Wait()
		return nil
	}},
	{"conc-pool", func(n int, fn func(context.Context) error) error {
		p := pool.New()
		ctx := context.Background()
		for range n {
			p.Go(func() { fn(ctx) })
		}
		p.Wait()
		return nil
	}},
	{"waitgroup", func(n int, fn func(context.Context) error) error {
		var wg sync.WaitGroup
		ctx := context.Background()
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn(ctx)
			}()
		}
		wg.Wait()
		return nil
	}},
}

// reportPerTask reports ns/task (wall time) and cpu-ns/task (the process's
// CPU time, see cpuTime) for a benchmark of n tasks per op that began when
// the process had used cpu.
func reportPerTask(b *testing.B, n int, cpu time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N*n), "cpu-ns/task")
}

// BenchmarkGoWait measures starting n tasks that return nil at once and
// waiting for them, per implementation. ns/task is ns/op divided by n.
//
//	impl=tether           supervise with its defaults (labels, registry, events to a discarding logger)
//	impl=tether-nolabels  the same without pprof labels: the difference is what labels cost
//	impl=tether-hook      the same with a no-op OnEvent hook: the difference is what events cost
//	impl=errgroup, errgroup-ctx: x/sync errgroup, without and with WithContext
//	impl=conc, conc-pool: conc's WaitGroup and its (unlimited) pool.New()
//	impl=waitgroup: raw go statements and a sync.WaitGroup
func BenchmarkGoWait(b *testing.B) {
	fn := func(context.Context) error { return nil }
	for _, n := range []int{1, 100} {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("impl=%s/tasks=%d", impl.name, n), func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					if err := impl.run(n, fn); err != nil {
						b.Fatal(err)
					}
				}
				reportPerTask(b, n, cpu)
			})
		}
	}
}

// BenchmarkGoWaitNested is BenchmarkGoWait for a group created with a
// task's context, the way a server's task makes a group per request. Its
// tasks' labels replace the parent task's (impl=tether). With
// impl=tether-userlabels the task's context also carries a label of the
// user's (pprof.Do), which the tasks' labels must keep: pprof merges them,
// at one allocation more per task.
func BenchmarkGoWaitNested(b *testing.B) {
	fn := func(context.Context) error { return nil }
	for _, n := range []int{1, 100} {
		for _, impl := range []string{"tether", "tether-userlabels"} {
			b.Run(fmt.Sprintf("impl=%s/tasks=%d", impl, n), func(b *testing.B) {
				root := supervise.New(context.Background(), "bench", supervise.Logger(quietLogger))
				ctxc := make(chan context.Context)
				release := make(chan struct{})
				root.Go("server", func(ctx context.Context) error {
					if impl == "tether-userlabels" {
						pprof.Do(ctx, pprof.Labels("user", "x"), func(ctx context.Context) { ctxc <- ctx; <-release })
						return nil
					}
					ctxc <- ctx
					<-release
					return nil
				})
				ctx := <-ctxc
				b.ReportAllocs()
				for b.Loop() {
					g := supervise.New(ctx, "req", supervise.Logger(quietLogger))
					for range n {
						g.Go("task", fn)
					}
					if err := g.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
				close(release)
				if err := root.Wait(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkLabels isolates what a task pays for its pprof labels.
// how=per-task builds a label set and a context carrying it, and sets it on
// the goroutine, as supervise did for every task: three allocations.
// how=per-name sets a context built once per (group, name), as it does now.
// how=nested is per-task under a context that carries labels already
// (pprof merges them: one allocation more).
func BenchmarkLabels(b *testing.B) {
	group := context.Background()
	b.Run("how=per-task", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx := pprof.WithLabels(group, pprof.Labels("tether.group", "app", "tether.task", "app/task"))
			pprof.SetGoroutineLabels(ctx)
		}
		pprof.SetGoroutineLabels(context.Background())
	})
	cached := pprof.WithLabels(group, pprof.Labels("tether.group", "app", "tether.task", "app/task"))
	b.Run("how=per-name", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pprof.SetGoroutineLabels(cached)
		}
		pprof.SetGoroutineLabels(context.Background())
	})
	b.Run("how=nested", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx := pprof.WithLabels(cached, pprof.Labels("tether.group", "app/task/conns", "tether.task", "app/task/conns/handler"))
			pprof.SetGoroutineLabels(ctx)
		}
		pprof.SetGoroutineLabels(context.Background())
	})
}

// BenchmarkClock compares the two ways to stamp a task's start: time.Now,
// and the group's task clock, time.Since the group's creation, which reads
// only the monotonic clock.
func BenchmarkClock(b *testing.B) {
	var sink time.Duration
	b.Run("how=time.Now", func(b *testing.B) {
		for b.Loop() {
			sink += time.Duration(time.Now().Nanosecond())
		}
	})
	created := time.Now()
	b.Run("how=time.Since", func(b *testing.B) {
		for b.Loop() {
			sink += time.Since(created)
		}
	})
	_ = sink
}

// BenchmarkRegistry measures what registering a group for leak reports
// costs: track.Register in New and Unregister when Wait returns.
func BenchmarkRegistry(b *testing.B) {
	type object struct{ n int }
	describe := func(*object) track.State { return track.State{} }
	b.ReportAllocs()
	for b.Loop() {
		o := &object{}
		track.Register(o, describe).Unregister()
	}
}

// BenchmarkTaskStacks compares the two ways to find a labelled goroutine's
// stack, with 1000 parked goroutines besides: the debug=1 goroutine profile
// (which Shutdown uses) and runtime.Stack of every goroutine (which needs
// GODEBUG=tracebacklabels=1 to show labels).
func BenchmarkTaskStacks(b *testing.B) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() { <-stop })
	}
	defer func() { close(stop); wg.Wait() }()
	b.Run("how=profile-debug1", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			pprof.Lookup("goroutine").WriteTo(&buf, 1)
		}
	})
	b.Run("how=runtime-stack-all", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 1<<20)
		for b.Loop() {
			for runtime.Stack(buf, true) == len(buf) {
				buf = make([]byte, 2*len(buf))
			}
		}
	})
}

// BenchmarkNewWait measures a group's own cost: create it, start tasks=0
// or 1 task that returns at once, and wait. tether registers the group for
// leak reports and builds the labels of its task's name; errgroup is the
// peer with a context.
func BenchmarkNewWait(b *testing.B) {
	fn := func(context.Context) error { return nil }
	for _, n := range []int{0, 1} {
		b.Run(fmt.Sprintf("impl=tether/tasks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				g := supervise.New(context.Background(), "bench", supervise.Logger(quietLogger))
				for range n {
					g.Go("task", fn)
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
			reportPerTask(b, 1, cpu)
		})
		b.Run(fmt.Sprintf("impl=errgroup-ctx/tasks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				g, ctx := errgroup.WithContext(context.Background())
				for range n {
					g.Go(func() error { return fn(ctx) })
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
			reportPerTask(b, 1, cpu)
		})
	}
}

// BenchmarkRun measures running a function that returns at once as a task
// on the calling goroutine (Group.Run), against calling it under pprof.Do
// (labels only) and calling it plainly. A request handled through
// supervise/httptask pays impl=tether once.
func BenchmarkRun(b *testing.B) {
	fn := func(context.Context) error { return nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("impl=tether", func(b *testing.B) {
		g := supervise.New(context.Background(), "bench", supervise.Logger(quietLogger))
		b.ReportAllocs()
		for b.Loop() {
			if err := g.Run(ctx, "GET /x", fn); err != nil {
				b.Fatal(err)
			}
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("impl=pprof-do", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pprof.Do(ctx, pprof.Labels("tether.task", "bench/GET /x"), func(ctx context.Context) { fn(ctx) })
		}
	})
	b.Run("impl=call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fn(ctx)
		}
	})
}

// TestAllocationsPerTask holds a task to its allocations (see Cost in the
// package doc): two (its record and its goroutine's closure), and three with
// an event hook (the path the events name). It measures 100 tasks of one
// group, so the group's own allocations (up to 20) count for a hundredth each.
func TestAllocationsPerTask(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts under -short are not checked")
	}
	fn := func(context.Context) error { return nil }
	for _, c := range []struct {
		name string
		run  runner
		max  float64
	}{
		{"default", tetherRunner(), 2.2},
		{"hook", tetherRunner(supervise.OnEvent(func(supervise.Event) {})), 3.2},
	} {
		allocs := testing.AllocsPerRun(20, func() {
			if err := c.run(100, fn); err != nil {
				t.Fatal(err)
			}
		}) / 100
		if allocs > c.max {
			t.Errorf("%s: %.2f allocations per task, want at most %.1f", c.name, allocs, c.max)
		}
	}
}
