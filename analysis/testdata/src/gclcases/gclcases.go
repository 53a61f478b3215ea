// Package gclcases checks the plugin's analyzers: golangci-lint names the
// analyzer itself, so the messages start without it.
package gclcases

import (
	"context"

	"github.com/tether-go/tether/pool"
)

func leak(ctx context.Context, p *pool.Pool[int]) {
	l, _ := p.Acquire(ctx) // want `^lease from p.Acquire is not released on the path that reaches the end of the function at line 14; add defer l.Release\(\)$`
	_ = l.Value()
}
