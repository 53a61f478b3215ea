package cleanup_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tether-go/tether/cleanup"
)

// closeOrder is the peer: a slice of funcs run in reverse, with none of a
// Scope's bounds, panic capture or reporting.
type closeOrder []func(context.Context) error

func (c *closeOrder) defer_(fn func(context.Context) error) { *c = append(*c, fn) }

func (c closeOrder) close(ctx context.Context) error {
	var first error
	for i := len(c) - 1; i >= 0; i-- {
		if err := c[i](ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// BenchmarkScope measures a whole scope life: New, steps Defers, Close.
func BenchmarkScope(b *testing.B) {
	step := func(context.Context) error { return nil }
	for _, steps := range []int{1, 10} {
		b.Run(fmt.Sprintf("impl=cleanup/steps=%d", steps), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				s := cleanup.New("bench")
				for range steps {
					s.Defer("step", step)
				}
				if err := s.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("impl=cleanup-timeout/steps=%d", steps), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				s := cleanup.New("bench", cleanup.StepTimeout(time.Second))
				for range steps {
					s.Defer("step", step)
				}
				if err := s.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("impl=slice/steps=%d", steps), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				var c closeOrder
				for range steps {
					c.defer_(step)
				}
				if err := c.close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
