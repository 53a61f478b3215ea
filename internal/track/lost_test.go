package track_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/track"
)

func TestLostRecordsAreKeptUntilUnregistered(t *testing.T) {
	h := track.Lost(track.State{Kind: track.KindScope, Name: t.Name(), Problems: []string{"collected with 2 steps never run"}})
	for range 2 { // every snapshot includes it, not only the first
		st, ok := find(t.Name())
		if !ok || len(st.Problems) != 1 {
			t.Fatalf("lost record missing from Snapshot or changed: %+v", st)
		}
	}
	h.Unregister()
	if _, ok := find(t.Name()); ok {
		t.Fatal("lost record still in Snapshot after Unregister")
	}
	h.Unregister() // idempotent
}

func TestLostRecordsAreBounded(t *testing.T) {
	var hs []track.Handle
	defer func() {
		for _, h := range hs {
			h.Unregister()
		}
	}()
	const n = 300 // more than the registry keeps
	for i := range n {
		hs = append(hs, track.Lost(track.State{Kind: track.KindScope, Name: fmt.Sprintf("%s/%03d", t.Name(), i)}))
	}
	var kept []track.State
	for _, st := range track.Snapshot() {
		if strings.HasPrefix(st.Name, t.Name()+"/") {
			kept = append(kept, st)
		}
	}
	if len(kept) == 0 || len(kept) >= n {
		t.Fatalf("kept %d of %d lost records, want a bound below %d", len(kept), n, n)
	}
	last := kept[len(kept)-1]
	if last.Name != fmt.Sprintf("%s/%03d", t.Name(), n-1) {
		t.Fatalf("newest kept record is %s, want the last one", last.Name)
	}
	if len(last.Problems) != 1 || !strings.Contains(last.Problems[0], "earlier lost objects dropped") {
		t.Fatalf("newest record does not say older ones were dropped: %v", last.Problems)
	}
}
