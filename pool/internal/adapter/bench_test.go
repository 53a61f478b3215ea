package adapter

import (
	"context"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
	"github.com/tether-go/tether/pool/internal/waitbound"
)

// BenchmarkCheckoutParts splits what an adapter adds to a driver's
// checkout: the ledger's lease alone (impl=ledger), and with the bounded
// wait around the driver's call (impl=adapter). The driver's checkout is a
// no-op here, so this is the tracking's cost per checkout and return, on
// one goroutine (mode=serial) and on GOMAXPROCS of them (mode=parallel),
// where what the checkouts of different cores write in common shows.
//
//go:noinline
func BenchmarkCheckoutParts(b *testing.B) {
	l := ledger.New(ledger.Config[int]{Name: "bench", LeakAfter: time.Minute, Reclaim: func(int) {}})
	l.Start()
	defer l.Shutdown(context.Background(), nil)
	bound := waitbound.New(time.Second)
	defer bound.Stop()
	take := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	site := track.Caller(0)
	for _, impl := range []struct {
		name  string
		cycle func() error
	}{
		{"ledger", func() error {
			ls, err := l.Checkout(ctx, ledger.HandleConn, site, take)
			ls.End(true)
			return err
		}},
		{"adapter", func() error {
			ls, err := Checkout(l, bound, "bench", ctx, ledger.HandleConn, &site, take)
			ls.End(true)
			return err
		}},
	} {
		for _, mode := range []string{"serial", "parallel"} {
			b.Run("impl="+impl.name+"/mode="+mode, func(b *testing.B) {
				b.ReportAllocs()
				defer testkit.ReportCPU(b)()
				if mode == "serial" {
					for b.Loop() {
						if err := impl.cycle(); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := impl.cycle(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
