package leaserelease

import (
	"context"

	"github.com/tether-go/tether/pool"
)

// A deliberate leak, explained, is not reported.
func allowed(ctx context.Context, p *pool.Pool[int]) {
	//tether:allow leaserelease the demo shows the garbage collector reclaiming it
	l, _ := p.Acquire(ctx)
	_ = l.Value()
}

func allowedTrailing(ctx context.Context, p *pool.Pool[int]) {
	l, _ := p.Acquire(ctx) //tether:allow leaserelease the demo shows the garbage collector reclaiming it
	_ = l.Value()
}

// A directive with no reason silences nothing, and is itself reported.
func allowedNoReason(ctx context.Context, p *pool.Pool[int]) {
	//tether:allow leaserelease // want `^leaserelease: //tether:allow leaserelease needs a reason: say why the rule does not apply here \(//tether:allow leaserelease <reason>\)$`
	l, _ := p.Acquire(ctx) // want `not released`
	_ = l.Value()
}

// A directive that silences nothing is reported, so that it goes when the
// code it excused does.
func allowedUnused(ctx context.Context, p *pool.Pool[int]) {
	//tether:allow leaserelease it used to leak // want `^leaserelease: //tether:allow leaserelease silences nothing: no leaserelease report on its line or the next; remove it$`
	l, _ := p.Acquire(ctx)
	l.Release()
}

// Another rule's directive does not silence this one: the goroutine is
// explained, the lease it leaks is not.
func otherRule(ctx context.Context, p *pool.Pool[int]) {
	//tether:allow nakedgo the goroutine is the point of the demo
	go func() { l, _ := p.Acquire(ctx); _ = l.Value() }() // want `not released`
}
