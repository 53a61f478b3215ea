// Package testkit holds the small helpers tether's own tests share, so each
// package's tests do not grow their own copy.
package testkit

import (
	"fmt"
	"strings"
	"testing"

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
