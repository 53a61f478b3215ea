package leaserelease

import (
	"context"
	"errors"

	"github.com/tether-go/tether/pool"
)

// The error checked the other way round: the lease exists only in the
// err == nil branch.
func errEqualNil(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	if err == nil {
		defer l.Release()
		return use(l.Value())
	}
	return err
}

func errEqualNilLeak(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 26`
	if err == nil {
		_ = use(l.Value())
	}
	return err
}

// The acquire in the if statement's init.
func ifInit(ctx context.Context, p *pool.Pool[int]) error {
	if l, err := p.Acquire(ctx); err == nil {
		l.Release()
	}
	if l, err := p.Acquire(ctx); err != nil { // want `not released on the path that returns at line 39`
		return err
	} else {
		_ = l.Value()
	}
	return nil
}

// errors.Is and errors.As are error checks too.
func errorsIs(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.TryAcquire(ctx)
	if errors.Is(err, pool.ErrExhausted) {
		return nil
	}
	if err != nil {
		return err
	}
	l.Release()
	return nil
}

// Compound conditions: err != nil || ... on the true side says nothing
// alone; both sides must imply the lease is nil.
func compound(ctx context.Context, p *pool.Pool[int], busy bool) error {
	l, err := p.Acquire(ctx)
	if err != nil || l == nil {
		return err
	}
	defer l.Release()
	if busy && err == nil {
		return nil
	}
	return nil
}

func compoundLeak(ctx context.Context, p *pool.Pool[int], busy bool) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 72`
	if err != nil || busy {
		return err
	}
	l.Release()
	return nil
}

// A switch on the error.
func switchErr(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	switch {
	case err != nil:
		return err
	}
	defer l.Release()
	return nil
}

func switchTag(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	switch err {
	case nil:
		l.Release()
		return nil
	default:
		return err
	}
}

// Once err is assigned again, checking it says nothing about the lease.
func errReassigned(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 105`
	_, err = p.Acquire(ctx)  // want `assigned to _`
	if err != nil {
		return err
	}
	l.Release()
	return nil
}

// The error returned without a check: on success the lease leaks.
func unchecked(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 115`
	_ = l.Value
	return err
}
