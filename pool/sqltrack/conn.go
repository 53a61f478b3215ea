package sqltrack

import (
	"context"
	"database/sql"
)

// Conn is one connection checked out with [DB.Conn] for the caller's
// exclusive use. It is a lease, held by the task that checked it out from
// that line until Close, which is required. Rows, transactions and
// statements made on it live within it and need no tracking of their own;
// they must be closed before the Conn is (Close waits for them, as
// database/sql's does).
//
// A Conn is safe for use by multiple goroutines as far as *sql.Conn is.
// After Close, its methods return sql.ErrConnDone.
type Conn struct {
	lease
}

// sql returns the *sql.Conn, panicking on a nil *Conn.
func (c *Conn) sql(method string) *sql.Conn {
	if c == nil {
		panic("sqltrack: " + method + " called on a nil *Conn; check the error from DB.Conn")
	}
	return c.conn
}

// ExecContext runs a statement on the connection.
func (c *Conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.sql("ExecContext").ExecContext(ctx, query, args...)
}

// QueryContext runs a query on the connection. Its rows must be closed
// before the Conn is.
func (c *Conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.sql("QueryContext").QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (c *Conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.sql("QueryRowContext").QueryRowContext(ctx, query, args...)
}

// PingContext checks that the connection is alive.
func (c *Conn) PingContext(ctx context.Context) error {
	return c.sql("PingContext").PingContext(ctx)
}

// PrepareContext prepares a statement on the connection.
func (c *Conn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.sql("PrepareContext").PrepareContext(ctx, query)
}

// BeginTx starts a transaction on the connection. It must end before the
// Conn is closed.
func (c *Conn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return c.sql("BeginTx").BeginTx(ctx, opts)
}

// Raw runs f with the driver's connection, as *sql.Conn's Raw does.
func (c *Conn) Raw(f func(driverConn any) error) error {
	return c.sql("Raw").Raw(f)
}

// Close returns the connection to the database's pool and ends the lease.
// Later calls (and Close on a nil *Conn) do nothing and return nil.
func (c *Conn) Close() error {
	if c == nil {
		return nil
	}
	c.end()
	return nil
}
