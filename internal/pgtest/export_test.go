package pgtest

import "testing"

// WithTB returns a copy of e that reports failures to tb.
func WithTB(e *Env, tb testing.TB) *Env {
	c := *e
	c.t = tb
	return &c
}
