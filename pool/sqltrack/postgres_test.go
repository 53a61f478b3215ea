package sqltrack_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
)

// newPostgres opens a tracked database on dsn (pgx's stdlib driver) with
// at most maxOpen connections.
func newPostgres(t *testing.T, dsn string, maxOpen int, cfg sqltrack.Config) *env {
	t.Helper()
	e := &env{Leaks: &pooltest.Leaks{}, Log: &pooltest.Log{}}
	e.fill(&cfg)
	db, err := sqltrack.Open("pgx", dsn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db.Raw().SetMaxOpenConns(maxOpen)
	db.Raw().SetMaxIdleConns(maxOpen)
	e.DB = db
	t.Cleanup(func() { e.shutdown(t) })
	// Open the first connection untracked, so that tests with a short
	// AcquireTimeout do not time out on a slow dial.
	if err := db.Raw().PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

// pid returns the backend pid of a query run on db.
func pid(t *testing.T, db *sqltrack.DB) (uint32, error) {
	var p uint32
	err := db.QueryRowContext(t.Context(), "SELECT pg_backend_pid()").Scan(&p)
	return p, err
}

func TestPostgresRowsLeftOpenNamesLineAndTask(t *testing.T) {
	pg := pgtest.New(t)
	e := newPostgres(t, pg.DSN(), 1, sqltrack.Config{AcquireTimeout: 200 * time.Millisecond})
	handler := track.WithTask(t.Context(), &track.Task{Path: "app/http/report"})
	rows, err := e.DB.QueryContext(handler, "SELECT generate_series(1, 3)")
	site := lineAbove(testkit.Here(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pid(t, e.DB)
	te := wantTimeout(t, err)
	if len(te.Holders) != 1 || te.Holders[0].Handle != "rows" || te.Holders[0].Task != "app/http/report" || te.Holders[0].Site != site {
		t.Fatalf("TimeoutError = %v; want it to name the rows opened at %s by app/http/report", err, site)
	}
	if te.Waited < 200*time.Millisecond || te.Waited > 300*time.Millisecond {
		t.Errorf("waited %v; want AcquireTimeout (200ms)", te.Waited)
	}
	wantContains(t, "message", err.Error(), "rows #1 held", "by task app/http/report, opened at "+site)
	rows.Close()
	if _, err := pid(t, e.DB); err != nil {
		t.Fatalf("after Close: %v", err)
	}
}

func TestPostgresOnlyTheWaitIsBounded(t *testing.T) {
	pg := pgtest.New(t)
	e := newPostgres(t, pg.DSN(), 1, sqltrack.Config{AcquireTimeout: time.Second})
	if _, err := e.DB.ExecContext(t.Context(), "SELECT pg_sleep(1.5)"); err != nil {
		t.Fatalf("a statement running longer than AcquireTimeout: %v", err)
	}
	rows, err := e.DB.QueryContext(t.Context(), "SELECT pg_sleep(1.5)")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("a query running longer than AcquireTimeout: %v", err)
	}
}

func TestPostgresBackendKilledWhileLeased(t *testing.T) {
	pg := pgtest.New(t)
	e := newPostgres(t, pg.DSN(), 1, sqltrack.Config{})
	ctx := t.Context()

	// A Conn whose backend dies: its next statement fails, and the
	// connection is not lent again.
	c, err := e.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var killed uint32
	if err := c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&killed); err != nil {
		t.Fatal(err)
	}
	pg.Terminate(killed)
	if _, err := c.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("a statement on a killed backend succeeded")
	}
	c.Close()

	// Rows whose backend dies mid-read: Next stops with the error, and the
	// lease ends without Close.
	// Rows of 100 kB, so that the server sends the first at once (it
	// buffers small rows) and is still sending when its backend dies.
	rows, err := e.DB.QueryContext(ctx, "SELECT pg_backend_pid(), repeat('x', 100000) FROM generate_series(1, 1000)")
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
	if st := e.DB.Stats(); st.InUse != 0 {
		t.Fatalf("Stats.InUse = %d after the rows failed; want the lease ended", st.InUse)
	}
	rows.Close()

	// The database recovers: new backends, no error, nothing broken lent.
	for i := range 5 {
		p, err := pid(t, e.DB)
		if err != nil {
			t.Fatalf("query %d after the kills: %v", i, err)
		}
		if p == killed || p == rowsPid {
			t.Fatalf("query %d ran on killed backend %d", i, p)
		}
	}
	if st := e.DB.Stats(); st.DB.OpenConnections != 1 || st.InUse != 0 {
		t.Fatalf("Stats = %+v; want one live connection, none held", st)
	}
}

func TestPostgresBackendKilledWhileIdle(t *testing.T) {
	pg := pgtest.New(t)
	e := newPostgres(t, pg.DSN(), 3, sqltrack.Config{})
	ctx := t.Context()
	// Open three connections at once, then let them go idle.
	conns := make([]*sqltrack.Conn, 3)
	killed := map[uint32]bool{}
	for i := range conns {
		c, err := e.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		var p uint32
		if err := c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&p); err != nil {
			t.Fatal(err)
		}
		killed[p] = true
	}
	for _, c := range conns {
		c.Close()
	}
	var pids []uint32
	for p := range killed {
		pids = append(pids, p)
	}
	pg.Terminate(pids...)

	// Each dead connection may fail one statement (the server told it
	// why), and is then discarded: never lent broken twice.
	failures := 0
	for i := range 10 {
		p, err := pid(t, e.DB)
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
	if st := e.DB.Stats(); st.InUse != 0 {
		t.Fatalf("Stats.InUse = %d", st.InUse)
	}
}

func TestPostgresTooManyConnections(t *testing.T) {
	pg := pgtest.New(t)
	// The role may hold 2 connections; the database thinks it may open 4.
	e := newPostgres(t, pg.Role(2), 4, sqltrack.Config{Name: "limited", AcquireTimeout: 5 * time.Second})
	ctx := t.Context()
	a, err := e.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.DB.Conn(ctx)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		t.Fatalf("a third connection: %v; want the server's too_many_connections (53300)", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("the refusal took %v; want it at once, not after AcquireTimeout", time.Since(start))
	}
	wantContains(t, "the error", err.Error(), `sqltrack "limited": getting a connection:`, "too many connections")
	if st := e.DB.Stats(); st.InUse != 2 || st.Timeouts != 0 {
		t.Fatalf("Stats = %+v; want the two conns held, no timeout", st)
	}
	// Recovery: once a connection is given back, the next checkout gets it.
	a.Close()
	if _, err := pid(t, e.DB); err != nil {
		t.Fatalf("after a Close: %v", err)
	}
	b.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var refused *pgconn.PgError
			if _, err := pid(t, e.DB); err != nil && !errors.As(err, &refused) {
				t.Errorf("concurrent query: %v", err)
			}
		})
	}
	wg.Wait()
	if st := e.DB.Stats(); st.InUse != 0 {
		t.Fatalf("Stats.InUse = %d", st.InUse)
	}
}

