package leaserelease

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/pool"
)

// Every hand-off below transfers ownership: none is reported.

func returned(ctx context.Context, p *pool.Pool[int]) (*pool.Lease[int], error) {
	l, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func returnedDirectly(ctx context.Context, p *pool.Pool[int]) (*pool.Lease[int], error) {
	return p.Acquire(ctx)
}

type holder struct {
	l    *pool.Lease[int]
	all  []*pool.Lease[int]
	byID map[int]*pool.Lease[int]
}

var global *pool.Lease[int]

func stored(ctx context.Context, p *pool.Pool[int], h *holder) error {
	a, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	h.l = a
	b, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	h.all = append(h.all, b)
	c, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	h.byID[1] = c
	d, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	global = d
	h.l, err = p.Acquire(ctx) // kept in a field from the start
	return err
}

func inLiteral(ctx context.Context, p *pool.Pool[int]) (*holder, error) {
	l, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &holder{l: l}, nil
}

func sent(ctx context.Context, p *pool.Pool[int], ch chan<- *pool.Lease[int]) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	ch <- l
	return nil
}

func consume(l *pool.Lease[int]) { l.Release() }

// Release through a helper.
func passed(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	consume(l)
	return nil
}

func printed(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	fmt.Println(l) // passed to a function: whatever it does, it is not ours to say
	return nil
}

// Captured by a deferred closure.
func deferredClosure(ctx context.Context, p *pool.Pool[int]) (err error) {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			l.Destroy()
			return
		}
		l.Release()
	}()
	return use(l.Value())
}

// Captured by a closure handed to someone else (a task, a callback).
func closurePassed(ctx context.Context, p *pool.Pool[int], run func(func())) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	run(func() { l.Release() })
	return nil
}

// A method value of an end is as good as calling it.
func methodValue(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	release := l.Release
	defer release()
	return use(l.Value())
}

func methodValuePassed(ctx context.Context, p *pool.Pool[int], onDone func(func())) error {
	l, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	onDone(l.Release)
	return nil
}

// A named result handed back by a bare return.
func namedResult(ctx context.Context, p *pool.Pool[int]) (l *pool.Lease[int], err error) {
	l, err = p.Acquire(ctx)
	if err != nil {
		return
	}
	return
}

// A named result that a path gives up on without releasing.
func namedResultDropped(ctx context.Context, p *pool.Pool[int], n int) (l *pool.Lease[int], err error) {
	l, err = p.Acquire(ctx) // want `not released on the path that returns at line 157`
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errBad
	}
	return l, nil
}

// A closure made before the acquire may release it: not ours to follow.
func closureBefore(ctx context.Context, p *pool.Pool[int]) error {
	var l *pool.Lease[int]
	cleanup := func() {
		if l != nil {
			l.Release()
		}
	}
	defer cleanup()
	var err error
	l, err = p.Acquire(ctx)
	return err
}

// Only some paths hand it off; the others must release.
func someHandOff(ctx context.Context, p *pool.Pool[int], keep bool, h *holder) error {
	l, err := p.Acquire(ctx) // want `not released on the path that returns at line 186`
	if err != nil {
		return err
	}
	if keep {
		h.l = l
		return nil
	}
	return errBad
}
