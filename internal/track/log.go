package track

import (
	"context"
	"fmt"
	"log/slog"
)

// Log writes a record to l, or to slog.Default() when l is nil, and
// recovers a panic of the logger's handler: tether logs what it cannot
// return (a lost scope, a failed late step) from cleanup goroutines and
// from its callers' own calls, where a handler's bug must not crash the
// process or unwind the caller. It returns nil, or an error naming the
// handler's panic and the line that panicked, for the caller to report
// where its failures go. After a panic of l's handler, the record is written
// to slog.Default() instead (unless l is the default's), itself recovered.
func Log(l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) (panicked error) {
	def := slog.Default()
	if l == nil {
		l = def
	}
	defer func() {
		if v := recover(); v != nil {
			r := Recover(0, v)
			panicked = fmt.Errorf("the logger's handler panicked at %s: %v", r.At, v)
			if l != def {
				defer func() { _ = recover() }()
				def.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("logger_panic", panicked.Error()))...)
			}
		}
	}()
	l.LogAttrs(context.Background(), level, msg, attrs...)
	return nil
}
