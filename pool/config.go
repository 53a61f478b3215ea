package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Config configures a [Pool]. A zero field means its documented default;
// [New] rejects a Config whose required fields are missing or whose
// durations are negative, with an error naming each bad field.
type Config[T any] struct {
	// Name identifies the pool in every error, log record and leak report,
	// for example "db" or "redis-cache". Required.
	Name string

	// New creates a resource. Required. Its ctx carries the values of the
	// context given to the Acquire that needed the resource (so a task's
	// identity reaches it), but it is cancelled only when the pool shuts
	// down (at once, when Shutdown starts), not when that Acquire gives
	// up: a slow New keeps running and its resource goes to the next
	// caller. Bound slow constructors yourself (a dial timeout). A panic
	// in New is recovered and returned from Acquire as an error naming the
	// pool and the panicking line, or, if that Acquire has given up,
	// logged and kept for leak reports; the pool stays usable. A nil
	// pointer or interface returned with a nil error is refused the same
	// way, as an error naming the pool.
	New func(ctx context.Context) (T, error)

	// Close destroys a resource: one that a lease destroyed, one that
	// failed Check or outlived MaxLifetime or MaxIdleTime, one reclaimed
	// from a leaked lease, and every idle one at Shutdown. It runs on a
	// goroutine of its own and should return promptly; an error or panic
	// is logged. Optional: nil means resources need no cleanup.
	Close func(T) error

	// MaxSize caps how many resources exist at once, lent or idle.
	// Required, > 0.
	MaxSize int

	// MinIdle is how many idle resources the pool keeps ready (within
	// MaxSize), like pgxpool's MinConns or puddle's CreateResource: they
	// are created in the background after New, and again within a watchdog
	// tick (100ms) whenever acquires or expiry take the idle count below
	// it. A failing New is logged at Warn and retried at the next tick. 0
	// (the default) creates resources only on demand; it must be between 0
	// and MaxSize.
	MinIdle int

	// AcquireTimeout bounds every wait in Acquire, TryAcquire and With:
	// a call waits at most the earlier of its ctx's deadline and
	// AcquireTimeout, then fails with a *TimeoutError that names the
	// holders. 0 means 30s. Negative is an error: a wait without a bound
	// is exactly the hang this package exists to prevent.
	AcquireTimeout time.Duration

	// LeakAfter reports a lease held longer than this: one Leak event of
	// kind LeakHeldTooLong per lease, and an Info log record when it is
	// finally returned. 0 turns the check off. The check has the resolution
	// of the pool's clock (see "Time" in the package doc): 100ms, or
	// LeakAfter/10 if that is finer.
	LeakAfter time.Duration

	// MaxLifetime is how long a resource may live. An older resource is
	// never lent again: it is closed when found idle or returned. 0 means
	// unlimited.
	//
	// MaxLifetime and MaxIdleTime apply to reuse: a resource just created
	// is lent to the Acquire that needed it even if New took longer than
	// either, so a short limit costs one New per Acquire, never a storm.
	MaxLifetime time.Duration

	// MaxIdleTime is how long a resource may sit idle. One idle longer is
	// closed instead of lent (but never below MinIdle idle resources). 0
	// means unlimited.
	MaxIdleTime time.Duration

	// Check validates an idle resource before it is lent again (never a
	// freshly created one). An error or panic closes the resource and the
	// acquire goes on with another. It runs on a goroutine of its own with
	// a ctx bounded like the acquire itself, and the acquire returns by
	// its deadline whatever Check does: a Check still running then is left
	// to finish, and its resource is closed when it returns. Optional.
	Check func(ctx context.Context, v T) error

	// Logger receives leak events (Warn), returns of reported leases and
	// failed Close calls (Info, Error), and failures nobody else sees
	// (Error). nil means slog.Default() at the time of each record. A
	// panic in its handler is recovered and kept for leak reports.
	Logger *slog.Logger

	// OnLeak is called for every Leak event, after it is logged. It runs
	// on the pool's watchdog goroutine or on a goroutine of Shutdown's,
	// one call at a time per goroutine; it should not block, and must not
	// call Shutdown or Close. A panic in it is recovered, logged with its
	// line and kept for leak reports; Shutdown stops waiting for a
	// blocking one at its deadline and names it. Optional.
	OnLeak func(Leak)
}

// validate checks cfg and returns an error listing every problem, or nil.
func (cfg *Config[T]) validate() error {
	var errs []error
	name := cfg.Name
	prefix := fmt.Sprintf("pool %q: ", name)
	if name == "" {
		prefix = "pool: "
		errs = append(errs, errors.New(`pool: Config.Name is empty; set it to a short name that identifies the pool in errors, logs and leak reports, e.g. "db"`))
	}
	if cfg.New == nil {
		errs = append(errs, errors.New(prefix+"Config.New is nil; set it to the function that creates a resource"))
	}
	switch {
	case cfg.MaxSize <= 0:
		errs = append(errs, fmt.Errorf("%sConfig.MaxSize is %d; set it to the most resources the pool may hold at once (> 0)", prefix, cfg.MaxSize))
	case cfg.MaxSize > math.MaxInt32:
		errs = append(errs, fmt.Errorf("%sConfig.MaxSize is %d; it must be at most %d", prefix, cfg.MaxSize, math.MaxInt32))
	}
	if cfg.MinIdle < 0 || cfg.MaxSize > 0 && cfg.MinIdle > cfg.MaxSize {
		errs = append(errs, fmt.Errorf("%sConfig.MinIdle is %d; set it between 0 and MaxSize (%d), or 0 to create resources only on demand", prefix, cfg.MinIdle, cfg.MaxSize))
	}
	for _, d := range []struct {
		field string
		v     time.Duration
		zero  string
	}{
		{"AcquireTimeout", cfg.AcquireTimeout, "0 for the default (30s)"},
		{"LeakAfter", cfg.LeakAfter, "0 to turn the check off"},
		{"MaxLifetime", cfg.MaxLifetime, "0 for unlimited"},
		{"MaxIdleTime", cfg.MaxIdleTime, "0 for unlimited"},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%sConfig.%s is %v; set a positive duration, or %s", prefix, d.field, d.v, d.zero))
		}
	}
	return errors.Join(errs...)
}
