// Package scopeclose holds the analyzer's test cases.
package scopeclose

import (
	"context"
	"errors"
	"os"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/supervise"
)

func work(*os.File) error { return nil }

func deferredClose(ctx context.Context, f *os.File) error {
	s := cleanup.New("request")
	defer s.Close(ctx)
	s.DeferClose("file", f)
	return work(f)
}

func earlyReturn(ctx context.Context, f *os.File) error {
	s := cleanup.New("request") // want `^scopeclose: scope from cleanup.New is not closed on the path that returns at line 26; add defer s.Close\(ctx\)$`
	s.DeferClose("file", f)
	if err := work(f); err != nil {
		return err
	}
	return s.Close(ctx)
}

func never(f *os.File) {
	s := cleanup.New("request") // want `not closed on the path that reaches the end of the function at line 34`
	s.DeferClose("file", f)
}

// Its Close handed to the group that owns it: a method value of Close.
func toGroup(g *supervise.Group, f *os.File) {
	s := cleanup.New("request")
	s.DeferClose("file", f)
	g.Defer("request", s.Close)
}

// Steps that capture their own scope do not close it.
func stepsCapture(ctx context.Context) {
	s := cleanup.New("request") // want `not closed`
	s.Defer("inner", func(ctx context.Context) error {
		s.DeferClose("late", os.Stdin)
		return nil
	})
}

func returned() *cleanup.Scope {
	s := cleanup.New("request")
	return s
}

func inClosure(ctx context.Context, g *supervise.Group) {
	s := cleanup.New("request")
	g.Defer("request", func(ctx context.Context) error { return s.Close(ctx) })
}

func discarded(f *os.File) {
	cleanup.New("request").DeferClose("file", f) // want `^scopeclose: scope from cleanup.New is not kept \(only its DeferClose is used\), so it can never be closed; keep it in a variable and add defer s.Close\(ctx\)$`
}

func closeError(ctx context.Context) error {
	s := cleanup.New("request")
	if err := s.Close(ctx); err != nil {
		return errors.Join(errors.New("close"), err)
	}
	return nil
}
