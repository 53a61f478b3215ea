package sqltrack

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/internal/adapter"
	"github.com/tether-go/tether/pool/internal/ledger"
	"github.com/tether-go/tether/pool/internal/waitbound"
)

// The handle kinds of sqltrack's leases, as leak reports and
// *pool.TimeoutError name them.
const (
	kindConn = ledger.HandleConn // a *Conn
	kindRows = ledger.HandleRows // a *Rows
	kindTx   = ledger.HandleTx   // a *Tx
	kindRow  = "row"             // a *Row not yet scanned
	kindExec = "exec"            // the connection of an ExecContext, while it runs
)

// maxBadConnRetries is how many times an operation is retried on a fresh
// checkout when the driver says the connection it got was bad
// (driver.ErrBadConn: nothing was sent, so it is safe to retry), as
// database/sql's own DB methods do. The last try makes it three.
const maxBadConnRetries = 2

// DB is a *sql.DB whose every checkout is a tracked lease. Create it with
// [Open] or [Wrap]; the zero DB is not usable. A DB is safe for use by
// multiple goroutines. It must be shut down with [DB.Shutdown] or
// [DB.Close], which also closes the *sql.DB.
type DB struct {
	db    *sql.DB
	name  string
	l     *ledger.Ledger[held]
	bound *waitbound.Bound
}

// Open opens a database with sql.Open and tracks it. The *sql.DB's own
// settings (SetMaxOpenConns and the like) are set on [DB.Raw].
//
//go:noinline
func Open(driverName, dsn string, cfg Config) (*DB, error) {
	site := track.Caller(0)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqltrack %q: %w", cfg.Name, err)
	}
	return wrap(db, cfg, site), nil
}

// Wrap tracks an open *sql.DB. The caller keeps configuring db with its own
// setters (SetMaxOpenConns...), but should run queries through the DB, not
// through db directly: those are not tracked. The DB takes db over:
// Shutdown and Close close it.
//
//go:noinline
func Wrap(db *sql.DB, cfg Config) (*DB, error) {
	site := track.Caller(0)
	err := cfg.validate()
	if db == nil {
		err = errors.Join(err, fmt.Errorf("sqltrack %q: Wrap called with a nil *sql.DB; pass the database sql.Open returned", cfg.Name))
	}
	if err != nil {
		return nil, err
	}
	return wrap(db, cfg, site), nil
}

func wrap(db *sql.DB, cfg Config, site track.Site) *DB {
	d := &DB{db: db, name: cfg.Name}
	d.l = ledger.New(ledger.Config[held]{
		Name:           cfg.Name,
		MaxSize:        db.Stats().MaxOpenConnections,
		AcquireTimeout: cfg.AcquireTimeout,
		LeakAfter:      cfg.LeakAfter,
		Logger:         cfg.Logger,
		OnLeak:         cfg.OnLeak,
		Reclaim:        held.reclaim,
		Tick:           d.tick,
		Describe:       d.describe,
		Stats:          d.poolStats,
		Site:           site,
	})
	d.bound = waitbound.New(d.l.AcquireTimeout())
	d.l.Start()
	return d
}

// tick runs on the ledger's watchdog: it keeps the ledger's idea of the
// pool's size in step with SetMaxOpenConns on Raw.
func (db *DB) tick(int64) int64 {
	db.l.SetMaxSize(db.db.Stats().MaxOpenConnections)
	return 0
}

// Raw returns the *sql.DB, for its settings and for what the DB does not
// wrap. Queries run on it directly are not tracked.
func (db *DB) Raw() *sql.DB {
	if db == nil {
		return nil
	}
	return db.db
}

// errNilDB is returned by every operation on a nil *DB.
var errNilDB = fmt.Errorf("sqltrack: operation on a nil *DB; create it with sqltrack.Open or sqltrack.Wrap: %w", pool.ErrClosed)

// checkout takes a connection from database/sql's pool for a handle of the
// given kind, as a lease of the ledger holding the connection alone (until
// the handle pins what its query made). The wait is bounded by the
// caller's ctx and AcquireTimeout. The query then runs on the connection
// with the caller's own ctx: only the wait is bounded.
func (db *DB) checkout(ctx context.Context, kind string, site *track.Site) (ledger.Lease[held], *sql.Conn, error) {
	var conn *sql.Conn
	ls, err := adapter.Checkout(db.l, db.bound, "sqltrack", ctx, kind, site, func(wctx context.Context) (held, error) {
		c, err := db.db.Conn(wctx)
		conn = c
		return held{conn: c}, err
	})
	if err != nil {
		return ls, nil, err
	}
	return ls, conn, nil
}

