package pool_test

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/pool"
)

// TestTryAcquireNeverWaitsForAHolder races eight TryAcquire calls for the
// last free slot of a pool, empty, many times over: each call returns a
// lease or ErrExhausted, never a *TimeoutError after waiting for the holder
// of the other slot (issue 9, item 1: about half used to wait
// AcquireTimeout). It runs in real time: the race needs real parallelism.
func TestTryAcquireNeverWaitsForAHolder(t *testing.T) {
	e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 2, AcquireTimeout: 5 * time.Second})
	held := e.MustAcquire(t, t.Context())
	defer held.Release()
	for round := range 50 {
		var (
			mu     sync.Mutex
			leases []*pool.Lease[*pooltest.Res]
			wg     sync.WaitGroup
		)
		ready := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-ready
				l, err := e.Pool.TryAcquire(t.Context())
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					leases = append(leases, l)
				case !errors.Is(err, pool.ErrExhausted):
					t.Errorf("round %d: TryAcquire = %v; want a lease or ErrExhausted at once", round, err)
				}
			})
		}
		close(ready)
		wg.Wait()
		if len(leases) > 1 {
			t.Fatalf("round %d: %d leases from the one free slot", round, len(leases))
		}
		for _, l := range leases {
			l.Destroy() // so that the next round has to create one again
		}
		if t.Failed() {
			break
		}
	}
	if st := e.Pool.Stats(); st.Timeouts != 0 {
		t.Fatalf("Stats.Timeouts = %d; want 0", st.Timeouts)
	}
}

// TestTryAcquireReturnsTheConstructorsResult: with room and nothing idle,
// TryAcquire waits for New, and returns its error as Acquire would.
func TestTryAcquireReturnsTheConstructorsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		errDial := errors.New("dial tcp: connection refused")
		e.Factory.FailNext(errDial)
		if _, err := e.Pool.TryAcquire(t.Context()); !errors.Is(err, errDial) {
			t.Fatalf("TryAcquire = %v; want New's error", err)
		}
		l, err := e.Pool.TryAcquire(t.Context())
		if err != nil {
			t.Fatalf("TryAcquire after a failed New = %v", err)
		}
		l.Release()
	})
}
