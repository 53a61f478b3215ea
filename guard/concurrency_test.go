package guard_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/guard"
)

// slowInc adds one, yielding the processor between reading its argument
// and returning, which widens the window in which another task can commit
// first.
func slowInc(n int) (int, error) {
	runtime.Gosched()
	return n + 1, nil
}

// TestNoLostUpdates is the lost-update scenario: N tasks each add 1, M
// times, through Update. Every addition must land.
func TestNoLostUpdates(t *testing.T) {
	const tasks, increments = 8, 500
	synctest.Test(t, func(t *testing.T) {
		g := guard.New("scores", 0)
		var wg sync.WaitGroup
		for i := range tasks {
			ctx := taskCtx(t, fmt.Sprintf("app/worker-%d", i))
			wg.Go(func() {
				for range increments {
					if _, err := g.Update(ctx, slowInc); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		s, st := g.Load(), g.Stats()
		if s.Value != tasks*increments || s.Version != tasks*increments+1 {
			t.Fatalf("after %d increments: %d at v%d", tasks*increments, s.Value, s.Version)
		}
		if st.Updates != tasks*increments || st.Retries != st.Conflicts {
			t.Fatalf("Stats = %+v; want %d updates, and one retry per conflict", st, tasks*increments)
		}
		t.Logf("%d updates, %d conflicts retried, at most %d retries for one update", st.Updates, st.Conflicts, st.MaxRetries)
	})
}

// TestRacingWritersAreRefusedNotLost has N tasks read the same version, then
// all write: exactly one write commits, and every other is refused with an
// error naming its own task and the winner.
func TestRacingWritersAreRefusedNotLost(t *testing.T) {
	const tasks = 8
	g := guard.New("scores", 0)
	var (
		read, wrote sync.WaitGroup
		mu          sync.Mutex
		winners     []string
		conflicts   []*guard.ConflictError
	)
	read.Add(tasks)
	for i := range tasks {
		path := fmt.Sprintf("app/worker-%d", i)
		ctx := taskCtx(t, path)
		wrote.Go(func() {
			s := g.Load()
			read.Done()
			read.Wait() // everyone has read v1
			_, err := g.CompareAndSwap(ctx, s.Version, s.Value+1)
			mu.Lock()
			defer mu.Unlock()
			var ce *guard.ConflictError
			switch {
			case err == nil:
				winners = append(winners, path)
			case errors.As(err, &ce):
				if ce.Task != path {
					t.Errorf("conflict of %s names the loser %q", path, ce.Task)
				}
				conflicts = append(conflicts, ce)
			default:
				t.Errorf("%s: %v", path, err)
			}
		})
	}
	wrote.Wait()
	if len(winners) != 1 || len(conflicts) != tasks-1 {
		t.Fatalf("%d writes committed and %d were refused; want 1 and %d", len(winners), len(conflicts), tasks-1)
	}
	for _, ce := range conflicts {
		if ce.Writer != winners[0] || ce.Base != 1 || ce.Current != 2 {
			t.Errorf("conflict %v: want it to name the winner %s at v2", ce, winners[0])
		}
	}
	if s := g.Load(); s.Value != 1 || s.Writer != winners[0] {
		t.Fatalf("final %+v, want 1 written by %s", s, winners[0])
	}
}

// commit is one successful write seen by its writer.
type commit struct {
	base, version uint64
	read, wrote   string
}

// TestHistoryIsSequential checks the property that makes lost updates
// impossible, under real concurrency: in the history of successful writes,
// versions are consecutive and each write was based on the version just
// before it, and read exactly the value that version held.
func TestHistoryIsSequential(t *testing.T) {
	const writers, tries = 6, 400
	g := guard.New("history", "")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		history []commit
	)
	for w := range writers {
		ctx := taskCtx(t, "app/w"+strconv.Itoa(w))
		wg.Go(func() {
			for i := range tries {
				s := g.Load()
				next := fmt.Sprintf("w%d.%d", w, i)
				if _, err := g.CompareAndSwap(ctx, s.Version, next); err == nil {
					mu.Lock()
					history = append(history, commit{base: s.Version, version: s.Version + 1, read: s.Value, wrote: next})
					mu.Unlock()
				} else if !errors.Is(err, guard.ErrConflict) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	slices.SortFunc(history, func(a, b commit) int { return int(a.version) - int(b.version) })
	prev := ""
	for i, c := range history {
		if c.version != uint64(i)+2 || c.base != c.version-1 || c.read != prev {
			t.Fatalf("commit %d = %+v after value %q; want v%d based on v%d, having read %q", i, c, prev, i+2, i+1, prev)
		}
		prev = c.wrote
	}
	if s := g.Load(); s.Version != uint64(len(history))+1 || s.Value != prev {
		t.Fatalf("final %+v, want %q at v%d", s, prev, len(history)+1)
	}
	if st := g.Stats(); st.Updates != int64(len(history)) || st.Updates+st.Conflicts != writers*tries {
		t.Fatalf("Stats = %+v; want %d updates and every other try a conflict", st, len(history))
	}
}

// TestLoadNeverTorn has writers replace a multi-word value while readers
// check that every Load is one consistent version, and that versions and
// their times never go backwards. It exercises record reuse under the race
// detector.
func TestLoadNeverTorn(t *testing.T) {
	type state struct {
		A, B uint64
		S    string
		M    map[string]uint64
	}
	g := guard.New("state", state{B: ^uint64(0), S: "0", M: map[string]uint64{"a": 0}})
	const writers, readers, writes = 2, 4, 2000
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		ctx := taskCtx(t, "app/w"+strconv.Itoa(w))
		wg.Go(func() {
			for range writes {
				g.Update(ctx, func(s state) (state, error) {
					a := s.A + 1
					return state{A: a, B: ^a, S: strconv.FormatUint(a, 10), M: map[string]uint64{"a": a}}, nil
				})
			}
		})
	}
	var rg sync.WaitGroup
	for range readers {
		rg.Go(func() {
			last, lastAt := uint64(0), time.Time{}
			for {
				select {
				case <-done:
					return
				default:
				}
				s := g.Load()
				v := s.Value
				if v.B != ^v.A || v.S != strconv.FormatUint(v.A, 10) || v.M["a"] != v.A || s.Version != v.A+1 {
					t.Errorf("torn or mismatched snapshot: %+v at v%d", v, s.Version)
					return
				}
				if s.Version < last || s.At.Before(lastAt) {
					t.Errorf("went back from v%d at %v to v%d at %v", last, lastAt, s.Version, s.At)
					return
				}
				last, lastAt = s.Version, s.At
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	if s := g.Load(); s.Value.A != writers*writes {
		t.Fatalf("final A = %d, want %d", s.Value.A, writers*writes)
	}
}
