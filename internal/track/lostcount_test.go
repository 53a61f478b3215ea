package track_test

import (
	"testing"

	"github.com/tether-go/tether/internal/track"
)

func TestLostCountsByKind(t *testing.T) {
	before := track.LostCounts()
	h1 := track.Lost(track.State{Kind: track.KindScope, Name: t.Name()})
	h2 := track.Lost(track.State{Kind: track.KindScope, Name: t.Name()})
	h3 := track.Lost(track.State{Kind: track.KindGroup, Name: t.Name()})
	got := track.LostCounts()
	if got[track.KindScope] != before[track.KindScope]+2 || got[track.KindGroup] != before[track.KindGroup]+1 {
		t.Fatalf("LostCounts = %v after two scopes and a group lost (before: %v)", got, before)
	}
	h1.Unregister()
	h2.Unregister()
	h3.Unregister()
	if got := track.LostCounts(); got[track.KindScope] != before[track.KindScope] || got[track.KindGroup] != before[track.KindGroup] {
		t.Fatalf("LostCounts = %v after unregistering, want %v", got, before)
	}
}
