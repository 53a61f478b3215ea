package retry_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/retry"
)

func TestUntil(t *testing.T) {
	for _, tc := range []struct {
		name     string
		passOn   int           // the call that first returns true; 0 for never
		deadline time.Duration // from the start
		first    time.Duration
		want     bool
		calls    []time.Duration // when each call happened, from the start
	}{
		{name: "passes at once", passOn: 1, deadline: time.Second, first: time.Microsecond, want: true,
			calls: []time.Duration{0}},
		{name: "pauses double", passOn: 4, deadline: time.Second, first: time.Millisecond, want: true,
			calls: []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 7 * time.Millisecond}},
		{name: "pauses stop growing at MaxPause", passOn: 4, deadline: time.Minute, first: 80 * time.Millisecond, want: true,
			calls: []time.Duration{0, 80 * time.Millisecond, 180 * time.Millisecond, 280 * time.Millisecond}},
		{name: "last call at the deadline", deadline: 10 * time.Millisecond, first: 4 * time.Millisecond, want: false,
			calls: []time.Duration{0, 4 * time.Millisecond, 10 * time.Millisecond}},
		{name: "deadline already passed: one call", deadline: -time.Second, first: time.Millisecond, want: false,
			calls: []time.Duration{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var calls []time.Duration
				got := retry.Until(start.Add(tc.deadline), tc.first, func() bool {
					calls = append(calls, time.Since(start))
					return len(calls) == tc.passOn
				})
				if got != tc.want || !slices.Equal(calls, tc.calls) {
					t.Errorf("Until(deadline %v, first %v) = %v with calls at %v; want %v with calls at %v",
						tc.deadline, tc.first, got, calls, tc.want, tc.calls)
				}
			})
		})
	}
}
