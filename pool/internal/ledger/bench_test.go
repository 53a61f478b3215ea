package ledger_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// BenchmarkLeaseProtocol measures what the lease record costs per loan of a
// resource: one Lend and one End, the part of pool.Pool's
// Acquire+Release that is the ledger's. impl=mutex is the record as it is
// (a mutex per record); impl=stateword is the protocol it replaced, kept
// here as a reference: holder fields published with one atomic store, the
// lease ended with one compare-and-swap, and readers taking a lock bit in
// the same word (a spin on runtime.Gosched while it is set).
// BenchmarkAcquireRelease in package pool puts the difference in
// proportion.
func BenchmarkLeaseProtocol(b *testing.B) {
	ctx := track.WithTask(context.Background(), &track.Task{Path: "app/bench"})
	site := track.Site{}
	b.Run("impl=mutex", func(b *testing.B) {
		l := ledger.New(ledger.Config[int]{Name: "bench", Reclaim: func(int) {}})
		l.Start()
		defer l.Shutdown(context.Background(), nil)
		r := l.NewRecord(ledger.HandleLease, 1)
		b.ReportAllocs()
		for b.Loop() {
			ls := r.Lend(ctx, &site, l.CoarseNow())
			if !ls.Held() {
				b.Fatal("not held")
			}
			ls.End(false)
		}
	})
	b.Run("impl=stateword", func(b *testing.B) {
		s := &refSlot{}
		b.ReportAllocs()
		for b.Loop() {
			gen := s.lend(ctx, site, 0)
			if s.state.Load()&^(refReported|refLocked) != gen<<refGenShift|refLent {
				b.Fatal("not held")
			}
			s.end(gen, refIdle)
		}
	})
}

// refSlot is the lease protocol pool.Pool used before the ledger, reduced
// to its hot path (reference only).
type refSlot struct {
	state atomic.Uint64
	site  track.Site
	task  *track.Task
	at    int64
}

const (
	refIdle     = 0
	refLent     = 1
	refStatus   = 3
	refReported = 4
	refLocked   = 8
	refGenShift = 4
)

func (s *refSlot) lend(ctx context.Context, site track.Site, now int64) uint64 {
	task := track.TaskFrom(ctx)
	gen := s.state.Load()>>refGenShift + 1
	if s.task != task {
		s.task = task
	}
	s.site, s.at = site, now
	s.state.Store(gen<<refGenShift | refLent)
	return gen
}

func (s *refSlot) end(gen, to uint64) bool {
	for {
		st := s.state.Load()
		if st&^(refReported|refLocked) != gen<<refGenShift|refLent {
			return false
		}
		if st&refLocked != 0 {
			runtime.Gosched()
			continue
		}
		if s.state.CompareAndSwap(st, st&^refStatus|to) {
			return true
		}
	}
}

// BenchmarkCheckout measures an adapter's checkout and return through the
// ledger (impl=ledger: Checkout, the driver's take, End, the driver's put)
// against the bare driver pool (impl=driver: take and put), the cost the
// adapters' own benchmarks add to with their driver. Serial and parallel.
func BenchmarkCheckout(b *testing.B) {
	for _, impl := range []string{"ledger", "driver"} {
		for _, mode := range []string{"serial", "parallel"} {
			b.Run("impl="+impl+"/mode="+mode, func(b *testing.B) {
				a := newAdapter(64, ledger.Config[*conn]{})
				defer a.l.Shutdown(context.Background(), nil)
				ctx := context.Background()
				cycle := func() {
					if impl == "driver" {
						c, err := a.d.take(ctx)
						if err != nil {
							b.Error(err)
							return
						}
						a.d.put(c)
						return
					}
					ls, err := a.l.Checkout(ctx, ledger.HandleConn, track.Site{}, a.d.take)
					if err != nil {
						b.Error(err)
						return
					}
					c := ls.Payload()
					ls.End(false)
					a.d.put(c)
				}
				b.ReportAllocs()
				if mode == "serial" {
					for b.Loop() {
						cycle()
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						cycle()
					}
				})
			})
		}
	}
}
