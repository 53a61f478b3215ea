package cleanup_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/track"
)

// here returns "file.go:LINE" of its caller, plus delta lines.
func here(delta int) string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line+delta)
}

// logSink is a slog.Handler that hands every record to a channel.
type logSink struct{ ch chan slog.Record }

func newLogSink() *logSink { return &logSink{ch: make(chan slog.Record, 16)} }

func (h *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (h *logSink) Handle(_ context.Context, r slog.Record) error {
	h.ch <- r.Clone()
	return nil
}
func (h *logSink) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logSink) WithGroup(string) slog.Handler      { return h }

func (h *logSink) logger() *slog.Logger { return slog.New(h) }

// wantPanic runs f and fails unless it panics with a message containing
// every one of parts.
func wantPanic(t *testing.T, name string, f func(), parts ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if v == nil {
			t.Errorf("%s: did not panic", name)
			return
		}
		msg := fmt.Sprint(v)
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Errorf("%s: panic %q does not contain %q", name, msg, p)
			}
		}
	}()
	f()
}

// findState returns the registry state of the scope named name.
func findState(name string) (track.State, bool) {
	for _, st := range track.Snapshot() {
		if st.Kind == track.KindScope && st.Name == name {
			return st, true
		}
	}
	return track.State{}, false
}