func TestPostgresQueryCancelledMidFlightLeavesNoLease(t *testing.T) {
	pg := pgtest.New(t)
	e := newPostgres(t, pg.DSN(), 2, sqltrack.Config{})
	for _, op := range []struct {
		name string
		run  func(ctx context.Context, q string) error
	}{
		{"exec", func(ctx context.Context, q string) error {
			_, err := e.DB.ExecContext(ctx, q)
			return err
		}},
		{"rows", func(ctx context.Context, q string) error {
			rows, err := e.DB.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Err() // no Close: Next's end gives the connection back
		}},
		{"row", func(ctx context.Context, q string) error {
			var v any
			return e.DB.QueryRowContext(ctx, q).Scan(&v)
		}},
		{"tx", func(ctx context.Context, q string) error {
			tx, err := e.DB.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, q)
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
			if st := e.DB.Stats(); st.InUse != 0 || st.DB.InUse != 0 {
				t.Fatalf("Stats = %+v; want no lease and no connection in use", st)
			}
			if _, err := pid(t, e.DB); err != nil {
				t.Fatalf("after the cancel: %v", err)
			}
		})
	}
	if ev := e.Leaks.Events(); len(ev) != 0 {
		t.Fatalf("leak events %+v", ev)
	}
}

func TestPostgresShutdownReclaimsOpenRows(t *testing.T) {
	pg := pgtest.New(t)
	e := newPostgres(t, pg.DSN(), 2, sqltrack.Config{Name: "pg-closing"})
	rows, err := e.DB.QueryContext(t.Context(), "SELECT generate_series(1, 10)")
	site := lineAbove(testkit.Here(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err = e.DB.Shutdown(ctx)
	var le *pool.LeakError
	if !errors.As(err, &le) || len(le.Leaks) != 1 || le.Leaks[0].Handle != "rows" || le.Leaks[0].Site != site {
		t.Fatalf("Shutdown = %v; want a LeakError naming the rows at %s", err, site)
	}
	rows.Close()
	sqltrack.Lost(e.DB).Unregister()
	pg.Until("the database's backends are gone", func() bool { return len(pg.Backends()) == 0 })
}
