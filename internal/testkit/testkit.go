// Package testkit holds the small helpers tether's own tests share, so each
// package's tests do not grow their own copy.
package testkit

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// WantPanic runs f and fails t unless f panics with a message containing
// every one of parts. name says what was called, for the failure message.
func WantPanic(t testing.TB, name string, f func(), parts ...string) {
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

// Registered returns the registry state of the live object of that kind
// and name (the last registered, if several), as a leak report would see
// it.
func Registered(kind track.Kind, name string) (track.State, bool) {
	var found track.State
	ok := false
	for _, st := range track.Snapshot() {
		if st.Kind == kind && st.Name == name {
			found, ok = st, true
		}
	}
	return found, ok
}

// Collect runs the garbage collector, and nothing else, until done reports
// true or the test's deadline nears (at most 10s), and reports whether done
// did. The collector alone is enough for a dropped object to be collected
// and its checks to fire: the registry lets go of young entries after every
// cycle. The short pause after each collection lets the runtime's cleanup
// goroutine run; done is checked before each collection.
func Collect(t testing.TB, done func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok && d.Add(-time.Second).Before(deadline) {
			deadline = d.Add(-time.Second)
		}
	}
	for time.Now().Before(deadline) {
		if done() {
			return true
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return false
}
