package pgxtrack_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/pool/pgxtrack"
)

func TestPostgresBackendKilledWhileLeased(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 1, pgxtrack.Config{})
	ctx := t.Context()

	c, err := e.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killed := c.Conn().PgConn().PID()
	pg.Terminate(killed)
	if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("a statement on a killed backend succeeded")
	}
	c.Release() // pgxpool sees the connection is closed and destroys it

	rows, err := e.Pool.Query(ctx, "SELECT pg_backend_pid(), repeat('x', 100000) FROM generate_series(1, 1000)")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	var rowsPid uint32
	var payload string
	if err := rows.Scan(&rowsPid, &payload); err != nil {
		t.Fatal(err)
	}
	if rowsPid == killed {
		t.Fatalf("the killed backend %d was lent again", killed)
	}
	pg.Terminate(rowsPid)
	for rows.Next() {
	}
	if rows.Err() == nil {
		t.Fatal("rows of a killed backend ended without an error")
	}
	if st := e.Pool.Stats(); st.InUse != 0 {
		t.Fatalf("Stats.InUse = %d after the rows failed; want the lease ended", st.InUse)
	}

	for i := range 5 {
		p, err := e.pid(ctx)
		if err != nil {
			t.Fatalf("query %d after the kills: %v", i, err)
		}
		if p == killed || p == rowsPid {
			t.Fatalf("query %d ran on killed backend %d", i, p)
		}
	}
	if st := e.Pool.Stats(); st.Pool.TotalConns() != 1 || st.InUse != 0 {
		t.Fatalf("Stats = %+v, %d connections; want one live connection, none held", st, st.Pool.TotalConns())
	}
}

func TestPostgresBackendKilledWhileIdle(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 3, pgxtrack.Config{})
	ctx := t.Context()
	var conns []*pgxtrack.Conn
	killed := map[uint32]bool{}
	var pids []uint32
	for range 3 {
		c, err := e.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		killed[c.Conn().PgConn().PID()] = true
		pids = append(pids, c.Conn().PgConn().PID())
	}
	for _, c := range conns {
		c.Release()
	}
	pg.Terminate(pids...)

	// pgxpool pings a connection idle for over a second before lending it;
	// these are younger, so each dead one may fail one statement, and is
	// then destroyed: never lent broken twice.
	failures := 0
	for i := range 10 {
		p, err := e.pid(ctx)
		if err != nil {
			var pe *pgconn.PgError
			if !errors.As(err, &pe) && !strings.Contains(err.Error(), "conn closed") && !strings.Contains(err.Error(), "unexpected EOF") {
				t.Fatalf("query %d: %v; want the server's termination or a closed connection", i, err)
			}
			failures++
			continue
		}
		if killed[p] {
			t.Fatalf("query %d ran on killed backend %d", i, p)
		}
	}
	if failures > len(killed) {
		t.Fatalf("%d failures for %d killed connections: a broken connection was lent twice", failures, len(killed))
	}
	if st := e.Pool.Stats(); st.InUse != 0 {
		t.Fatalf("Stats.InUse = %d", st.InUse)
	}
}

func TestPostgresTooManyConnections(t *testing.T) {
	pg := pgtest.New(t)
	// The role may hold 2 connections; the pool thinks it may open 4.
	e := newPool(t, pg, pg.Role(2), 4, pgxtrack.Config{Name: "limited", AcquireTimeout: 5 * time.Second})
	ctx := t.Context()
	a, err := e.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Pool.Acquire(ctx)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		t.Fatalf("a third connection: %v; want the server's too_many_connections (53300)", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("the refusal took %v; want it at once, not after AcquireTimeout", time.Since(start))
	}
	wantContains(t, "the error", err.Error(), `pgxtrack "limited": getting a connection:`, "too many connections")
	a.Release()
	if _, err := e.pid(ctx); err != nil {
		t.Fatalf("after a Release: %v", err)
	}
	b.Release()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var refused *pgconn.PgError
			if _, err := e.pid(ctx); err != nil && !errors.As(err, &refused) {
				t.Errorf("concurrent query: %v", err)
			}
		})
	}
	wg.Wait()
	if st := e.Pool.Stats(); st.InUse != 0 {
		t.Fatalf("Stats.InUse = %d", st.InUse)
	}
}

func TestPostgresQueryCancelledMidFlightLeavesNoLease(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 2, pgxtrack.Config{})
	for _, op := range []struct {
		name string
		run  func(ctx context.Context, q string) error
	}{
		{"exec", func(ctx context.Context, q string) error {
			_, err := e.Pool.Exec(ctx, q)
			return err
		}},
		{"rows", func(ctx context.Context, q string) error {
			rows, err := e.Pool.Query(ctx, q)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Err() // no Close: Next's end gives the connection back
		}},
		{"row", func(ctx context.Context, q string) error {
			var v any
			return e.Pool.QueryRow(ctx, q).Scan(&v)
		}},
		{"tx", func(ctx context.Context, q string) error {
			tx, err := e.Pool.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(context.Background())
			_, err = tx.Exec(ctx, q)
			return err
		}},
	} {
		t.Run(op.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			// The marker tells this query's backend from the previous
			// subtests': a backend whose client gave up keeps sleeping.
			q := "SELECT pg_sleep(30) /* cancelled-" + op.name + " */"
			go func() { done <- op.run(ctx, q) }()
			pg.Until("the query runs", func() bool { return pg.Running("cancelled-" + op.name) })
			cancel()
			if err := <-done; err == nil {
				t.Fatal("a cancelled query succeeded")
			}
			if st := e.Pool.Stats(); st.InUse != 0 {
				t.Fatalf("Stats = %+v; want no lease", st)
			}
			// pgxpool destroys the cancelled (closed) connection on a
			// goroutine of its own.
			pg.Until("pgxpool has no connection acquired", func() bool { return e.Pool.Stats().Pool.AcquiredConns() == 0 })
			if _, err := e.pid(t.Context()); err != nil {
				t.Fatalf("after the cancel: %v", err)
			}
		})
	}
	if ev := e.Leaks.Events(); len(ev) != 0 {
		t.Fatalf("leak events %+v", ev)
	}
}
