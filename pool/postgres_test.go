package pool_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/pool"
)

// TestPostgresLeakedConnectionIsClosed pools real PostgreSQL connections
// (pgx, one *pgx.Conn per resource), leaks one (drops the lease), and checks
// through pg_stat_activity that the server really sees that connection go
// away once the garbage collector found the lease, and that the pool of one
// serves again on a new backend. It needs TETHER_TEST_POSTGRES.
func TestPostgresLeakedConnectionIsClosed(t *testing.T) {
	pg := pgtest.New(t)
	leaks := &pooltest.Leaks{}
	p, err := pool.New(pool.Config[*pgx.Conn]{
		Name:    "postgres",
		New:     func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, pg.DSN()) },
		Close:   func(c *pgx.Conn) error { return c.Close(context.Background()) },
		MaxSize: 1,
		OnLeak:  leaks.OnLeak,
		Logger:  slogDiscard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Leaked on purpose: the Lost record is unregistered after the pool's
	// shutdown (cleanups run after deferred calls).
	t.Cleanup(func() { pool.LostRecord(p).Unregister() })

	pid, site := leakConn(t, p)
	if st, ok := pg.Backends()[pid]; !ok {
		t.Fatalf("backend %d not in pg_stat_activity while leased", pid)
	} else if st != "idle" {
		t.Fatalf("backend %d is %q while leased; want idle", pid, st)
	}
	if !testkit.Collect(t, func() bool { return len(leaks.Events()) > 0 }) {
		t.Fatal("the dropped lease was not reported")
	}
	if ev := leaks.Events(); ev[0].Kind != pool.LeakCollected || ev[0].Site != site {
		t.Fatalf("leak event = %+v; want collected-while-held at %s", ev[0], site)
	}
	pg.Until(fmt.Sprintf("backend %d of the leaked lease is gone", pid), func() bool {
		_, alive := pg.Backends()[pid]
		return !alive
	})
	// The pool of one got its capacity back: a new connection, a new backend.
	err = p.With(t.Context(), func(c *pgx.Conn) error {
		if got := c.PgConn().PID(); got == pid {
			return fmt.Errorf("got the leaked backend %d again", pid)
		}
		var one int
		return c.QueryRow(t.Context(), "SELECT 1").Scan(&one)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// leakConn acquires a connection, checks that the server's pg_backend_pid()
// is the one pgx reports, and drops the lease without releasing it. It
// returns the pid and the acquire site.
//
//go:noinline
func leakConn(t *testing.T, p *pool.Pool[*pgx.Conn]) (uint32, string) {
	l, err := p.Acquire(t.Context())
	site := fmt.Sprintf("postgres_test.go:%d", lineOf(testkit.Here(0))-1) // the line above
	if err != nil {
		t.Fatal(err)
	}
	var pid uint32
	if err := l.Value().QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if pid != l.Value().PgConn().PID() {
		t.Fatalf("pg_backend_pid() = %d; pgx says %d", pid, l.Value().PgConn().PID())
	}
	return pid, site
}
