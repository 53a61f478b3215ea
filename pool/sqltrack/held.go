package sqltrack

import (
	"database/sql"
	"sync"
)

// held is what a lease holds: the connection, and the rows, transaction or
// row pinning it. The ledger gives it to reclaim when it takes a lease back
// (the handle was garbage-collected while open, or was still open when
// Shutdown's ctx ended). It never refers to the handle itself: the handle
// must become unreachable for the collector to find it.
type held interface {
	reclaim()
}

// connHeld is the payload of a Conn or an Exec: only the connection. It is
// one pointer, so storing it in the interface allocates nothing.
type connHeld struct{ c *sql.Conn }

func (h connHeld) reclaim() { h.c.Close() }

// pinner is a payload that also pins what was made on its connection.
type pinner interface {
	held
	setConn(*sql.Conn)
}

// pinned is the payload of a Rows, Tx or Row: the connection, and what
// was made on it, which must be released first (a *sql.Conn's Close waits
// for its open rows and transaction). The handle pins v once the query
// has returned it; a reclaim that comes first (Shutdown giving up while
// the query ran) makes pin release v at once.
type pinned[T any] struct {
	conn    *sql.Conn
	release func(T) // closeRows, rollbackTx or discardRow

	mu   sync.Mutex
	v    T
	set  bool
	gone bool // reclaimed
}

func (p *pinned[T]) setConn(c *sql.Conn) { p.conn = c }

// pin records v, or releases it if the lease was already reclaimed.
func (p *pinned[T]) pin(v T) {
	p.mu.Lock()
	if p.gone {
		p.mu.Unlock()
		p.release(v)
		return
	}
	p.v, p.set = v, true
	p.mu.Unlock()
}

func (p *pinned[T]) reclaim() {
	p.mu.Lock()
	p.gone = true
	v, set := p.v, p.set
	p.mu.Unlock()
	if set {
		p.release(v)
	}
	p.conn.Close()
}

func closeRows(r *sql.Rows) { r.Close() }

func rollbackTx(t *sql.Tx) { t.Rollback() }

// discardRow closes a row that will never be scanned: Scan with no
// destination fails, and closes its rows either way.
func discardRow(r *sql.Row) { r.Scan() }
