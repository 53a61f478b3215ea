package cleanup_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/testkit"
)

func TestCloseRunsStepsLastInFirstOutOnce(t *testing.T) {
	s := cleanup.New(t.Name())
	var got []string
	for _, name := range []string{"a", "b", "c"} {
		s.Defer(name, func(context.Context) error {
			got = append(got, name)
			return nil
		})
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if want := "c b a"; strings.Join(got, " ") != want {
		t.Fatalf("steps ran %q, want %q (each once, last deferred first)", got, want)
	}
}

func TestCloseWithNoSteps(t *testing.T) {
	if err := cleanup.New(t.Name()).Close(context.Background()); err != nil {
		t.Fatalf("Close of an empty scope = %v", err)
	}
}

type closer struct {
	err    error
	closed int
}

func (c *closer) Close() error { c.closed++; return c.err }

func TestDeferClose(t *testing.T) {
	s := cleanup.New(t.Name())
	ok, bad := &closer{}, &closer{err: io.ErrClosedPipe}
	s.DeferClose("ok", ok)
	s.DeferClose("bad", bad)
	line := testkit.Here(-1)
	err := s.Close(context.Background())
	if ok.closed != 1 || bad.closed != 1 {
		t.Fatalf("closed ok %d times and bad %d times, want once each", ok.closed, bad.closed)
	}
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Close = %v, want errors.Is io.ErrClosedPipe", err)
	}
	want := fmt.Sprintf(`cleanup %q: step "bad": io: read/write on closed pipe (deferred at %s)`, t.Name(), line)
	if err.Error() != want {
		t.Fatalf("Close error:\n got %s\nwant %s", err, want)
	}
}

var errA, errB = errors.New("a failed"), errors.New("b failed")

func TestErrorsAggregatedInRunOrder(t *testing.T) {
	s := cleanup.New("app")
	s.Defer("a", func(context.Context) error { return errA })
	lineA := testkit.Here(-1)
	s.Defer("ok", func(context.Context) error { return nil })
	s.Defer("b", func(context.Context) error { return errB })
	lineB := testkit.Here(-1)
	err := s.Close(context.Background())
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("Close = %v; want errors.Is to find both step errors", err)
	}
	var se *cleanup.StepError
	if !errors.As(err, &se) || se.Step != "b" || se.Scope != "app" || se.Deferred != lineB {
		t.Fatalf("errors.As StepError = %+v, want the first failure in run order: b at %s", se, lineB)
	}
	want := "cleanup \"app\": 2 steps failed (in run order):\n" +
		"\t* step \"b\": b failed (deferred at " + lineB + ")\n" +
		"\t* step \"a\": a failed (deferred at " + lineA + ")"
	if err.Error() != want {
		t.Fatalf("Close error:\n got %s\nwant %s", err, want)
	}
	if again := s.Close(context.Background()); again != err {
		t.Fatalf("second Close = %v, want the first result", again)
	}
}

// TestAggregateIndentsMultilineStepErrors: a step whose error spans lines
// (a group's Wait, say) keeps its later lines under its own item, as
// supervise's lists do, instead of starting them at the margin, where they
// would read as lines of the list.
func TestAggregateIndentsMultilineStepErrors(t *testing.T) {
	s := cleanup.New("app")
	s.Defer("workers", func(context.Context) error { return errors.New("2 tasks failed:\n* a\n* b") })
	lineW := testkit.Here(-1)
	s.Defer("db", func(context.Context) error { return errA })
	lineDB := testkit.Here(-1)
	err := s.Close(context.Background())
	want := "cleanup \"app\": 2 steps failed (in run order):\n" +
		"\t* step \"db\": a failed (deferred at " + lineDB + ")\n" +
		"\t* step \"workers\": 2 tasks failed:\n\t  * a\n\t  * b (deferred at " + lineW + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("Close error:\n got %v\nwant %s", err, want)
	}
}

func TestPanickingStepIsRecoveredAndTheRestRun(t *testing.T) {
	s := cleanup.New(t.Name())
	ran := false
	s.Defer("after", func(context.Context) error { ran = true; return nil })
	s.Defer("boom", func(context.Context) error {
		var m map[string]int
		m["x"] = 1 // panics: assignment to entry in nil map
		return nil
	})
	panicLine := testkit.Here(-3)
	err := s.Close(context.Background())
	if !ran {
		t.Fatal("the step after the panicking one did not run")
	}
	var pe *cleanup.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Close = %v, want a *PanicError", err)
	}
	if pe.At != panicLine {
		t.Fatalf("PanicError.At = %s, want %s", pe.At, panicLine)
	}
	if !strings.Contains(string(pe.Stack), "TestPanickingStepIsRecoveredAndTheRestRun") ||
		strings.Contains(string(pe.Stack), "conc/panics") {
		t.Fatalf("PanicError.Stack should start at the panicking function:\n%s", pe.Stack)
	}
	var rerr runtime.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("errors.As(runtime.Error) failed through %v", err)
	}
	if want := `step "boom" panicked at ` + panicLine + ": assignment to entry in nil map"; !strings.Contains(err.Error(), want) {
		t.Fatalf("Close error %q does not contain %q", err, want)
	}
}

