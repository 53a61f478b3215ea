package guard_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/guard"
)

func TestBackoffLimitDoublesToACap(t *testing.T) {
	want := time.Microsecond
	for attempt := 2; attempt < 40; attempt++ {
		if got := guard.BackoffLimit(attempt); got != want {
			t.Fatalf("BackoffLimit(%d) = %v, want %v", attempt, got, want)
		}
		want = min(2*want, time.Millisecond)
	}
}

// storeConflicting returns an Update fn for key "k" of m, a Map on a
// Store, that during its first n runs lets another writer ("app/b", as if
// in another process) commit first, so that the run's result conflicts.
// Real fns must not write; this one does so to script a race.
func storeConflicting(t *testing.T, m *guard.Map[string, int], n int, runs *int) func(int) (int, error) {
	other := taskCtx(t, "app/b")
	return func(v int) (int, error) {
		*runs++
		if *runs <= n {
			s, err := m.Load(other, "k")
			if err == nil {
				_, err = m.CompareAndSwap(other, "k", s.Version, s.Value+100)
			}
			if err != nil {
				t.Errorf("scripted write: %v", err)
			}
		}
		return v + 1, nil
	}
}

// TestStoreBackoffTiming checks, in fake time, when Update on a Store runs
// fn again after each conflict: at once after the first, then after a
// jittered wait in [d/2, d) where d = BackoffLimit(attempt).
func TestStoreBackoffTiming(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func(t *testing.T) context.Context
	}{
		{"ctx=background", func(*testing.T) context.Context { return context.Background() }}, // waits with time.Sleep
		{"ctx=cancelable", func(t *testing.T) context.Context { return t.Context() }},        // waits on a timer or ctx
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const conflicts = 14
				m := guard.NewMapIn[string, int]("b", &textStore[string, int]{})
				runs := 0
				script := storeConflicting(t, m, conflicts, &runs)
				var starts []time.Time
				_, err := m.Update(tc.ctx(t), "k", func(v int) (int, error) {
					starts = append(starts, time.Now())
					return script(v)
				})
				if err != nil || len(starts) != conflicts+1 {
					t.Fatalf("Update: %v after %d runs, want success on run %d", err, len(starts), conflicts+1)
				}
				if starts[1] != starts[0] {
					t.Errorf("first retry after %v, want at once", starts[1].Sub(starts[0]))
				}
				for i := 2; i < len(starts); i++ {
					d := guard.BackoffLimit(i)
					if wait := starts[i].Sub(starts[i-1]); wait < d/2 || wait >= d {
						t.Errorf("wait before attempt %d = %v, want in [%v, %v)", i+1, wait, d/2, d)
					}
				}
				st := m.Stats()
				if st.Updates != conflicts+1 || st.Conflicts != conflicts || st.Retries != conflicts || st.MaxRetries != conflicts {
					t.Fatalf("Stats = %+v", st)
				}
				if lc := st.LastConflict; lc == nil || lc.Attempts != conflicts || lc.Writer != "app/b" {
					t.Fatalf("LastConflict = %+v", lc)
				}
			})
		})
	}
}

func TestStoreUpdateGivesUpWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := guard.NewMapIn[string, int]("scores", &textStore[string, int]{})
		ctx, cancel := context.WithTimeout(taskCtx(t, "app/a"), 10*time.Millisecond)
		defer cancel()
		runs := 0
		start := time.Now()
		cur, err := m.Update(ctx, "k", storeConflicting(t, m, 1<<30, &runs))
		if elapsed := time.Since(start); elapsed != 10*time.Millisecond {
			t.Errorf("Update gave up after %v, want exactly the 10ms deadline", elapsed)
		}
		var ce *guard.ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, guard.ErrConflict) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want a *ConflictError matching ErrConflict and DeadlineExceeded", err)
		}
		if ce.Attempts != runs || runs < 3 || ce.Current != cur.Version || ce.Base != cur.Version-1 {
			t.Fatalf("runs=%d, ConflictError %+v, returned v%d", runs, ce, cur.Version)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("gave up after %d attempts (context deadline exceeded)", runs)) {
			t.Fatalf("message %q does not say why it gave up", err)
		}
		if st := m.Stats(); st.Retries != int64(runs-1) || st.MaxRetries != int64(runs-1) || st.Conflicts != int64(runs) {
			t.Fatalf("Stats = %+v after %d runs", st, runs)
		}
	})
}

func TestStoreUpdateReportsContextCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := guard.NewMapIn[string, int]("scores", &textStore[string, int]{})
		errStop := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(t.Context())
		runs := 0
		fn := storeConflicting(t, m, 1<<30, &runs)
		_, err := m.Update(ctx, "k", func(v int) (int, error) {
			if runs == 2 {
				cancel(errStop)
			}
			return fn(v)
		})
		if !errors.Is(err, context.Canceled) || !errors.Is(err, errStop) || !errors.Is(err, guard.ErrConflict) {
			t.Fatalf("err = %v; want it to match ErrConflict, Canceled and the cause", err)
		}
	})
}

func TestStoreUpdateNoRetry(t *testing.T) {
	m := guard.NewMapIn[string, int]("scores", &textStore[string, int]{})
	runs := 0
	_, err := m.Update(taskCtx(t, "app/a"), "k", storeConflicting(t, m, 1, &runs), guard.NoRetry())
	var ce *guard.ConflictError
	if !errors.As(err, &ce) || runs != 1 || ce.Attempts != 1 || ce.Writer != "app/b" || ce.Base != 0 || ce.Current != 1 {
		t.Fatalf("NoRetry: runs %d, err %v", runs, err)
	}
	if st := m.Stats(); st.Conflicts != 1 || st.Retries != 0 || st.Updates != 1 {
		t.Fatalf("Stats = %+v", st)
	}
}
