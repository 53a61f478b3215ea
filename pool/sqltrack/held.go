package sqltrack

import (
	"database/sql"
)

// held is what a lease holds: the connection, and the rows, transaction or
// row pinning it (at most one of them, set once the query has run). The
// ledger gives it to reclaim when it takes a lease back (the handle was
// garbage-collected while open, or was still open when Shutdown's ctx
// ended). It never refers to the handle itself: the handle must become
// unreachable for the collector to find it.
//
// It is a struct, not an interface: the ledger keeps it by value in the
// lease's record, so pinning the connection to what its query made
// allocates nothing (an interface over a pinned value was an allocation
// per Rows, Tx and Row).
type held struct {
	conn *sql.Conn
	rows *sql.Rows
	tx   *sql.Tx
	row  *sql.Row
}

// release releases what pins the connection, which must happen before the
// connection is closed (a *sql.Conn's Close waits for its open rows and
// transaction).
func (h held) release() {
	switch {
	case h.rows != nil:
		h.rows.Close()
	case h.tx != nil:
		h.tx.Rollback()
	case h.row != nil:
		// Scan with no destination fails, and closes the row's rows
		// either way.
		h.row.Scan()
	}
}

// reclaim releases what pins the connection, then closes it.
func (h held) reclaim() {
	h.release()
	h.conn.Close()
}

// pin makes the lease hold h, the connection and what its query made, so
// that a reclaim releases both. If the ledger took the lease back while
// the query ran (Shutdown gave up on it), what the query made is released
// here instead.
func pin(l *lease, h held) {
	if !l.ls.Set(h) {
		h.release()
	}
}
