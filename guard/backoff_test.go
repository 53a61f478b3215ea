package guard_test

import (
	"context"
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

// TestBackoffTiming checks, in fake time, when Update runs fn again after
// each conflict: at once after the first, then after a jittered wait in
// [d/2, d) where d = BackoffLimit(attempt).
func TestBackoffTiming(t *testing.T) {
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
				g := guard.New("b", 0)
				runs := 0
				script := conflicting(t, g, conflicts, &runs)
				var starts []time.Time
				_, err := g.Update(tc.ctx(t), func(v int) (int, error) {
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
			})
		})
	}
}
