package supervise

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy says when a task is restarted, how long to wait before each
// restart, and when to give up. A zero field means its documented default.
//
// The delay before a restart is exponential with jitter: with k restarts
// already made within the last Period, it is drawn uniformly from
// [d/2, d] with d = MinBackoff×2^k capped at MaxBackoff, and never below
// MinBackoff. A calm Period resets the delay to MinBackoff.
//
// If the task needs a restart when MaxRestarts restarts have already been
// made within the last Period, the policy gives up: the task fails for good
// with an error matching [ErrRestartLimit] that wraps its last failure, and
// that failure fails the group like any other.
type Policy struct {
	// Always restarts the task when it returns nil too, as for a worker that
	// must always run. By default only failures restart it: an error (that
	// is not an echo of the group's cancellation), a panic, a timeout.
	Always bool

	// MinBackoff is the delay before the first restart. Default 100ms.
	MinBackoff time.Duration
	// MaxBackoff caps the delay. Default 10s (or MinBackoff, if larger).
	MaxBackoff time.Duration

	// MaxRestarts is how many restarts are allowed within Period.
	// Default 5.
	MaxRestarts int
	// Period is the sliding window MaxRestarts counts in. Default 1 minute.
	Period time.Duration
}

// The defaults of a Policy's zero fields.
const (
	defaultMinBackoff  = 100 * time.Millisecond
	defaultMaxBackoff  = 10 * time.Second
	defaultMaxRestarts = 5
	defaultPeriod      = time.Minute
)

// withDefaults validates p and fills in its defaults. It panics, naming the
// field, on a negative duration or count, or on MinBackoff > MaxBackoff.
func (p Policy) withDefaults() Policy {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"MinBackoff", p.MinBackoff}, {"MaxBackoff", p.MaxBackoff}, {"Period", p.Period}} {
		if f.d < 0 {
			panic(fmt.Sprintf("supervise: Restart: Policy.%s is %v; it must not be negative (0 means the default)", f.name, f.d))
		}
	}
	if p.MaxRestarts < 0 {
		panic(fmt.Sprintf("supervise: Restart: Policy.MaxRestarts is %d; it must not be negative (0 means the default, %d)", p.MaxRestarts, defaultMaxRestarts))
	}
	if p.MinBackoff > 0 && p.MaxBackoff > 0 && p.MinBackoff > p.MaxBackoff {
		panic(fmt.Sprintf("supervise: Restart: Policy.MinBackoff (%v) is larger than MaxBackoff (%v)", p.MinBackoff, p.MaxBackoff))
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = defaultMinBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = max(defaultMaxBackoff, p.MinBackoff)
	}
	if p.MaxRestarts == 0 {
		p.MaxRestarts = defaultMaxRestarts
	}
	if p.Period == 0 {
		p.Period = defaultPeriod
	}
	return p
}

// restarts tracks one task's recent restarts for its Policy. It is used only
// by the task's own goroutine.
type restarts struct {
	times  []time.Time    // restart times within the window, oldest first
	began  time.Time      // when the current run began, once restarted
	random func() float64 // the jitter source, in [0, 1)
}

// next decides on a restart at now: the delay before it, or ok false when
// the policy gives up. recent is how many restarts the window held.
func (r *restarts) next(p *Policy, now time.Time) (delay time.Duration, recent int, ok bool) {
	cut := 0
	for cut < len(r.times) && now.Sub(r.times[cut]) >= p.Period {
		cut++
	}
	r.times = r.times[cut:]
	recent = len(r.times)
	if recent >= p.MaxRestarts {
		return 0, recent, false
	}
	d := p.MinBackoff
	for i := 0; i < recent && d < p.MaxBackoff; i++ {
		if d > p.MaxBackoff/2 {
			d = p.MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	random := r.random
	if random == nil {
		random = rand.Float64
	}
	delay = d/2 + time.Duration(random()*float64(d-d/2))
	delay = max(delay, p.MinBackoff)
	return delay, recent, true
}

// record notes a restart made at at (after its delay).
func (r *restarts) record(at time.Time) {
	r.times = append(r.times, at)
}
