package cleanup_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/track"
)

// panicHandler is a slog.Handler whose Handle panics.
type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

// noPanic runs f and fails the test if a panic escapes it.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("%s: the logger's panic escaped: %v", what, v)
		}
	}()
	f()
}

// TestLateStepFailureWithPanickingLogger: a step deferred after Close fails
// and the scope's logger panics while logging it. The panic must not unwind
// the caller of Defer, and the failure must still be reported: a lost
// record names the step, its error and the handler's panic.
func TestLateStepFailureWithPanickingLogger(t *testing.T) {
	var lost []track.Handle
	s := cleanup.New(t.Name(), cleanup.Logger(slog.New(panicHandler{})),
		cleanup.OnLost(func(h track.Handle) { lost = append(lost, h) }))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	noPanic(t, "Defer after Close", func() {
		s.Defer("late", func(context.Context) error { return errors.New("disk gone") })
	})
	t.Cleanup(func() {
		for _, h := range lost {
			h.Unregister()
		}
	})
	st, ok := findScope(t.Name())
	if !ok || len(lost) != 1 {
		t.Fatalf("no lost record of the unlogged failure (%d records)", len(lost))
	}
	problems := strings.Join(st.Problems, "\n")
	for _, want := range []string{`"late"`, "disk gone", "handler panicked", "handler bug", "logger_test.go:"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the record's problems do not say %q:\n%s", want, problems)
		}
	}
}

// TestLostScopeWithPanickingLogger: the report of a scope collected with
// steps never run runs on the runtime's cleanup goroutine, where a panic
// would crash the process. The handler's panic is recovered and added to
// the lost record.
func TestLostScopeWithPanickingLogger(t *testing.T) {
	s := cleanup.New(t.Name(), cleanup.Logger(slog.New(panicHandler{})))
	s.Defer("db", func(context.Context) error { return nil })
	var h track.Handle
	noPanic(t, "reportLost", func() { h = cleanup.LoseScope(s) })
	defer h.Unregister()
	st, ok := findScope(t.Name())
	if !ok {
		t.Fatal("no lost record")
	}
	problems := fmt.Sprint(st.Problems)
	for _, want := range []string{"steps never ran", "handler panicked", "handler bug"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the record's problems do not say %q: %s", want, problems)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
