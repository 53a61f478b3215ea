package track_test

import (
	"runtime"
	"testing"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
)

// visits returns how many times Objects visited o, and the ids it gave.
func visits(o *object) (n int, ids []uint64) {
	track.Objects(func(obj track.Object) {
		if p, ok := obj.Value.(*object); ok && p == o {
			n++
			ids = append(ids, obj.ID)
		}
	})
	return n, ids
}

func TestObjectsVisitsLiveObjectsOnce(t *testing.T) {
	a := &object{name: t.Name() + "/a"}
	b := &object{name: t.Name() + "/b"}
	ha := track.Register(a, (*object).describe)
	hb := track.Register(b, (*object).describe)
	defer hb.Unregister()
	na, ida := visits(a)
	nb, idb := visits(b)
	if na != 1 || nb != 1 {
		t.Fatalf("Objects visited a %d times and b %d times, want once each", na, nb)
	}
	if ida[0] == idb[0] {
		t.Fatalf("a and b share the id %d", ida[0])
	}
	// State describes the object as it is now.
	a.mu.Lock()
	a.live = 7
	a.mu.Unlock()
	track.Objects(func(obj track.Object) {
		if obj.Value == any(a) {
			if st := obj.State(); st.Name != a.name || st.Counters[0].Value != 7 {
				t.Errorf("State() = %+v, want name %q and live 7", st, a.name)
			}
		}
	})
	// The id is the registration's: the same on every walk.
	track.Snapshot() // promotes young entries to weak pointers
	if n, again := visits(a); n != 1 || again[0] != ida[0] {
		t.Fatalf("after promotion: %d visits, id %v; want 1 visit, id %d", n, again, ida[0])
	}
	var held track.Object
	track.Objects(func(obj track.Object) {
		if obj.Value == any(a) {
			held = obj
		}
	})
	ha.Unregister()
	if n, _ := visits(a); n != 0 {
		t.Fatalf("Objects visited an unregistered object %d times", n)
	}
	// An Object kept past its unregistration describes nothing.
	if st := held.State(); st.Kind != "" || st.Name != "" {
		t.Fatalf("State() of an unregistered object = %+v, want the zero State", st)
	}
	runtime.KeepAlive(b)
}

func TestObjectsSkipsCollectedAndLost(t *testing.T) {
	// A lost record is a State, not an object: Objects never shows it.
	h := track.Lost(track.State{Kind: track.KindScope, Name: t.Name()})
	defer h.Unregister()
	track.Objects(func(obj track.Object) {
		if obj.State().Name == t.Name() {
			t.Errorf("Objects visited a lost record: %+v", obj.State())
		}
	})

	// A dropped object, once collected, is no longer visited.
	name := t.Name() + "/dropped"
	func() {
		o := &object{name: name}
		track.Register(o, (*object).describe)
	}()
	seen := func() bool {
		found := false
		track.Objects(func(obj track.Object) {
			if p, ok := obj.Value.(*object); ok && p.name == name {
				found = true
			}
		})
		return found
	}
	if !testkit.Collect(t, func() bool { return !seen() }) {
		t.Fatal("a dropped object is still visited after garbage collection")
	}
}

func TestObjectsLetsFnUseTheRegistry(t *testing.T) {
	o := &object{name: t.Name()}
	h := track.Register(o, (*object).describe)
	defer h.Unregister()
	// fn runs outside the registry's locks: registering from it must not
	// deadlock.
	track.Objects(func(obj track.Object) {
		if obj.Value == any(o) {
			inner := &object{name: t.Name() + "/inner"}
			track.Register(inner, (*object).describe).Unregister()
			_ = track.Snapshot()
		}
	})
}
