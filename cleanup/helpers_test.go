package cleanup_test

import (
	"context"
	"log/slog"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
)

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

// findScope returns the registry state of the scope named name.
func findScope(name string) (track.State, bool) { return testkit.Registered(track.KindScope, name) }
