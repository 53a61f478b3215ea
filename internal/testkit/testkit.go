// Package testkit holds the small helpers tether's own tests share, so each
// package's tests do not grow their own copy.
package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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

// ReportCPU reports the process's CPU time per op (cpu-ns/op) when the
// benchmark ends. Call it as `defer testkit.ReportCPU(b)()` after the
// benchmark's setup.
func ReportCPU(b *testing.B) func() {
	cpu0 := ProcessCPU()
	return func() {
		if cpu := ProcessCPU() - cpu0; cpu > 0 && b.N > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// WantReadmeShows fails t unless the README at readme shows, in the code
// block right after the Markdown link to file (its path from the README),
// the function fn of that file (its declaration line and body) exactly,
// so that the README never shows code that does not build. srcPath is the
// file's path from the test's directory.
func WantReadmeShows(t testing.TB, readme, file, srcPath, fn string) {
	t.Helper()
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	link := "[`" + file + "`](" + file + "):\n\n```go\n"
	_, block, ok := strings.Cut(string(text), link)
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 {
		t.Fatalf("%s has no code block right after the link to %s", readme, file)
	}
	decl := "func " + fn + "() {"
	_, body, ok := strings.Cut(string(src), "\n"+decl)
	if !ok {
		t.Fatalf("%s declares no %s", srcPath, decl)
	}
	if want := decl + body; block != want {
		t.Fatalf("%s's block differs from %s in %s:\n--- README\n%s\n--- %s\n%s", readme, fn, file, block, file, want)
	}
}

// Here returns "file.go:LINE" for the line that calls it, plus delta lines:
// the form errors, logs and reports give a site in.
func Here(delta int) string {
	_, file, line, _ := runtime.Caller(1)
	return filepath.Base(file) + ":" + strconv.Itoa(line+delta)
}

// HereSite returns the site of the line that calls it, captured as a
// pool's Acquire captures its caller's, and that line's number.
//
//go:noinline
func HereSite() (track.Site, int) {
	_, _, line, _ := runtime.Caller(1)
	return track.Caller(0), line
}
