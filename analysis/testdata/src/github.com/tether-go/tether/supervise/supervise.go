// Package supervise is a stub of tether's supervise with the signatures of
// DESIGN.md, for the analyzers' tests.
package supervise

import "context"

type Group struct{}
type Option interface{}

func New(ctx context.Context, name string, opts ...Option) *Group      { return &Group{} }
func (g *Group) Go(name string, fn func(ctx context.Context) error)    {}
func (g *Group) Wait() error                                           { return nil }
func (g *Group) Shutdown(ctx context.Context) error                    { return nil }
func (g *Group) Defer(name string, fn func(ctx context.Context) error) {}
func Main(name string, run func(ctx context.Context, g *Group) error)  {}
