// Package pool is a stub of tether's pool with the signatures of DESIGN.md,
// for the analyzers' tests: they match by package path, type and method.
package pool

import (
	"context"
	"errors"
)

var ErrExhausted = errors.New("pool: exhausted")

type Pool[T any] struct{}

type Lease[T any] struct{ v T }

func (p *Pool[T]) Acquire(ctx context.Context) (*Lease[T], error)    { return &Lease[T]{}, nil }
func (p *Pool[T]) TryAcquire(ctx context.Context) (*Lease[T], error) { return &Lease[T]{}, nil }
func (p *Pool[T]) With(ctx context.Context, fn func(T) error) error  { var v T; return fn(v) }
func (p *Pool[T]) Shutdown(ctx context.Context) error                { return nil }
func (p *Pool[T]) Close() error                                      { return nil }
func (l *Lease[T]) Value() T                                         { return l.v }
func (l *Lease[T]) Release()                                         {}
func (l *Lease[T]) Destroy()                                         {}
func (l *Lease[T]) Detach() T                                        { return l.v }
