package leaserelease

import (
	"context"

	"github.com/tether-go/tether/pool"
)

// One lease per iteration, released in the iteration.
func perIteration(ctx context.Context, p *pool.Pool[int], n int) error {
	for range n {
		l, err := p.Acquire(ctx)
		if err != nil {
			return err
		}
		_ = use(l.Value())
		l.Release()
	}
	return nil
}

// One lease per iteration, never released: the next one replaces it.
func perIterationLeak(ctx context.Context, p *pool.Pool[int], items []int) {
	for range items {
		l, err := p.Acquire(ctx) // want `lease from p.Acquire is not released before the next iteration makes another on the same line`
		if err != nil {
			continue
		}
		_ = use(l.Value())
	}
}

// A continue that skips the release.
func continues(ctx context.Context, p *pool.Pool[int], items []int) {
	for _, it := range items {
		l, err := p.Acquire(ctx) // want `not released before the next iteration`
		if err != nil {
			continue
		}
		if it < 0 {
			continue
		}
		l.Release()
	}
}

// A defer in a loop holds every iteration's lease until the function
// returns: with more items than the pool has, the loop waits on itself.
func deferInLoop(ctx context.Context, p *pool.Pool[int], items []int) error {
	for _, it := range items {
		l, err := p.Acquire(ctx) // want `^leaserelease: lease from p.Acquire is made in the loop at line 50 but released by the defer at line 55, which runs only when the function returns, so every iteration holds one more; end it within the iteration, or move the loop body into a function$`
		if err != nil {
			return err
		}
		defer l.Release()
		_ = use(l.Value() + it)
	}
	return nil
}

// The loop body in a function literal: its defer runs per iteration.
func deferInLiteral(ctx context.Context, p *pool.Pool[int], items []int) error {
	for _, it := range items {
		err := func() error {
			l, err := p.Acquire(ctx)
			if err != nil {
				return err
			}
			defer l.Release()
			return use(l.Value() + it)
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// Acquired before the loop, released after it.
func aroundLoop(ctx context.Context, p *pool.Pool[int], items []int) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it < 0 {
			break
		}
	}
	l.Release()
	return nil
}

// A lease handed to a task in each iteration is handed off; the path that
// skips the loop is not followed for a hand-off.
func fanOut(ctx context.Context, p *pool.Pool[int], n int, run func(func())) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	for range n {
		run(func() { _ = use(l.Value()) })
	}
	return nil
}

// Retry loop: the lease from a failed attempt is released before the next.
func retry(ctx context.Context, p *pool.Pool[int]) (*pool.Lease[int], error) {
	for {
		l, err := p.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		if use(l.Value()) == nil {
			return l, nil
		}
		l.Destroy()
	}
}
