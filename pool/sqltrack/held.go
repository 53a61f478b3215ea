package sqltrack

import (
	"database/sql"
)

// held is what a lease holds: the connection, and the rows, transaction or
// row pinning it. The ledger gives it to reclaim when it takes a lease back
// (the handle was garbage-collected while open, or was still open when
// Shutdown's ctx ended). It never refers to the handle itself: the handle
// must become unreachable for the collector to find it.
type held interface {
	reclaim()
}

// connHeld is what a checkout holds until a query pins the connection:
// the connection alone. It is one pointer, so storing it in the interface
// allocates nothing; a Conn and an Exec never hold more.
type connHeld struct{ c *sql.Conn }

func (h connHeld) reclaim() { h.c.Close() }

// pinned is what a Rows, Tx or Row holds once its query has run: the
// connection and what was made on it, which must be released first (a
// *sql.Conn's Close waits for its open rows and transaction).
type pinned[T any] struct {
	conn    *sql.Conn
	v       T
	release func(T) // closeRows, rollbackTx or discardRow
}

func (p *pinned[T]) reclaim() {
	p.release(p.v)
	p.conn.Close()
}

// pin makes the lease hold v too, so that a reclaim releases it. If the
// ledger took the lease back while the query ran (Shutdown gave up on it),
// v is released here instead.
func pin[T any](l *lease, v T, release func(T)) {
	if !l.ls.Set(&pinned[T]{conn: l.conn, v: v, release: release}) {
		release(v)
	}
}

func closeRows(r *sql.Rows) { r.Close() }

func rollbackTx(t *sql.Tx) { t.Rollback() }

// discardRow closes a row that will never be scanned: Scan with no
// destination fails, and closes its rows either way.
func discardRow(r *sql.Row) { r.Scan() }
