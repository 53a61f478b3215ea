package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// The handle kinds a record can stand for (LeaseInfo.Handle).
const (
	HandleLease = "lease" // a pool.Lease
	HandleConn  = "conn"  // a database connection checked out on its own
	HandleRows  = "rows"  // a result set, which pins its connection until Close
	HandleTx    = "tx"    // a transaction, which pins its connection until Commit or Rollback
)

// The callbacks a Call can name.
const (
	FuncNew     = "Config.New"
	FuncClose   = "Config.Close"
	FuncCheck   = "Config.Check"
	FuncOnLeak  = "Config.OnLeak"
	FuncLogger  = "Config.Logger"
	FuncReclaim = "reclaim"
)

// DefaultAcquireTimeout is AcquireTimeout when a Config leaves it zero.
const DefaultAcquireTimeout = 30 * time.Second

// Config configures a Ledger. The tracking fields are the user's (copied
// from pool.Config or an adapter's Config); the hooks are the owner's.
type Config[P any] struct {
	// Name identifies the pool in every error, log record and report.
	Name string
	// MaxSize is the capacity of the pool the ledger tracks, if it has a
	// fixed one (0 otherwise). It appears in timeout errors and reports,
	// and Checkout uses it to decide when a checkout may have to wait;
	// SetMaxSize changes it.
	MaxSize int
	// AcquireTimeout bounds every wait for the pool. 0 means 30s.
	AcquireTimeout time.Duration
	// LeakAfter: report a lease held longer than this; 0 turns it off.
	LeakAfter time.Duration
	// Logger receives leak events and failures; nil means slog.Default().
	Logger *slog.Logger
	// OnLeak is called for every Leak, after it is logged.
	OnLeak func(Leak)

	// Reclaim gives back what a lease holds when the ledger takes the
	// lease back: a lease garbage-collected while held, or one still out
	// when Shutdown's ctx ends. It runs on a goroutine of its own, once per
	// lease, after the leak has been reported; it should close the driver
	// object (the resource, rows, transaction or connection) so that its
	// connection goes back. Required.
	Reclaim func(p P)
	// Tick, if set, runs on the watchdog goroutine at every wake, with the
	// ledger's time (Now); it returns when it next wants to run (a time
	// not later than now+tick is honoured exactly), or 0 for no wish.
	Tick func(now int64) (next int64)
	// Describe, if set, adds the owner's own counters and items to the
	// registry state the ledger reports for leak reports; c are the
	// ledger's counts at that moment.
	Describe func(st *track.State, c Counts)
	// Stats, if set, fills in the numbers of st only the owner knows (a
	// driver pool's idle connections, its idle limits) when package
	// metrics reads the pool; st holds the ledger's numbers already (see
	// PoolStats).
	Stats func(st *track.PoolStats)
	// Site is where the owner was created (its New, Open or Wrap).
	Site track.Site
}

// Ledger tracks the leases of one pool. It is safe for use by multiple
// goroutines. Create it with New; it must be shut down with Shutdown.
type Ledger[P any] struct {
	name string
	cfg  Config[P]

	// epoch is the zero of every timestamp the ledger keeps (int64
	// nanoseconds since epoch). time.Since(epoch) is monotonic outside a
	// synctest bubble and fake inside one.
	epoch time.Time
	// clock is the coarse clock: the time of the watchdog's last wake, at
	// most tick old. Lending stamps leases with it (an atomic load)
	// instead of reading the time (a clock read, ~40 ns).
	clock atomic.Int64
	tick  time.Duration

	acquireTimeout time.Duration
	leakAfter      int64 // ns; 0 = off
	maxSize        atomic.Int64

	closed    atomic.Bool
	gcPending atomic.Bool   // a cleanup marked a record collected
	nextID    atomic.Uint64 // the last owned record's number (NewRecord)

	// gcDetect: records get an anchor watched by the garbage collector.
	// Always on; tests turn it off to measure what it costs.
	gcDetect bool

	errClosed error

	// released is signalled (without blocking) when a lease ends while the
	// ledger is shutting down, and when a call ends.
	released chan struct{}
	stop     chan struct{} // closed by Shutdown to stop the watchdog
	watched  chan struct{} // closed when the watchdog has returned

	created time.Time
	reg     track.Handle

	// The fields above are read by every checkout and written rarely; the
	// two below are written by every checkout. Keeping them on cache
	// lines of their own saves the read-mostly fields a miss on each
	// checkout of another core (BenchmarkCheckoutParts, mode=parallel).
	_ cacheLinePad
	// out counts the checkouts begun and not ended whose bound the ledger
	// decides (BoundWhenFull, BoundAlways): see StartWait.
	out atomic.Int64
	_   cacheLinePad

	mu        sync.Mutex
	leaseSeq  uint64             // the last number given to a pooled record's lease
	records   []*Record[P]       // every live record, in no order
	free      []*Record[P]       // pooled records not in use
	goneLends uint64             // leases made from records that are gone
	calls     map[*call]struct{} // callbacks running now
	shutdown  *shutdownState     // set by the first Shutdown
	collected []Leak             // the latest leases found collected, for reports
	shutLeaks []Leak             // leases found collected while Shutdown waited
	failures  []string           // swallowed failures, for reports
	dropped   int                // failures beyond maxFailures
	lost      track.Handle       // the record a leaky Shutdown leaves
	stats     counters           // counts kept at ledger level

	// Scratch space of the watchdog goroutine, reused across its scans.
	buf     []*Record[P]
	leakBuf []Leak
}

