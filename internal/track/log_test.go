package track_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/track"
)

type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

// TestLogRecoversTheHandlersPanic: Log returns a handler's panic, with the
// handler's line, instead of letting it unwind the caller.
func TestLogRecoversTheHandlersPanic(t *testing.T) {
	err := track.Log(slog.New(panicHandler{}), slog.LevelDebug, "msg")
	if err == nil || !strings.Contains(err.Error(), "handler bug") || !strings.Contains(err.Error(), "log_test.go:") {
		t.Fatalf("Log with a panicking handler = %v; want the panic and the handler's line", err)
	}
	if err := track.Log(slog.New(slog.DiscardHandler), slog.LevelInfo, "msg"); err != nil {
		t.Fatalf("Log = %v, want nil", err)
	}
}
