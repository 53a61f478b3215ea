package sqltrack

import (
	"database/sql"
	"sync/atomic"

	"github.com/tether-go/tether/pool/internal/ledger"
)

// lease is what every handle (Conn, Rows, Row, Tx) has: its checkout of a
// connection, recorded by the ledger from the line that opened the handle
// until end.
type lease struct {
	ls    ledger.Lease[held]
	conn  *sql.Conn
	ended atomic.Bool
}

// end gives the connection back, once: the handle has released what
// pinned it (closed its rows, ended its transaction). Concurrent and later
// calls do nothing. If the ledger has taken the lease back meanwhile
// (Shutdown gave up on it), its reclaim closes the connection instead.
func (l *lease) end() {
	if !l.ended.CompareAndSwap(false, true) {
		return
	}
	if l.ls.End(true) {
		l.conn.Close()
	}
}
