package supervise_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/supervise"
)

func TestEventsOfEachOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		g.Go("ok", func(context.Context) error { time.Sleep(time.Second); return nil })
		g.Go("echo", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		g.Go("bad", func(context.Context) error { time.Sleep(2 * time.Second); return errBoom })
		synctest.Wait()
		time.Sleep(3 * time.Second)
		g.Go("late", func(context.Context) error { return nil })
		g.Wait()

		for task, want := range map[string][]string{
			"app/ok":   {"started", "completed"},
			"app/echo": {"started", "canceled"},
			"app/bad":  {"started", "failed"},
			"app/late": {"skipped"},
		} {
			if got := rec.kinds(task); !slices.Equal(got, want) {
				t.Errorf("events of %s: %v, want %v", task, got, want)
			}
		}
		failed := rec.eventsOf(supervise.Failed)[0]
		if failed.Group != "app" || failed.Duration != 2*time.Second || failed.Err != errBoom || failed.Site == "" {
			t.Errorf("Failed event %+v", failed)
		}
		if c := rec.eventsOf(supervise.Completed)[0]; c.Duration != time.Second {
			t.Errorf("Completed event %+v, want duration 1s", c)
		}

		levels := map[string]slog.Level{}
		for _, r := range rec.logs() {
			a := attrs(r)
			levels[a["task"]+" "+r.Message] = r.Level
			if r.Message == "supervise: task failed" {
				if a["group"] != "app" || a["duration"] != "2s" || a["err"] != "boom" || a["site"] == "" {
					t.Errorf("failure log attrs %v", a)
				}
			}
		}
		for key, want := range map[string]slog.Level{
			"app/ok supervise: task started":    slog.LevelDebug,
			"app/ok supervise: task completed":  slog.LevelDebug,
			"app/echo supervise: task canceled": slog.LevelDebug,
			"app/bad supervise: task failed":    slog.LevelError,
			"app/late supervise: task skipped":  slog.LevelInfo,
		} {
			if got, ok := levels[key]; !ok || got != want {
				t.Errorf("log %q at %v (logged: %v), want %v", key, got, ok, want)
			}
		}
	})
}

func TestDefaultLoggerSkipsDebugEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		h := slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelInfo})
		hooked := levelHandler{h, rec}
		g := supervise.New(context.Background(), "app", supervise.Logger(slog.New(hooked)))
		g.Go("ok", func(context.Context) error { return nil })
		g.Go("bad", func(context.Context) error { return errBoom })
		g.Wait()
		for _, r := range rec.logs() {
			if r.Level < slog.LevelInfo {
				t.Fatalf("a debug event reached a handler that disabled it: %s", r.Message)
			}
		}
		if len(rec.logs()) != 1 {
			t.Fatalf("logged %d records at Info and above, want 1 (the failure)", len(rec.logs()))
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// levelHandler records what its inner handler lets through.
type levelHandler struct {
	slog.Handler
	rec *recorder
}

func (h levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return recordHandler{h.rec}.Handle(ctx, r)
}

func TestRestartEventsCarryBackoffAndAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		runs := 0
		g.Go("w", func(context.Context) error {
			runs++
			if runs <= 2 {
				time.Sleep(3 * time.Second)
				return errBoom
			}
			time.Sleep(2 * time.Second)
			return nil
		}, supervise.Restart(supervise.Policy{MinBackoff: time.Second}), supervise.JitterSource(func() float64 { return 0 }))
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		rs := rec.eventsOf(supervise.Restarting)
		if len(rs) != 2 || rs[0].Restarts != 0 || rs[1].Restarts != 1 || rs[0].Backoff != time.Second ||
			rs[1].Backoff != time.Second || !errors.Is(rs[1].Err, errBoom) || rs[1].Duration != 3*time.Second {
			t.Fatalf("Restarting events %+v", rs)
		}
		if c := rec.eventsOf(supervise.Completed); len(c) != 1 || c[0].Duration != 2*time.Second || c[0].Restarts != 2 {
			t.Fatalf("Completed events %+v, want the last run's 2s after 2 restarts", c)
		}
		for _, r := range rec.logs() {
			if r.Message == "supervise: task restarting" && (r.Level != slog.LevelWarn || attrs(r)["backoff"] != "1s") {
				t.Fatalf("restart logged at %v with %v", r.Level, attrs(r))
			}
		}
	})
}

// panickingHandler is a slog.Handler whose Handle panics.
type panickingHandler struct{}

func (panickingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (panickingHandler) Handle(context.Context, slog.Record) error {
	panic("handler broke")
}
func (h panickingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panickingHandler) WithGroup(string) slog.Handler      { return h }

func TestPanickingHookIsRecoveredAndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		hookLine := testkit.Here(3)
		hook := func(e supervise.Event) {
			if e.Kind == supervise.Started {
				panic("hook broke")
			}
		}
		g := supervise.New(context.Background(), "app", supervise.OnEvent(hook), supervise.Logger(slog.New(recordHandler{rec})))
		release := make(chan struct{})
		g.Go("w", func(context.Context) error { <-release; return nil })
		synctest.Wait() // w has started (and its event made the hook panic)
		if err := g.Run(context.Background(), "req", func(context.Context) error { return nil }); err != nil {
			t.Fatalf("Run = %v: a panicking hook must not fail the task", err)
		}
		synctest.Wait()
		var logged int
		for _, r := range rec.logs() {
			if r.Message == "supervise: OnEvent hook panicked" && attrs(r)["at"] == hookLine && strings.Contains(attrs(r)["stack"], "TestPanickingHookIsRecoveredAndReported") {
				logged++
			}
		}
		if logged != 2 {
			t.Errorf("%d logs of the hook's panic at %s with its stack, want 2: %v", logged, hookLine, rec.logs())
		}
		close(release)
		err := g.Wait()
		want := `supervise: group "app": OnEvent hook panicked at ` + hookLine + ` (2 times): hook broke`
		if err == nil || err.Error() != want || len(taskErrors(err)) != 0 {
			t.Fatalf("Wait = %v\nwant %s (and no task failure)", err, want)
		}
	})
}

func TestPanickingLogHandlerIsRecoveredAndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", supervise.Logger(slog.New(panickingHandler{})))
		g.Go("w", func(context.Context) error { return errBoom })
		err := g.Wait()
		if tes := taskErrors(err); len(tes) != 1 || tes[0].Task != "app/w" {
			t.Fatalf("Wait = %v, want the task's failure", err)
		}
		if !strings.Contains(err.Error(), `group "app": logger handler panicked at events_test.go:`) ||
			!strings.Contains(err.Error(), `: handler broke`) {
			t.Fatalf("Wait = %v, want the handler's panic named with its line", err)
		}
	})
}

func TestMainSurvivesAPanickingLogHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stderr bytes.Buffer
		code := -1
		supervise.Main("app", func(ctx context.Context, g *supervise.Group) error { return nil },
			supervise.MainContext(t.Context()), supervise.Signals(), supervise.Stderr(&stderr),
			supervise.Exit(func(c int) { code = c }),
			supervise.GroupOptions(supervise.Logger(slog.New(panickingHandler{}))))
		if code != 1 || !strings.Contains(stderr.String(), "logger handler panicked at events_test.go:") {
			t.Fatalf("exit %d, stderr:\n%s\nwant 1 and the handler's panic named", code, stderr.String())
		}
	})
}