// run checks out a connection for a handle of the given kind and runs op
// on it. If op fails, the connection goes back; if it failed with
// driver.ErrBadConn (nothing was sent: the connection was dead), op runs
// again on another connection, up to three times in all, as database/sql's
// own DB methods retry. If op succeeds, the caller owns the lease and the
// connection.
func run[T any](db *DB, ctx context.Context, kind string, site *track.Site, op func(*sql.Conn) (T, error)) (ledger.Lease[held], *sql.Conn, T, error) {
	for attempt := 0; ; attempt++ {
		ls, conn, err := db.checkout(ctx, kind, site)
		if err != nil {
			var zero T
			return ls, nil, zero, err
		}
		v, err := op(conn)
		if err == nil {
			return ls, conn, v, nil
		}
		if ls.End(false) {
			conn.Close()
		}
		if attempt == maxBadConnRetries || !errors.Is(err, driver.ErrBadConn) {
			return ls, nil, v, err
		}
	}
}

// Conn checks out a connection for the caller's exclusive use: for session
// state (SET, temporary tables, advisory locks) or a run of statements on
// one connection. The wait is bounded like every checkout's; the returned
// Conn is a lease, held by the calling task from this line until its Close,
// which is required.
//
//go:noinline
func (db *DB) Conn(ctx context.Context) (*Conn, error) {
	site := track.Caller(0)
	if db == nil {
		return nil, errNilDB
	}
	ls, conn, err := db.checkout(ctx, kindConn, &site)
	if err != nil {
		return nil, err
	}
	return &Conn{lease: lease{ls: ls, conn: conn}}, nil
}

// ExecContext runs a statement that returns no rows. Its connection is a
// lease (kind "exec") for the duration of the call. It is retried on a new
// connection when the driver reports driver.ErrBadConn, as database/sql
// does.
//
//go:noinline
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	site := track.Caller(0)
	if db == nil {
		return nil, errNilDB
	}
	ls, conn, res, err := run(db, ctx, kindExec, &site, func(c *sql.Conn) (sql.Result, error) {
		return c.ExecContext(ctx, query, args...)
	})
	if err == nil && ls.End(false) {
		conn.Close()
	}
	return res, err
}

// QueryContext runs a query and returns its rows. The Rows pins its
// connection until Close (or until Next has read the last row): it is a
// lease held by the calling task from this line. Close is required.
//
//go:noinline
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*Rows, error) {
	site := track.Caller(0)
	if db == nil {
		return nil, errNilDB
	}
	ls, conn, rows, err := run(db, ctx, kindRows, &site, func(c *sql.Conn) (*sql.Rows, error) {
		return c.QueryContext(ctx, query, args...)
	})
	if err != nil {
		return nil, err
	}
	r := &Rows{lease: lease{ls: ls, conn: conn}, rows: rows}
	pin(&r.lease, held{conn: conn, rows: rows})
	return r, nil
}

// QueryRowContext runs a query expected to return at most one row. Like
// *sql.Row, the *Row defers errors to Scan, and its connection is pinned
// until Scan: it is a lease (kind "row") from this line until then.
//
// It returns a *Row, not the *sql.Row of database/sql (and of
// shared/DESIGN.md), because a *sql.Row cannot say when it has been
// scanned, and so when its connection is free again.
//
//go:noinline
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	site := track.Caller(0)
	if db == nil {
		return &Row{err: errNilDB}
	}
	// A query that failed leaves the row holding nothing: its connection
	// goes back at once.
	ls, conn, row, err := run(db, ctx, kindRow, &site, func(c *sql.Conn) (*sql.Row, error) {
		row := c.QueryRowContext(ctx, query, args...)
		return row, row.Err()
	})
	if err != nil {
		return &Row{err: err}
	}
	r := &Row{lease: lease{ls: ls, conn: conn}, row: row}
	pin(&r.lease, held{conn: conn, row: row})
	return r
}

// BeginTx starts a transaction. The Tx pins its connection until Commit or
// Rollback, one of which is required: it is a lease held by the calling
// task from this line. ctx governs the transaction as in database/sql: if
// it is cancelled, the transaction is rolled back (and Commit fails), but
// the Tx must still be ended.
//
//go:noinline
func (db *DB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	site := track.Caller(0)
	if db == nil {
		return nil, errNilDB
	}
	ls, conn, tx, err := run(db, ctx, kindTx, &site, func(c *sql.Conn) (*sql.Tx, error) {
		return c.BeginTx(ctx, opts)
	})
	if err != nil {
		return nil, err
	}
	t := &Tx{lease: lease{ls: ls, conn: conn}, tx: tx}
	pin(&t.lease, held{conn: conn, tx: tx})
	return t, nil
}
