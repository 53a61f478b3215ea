package pgxtrack

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/internal/adapter"
	"github.com/tether-go/tether/pool/internal/ledger"
	"github.com/tether-go/tether/pool/internal/waitbound"
)

// The handle kinds of pgxtrack's leases, as leak reports and
// *pool.TimeoutError name them.
const (
	kindConn = ledger.HandleConn // a *Conn
	kindRows = ledger.HandleRows // the pgx.Rows of Query
	kindTx   = ledger.HandleTx   // the pgx.Tx of Begin
	kindRow  = "row"             // the pgx.Row of QueryRow, until Scan
	kindExec = "exec"            // the connection of an Exec, while it runs
)

// Pool is a *pgxpool.Pool whose every checkout is a tracked lease. Create
// it with [New]; the zero Pool is not usable. A Pool is safe for use by
// multiple goroutines. It must be shut down with [Pool.Shutdown] or
// [Pool.Close], which also close the pgxpool.
type Pool struct {
	p       *pgxpool.Pool
	l       *ledger.Ledger[*pgxpool.Conn]
	bound   *waitbound.Bound
	minIdle int // pgxpool.Config.MinIdleConns
}

// New creates a pgxpool from pc (which must come from pgxpool.ParseConfig)
// and tracks it. Like pgxpool.NewWithConfig, it opens no connection: the
// first checkout does.
//
//go:noinline
func New(ctx context.Context, pc *pgxpool.Config, cfg Config) (*Pool, error) {
	site := track.Caller(0)
	err := cfg.validate()
	if pc == nil {
		err = errors.Join(err, fmt.Errorf("pgxtrack %q: New called with a nil *pgxpool.Config; make one with pgxpool.ParseConfig", cfg.Name))
	}
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, fmt.Errorf("pgxtrack %q: New called with a nil Context; pass context.Background()", cfg.Name)
	}
	pp, err := newPgxpool(ctx, pc, cfg.Name)
	if err != nil {
		return nil, err
	}
	p := &Pool{p: pp, minIdle: int(pc.MinIdleConns)}
	p.l = ledger.New(ledger.Config[*pgxpool.Conn]{
		Name:           cfg.Name,
		MaxSize:        int(pc.MaxConns),
		AcquireTimeout: cfg.AcquireTimeout,
		LeakAfter:      cfg.LeakAfter,
		Logger:         cfg.Logger,
		OnLeak:         cfg.OnLeak,
		Reclaim:        reclaim,
		Describe:       p.describe,
		Stats:          p.poolStats,
		Site:           site,
	})
	p.bound = waitbound.New(p.l.AcquireTimeout())
	p.l.Start()
	return p, nil
}

// newPgxpool is pgxpool.NewWithConfig, with its panic on a Config that did
// not come from ParseConfig turned into an error at New.
func newPgxpool(ctx context.Context, pc *pgxpool.Config, name string) (pp *pgxpool.Pool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pgxtrack %q: pgxpool.NewWithConfig: %v; make the *pgxpool.Config with pgxpool.ParseConfig", name, r)
		}
	}()
	pp, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgxtrack %q: %w", name, err)
	}
	return pp, nil
}

// reclaim gives back the connection of a lease the ledger took back: its
// handle was garbage-collected while held, or was still held when
// Shutdown's ctx ended. Its holder may still be using the *pgx.Conn on
// another goroutine, so the connection is neither released (pgxpool's
// Release reads the connection's state) nor closed with pgx (not safe
// concurrently): it is hijacked out of the pool, which frees its slot at
// once, and its socket closed, which is safe from any goroutine. The
// holder's next call fails; the server ends the backend.
func reclaim(c *pgxpool.Conn) {
	conn := c.Hijack()
	conn.PgConn().Conn().Close()
}

// Raw returns the *pgxpool.Pool, for what the Pool does not wrap.
// Checkouts made on it directly are not tracked.
func (p *Pool) Raw() *pgxpool.Pool {
	if p == nil {
		return nil
	}
	return p.p
}

// errNilPool is returned by every operation on a nil *Pool.
var errNilPool = fmt.Errorf("pgxtrack: operation on a nil *Pool; create it with pgxtrack.New: %w", pool.ErrClosed)

