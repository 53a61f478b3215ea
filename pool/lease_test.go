package pool_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"

	"github.com/jackc/puddle/v2"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/pool"
)

// TestPuddleStaleHandleAliasesResource reproduces, on raw puddle, the bug
// tether's generation-checked leases exist to prevent: puddle hands out the
// same *Resource pointer again, so a handle kept after Release can release
// the next holder's resource, and a third caller then gets it too.
func TestPuddleStaleHandleAliasesResource(t *testing.T) {
	n := 0
	p, err := puddle.NewPool(&puddle.Config[int]{
		Constructor: func(context.Context) (int, error) { n++; return n, nil },
		Destructor:  func(int) {},
		MaxSize:     1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stale, _ := p.Acquire(t.Context())
	stale.Release()
	holderB, _ := p.Acquire(t.Context())
	if holderB != stale {
		t.Skip("puddle no longer reuses *Resource handles; the aliasing below cannot happen")
	}
	stale.Release() // A's stale handle: puddle accepts it and frees B's resource
	holderC, err := p.TryAcquire(t.Context())
	if err != nil {
		t.Fatalf("puddle refused the third acquire (%v): the aliasing is fixed upstream", err)
	}
	if holderC.Value() != holderB.Value() {
		t.Fatalf("third holder got %d, B holds %d; want the same resource (aliased)", holderC.Value(), holderB.Value())
	}
	t.Logf("puddle: B and C both hold resource %d after A's stale Release", holderB.Value())
	holderC.Release()
}

// TestStaleLeaseCannotTouchAnotherHoldersResource is the same sequence
// through tether.
func TestStaleLeaseCannotTouchAnotherHoldersResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		stale, err := e.Pool.Acquire(t.Context())
		staleSite := "lease_test.go:" + strconv.Itoa(lineOf(testkit.Here(0))-1)
		if err != nil {
			t.Fatal(err)
		}
		stale.Release()
		b := e.MustAcquire(t, t.Context())
		r := b.Value()

		stale.Release() // no-op: an older generation
		stale.Destroy() // no-op
		if _, err := e.Pool.TryAcquire(t.Context()); err == nil {
			t.Fatal("a third caller got the resource B holds")
		}
		if b.Value() != r {
			t.Fatal("B lost its resource")
		}
		if e.Factory.IsClosed(r) {
			t.Fatal("a stale Destroy closed B's resource")
		}
		msg := wantPanic(t, "Value on a stale lease", func() { stale.Value() })
		wantContains(t, "panic", msg, `pool "db": Value called on a lease that was already released`, "acquired at "+staleSite)
		msg = wantPanic(t, "Detach on a stale lease", func() { stale.Detach() })
		wantContains(t, "panic", msg, `pool "db": Detach called`)

		st := e.Pool.Stats()
		if st.InUse != 1 || st.Acquires != 2 || st.Released != 1 || st.Destroyed != 0 {
			t.Fatalf("Stats = %+v; want B's lease in use and one release", st)
		}
		b.Release()
	})
}

func TestEndingALeaseTwice(t *testing.T) {
	tests := []struct {
		name          string
		end           func(l *pool.Lease[*pooltest.Res])
		wantReleased  uint64
		wantDestroyed uint64
		wantClosed    bool
	}{
		{"Release Release", func(l *pool.Lease[*pooltest.Res]) { l.Release(); l.Release() }, 1, 0, false},
		{"Destroy Release", func(l *pool.Lease[*pooltest.Res]) { l.Destroy(); l.Release() }, 0, 1, true},
		{"Release Destroy", func(l *pool.Lease[*pooltest.Res]) { l.Release(); l.Destroy() }, 1, 0, false},
		{"Destroy Destroy", func(l *pool.Lease[*pooltest.Res]) { l.Destroy(); l.Destroy() }, 0, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
				l := e.MustAcquire(t, t.Context())
				r := l.Value()
				tc.end(l)
				synctest.Wait()
				st := e.Pool.Stats()
				if st.Released != tc.wantReleased || st.Destroyed != tc.wantDestroyed || st.InUse != 0 {
					t.Fatalf("Stats = %+v; want %d released, %d destroyed", st, tc.wantReleased, tc.wantDestroyed)
				}
				if got := e.Factory.IsClosed(r); got != tc.wantClosed {
					t.Fatalf("resource closed = %v; want %v", got, tc.wantClosed)
				}
				wantPanic(t, "Value after the lease ended", func() { l.Value() })
				// The pool is intact: one resource can be lent, and only one.
				l2 := e.MustAcquire(t, t.Context())
				if _, err := e.Pool.TryAcquire(t.Context()); err == nil {
					t.Fatal("MaxSize 1 pool lent two resources")
				}
				l2.Release()
			})
		})
	}
}

func TestNilLease(t *testing.T) {
	var l *pool.Lease[int]
	l.Release()
	l.Destroy()
	msg := wantPanic(t, "Value on nil lease", func() { l.Value() })
	wantContains(t, "panic", msg, "pool: Value called on a nil *Lease")
}
