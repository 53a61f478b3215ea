package pool_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/pool"
)

// model is the test's own account of a pool under random use: which
// resources are held right now, and how many leases ended each way.
type model struct {
	mu   sync.Mutex
	held map[*pooltest.Res]int // resource -> worker holding it

	acquired, released, destroyed, detached atomic.Uint64
	detachedRes                             []*pooltest.Res
}

func (m *model) take(t *testing.T, worker int, r *pooltest.Res) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if other, ok := m.held[r]; ok {
		t.Errorf("%v lent to worker %d while worker %d holds it", r, worker, other)
	}
	m.held[r] = worker
	m.acquired.Add(1)
}

func (m *model) give(r *pooltest.Res) {
	m.mu.Lock()
	delete(m.held, r)
	m.mu.Unlock()
}

// TestModelRandomOps runs workers that acquire, release, destroy, detach,
// time out, cancel, misuse ended leases and call TryAcquire at random on a
// small pool, and checks the invariants after every run: no resource lent to
// two holders at once, the pool's counts equal the model's, every resource
// made was closed exactly once (or detached), and no goroutine is left
// (goleak, in TestMain). Run it under -race.
func TestModelRandomOps(t *testing.T) {
	const (
		workers = 8
		ops     = 400
	)
	rounds := 4
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		seed := uint64(time.Now().UnixNano()) + uint64(round)
		t.Run("seed="+itoa(int(seed%1e9)), func(t *testing.T) {
			runModel(t, seed, workers, ops)
		})
	}
}

func runModel(t *testing.T, seed uint64, workers, ops int) {
	e := pooltest.New(t, pool.Config[*pooltest.Res]{
		Name:           "model",
		MaxSize:        3,
		AcquireTimeout: 20 * time.Millisecond,
		LeakAfter:      time.Millisecond,
		MaxIdleTime:    5 * time.Millisecond,
		Check: func(_ context.Context, r *pooltest.Res) error {
			if r.ID%7 == 0 {
				return errors.New("unlucky resource")
			}
			return nil
		},
	})
	m := &model{held: map[*pooltest.Res]int{}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var stale *pool.Lease[*pooltest.Res]
			for range ops {
				ctx, cancel := context.WithCancel(context.Background())
				if rng.IntN(10) == 0 {
					// Cancel from elsewhere while the acquire may be waiting.
					d := time.Duration(rng.IntN(200)) * time.Microsecond
					go func() { time.Sleep(d); cancel() }()
				}
				var l *pool.Lease[*pooltest.Res]
				var err error
				if rng.IntN(4) == 0 {
					l, err = e.Pool.TryAcquire(ctx)
				} else {
					l, err = e.Pool.Acquire(ctx)
				}
				if err != nil {
					cancel()
					if !errors.Is(err, pool.ErrTimeout) && !errors.Is(err, context.Canceled) && !errors.Is(err, pool.ErrExhausted) {
						t.Errorf("worker %d: unexpected acquire error: %v", w, err)
					}
					continue
				}
				r := l.Value()
				m.take(t, w, r)
				if rng.IntN(3) == 0 {
					time.Sleep(time.Duration(rng.IntN(100)) * time.Microsecond)
				}
				if stale != nil && rng.IntN(2) == 0 {
					// Misuse an ended lease: must not touch anyone's resource.
					switch rng.IntN(3) {
					case 0:
						stale.Release()
					case 1:
						stale.Destroy()
					case 2:
						func() {
							defer func() { recover() }()
							stale.Value()
							t.Errorf("worker %d: Value on an ended lease did not panic", w)
						}()
					}
				}
				m.give(r)
				switch n := rng.IntN(20); {
				case n < 15:
					m.released.Add(1)
					l.Release()
				case n < 19:
					m.destroyed.Add(1)
					l.Destroy()
				default:
					m.detached.Add(1)
					v := l.Detach()
					m.mu.Lock()
					m.detachedRes = append(m.detachedRes, v)
					m.mu.Unlock()
				}
				if rng.IntN(4) == 0 {
					l.Release() // a second end: no-op
				}
				stale = l
				cancel()
			}
		})
	}
	wg.Wait()
	st := e.Pool.Stats()
	if st.Acquires != m.acquired.Load() || st.Released != m.released.Load() || st.Destroyed != m.destroyed.Load() ||
		st.Detached != m.detached.Load() || st.InUse != 0 || st.Reclaimed != 0 {
		t.Errorf("Stats = %+v\nmodel: acquired %d released %d destroyed %d detached %d",
			st, m.acquired.Load(), m.released.Load(), m.destroyed.Load(), m.detached.Load())
	}
	if st.Acquires != st.Released+st.Destroyed+st.Detached+st.Reclaimed+uint64(st.InUse) {
		t.Errorf("Stats do not balance: %+v", st)
	}
	if err := e.Pool.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown = %v; want nil, every lease was ended", err)
	}
	// Every resource made was closed exactly once (Factory.Close panics on
	// a second close) or detached.
	closed := len(e.Factory.Closed())
	if made := e.Factory.Made(); made != closed+len(m.detachedRes) {
		t.Errorf("made %d resources, closed %d, detached %d; want made = closed + detached", made, closed, len(m.detachedRes))
	}
	for _, r := range m.detachedRes {
		if e.Factory.IsClosed(r) {
			t.Errorf("the pool closed detached %v", r)
		}
	}
	t.Logf("seed %d: %+v", seed, st)
}