// cacheLinePad keeps the fields on either side of it on different cache
// lines (two of them: x86 prefetches lines in adjacent pairs).
type cacheLinePad [128]byte

// counters are the statistics that change off the hot path. They are
// atomic so Counts can read them without locks.
type counters struct {
	waits, waitNanos, timeouts, canceled    atomic.Uint64
	reclaimed                               atomic.Uint64
	leakHeld, leakCollected, leakAtShutdown atomic.Uint64
}

// New returns a ledger. Start must be called next, once the owner's hooks
// (Config.Tick, Describe, Reclaim) are ready to run.
func New[P any](cfg Config[P]) *Ledger[P] {
	if cfg.Reclaim == nil {
		panic("ledger: Config.Reclaim is nil")
	}
	l := &Ledger[P]{
		name:           cfg.Name,
		cfg:            cfg,
		epoch:          time.Now(),
		acquireTimeout: cfg.AcquireTimeout,
		leakAfter:      int64(cfg.LeakAfter),
		gcDetect:       true,
		released:       make(chan struct{}, 1),
		stop:           make(chan struct{}),
		watched:        make(chan struct{}),
		calls:          make(map[*call]struct{}),
	}
	l.created = l.epoch
	l.maxSize.Store(int64(cfg.MaxSize))
	l.tick = clockTick(cfg.LeakAfter)
	if l.acquireTimeout == 0 {
		l.acquireTimeout = DefaultAcquireTimeout
	}
	l.errClosed = fmt.Errorf("pool %q: acquire after Shutdown: %w", l.name, ErrClosed)
	return l
}

// Start registers the ledger with tether's registry (so leak reports list
// its leases and waiters) and starts its watchdog goroutine, which runs
// until Shutdown.
func (l *Ledger[P]) Start() {
	l.reg = track.Register(l, (*Ledger[P]).describe)
	l.reg.Go("watchdog", l.watch)
}

// Name returns the pool's name.
func (l *Ledger[P]) Name() string { return l.name }

// AcquireTimeout returns the bound on waits (the default applied).
func (l *Ledger[P]) AcquireTimeout() time.Duration { return l.acquireTimeout }

// SetMaxSize changes the capacity the ledger assumes (see Config.MaxSize).
func (l *Ledger[P]) SetMaxSize(n int) { l.maxSize.Store(int64(n)) }

// Closed reports whether Shutdown has begun.
func (l *Ledger[P]) Closed() bool { return l.closed.Load() }

// ErrClosed returns the error acquires get once Shutdown has begun: it
// names the pool and matches ErrClosed.
func (l *Ledger[P]) ErrClosed() error { return l.errClosed }

// DisableGCDetect turns garbage-collection detection off for records
// created from now on, so a benchmark can show what it costs. Users have no
// such option.
func (l *Ledger[P]) DisableGCDetect() { l.gcDetect = false }

// Now reads the time: nanoseconds since the ledger's epoch.
func (l *Ledger[P]) Now() int64 { return int64(time.Since(l.epoch)) }

// CoarseNow returns the coarse clock, which the watchdog advances every
// tick: an atomic load instead of a clock read, up to a tick early.
func (l *Ledger[P]) CoarseNow() int64 { return l.clock.Load() }

// TimeAt converts a ledger timestamp to a time.Time.
func (l *Ledger[P]) TimeAt(ns int64) time.Time { return l.epoch.Add(time.Duration(ns)) }

// maxTick is the coarse clock's resolution, unless LeakAfter asks for a
// finer one.
const maxTick = 100 * time.Millisecond

// clockTick is how often the watchdog advances the clock: maxTick, or a
// tenth of leakAfter if that is finer (but not below a millisecond).
func clockTick(leakAfter time.Duration) time.Duration {
	if leakAfter > 0 && leakAfter/10 < maxTick {
		return max(leakAfter/10, time.Millisecond)
	}
	return maxTick
}

// Tick returns the watchdog's period: the coarse clock's resolution.
func (l *Ledger[P]) Tick() time.Duration { return l.tick }

// Admit checks an acquire before anything is taken: ctx must not be nil,
// the pool must be open, and ctx must not be done. A ctx whose deadline has
// already passed gets the same *TimeoutError (counted as a timeout) as one
// whose deadline passes while it waits; a cancelled ctx gets ctx.Err()
// unchanged (counted as cancelled).
func (l *Ledger[P]) Admit(ctx context.Context, site track.Site) error {
	return l.AdmitAt(ctx, &site)
}

// AdmitAt is Admit with the site by pointer: an acquire passes its site
// down without copying it (see startWait).
func (l *Ledger[P]) AdmitAt(ctx context.Context, site *track.Site) error {
	if ctx == nil {
		s := *site
		return fmt.Errorf("pool %q: acquire with a nil Context at %v; pass context.Background() or a request's ctx", l.name, s)
	}
	if l.closed.Load() {
		return l.errClosed
	}
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return l.TimeoutError(l.Now(), true, false)
		}
		l.stats.canceled.Add(1)
		return err
	}
	return nil
}

// logger returns the logger to use now.
func (l *Ledger[P]) logger() *slog.Logger {
	if l.cfg.Logger != nil {
		return l.cfg.Logger
	}
	return slog.Default()
}

// signalReleased wakes a Shutdown waiting for leases or calls.
func (l *Ledger[P]) signalReleased() {
	select {
	case l.released <- struct{}{}:
	default:
	}
}
