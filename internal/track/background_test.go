package track_test

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
)

func TestHandleGoRecordsTheGoroutine(t *testing.T) {
	o := &object{name: t.Name()}
	h := track.Register(o, (*object).describe)
	defer h.Unregister()
	stop := make(chan struct{})
	ran := make(chan uint64)
	h.Go("watchdog", func() {
		var buf [64]byte
		ran <- stack.ID(buf[:runtime.Stack(buf[:], false)])
		<-stop
	})
	gid := <-ran
	st, ok := find(t.Name())
	if !ok || st.ID == 0 || len(st.Goroutines) != 1 || st.Goroutines[0] != (track.Goroutine{Name: "watchdog", ID: gid}) {
		t.Fatalf("state %+v (found %v); want one goroutine named watchdog with id %d", st, ok, gid)
	}
	// The goroutine carries the object's id in its labels, which the
	// goroutine profile always shows.
	var prof bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&prof, 1); err != nil {
		t.Fatal(err)
	}
	labelled := 0
	for _, g := range stack.ParseProfile(prof.Bytes()) {
		if g.Label(track.LabelObject) == strconv.FormatUint(st.ID, 10) {
			labelled += g.Count
		}
	}
	if labelled != 1 {
		t.Fatalf("%d goroutines labelled %s=%d, want 1", labelled, track.LabelObject, st.ID)
	}
	close(stop)
	if !testkit.Collect(t, func() bool { st, _ := find(t.Name()); return len(st.Goroutines) == 0 }) {
		t.Fatal("the goroutine ended but is still recorded")
	}
	runtime.KeepAlive(o)
}

func TestHandleGoMisuse(t *testing.T) {
	testkit.WantPanic(t, "zero Handle", func() { track.Handle{}.Go("x", func() {}) }, "track: Go(\"x\")", "registered object")
	lost := track.Lost(track.State{Kind: track.KindScope, Name: t.Name()})
	defer lost.Unregister()
	testkit.WantPanic(t, "lost Handle", func() { lost.Go("x", func() {}) }, "registered object")
}
