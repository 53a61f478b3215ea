// Package leaserelease holds the analyzer's test cases: every function
// either is clean or carries the report it must get.
package leaserelease

import (
	"context"
	"errors"
	"log"
	"os"

	"github.com/tether-go/tether/pool"
)

var errBad = errors.New("bad")

func use(int) error { return nil }

// Deferred right after the error check: the idiom.
func deferred(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	return use(l.Value())
}

// Released at the end, but an early return skips it.
func earlyReturn(ctx context.Context, p *pool.Pool[int], n int) error {
	l, err := p.Acquire(ctx) // want `^leaserelease: lease from p.Acquire is not released on the path that returns at line 35; add defer l.Release\(\) after the error check$`
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	l.Release()
	return nil
}

// Never released: the path falls off the end.
func never(ctx context.Context, p *pool.Pool[int]) {
	l, err := p.Acquire(ctx) // want `not released on the path that reaches the end of the function at line 48`
	if err != nil {
		return
	}
	_ = use(l.Value())
}

// Released on every path by hand.
func everyPath(ctx context.Context, p *pool.Pool[int], n int) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		l.Release()
		return nil
	}
	err = use(l.Value())
	l.Release()
	return err
}

// Destroy and Detach end a lease too.
func destroyOrDetach(ctx context.Context, p *pool.Pool[int], broken bool) int {
	l, err := p.TryAcquire(ctx)
	if err != nil {
		return 0
	}
	if broken {
		l.Destroy()
		return 0
	}
	return l.Detach()
}

// TryAcquire's lease is a lease like any other.
func tryAcquire(ctx context.Context, p *pool.Pool[string]) string {
	l, err := p.TryAcquire(ctx) // want `lease from p.TryAcquire is not released on the path that returns at line 84`
	if err != nil {
		return ""
	}
	return l.Value()
}

// An explicit panic is a path out; a deferred release covers it.
func panics(ctx context.Context, p *pool.Pool[int], n int) {
	l, err := p.Acquire(ctx) // want `not released on the path that panics at line 94`
	if err != nil {
		return
	}
	if n < 0 {
		panic("negative")
	}
	l.Release()
}

func panicsDeferred(ctx context.Context, p *pool.Pool[int], n int) {
	l, err := p.Acquire(ctx)
	if err != nil {
		return
	}
	defer l.Release()
	if n < 0 {
		panic("negative")
	}
}

// Nothing outlives os.Exit or log.Fatal to leak into.
func exits(ctx context.Context, p *pool.Pool[int], n int) {
	l, err := p.Acquire(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if n < 0 {
		os.Exit(2)
	}
	l.Release()
}

// A switch with a case that forgets.
func switches(ctx context.Context, p *pool.Pool[int], n int) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 133`
	if err != nil {
		return err
	}
	switch n {
	case 0:
		l.Release()
		return nil
	case 1:
		return errBad
	default:
		l.Release()
	}
	return nil
}

// A select that gives up on cancellation without releasing.
func selects(ctx context.Context, p *pool.Pool[int], ch chan int) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 148`
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case v := <-ch:
		_ = use(v)
	}
	l.Release()
	return nil
}

// A goto that jumps over the release.
func gotos(ctx context.Context, p *pool.Pool[int], n int) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 168`
	if err != nil {
		return err
	}
	if n > 0 {
		goto out
	}
	l.Release()
	return nil
out:
	return errBad
}

// A labeled break is the only way to the return that forgets.
func labeledBreak(ctx context.Context, p *pool.Pool[int], ch chan int) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 189`
	if err != nil {
		return err
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case v := <-ch:
			if v == 0 {
				l.Release()
				return nil
			}
		}
	}
	return ctx.Err()
}

// A labeled continue is fine when every way out releases.
func labeledContinue(ctx context.Context, p *pool.Pool[int], rows [][]int) int {
	l, err := p.Acquire(ctx)
	if err != nil {
		return 0
	}
	n := 0
outer:
	for _, row := range rows {
		for _, v := range row {
			if v < 0 {
				continue outer
			}
			n++
		}
	}
	l.Release()
	return n
}

// Shadowing: the inner lease is deferred; the outer one is not released.
func shadowed(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx) // want `lease from p.Acquire is not released on the path that returns at line 221`
	if err != nil {
		return err
	}
	{
		l, err := p.Acquire(ctx)
		if err != nil {
			return err
		}
		defer l.Release()
	}
	return use(l.Value())
}

// Overwriting the variable loses the first lease.
func overwritten(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx) // want `not released before the variable is overwritten at line 234`
	if err != nil {
		return err
	}
	l, err = p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	return nil
}

// Discarded: nothing can release it.
func discarded(ctx context.Context, p *pool.Pool[int]) error {
	_, err := p.Acquire(ctx) // want `^leaserelease: lease from p.Acquire is assigned to _, so it can never be released; keep it in a variable and add defer l.Release\(\)$`
	p.TryAcquire(ctx)        // want `lease from p.TryAcquire is discarded, so it can never be released`
	return err
}

// A lease made and ended inside a function literal, or leaked there.
func literals(ctx context.Context, p *pool.Pool[int]) {
	ok := func() error {
		l, err := p.Acquire(ctx)
		if err != nil {
			return err
		}
		defer l.Release()
		return nil
	}
	leaky := func() error {
		l, err := p.Acquire(ctx) // want `not released on the path that returns at line 265`
		if err != nil {
			return err
		}
		_ = l.Value()
		return nil
	}
	_, _ = ok(), leaky()
}

// Pool.With releases by itself.
func with(ctx context.Context, p *pool.Pool[int]) error {
	return p.With(ctx, func(v int) error { return use(v) })
}

// Nil checks on the lease itself prune like error checks.
func nilChecks(ctx context.Context, p *pool.Pool[int]) {
	l, _ := p.TryAcquire(ctx)
	if l == nil {
		return
	}
	l.Release()
}

func notNil(ctx context.Context, p *pool.Pool[int]) {
	l, _ := p.TryAcquire(ctx)
	if l != nil {
		l.Release()
	}
}

// Generic pools of any resource type.
type conn struct{ id int }

func generic(ctx context.Context, p *pool.Pool[*conn]) int {
	l, err := p.Acquire(ctx) // want `lease from p.Acquire is not released on the path that returns at line 299`
	if err != nil {
		return 0
	}
	return l.Value().id
}

// An unrelated Acquire method is not a pool's.
type semaphore struct{}

func (semaphore) Acquire(ctx context.Context) (*conn, error) { return nil, nil }

func unrelated(ctx context.Context, s semaphore) int {
	c, err := s.Acquire(ctx)
	if err != nil {
		return 0
	}
	return c.id
}

// Dead code is not a path.
func dead(ctx context.Context, p *pool.Pool[int]) {
	return
	l, _ := p.Acquire(ctx)
	_ = l
}

// A var declaration keeps a lease as an assignment does.
func varDecl(ctx context.Context, p *pool.Pool[int], n int) error {
	var l, err = p.Acquire(ctx) // want `not released on the path that returns at line 329`
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	l.Release()
	return nil
}
