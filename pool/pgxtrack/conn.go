package pgxtrack

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tether-go/tether/internal/track"
)

// Conn is a connection checked out with [Pool.Acquire] for the caller's
// exclusive use, like a *pgxpool.Conn. It is a lease, held by the task that
// acquired it from that line until Release, which is required. What is
// made on it (rows, transactions, batches) lives within it and must be
// finished before Release. Like *pgxpool.Conn, it is not safe for
// concurrent use, except Release, which may be called more than once.
type Conn struct {
	lease
	site track.Site // where Acquire was called, for misuse panics
}

// pgx returns the *pgx.Conn, panicking on a nil or released *Conn.
func (c *Conn) pgx(method string) *pgx.Conn {
	if c == nil {
		panic("pgxtrack: " + method + " called on a nil *Conn; check the error from Pool.Acquire")
	}
	if c.ended.Load() {
		panic("pgxtrack: " + method + " called on a *Conn after Release; it was acquired at " + c.site.String())
	}
	return c.conn
}

// Conn returns the *pgx.Conn. It must not be used after Release.
func (c *Conn) Conn() *pgx.Conn { return c.pgx("Conn") }

// Exec runs a statement on the connection.
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.pgx("Exec").Exec(ctx, sql, args...)
}

// Query runs a query on the connection. Its rows must be closed before
// Release.
func (c *Conn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.pgx("Query").Query(ctx, sql, args...)
}

// QueryRow runs a query expected to return at most one row.
func (c *Conn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.pgx("QueryRow").QueryRow(ctx, sql, args...)
}

// Begin starts a transaction on the connection. It must end before
// Release.
func (c *Conn) Begin(ctx context.Context) (pgx.Tx, error) { return c.pgx("Begin").Begin(ctx) }

// Ping checks that the connection is alive.
func (c *Conn) Ping(ctx context.Context) error { return c.pgx("Ping").Ping(ctx) }

// Release returns the connection to the pool and ends the lease. Later
// calls, and Release on a nil *Conn, do nothing.
func (c *Conn) Release() {
	if c == nil {
		return
	}
	c.end()
}