func TestGoexitInStep(t *testing.T) {
	s := cleanup.New(t.Name())
	ran := false
	s.Defer("after", func(context.Context) error { ran = true; return nil })
	s.Defer("exits", func(context.Context) error { runtime.Goexit(); return nil })
	err := s.Close(context.Background())
	if !errors.Is(err, cleanup.ErrGoexit) || !ran {
		t.Fatalf("Close = %v, ran after = %v; want ErrGoexit and the next step run", err, ran)
	}
}

func TestConcurrentCloseWaitsForTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New(t.Name())
		release := make(chan struct{})
		runs := 0
		s.Defer("slow", func(context.Context) error {
			runs++
			<-release
			return errA
		})
		const n = 5
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.Close(context.Background()) })
		}
		synctest.Wait() // one Close runs the step, the others wait for it
		close(release)
		wg.Wait()
		if runs != 1 {
			t.Fatalf("step ran %d times, want 1", runs)
		}
		for i, err := range errs {
			if err != errs[0] || !errors.Is(err, errA) {
				t.Fatalf("Close #%d = %v, want the same error as #0 (%v)", i, err, errs[0])
			}
		}
	})
}

func TestLaterCloseGivesUpWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New(t.Name())
		release := make(chan struct{})
		s.Defer("slow", func(context.Context) error { <-release; return nil })
		first := make(chan error)
		go func() { first <- s.Close(context.Background()) }()
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Close(ctx)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "another goroutine") {
			t.Fatalf("Close with a canceled ctx while another Close runs = %v", err)
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatalf("first Close = %v", err)
		}
	})
}

func TestDeferDuringCloseRunsNext(t *testing.T) {
	s := cleanup.New(t.Name())
	var got []string
	s.Defer("first", func(context.Context) error { got = append(got, "first"); return nil })
	s.Defer("adds", func(context.Context) error {
		got = append(got, "adds")
		s.Defer("added", func(context.Context) error { got = append(got, "added"); return nil })
		return nil
	})
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := "adds added first"; strings.Join(got, " ") != want {
		t.Fatalf("ran %q, want %q", got, want)
	}
}

func TestDeferAfterCloseRunsAtOnce(t *testing.T) {
	sink := newLogSink()
	s := cleanup.New(t.Name(), cleanup.Logger(sink.logger()))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ran := false
	s.Defer("late ok", func(ctx context.Context) error { ran = true; return nil })
	if !ran {
		t.Fatal("a step deferred after Close did not run before Defer returned")
	}
	if len(sink.ch) != 0 {
		t.Fatalf("a late step that succeeded was logged: %v", (<-sink.ch).Message)
	}
	s.Defer("late bad", func(ctx context.Context) error { return errA })
	line := testkit.Here(-1)
	if len(sink.ch) != 1 {
		t.Fatalf("a late step that failed logged %d records, want 1", len(sink.ch))
	}
	r := <-sink.ch
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	if attrs["step"] != "late bad" || attrs["deferred"] != line || !strings.Contains(attrs["err"], "a failed") {
		t.Fatalf("late failure logged %q with %v; want step, deferred site %s and err", r.Message, attrs, line)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close after a late step = %v, want the first result (nil)", err)
	}
}

func TestBadInput(t *testing.T) {
	s := cleanup.New(t.Name())
	defer s.Close(context.Background())
	fn := func(context.Context) error { return nil }
	testkit.WantPanic(t, "New empty", func() { cleanup.New("") }, "cleanup: ", "needs a name")
	testkit.WantPanic(t, "New nil option", func() { cleanup.New("x", nil) }, "cleanup: ", `"x"`, "option 0 is nil")
	testkit.WantPanic(t, "Defer empty name", func() { s.Defer("", fn) }, "cleanup: ", t.Name(), "needs a name")
	testkit.WantPanic(t, "Defer nil fn", func() { s.Defer("step", nil) }, "cleanup: ", `Defer("step", nil)`)
	testkit.WantPanic(t, "DeferClose nil", func() { s.DeferClose("file", nil) }, "cleanup: ", `DeferClose("file", nil)`)
	testkit.WantPanic(t, "Close nil ctx", func() { s.Close(nil) }, "cleanup: ", "Close(nil)") //nolint:staticcheck // testing the nil check
	testkit.WantPanic(t, "StepTimeout negative", func() { cleanup.StepTimeout(-1) }, "cleanup: ", "StepTimeout(-1ns)")
	testkit.WantPanic(t, "OwnedBy nil", func() { cleanup.OwnedBy(nil) }, "cleanup: ", "OwnedBy(nil)") //nolint:staticcheck // testing the nil check

	// A Scope not made by New, nil or zero, is misuse named as such, not a
	// nil dereference or a close of a nil channel.
	var none *cleanup.Scope
	var zero cleanup.Scope
	ctx := context.Background()
	for _, tc := range []struct {
		name, what string
		s          *cleanup.Scope
	}{{"nil", "a nil *Scope", none}, {"zero", "a zero Scope", &zero}} {
		testkit.WantPanic(t, tc.name+" Defer", func() { tc.s.Defer("step", fn) }, "cleanup: Defer called on "+tc.what, "cleanup.New")
		testkit.WantPanic(t, tc.name+" DeferClose", func() { tc.s.DeferClose("file", io.NopCloser(nil)) }, "cleanup: DeferClose called on "+tc.what, "cleanup.New")
		testkit.WantPanic(t, tc.name+" Close", func() { tc.s.Close(ctx) }, "cleanup: Close called on "+tc.what, "cleanup.New")
	}
}
