package pgxtrack

import (
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-go/tether/pool/internal/ledger"
)

// lease is what every handle (Conn, rows, row, tx) has: its checkout of a
// connection, recorded by the ledger from the line that opened the handle
// until end. Only end touches the *pgxpool.Conn (the holder uses the
// *pgx.Conn), so a reclaim by the ledger never races with the holder on
// it.
type lease struct {
	ls    ledger.Lease[*pgxpool.Conn]
	pc    *pgxpool.Conn
	conn  *pgx.Conn
	ended atomic.Bool
}

// end releases the connection to the pool, once: the handle has finished
// with it (closed its rows, ended its transaction). pgxpool destroys a
// connection that is broken, busy or still in a transaction instead of
// keeping it. Concurrent and later calls do nothing. If the ledger took
// the lease back meanwhile, its reclaim has the connection instead.
func (l *lease) end() {
	if !l.ended.CompareAndSwap(false, true) {
		return
	}
	if l.ls.End(true) {
		l.pc.Release()
	}
}
