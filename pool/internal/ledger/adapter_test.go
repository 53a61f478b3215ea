package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// This file is a database adapter in miniature, built the way
// pool/sqltrack and pool/pgxtrack use the ledger, over a fake driver pool:
// the tests in ledger_test.go drive it to show that the ledger's API serves
// an adapter.

// conn is a fake driver connection.
type conn struct {
	id int
	mu sync.Mutex
	// out is true while the driver has lent it; put panics on a double
	// return, so a test sees a connection given back twice.
	out bool
}

// driver is a driver pool in miniature (database/sql's, pgxpool's): a
// channel semaphore of connections. take blocks under ctx until one is
// free, as sql.DB.Conn and pgxpool.Pool.Acquire do.
type driver struct {
	conns chan *conn
	all   []*conn
	fail  error // take returns it (a dial error), when set
}

func newDriver(size int) *driver {
	d := &driver{conns: make(chan *conn, size)}
	for i := range size {
		c := &conn{id: i + 1}
		d.all = append(d.all, c)
		d.conns <- c
	}
	return d
}

func (d *driver) take(ctx context.Context) (*conn, error) {
	if d.fail != nil {
		return nil, d.fail
	}
	select {
	case c := <-d.conns:
		c.mu.Lock()
		c.out = true
		c.mu.Unlock()
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *driver) put(c *conn) {
	c.mu.Lock()
	if !c.out {
		c.mu.Unlock()
		panic(fmt.Sprintf("driver: conn %d returned twice", c.id))
	}
	c.out = false
	c.mu.Unlock()
	d.conns <- c
}

// free counts the connections back in the driver.
func (d *driver) free() int { return len(d.conns) }

// adapter is what sqltrack or pgxtrack is to its driver.
type adapter struct {
	d *driver
	l *ledger.Ledger[*conn]
}

// newAdapter wraps a driver of size connections. cfg's Name, MaxSize and
// Reclaim are filled in. It must be called inside the test's synctest
// bubble, if it has one.
func newAdapter(size int, cfg ledger.Config[*conn]) *adapter {
	a := &adapter{d: newDriver(size)}
	if cfg.Name == "" {
		cfg.Name = "db"
	}
	cfg.MaxSize = size
	cfg.Reclaim = a.reclaim // the driver object is closed: its connection goes back
	a.l = ledger.New(cfg)
	a.l.Start()
	return a
}

func (a *adapter) reclaim(c *conn) { a.d.put(c) }

// rows is the adapter's handle: the one allocation of a checkout, with the
// ledger's lease inside it.
type rows struct {
	a     *adapter
	c     *conn
	lease ledger.Lease[*conn]
}

// Query is a checkout that the caller must Close (like sql.DB.QueryContext
// returning *Rows).
//
//go:noinline
func (a *adapter) Query(ctx context.Context) (*rows, error) {
	site := track.Caller(0)
	ls, err := a.l.Checkout(ctx, ledger.HandleRows, site, a.d.take)
	if err != nil {
		return nil, err
	}
	return &rows{a: a, c: ls.Payload(), lease: ls}, nil
}

// Close ends the rows; a second Close does nothing.
func (r *rows) Close() {
	if r.lease.End(false) {
		r.a.d.put(r.c)
	}
}

// Exec is a checkout hidden inside one call (like ExecContext): the lease
// lasts while fn runs.
//
//go:noinline
func (a *adapter) Exec(ctx context.Context, fn func(c *conn)) error {
	site := track.Caller(0)
	ls, err := a.l.Checkout(ctx, ledger.HandleConn, site, a.d.take)
	if err != nil {
		return err
	}
	c := ls.Payload()
	defer func() {
		if ls.End(false) {
			a.d.put(c)
		}
	}()
	fn(c)
	return nil
}

// lineAfter returns the site one line below a testkit.Here(0) call.
func lineAfter(site string) string {
	file, line, _ := cut(site)
	return file + ":" + strconv.Itoa(line+1)
}

func cut(site string) (string, int, bool) {
	i := len(site) - 1
	for i >= 0 && site[i] != ':' {
		i--
	}
	n, err := strconv.Atoi(site[i+1:])
	return site[:i], n, err == nil
}

// messages renders the records of a pooltest.Log as "LEVEL message".
func messages(l *pooltest.Log) string {
	var b strings.Builder
	for _, r := range l.Records() {
		b.WriteString(r.Level.String() + " " + r.Msg + "\n")
	}
	return b.String()
}

var errDial = errors.New("dial tcp 10.0.0.1:5432: connection refused")
