// Package cleanup is a stub of tether's cleanup with the signatures of
// DESIGN.md, for the analyzers' tests.
package cleanup

import (
	"context"
	"io"
)

type Scope struct{}
type Option interface{}

func New(name string, opts ...Option) *Scope                           { return &Scope{} }
func (s *Scope) Defer(name string, fn func(ctx context.Context) error) {}
func (s *Scope) DeferClose(name string, c io.Closer)                   {}
func (s *Scope) Close(ctx context.Context) error                       { return nil }