// checkout acquires a connection for a handle of the given kind, as a
// lease of the ledger. The wait is bounded by the caller's ctx and
// AcquireTimeout; the query then runs on the connection with the caller's
// own ctx.
func (p *Pool) checkout(ctx context.Context, kind string, site *track.Site) (ledger.Lease[*pgxpool.Conn], *pgxpool.Conn, error) {
	ls, err := adapter.Checkout(p.l, p.bound, "pgxtrack", ctx, kind, site, func(wctx context.Context) (*pgxpool.Conn, error) {
		c, err := p.p.Acquire(wctx)
		if errors.Is(err, puddle.ErrClosedPool) {
			return nil, fmt.Errorf("pgxtrack %q: the pgxpool was closed (through Raw?): %w", p.l.Name(), pool.ErrClosed)
		}
		return c, err
	})
	if err != nil {
		return ls, nil, err
	}
	return ls, ls.Payload(), nil
}

// giveBack ends a lease that no handle was made for (its query failed).
func giveBack(ls ledger.Lease[*pgxpool.Conn], pc *pgxpool.Conn) {
	if ls.End(true) {
		pc.Release()
	}
}

// Acquire checks out a connection for the caller's exclusive use. The wait
// is bounded like every checkout's; the returned Conn is a lease, held by
// the calling task from this line until Release, which is required.
//
//go:noinline
func (p *Pool) Acquire(ctx context.Context) (*Conn, error) {
	site := track.Caller(0)
	if p == nil {
		return nil, errNilPool
	}
	ls, pc, err := p.checkout(ctx, kindConn, &site)
	if err != nil {
		return nil, err
	}
	return &Conn{lease: lease{ls: ls, pc: pc, conn: pc.Conn()}, site: site}, nil
}

// Exec runs a statement. Its connection is a lease (kind "exec") for the
// duration of the call.
//
//go:noinline
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	site := track.Caller(0)
	if p == nil {
		return pgconn.CommandTag{}, errNilPool
	}
	ls, pc, err := p.checkout(ctx, kindExec, &site)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer giveBack(ls, pc)
	return pc.Conn().Exec(ctx, sql, args...)
}

// Query runs a query. The rows pin their connection until Close (or until
// Next returns false, or Scan fails, as with pgxpool): they are a lease
// held by the calling task from this line. Close is required. As with
// pgxpool, an error is also returned as rows in an error state.
//
//go:noinline
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	site := track.Caller(0)
	if p == nil {
		return errRows{errNilPool}, errNilPool
	}
	ls, pc, err := p.checkout(ctx, kindRows, &site)
	if err != nil {
		return errRows{err}, err
	}
	inner, err := pc.Conn().Query(ctx, sql, args...)
	if err != nil {
		giveBack(ls, pc)
		return errRows{err}, err
	}
	return &rows{lease: lease{ls: ls, pc: pc, conn: pc.Conn()}, r: inner}, nil
}

// QueryRow runs a query expected to return at most one row. Errors are
// deferred to Scan, which returns pgx.ErrNoRows when there is no row; the
// connection is pinned until Scan (kind "row"), which is required.
//
//go:noinline
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	site := track.Caller(0)
	if p == nil {
		return errRow{errNilPool}
	}
	ls, pc, err := p.checkout(ctx, kindRow, &site)
	if err != nil {
		return errRow{err}
	}
	return &row{lease: lease{ls: ls, pc: pc, conn: pc.Conn()}, r: pc.Conn().QueryRow(ctx, sql, args...)}
}

// Begin starts a transaction. It pins its connection until Commit or
// Rollback, one of which is required: it is a lease held by the calling
// task from this line. As with pgxpool, ctx affects only the BEGIN
// itself.
//
//go:noinline
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.begin(ctx, pgx.TxOptions{}, track.Caller(0))
}

// BeginTx is Begin with transaction options.
//
//go:noinline
func (p *Pool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	return p.begin(ctx, opts, track.Caller(0))
}

func (p *Pool) begin(ctx context.Context, opts pgx.TxOptions, site track.Site) (pgx.Tx, error) {
	if p == nil {
		return nil, errNilPool
	}
	ls, pc, err := p.checkout(ctx, kindTx, &site)
	if err != nil {
		return nil, err
	}
	inner, err := pc.Conn().BeginTx(ctx, opts)
	if err != nil {
		giveBack(ls, pc)
		return nil, err
	}
	return &tx{lease: lease{ls: ls, pc: pc, conn: pc.Conn()}, t: inner}, nil
}
