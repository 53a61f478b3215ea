package sqltrack_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// fakeDB is a database/sql driver for tests in a synctest bubble, where a
// real database cannot run: its queries take fake time, and it can be told
// to fail. Open it with sql.OpenDB(fakeDB): no global registration.
//
// Queries: "SELECT id" returns the connection's number; "SLEEP 5s" waits 5s
// (or until its ctx ends) and returns one row; "FAIL" fails. Anything else
// returns no rows.
type fakeDB struct {
	mu      sync.Mutex
	made    int
	closed  int
	badNext int   // the next queries that fail with driver.ErrBadConn
	dialErr error // returned by the next Connect
	dial    time.Duration
}

func (d *fakeDB) Connect(ctx context.Context) (driver.Conn, error) {
	d.mu.Lock()
	err, wait := d.dialErr, d.dial
	d.dialErr = nil
	d.mu.Unlock()
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.made++
	return &fakeConn{d: d, id: d.made}, nil
}

func (d *fakeDB) Driver() driver.Driver { return fakeDriver{} }

// Made and Closed count the connections opened and closed.
func (d *fakeDB) Made() int   { d.mu.Lock(); defer d.mu.Unlock(); return d.made }
func (d *fakeDB) Closed() int { d.mu.Lock(); defer d.mu.Unlock(); return d.closed }

// BadNext makes the next n queries fail with driver.ErrBadConn.
func (d *fakeDB) BadNext(n int) { d.mu.Lock(); d.badNext = n; d.mu.Unlock() }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("fakedb: use sql.OpenDB") }

type fakeConn struct {
	d      *fakeDB
	id     int
	closed bool
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("fakedb: no prepared statements")
}

func (c *fakeConn) Close() error {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.d.closed++
	}
	return nil
}

func (c *fakeConn) Begin() (driver.Tx, error) { return fakeTx{}, nil }

func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return fakeTx{}, nil
}

func (c *fakeConn) IsValid() bool { return !c.closed }

func (c *fakeConn) ResetSession(context.Context) error { return nil }

func (c *fakeConn) run(ctx context.Context, query string) (*fakeRows, error) {
	c.d.mu.Lock()
	bad := c.d.badNext > 0
	if bad {
		c.d.badNext--
	}
	c.d.mu.Unlock()
	if bad {
		return nil, driver.ErrBadConn
	}
	switch {
	case query == "SELECT id":
		return &fakeRows{vals: []driver.Value{int64(c.id)}}, nil
	case strings.HasPrefix(query, "SLEEP "):
		d, err := time.ParseDuration(strings.TrimPrefix(query, "SLEEP "))
		if err != nil {
			return nil, err
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &fakeRows{vals: []driver.Value{int64(c.id)}}, nil
	case query == "FAIL":
		return nil, fmt.Errorf("fakedb: %s failed", query)
	}
	return &fakeRows{}, nil
}

func (c *fakeConn) QueryContext(ctx context.Context, query string, _ []driver.NamedValue) (driver.Rows, error) {
	r, err := c.run(ctx, query)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (c *fakeConn) ExecContext(ctx context.Context, query string, _ []driver.NamedValue) (driver.Result, error) {
	if _, err := c.run(ctx, query); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

// fakeRows returns vals as one row of one column, "v"; no row when nil.
type fakeRows struct {
	vals []driver.Value
	done bool
}

func (r *fakeRows) Columns() []string { return []string{"v"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.vals == nil || r.done {
		return io.EOF
	}
	r.done = true
	copy(dest, r.vals)
	return nil
}
