package pool_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/puddle/v2"
	"golang.org/x/sync/semaphore"

	"github.com/tether-go/tether/pool"
)

// acquirer is one pool implementation under benchmark. cycle acquires a
// resource and gives it back: one Acquire+Release, with no allocation of
// the harness's own.
type acquirer interface {
	cycle(ctx context.Context) error
	close()
}

type resource struct{ n int }

func newResource(context.Context) (*resource, error) { return &resource{}, nil }

// tetherAcquirer is the pool as users run it: site capture, the watchdog
// (LeakAfter set), garbage-collection detection, the AcquireTimeout bound.
type tetherAcquirer struct{ p *pool.Pool[*resource] }

func newTether(size int) acquirer {
	p, err := pool.New(pool.Config[*resource]{
		Name:      "bench",
		New:       newResource,
		MaxSize:   size,
		LeakAfter: time.Minute,
	})
	if err != nil {
		panic(err)
	}
	return tetherAcquirer{p}
}

// newTetherNoGCDetect is tether without garbage-collection detection, which
// is not an option users have: it shows what the default costs.
func newTetherNoGCDetect(size int) acquirer {
	a := newTether(size).(tetherAcquirer)
	pool.DisableGCDetect(a.p)
	return a
}

func (a tetherAcquirer) cycle(ctx context.Context) error {
	l, err := a.p.Acquire(ctx)
	if err != nil {
		return err
	}
	l.Value().n++
	l.Release()
	return nil
}

func (a tetherAcquirer) close() { a.p.Close() }

type puddleAcquirer struct{ p *puddle.Pool[*resource] }

func newPuddle(size int) acquirer {
	p, err := puddle.NewPool(&puddle.Config[*resource]{
		Constructor: newResource,
		Destructor:  func(*resource) {},
		MaxSize:     int32(size),
	})
	if err != nil {
		panic(err)
	}
	return puddleAcquirer{p}
}

func (a puddleAcquirer) cycle(ctx context.Context) error {
	r, err := a.p.Acquire(ctx)
	if err != nil {
		return err
	}
	r.Value().n++
	r.Release()
	return nil
}

func (a puddleAcquirer) close() { a.p.Close() }

// chanAcquirer is a buffered channel of resources: the simplest pool.
type chanAcquirer struct{ ch chan *resource }

func newChan(size int) acquirer {
	ch := make(chan *resource, size)
	for range size {
		ch <- &resource{}
	}
	return &chanAcquirer{ch}
}

func (a *chanAcquirer) cycle(ctx context.Context) error {
	select {
	case r := <-a.ch:
		r.n++
		a.ch <- r
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *chanAcquirer) close() {}

// semAcquirer is x/sync's weighted semaphore: a bound without resources,
// the floor of what any pool costs.
type semAcquirer struct{ s *semaphore.Weighted }

func newSem(size int) acquirer { return semAcquirer{semaphore.NewWeighted(int64(size))} }

func (a semAcquirer) cycle(ctx context.Context) error {
	if err := a.s.Acquire(ctx, 1); err != nil {
		return err
	}
	a.s.Release(1)
	return nil
}

func (a semAcquirer) close() {}

// BenchmarkAcquireRelease measures one Acquire and one Release, for tether
// and its peers side by side. Besides ns/op it reports cpu-ns/op, the
// process's CPU time per op (the garbage collector's included), which a
// busy shared machine disturbs less than wall time. mode=serial runs one goroutine; mode=parallel
// runs GOMAXPROCS goroutines (set with -cpu), so with size=4 and -cpu 2
// there is no waiting and with more CPUs than size there is.
func BenchmarkAcquireRelease(b *testing.B) {
	impls := []struct {
		name string
		new  func(size int) acquirer
	}{
		{"tether", newTether},
		{"tether-nogcdetect", newTetherNoGCDetect},
		{"puddle", newPuddle},
		{"chan", newChan},
		{"semaphore", newSem},
	}
	for _, impl := range impls {
		for _, size := range []int{4, 64} {
			for _, mode := range []string{"serial", "parallel"} {
				name := fmt.Sprintf("impl=%s/size=%d/mode=%s", impl.name, size, mode)
				b.Run(name, func(b *testing.B) {
					a := impl.new(size)
					defer a.close()
					ctx := context.Background()
					b.ReportAllocs()
					cpu0 := processCPU()
					defer func() {
						if cpu := processCPU() - cpu0; cpu > 0 {
							b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
						}
					}()
					if mode == "serial" {
						for b.Loop() {
							if err := a.cycle(ctx); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := a.cycle(ctx); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		}
	}
}
