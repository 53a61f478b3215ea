package waitbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/tether-go/tether/pool/internal/waitbound"
)

// BenchmarkWait compares a bounded wait's setup and teardown with
// context.WithTimeout, for a caller's ctx that cannot be cancelled and one
// that can.
func BenchmarkWait(b *testing.B) {
	bg := context.Background()
	cancellable, cancel := context.WithCancel(bg)
	defer cancel()
	for _, parent := range []struct {
		name string
		ctx  context.Context
	}{{"ctx=background", bg}, {"ctx=cancelable", cancellable}} {
		b.Run(parent.name+"/impl=waitbound", func(b *testing.B) {
			bd := waitbound.New(time.Second)
			defer bd.Stop()
			b.ReportAllocs()
			var w waitbound.Wait
			for b.Loop() {
				ctx := w.Begin(bd, parent.ctx)
				_ = ctx.Done()
				w.End()
			}
		})
		b.Run(parent.name+"/impl=withtimeout", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(parent.ctx, time.Second)
				_ = ctx.Done()
				cancel()
			}
		})
	}
}
