package guard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// taskCtx returns a context that runs as the task path, the way supervise
// will provide it.
func taskCtx(t testing.TB, path string) context.Context {
	return track.WithTask(t.Context(), &track.Task{Path: path})
}

// mustPanic runs f and returns its panic message, failing if it does not
// panic.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("did not panic")
		}
		msg, _ = r.(string)
		if !strings.HasPrefix(msg, "guard: ") {
			t.Fatalf("panic %v: want a string starting with %q", r, "guard: ")
		}
	}()
	f()
	return ""
}

func inc(n int) (int, error) { return n + 1, nil }

func unixNano(n int64) time.Time { return time.Unix(0, n) }
