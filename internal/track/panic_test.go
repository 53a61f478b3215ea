package track_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/track"
)

func recoverFrom(f func()) (r track.Recovered) {
	defer func() {
		if v := recover(); v != nil {
			r = track.Recover(0, v)
		}
	}()
	f()
	return r
}

func TestRecoverNamesThePanickingLine(t *testing.T) {
	var line int
	r := recoverFrom(func() {
		_, _, line, _ = runtime.Caller(0)
		panic("boom")
	})
	if r.Value != "boom" {
		t.Fatalf("Value = %v", r.Value)
	}
	if want := "panic_test.go:" + strconv.Itoa(line+1); r.At.String() != want {
		t.Fatalf("At = %s, want %s", r.At, want)
	}
	// The stack starts at the panicking function, not at the recovery.
	_, body, _ := strings.Cut(string(r.Stack), "\n")
	if !strings.HasPrefix(body, "github.com/tether-go/tether/internal/track_test.TestRecoverNamesThePanickingLine.func1") {
		t.Fatalf("stack starts with\n%s", body)
	}
}

func TestRecoverRuntimeErrorNamesTheUserLine(t *testing.T) {
	var line int
	r := recoverFrom(func() {
		var m map[string]int
		_, _, line, _ = runtime.Caller(0)
		m["x"] = 1
	})
	if _, ok := r.Value.(runtime.Error); !ok {
		t.Fatalf("Value = %T, want a runtime.Error", r.Value)
	}
	if want := "panic_test.go:" + strconv.Itoa(line+1); r.At.String() != want {
		t.Fatalf("At = %s, want %s (the line that wrote the nil map)", r.At, want)
	}
}
