package pool

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/jackc/puddle/v2"

	"github.com/tether-go/tether/pool/internal/ledger"
)

// tick is the ledger's Config.Tick: the pool's own upkeep, on the watchdog
// goroutine at every wake. It closes idle resources past MaxLifetime or
// MaxIdleTime, tops the idle resources up to MinIdle, and returns when the
// next idle resource expires (0 if none will).
func (p *Pool[T]) tick(now int64) (next int64) {
	if p.stampRelease {
		next = p.reap(now)
	}
	p.warm()
	return next
}

// reap closes idle resources past MaxLifetime or MaxIdleTime and returns
// when the next idle resource expires. It takes the idle resources from
// puddle only when one is due, so a busy pool is not disturbed. MaxIdleTime
// never takes the pool below MinIdle idle resources.
func (p *Pool[T]) reap(now int64) (next int64) {
	due := false
	for _, r := range p.l.Owned(nil) {
		if !r.Idle() {
			continue
		}
		s := r.Payload()
		exp := int64(1<<63 - 1)
		if p.maxLifetime > 0 {
			exp = s.created + p.maxLifetime
		}
		if p.maxIdle > 0 {
			exp = min(exp, s.idleSince.Load()+p.maxIdle)
		}
		if exp <= now {
			due = true
		} else if next == 0 || exp < next {
			next = exp
		}
	}
	if !due {
		return next
	}
	idle := p.inner.AcquireAllIdle()
	keep := len(idle)
	for _, res := range idle {
		s := res.Value()
		old := p.maxLifetime > 0 && now-s.created >= p.maxLifetime
		unused := p.maxIdle > 0 && now-s.idleSince.Load() >= p.maxIdle && keep > p.cfg.MinIdle
		if old || unused {
			keep--
			p.discard(s, res)
		} else {
			res.ReleaseUnused()
		}
	}
	return next
}

// warm starts creating resources, on a goroutine of its own, when fewer
// than MinIdle are idle or being created and the pool has room. One such
// goroutine runs at a time (it holds warmSlot), and none after Shutdown
// has begun (drain holds the slot for good).
func (p *Pool[T]) warm() {
	if p.cfg.MinIdle == 0 || p.l.Closed() {
		return
	}
	c := p.l.Counts()
	live := int(p.live.Load())
	n := min(p.cfg.MinIdle-c.Idle-(live-c.Owned), p.cfg.MaxSize-live)
	if n <= 0 {
		return
	}
	select {
	case p.warmSlot <- struct{}{}:
	default:
		return // one is running
	}
	//tether:allow nakedgo MinIdle warm-up; warmSlot lets one run at a time and Shutdown takes the slot to wait for it
	go func() {
		defer func() { <-p.warmSlot }()
		for range n {
			c := &construction{gone: true} // nobody waits: a panic is reported by construct
			err := p.inner.CreateResource(constructCtx{p.base, context.WithValue(context.Background(), constructionKey{}, c)})
			switch {
			case err == nil:
				continue
			case errors.Is(err, puddle.ErrNotAvailable), errors.Is(err, puddle.ErrClosedPool), p.base.Err() != nil:
			case !c.wasReported():
				p.l.Log(slog.LevelWarn, "pool: could not create a MinIdle resource; trying again at the next tick",
					slog.String("pool", p.name), slog.Any("err", err))
			}
			return
		}
	}()
}

// check runs Config.Check on s, a resource that was lent before, on a
// goroutine of its own, and waits for it until ctx (the acquire's bounded
// ctx) is done. ok reports whether s passed; a resource that failed was
// destroyed. done is false if ctx ended first: the acquire then returns by
// its deadline, and the resource is destroyed when Check returns.
func (p *Pool[T]) check(ctx context.Context, s *slot[T], res *puddle.Resource[*slot[T]], c *construction) (ok, done bool) {
	run := &checkRun{done: make(chan struct{})}
	call := p.l.BeginCall(ledger.FuncCheck, c.task, c.site)
	//tether:allow nakedgo a Check that ignores its ctx must not hold Acquire past its deadline; the call is tracked and waited for by Shutdown
	go func() {
		defer p.l.EndCall(call)
		err := p.runCheck(ctx, s.value)
		run.mu.Lock()
		run.finished, run.err = true, err
		abandoned := run.abandoned
		run.mu.Unlock()
		close(run.done)
		if abandoned {
			p.discard(s, res)
		}
	}()
	select {
	case <-run.done:
	case <-ctx.Done():
	}
	run.mu.Lock()
	finished, err := run.finished, run.err
	run.abandoned = !finished
	run.mu.Unlock()
	if !finished {
		return false, false
	}
	if err != nil {
		p.l.Log(slog.LevelInfo, "pool: Check failed; closing the resource", slog.String("pool", p.name), slog.Uint64("resource", s.rec.ID()), slog.Any("err", err))
		p.discard(s, res)
		return false, true
	}
	return true, true
}

// checkRun is a Check running on its own goroutine, and whether the
// acquire that started it has stopped waiting for it.
type checkRun struct {
	done      chan struct{}
	mu        sync.Mutex
	finished  bool
	err       error
	abandoned bool
}

// runCheck runs Config.Check. A panic is recovered, kept for leak reports
// and returned as an error naming the line.
func (p *Pool[T]) runCheck(ctx context.Context, v T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = ledger.PanicError(p.name, "Config.Check", 0, r)
			p.l.Failed(err)
		}
	}()
	return p.cfg.Check(ctx, v)
}
