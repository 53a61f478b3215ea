package adapter

import (
	"context"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
	"github.com/tether-go/tether/pool/internal/waitbound"
)

// BenchmarkCheckoutParts splits what an adapter adds to a driver's
// checkout: the ledger's lease alone (impl=ledger), and with the bounded
// wait around the driver's call (impl=adapter). The driver's checkout is a
// no-op here, so this is the tracking's cost per checkout and return.
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
	b.Run("impl=ledger", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ls, err := l.Checkout(ctx, ledger.HandleConn, site, take)
			if err != nil {
				b.Fatal(err)
			}
			ls.End(true)
		}
	})
	b.Run("impl=adapter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ls, err := Checkout(l, bound, "bench", ctx, ledger.HandleConn, site, take)
			if err != nil {
				b.Fatal(err)
			}
			ls.End(true)
		}
	})
}
