package track_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/track"
)

type object struct {
	name string
	mu   sync.Mutex
	live int
}

func (o *object) describe() track.State {
	o.mu.Lock()
	defer o.mu.Unlock()
	return track.State{
		Kind:     track.KindPool,
		Name:     o.name,
		Counters: []track.Counter{{Name: "live", Value: int64(o.live)}},
	}
}

// find returns the snapshot state named name, if present.
func find(name string) (track.State, bool) {
	for _, st := range track.Snapshot() {
		if st.Name == name {
			return st, true
		}
	}
	return track.State{}, false
}

func TestRegisterSnapshotUnregister(t *testing.T) {
	o := &object{name: t.Name(), live: 3}
	h := track.Register(o, (*object).describe)
	st, ok := find(t.Name())
	if !ok {
		t.Fatal("registered object missing from Snapshot")
	}
	if st.Kind != track.KindPool || len(st.Counters) != 1 || st.Counters[0].Value != 3 {
		t.Fatalf("Snapshot state = %+v, want kind pool with live=3", st)
	}
	// The snapshot describes the object as it is now.
	o.mu.Lock()
	o.live = 5
	o.mu.Unlock()
	if st, _ := find(t.Name()); st.Counters[0].Value != 5 {
		t.Fatalf("second Snapshot live = %d, want 5", st.Counters[0].Value)
	}
	h.Unregister()
	if _, ok := find(t.Name()); ok {
		t.Fatal("object still in Snapshot after Unregister")
	}
	h.Unregister() // idempotent
	track.Handle{}.Unregister()
	runtime.KeepAlive(o)
}

func TestSnapshotOrder(t *testing.T) {
	var objs []*object
	var hs []track.Handle
	for i := range 40 { // more than the shard count, so ids wrap shards
		o := &object{name: fmt.Sprintf("%s/%02d", t.Name(), i)}
		objs = append(objs, o)
		hs = append(hs, track.Register(o, (*object).describe))
	}
	defer func() {
		for _, h := range hs {
			h.Unregister()
		}
	}()
	var got []string
	for _, st := range track.Snapshot() {
		if len(st.Name) > len(t.Name()) && st.Name[:len(t.Name())] == t.Name() {
			got = append(got, st.Name)
		}
	}
	if len(got) != len(objs) {
		t.Fatalf("Snapshot has %d of our objects, want %d", len(got), len(objs))
	}
	for i, name := range got {
		if name != objs[i].name {
			t.Fatalf("Snapshot[%d] = %s, want %s (registration order)", i, name, objs[i].name)
		}
	}
	runtime.KeepAlive(objs)
}

// collectAll runs the garbage collector until want objects have reported
// their collection on ch, or the test's deadline nears. It returns how many
// did.
func collectAll(t *testing.T, ch chan struct{}, want int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := t.Deadline(); ok && d.Add(-time.Second).Before(deadline) {
		deadline = d.Add(-time.Second)
	}
	got := 0
	for got < want && time.Now().Before(deadline) {
		runtime.GC()
		for len(ch) > 0 {
			<-ch
			got++
		}
		runtime.Gosched()
	}
	return got
}

func registerDropped(t *testing.T, n int, ch chan struct{}) {
	for i := range n {
		o := &object{name: fmt.Sprintf("%s/%d", t.Name(), i)}
		runtime.AddCleanup(o, func(ch chan struct{}) { ch <- struct{}{} }, ch)
		track.Register(o, (*object).describe)
	}
}

// TestRegistryDoesNotKeepAlive registers objects, drops them, and checks that
// once a Snapshot has promoted them the garbage collector collects them, that
// they vanish from snapshots, and that their entries are pruned.
func TestRegistryDoesNotKeepAlive(t *testing.T) {
	const n = 500
	collected := make(chan struct{}, n)
	registerDropped(t, n, collected)
	track.Snapshot() // promotes every young entry to a weak pointer
	if got := collectAll(t, collected, n); got < n {
		t.Fatalf("only %d of %d registered objects were collected after a Snapshot: the registry keeps them alive", got, n)
	}
	for _, st := range track.Snapshot() {
		if len(st.Name) > len(t.Name()) && st.Name[:len(t.Name())] == t.Name() {
			t.Fatalf("collected object %s still in Snapshot", st.Name)
		}
	}
}

// TestRegistryPromotesWithoutSnapshot checks that a program that never takes
// a snapshot still lets dropped objects go: all but the youngest few per
// shard are promoted to weak pointers by later registrations.
func TestRegistryPromotesWithoutSnapshot(t *testing.T) {
	track.Snapshot() // start with no young entries
	const n = 4000
	const maxYoung = 16 * 64 // shardCount * youngLimit
	collected := make(chan struct{}, n)
	registerDropped(t, n, collected)
	if got := collectAll(t, collected, n-maxYoung); got < n-maxYoung {
		t.Fatalf("%d of %d dropped objects were collected, want at least %d: young entries are never promoted",
			got, n, n-maxYoung)
	}
}

// TestRegistryDoesNotGrowWithoutBound drops objects round after round, in a
// program that never takes a snapshot: registration prunes the entries of
// collected objects, so the registry stays bounded by a few rounds' worth,
// whatever state earlier tests (or runs, with -count) left it in.
func TestRegistryDoesNotGrowWithoutBound(t *testing.T) {
	const batch, rounds = 4096, 6
	for range rounds {
		collected := make(chan struct{}, batch)
		registerDropped(t, batch, collected)
		collectAll(t, collected, batch-16*64) // all but the youngest
	}
	if n, bound := track.RegistryLen(), 3*batch; n > bound {
		t.Fatalf("registry holds %d entries after %d rounds of %d dropped objects, want at most %d: dead entries are not pruned",
			n, rounds, batch, bound)
	}
}

func TestRegisterRejectsNil(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Register(nil, ...) did not panic")
		}
	}()
	track.Register[object](nil, (*object).describe)
}

func TestRegistryConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				o := &object{name: fmt.Sprintf("%s/%d/%d", t.Name(), g, i)}
				h := track.Register(o, (*object).describe)
				if i%10 == 0 {
					track.Snapshot()
				}
				h.Unregister()
			}
		})
	}
	wg.Wait()
	for _, st := range track.Snapshot() {
		if len(st.Name) > len(t.Name()) && st.Name[:len(t.Name())] == t.Name() {
			t.Fatalf("unregistered object %s in Snapshot", st.Name)
		}
	}
}

func BenchmarkRegister(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := &object{}
			track.Register(o, (*object).describe).Unregister()
		}
	})
}

// TestRegistryPromotesOnEveryCollection drops a few objects in a program
// that then does nothing but collect garbage: no registration, no
// Snapshot. Each cycle promotes the young entries, so the next collects
// them.
func TestRegistryPromotesOnEveryCollection(t *testing.T) {
	const n = 3 // far fewer than a shard's young limit
	collected := make(chan struct{}, n)
	registerDropped(t, n, collected)
	if got := collectAll(t, collected, n); got < n {
		t.Fatalf("%d of %d dropped objects collected by garbage collections alone: young entries are promoted only by registrations or snapshots", got, n)
	}
}
