package pgxtrack_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/pgxtrack"
)

func TestConfigIsCheckedAtNew(t *testing.T) {
	pc, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		pc   *pgxpool.Config
		cfg  pgxtrack.Config
		want []string
	}{
		{"no name", pc, pgxtrack.Config{}, []string{"pgxtrack: Config.Name is empty; set it"}},
		{"negative", pc, pgxtrack.Config{Name: "db", AcquireTimeout: -time.Second, LeakAfter: -1},
			[]string{`pgxtrack "db": Config.AcquireTimeout is -1s; set a positive duration, or 0 for the default (30s)`,
				`pgxtrack "db": Config.LeakAfter is -1ns; set a positive duration, or 0 to turn the check off`}},
		{"nil pgxpool config", nil, pgxtrack.Config{Name: "db"}, []string{`pgxtrack "db": New called with a nil *pgxpool.Config; make one with pgxpool.ParseConfig`}},
		{"pgxpool config not parsed", &pgxpool.Config{}, pgxtrack.Config{Name: "db"}, []string{`pgxtrack "db": pgxpool.NewWithConfig: config must be created by ParseConfig; make the *pgxpool.Config with pgxpool.ParseConfig`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pgxtrack.New(ctx, tc.pc, tc.cfg)
			if err == nil {
				p.Close()
				t.Fatal("New accepted a bad configuration")
			}
			wantContains(t, "New's error", err.Error(), tc.want...)
		})
	}
	//lint:ignore SA1012 the nil ctx is the point
	if _, err := pgxtrack.New(nil, pc, pgxtrack.Config{Name: "db"}); err == nil { //nolint:staticcheck
		t.Fatal("New with a nil ctx succeeded")
	}
}

func TestMisuseWithoutAServer(t *testing.T) {
	var p *pgxtrack.Pool
	ctx := context.Background()
	if _, err := p.Acquire(ctx); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Acquire on a nil *Pool: %v", err)
	}
	if _, err := p.Query(ctx, "SELECT 1"); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Query on a nil *Pool: %v", err)
	}
	if err := p.QueryRow(ctx, "SELECT 1").Scan(); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("QueryRow on a nil *Pool: %v", err)
	}
	if _, err := p.Exec(ctx, "SELECT 1"); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Exec on a nil *Pool: %v", err)
	}
	if _, err := p.Begin(ctx); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Begin on a nil *Pool: %v", err)
	}
	if p.Raw() != nil || p.Shutdown(ctx) != nil || p.Stats() != (pgxtrack.Stats{}) {
		t.Error("Raw, Shutdown or Stats on a nil *Pool")
	}
	var c *pgxtrack.Conn
	c.Release() // does nothing
	testkit.WantPanic(t, "Exec on a nil *Conn", func() { c.Exec(ctx, "") }, "pgxtrack: Exec called on a nil *Conn")
}

// openRows is a handler that leaks: it queries and returns without closing
// the rows, so the connection stays pinned.
//
//go:noinline
func openRows(ctx context.Context, p *pgxtrack.Pool) (pgx.Rows, string) {
	rows, err := p.Query(ctx, "SELECT generate_series(1, 3)")
	s := site()
	if err != nil {
		panic(err)
	}
	return rows, s
}

func TestPostgresRowsLeftOpenNamesLineAndTask(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 1, pgxtrack.Config{AcquireTimeout: 200 * time.Millisecond})
	handler := track.WithTask(t.Context(), &track.Task{Path: "app/http/report"})
	rows, s := openRows(handler, e.Pool)

	start := time.Now()
	_, err := e.pid(t.Context())
	waited := time.Since(start)
	te := wantTimeout(t, err)
	if waited < 200*time.Millisecond || waited > 400*time.Millisecond {
		t.Errorf("waited %v; want AcquireTimeout (200ms)", waited)
	}
	if te.CallerDeadline || te.Pool != "test-pool" || te.MaxSize != 1 || te.InUse != 1 || len(te.Holders) != 1 {
		t.Fatalf("TimeoutError = %+v; want AcquireTimeout, 1 of 1 held", te)
	}
	if h := te.Holders[0]; h.Handle != "rows" || h.Task != "app/http/report" || h.Site != s {
		t.Fatalf("holder = %+v; want the rows opened at %s by app/http/report", h, s)
	}
	wantContains(t, "message", err.Error(), `pool "test-pool": acquire timed out`, "rows #1 held", "by task app/http/report, opened at "+s)
	rows.Close()
	if _, err := e.pid(t.Context()); err != nil {
		t.Fatalf("after Close: %v", err)
	}
}

func TestPostgresOnlyTheWaitIsBounded(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 1, pgxtrack.Config{AcquireTimeout: time.Second})
	ctx := t.Context()
	if _, err := e.Pool.Exec(ctx, "SELECT pg_sleep(1.5)"); err != nil {
		t.Fatalf("a statement running longer than AcquireTimeout: %v", err)
	}
	var v any
	if err := e.Pool.QueryRow(ctx, "SELECT pg_sleep(1.5)").Scan(&v); err != nil {
		t.Fatalf("a query running longer than AcquireTimeout: %v", err)
	}
}

func TestPostgresEveryHandlePinsItsConnectionUntilItEnds(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 1, pgxtrack.Config{AcquireTimeout: 100 * time.Millisecond})
	ctx := t.Context()
	blocked := func() bool {
		c, err := e.Pool.Acquire(ctx)
		if err == nil {
			c.Release()
			return false
		}
		wantTimeout(t, err)
		return true
	}
	c, err := e.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	// What is made on a Conn lives within it.
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("Conn.QueryRow: %v", err)
	}
	if r, err := c.Query(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	} else {
		r.Close()
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if tx, err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	} else {
		tx.Rollback(ctx)
	}
	if c.Conn().PgConn().PID() == 0 {
		t.Fatal("Conn() has no backend")
	}
	if !blocked() {
		t.Fatal("an acquired Conn did not pin its connection")
	}
	c.Release()
	c.Release()
	testkit.WantPanic(t, "Exec after Release", func() { c.Exec(ctx, "SELECT 1") }, "pgxtrack: Exec called on a *Conn after Release; it was acquired at pool_test.go:")
	if blocked() {
		t.Fatal("a released Conn still pins its connection")
	}

	rows, err := e.Pool.Query(ctx, "SELECT generate_series(1, 3)")
	if err != nil {
		t.Fatal(err)
	}
	if !blocked() {
		t.Fatal("open rows did not pin the connection")
	}
	n := 0
	for rows.Next() {
		n++
	}
	if n != 3 || rows.Err() != nil || blocked() {
		t.Fatalf("rows read to the end: %d rows, %v, still pinned %v", n, rows.Err(), blocked())
	}
	rows.Close()

	// A Scan error ends the rows, as with pgxpool.
	rows, _ = e.Pool.Query(ctx, "SELECT 'x'")
	rows.Next()
	var i int
	if err := rows.Scan(&i); err == nil || blocked() {
		t.Fatalf("Scan of text into an int: %v; pinned after %v", err, blocked())
	}

	row := e.Pool.QueryRow(ctx, "SELECT 7")
	if !blocked() {
		t.Fatal("an unscanned row did not pin the connection")
	}
	if err := row.Scan(&i); err != nil || i != 7 || blocked() {
		t.Fatalf("Scan: %v, %d; pinned after %v", err, i, blocked())
	}
	if err := e.Pool.QueryRow(ctx, "SELECT 1 WHERE false").Scan(&i); !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("Scan of no row: %v", err)
	}

	tx, err := e.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !blocked() {
		t.Fatal("an open Tx did not pin the connection")
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		t.Fatalf("Rollback after Commit: %v; want pgx.ErrTxClosed", err)
	}
	if blocked() {
		t.Fatal("an ended Tx still pins the connection")
	}
	if tag, err := e.Pool.Exec(ctx, "INSERT INTO t VALUES (1), (2)"); err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("Exec: %v, %v", tag, err)
	}
	st := e.Pool.Stats()
	if st.InUse != 0 || st.Pool.AcquiredConns() != 0 || st.Pool.TotalConns() != 1 || st.Timeouts != 4 {
		t.Fatalf("Stats = %+v (pgxpool: %d acquired, %d total); want nothing held, one connection, 4 timeouts",
			st, st.Pool.AcquiredConns(), st.Pool.TotalConns())
	}
}

func TestPostgresCallerCancelAndDeadlineWhileWaiting(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 1, pgxtrack.Config{AcquireTimeout: 10 * time.Second})
	c, err := e.Pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = e.Pool.Exec(ctx, "SELECT 1")
	if te := wantTimeout(t, err); !te.CallerDeadline || len(te.Holders) != 1 || te.Holders[0].Handle != "conn" {
		t.Fatalf("%v; want the caller's deadline, naming the conn", err)
	}
	ctx2, cancel2 := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := e.Pool.Begin(ctx2)
		done <- err
	}()
	pg.Until("the Begin waits", func() bool { return e.Pool.Stats().Waiting == 1 })
	cancel2()
	if err := <-done; err != context.Canceled {
		t.Fatalf("cancelled wait: %v; want context.Canceled unchanged", err)
	}
}

// leakHandle opens a handle of the given kind in task app/leaky and drops
// it without ending it. It returns the line that opened it.
//
//go:noinline
func leakHandle(t *testing.T, p *pgxtrack.Pool, kind string) string {
	ctx := track.WithTask(context.Background(), &track.Task{Path: "app/leaky"})
	var err error
	var s string
	switch kind {
	case "rows":
		_, err = p.Query(ctx, "SELECT generate_series(1, 3)")
		s = site()
	case "tx":
		_, err = p.Begin(ctx)
		s = site()
	case "row":
		p.QueryRow(ctx, "SELECT 1")
		s = site()
	case "conn":
		_, err = p.Acquire(ctx)
		s = site()
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPostgresDroppedHandleIsReportedAndReclaimed(t *testing.T) {
	pg := pgtest.New(t)
	for _, kind := range []string{"rows", "tx", "row", "conn"} {
		t.Run("handle="+kind, func(t *testing.T) {
			e := newPool(t, pg, "", 1, pgxtrack.Config{Name: "leaky-" + kind, AcquireTimeout: time.Minute})
			s := leakHandle(t, e.Pool, kind)
			got := make(chan error, 1)
			go func() {
				_, err := e.pid(context.Background())
				got <- err
			}()
			if !testkit.Collect(t, func() bool { return len(e.Leaks.Events()) > 0 }) {
				t.Fatalf("the dropped %s was not reported; Stats = %+v", kind, e.Pool.Stats())
			}
			if err := <-got; err != nil {
				t.Fatalf("waiter: %v; want the reclaimed capacity", err)
			}
			ev := e.Leaks.Events()
			if len(ev) != 1 || ev[0].Kind != pool.LeakCollected || ev[0].Handle != kind || ev[0].Site != s || ev[0].Task != "app/leaky" {
				t.Fatalf("events = %+v; want one collected-while-held %s at %s by app/leaky", ev, kind, s)
			}
			st := e.Pool.Stats()
			if st.LeaksCollected != 1 || st.Reclaimed != 1 || st.InUse != 0 || st.Pool.TotalConns() != 1 {
				t.Fatalf("Stats = %+v (%d connections); want the leak reclaimed and its connection gone", st, st.Pool.TotalConns())
			}
			state, _ := testkit.Registered(track.KindPool, "leaky-"+kind)
			want := "1 handle garbage-collected without Close (connections closed): 1 " + kind + " opened at " + s + " by task app/leaky"
			if len(state.Problems) != 1 || state.Problems[0] != want {
				t.Fatalf("problems in the leak report = %q; want [%q]", state.Problems, want)
			}
			e.shutdown(t)
			pgxtrack.Lost(e.Pool).Unregister()
		})
	}
	pg.Until("the reclaimed backends are gone", func() bool { return len(pg.Backends()) == 0 })
}

func TestPostgresLiveHandlesAreInTheLeakReport(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 4, pgxtrack.Config{Name: "reported"})
	ctx := track.WithTask(t.Context(), &track.Task{Path: "app/report"})
	rows, err := e.Pool.Query(ctx, "SELECT 1")
	s := site()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	state, ok := testkit.Registered(track.KindPool, "reported")
	if !ok || len(state.Items) != 1 {
		t.Fatalf("registered state = %+v; want one item", state)
	}
	if it := state.Items[0]; it.Kind != track.ItemLease || it.Name != "rows #1" || it.Owner != "app/report" || it.Site.String() != s {
		t.Fatalf("item = %+v; want rows #1 held by app/report at %s", it, s)
	}
}

func TestPostgresHeldTooLongIsReported(t *testing.T) {
	pg := pgtest.New(t)
	reported := make(chan pool.Leak, 1)
	e := newPool(t, pg, "", 2, pgxtrack.Config{LeakAfter: 100 * time.Millisecond, OnLeak: func(l pool.Leak) { reported <- l }})
	ctx := track.WithTask(t.Context(), &track.Task{Path: "app/slow"})
	start := time.Now()
	tx, err := e.Pool.Begin(ctx)
	s := site()
	if err != nil {
		t.Fatal(err)
	}
	l := <-reported
	if l.Kind != pool.LeakHeldTooLong || l.Handle != "tx" || l.Task != "app/slow" || l.Site != s || time.Since(start) < 90*time.Millisecond {
		t.Fatalf("leak = %+v after %v; want tx held too long by app/slow at %s", l, time.Since(start), s)
	}
	tx.Rollback(t.Context())
	if st := e.Pool.Stats(); st.LeaksHeldTooLong != 1 || st.InUse != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestPostgresShutdownIsBoundedAndNamesWhatIsHeld(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 2, pgxtrack.Config{Name: "closing"})
	ctx := track.WithTask(t.Context(), &track.Task{Path: "app/stuck"})
	// 100 MB of rows: more than the sockets buffer, so the holder is
	// still reading when its connection is reclaimed.
	rows, err := e.Pool.Query(ctx, "SELECT repeat('x', 100000) FROM generate_series(1, 1000)")
	s := site()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.Pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := e.Pool.Exec(context.Background(), "SELECT 1")
		waited <- err
	}()
	pg.Until("the Exec waits", func() bool { return e.Pool.Stats().Waiting == 1 })
	go func() {
		time.Sleep(100 * time.Millisecond) // ends before Shutdown's deadline
		tx.Commit(context.Background())
	}()
	sctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = e.Pool.Shutdown(sctx)
	if d := time.Since(start); d < 500*time.Millisecond || d > 2*time.Second {
		t.Errorf("Shutdown took %v; want about its ctx's 500ms", d)
	}
	if werr := <-waited; !errors.Is(werr, pool.ErrClosed) {
		t.Errorf("the waiter got %v; want ErrClosed", werr)
	}
	var le *pool.LeakError
	if !errors.As(err, &le) || len(le.Leaks) != 1 {
		t.Fatalf("Shutdown = %v; want a *pool.LeakError naming the rows", err)
	}
	if l := le.Leaks[0]; l.Kind != pool.LeakAtShutdown || l.Handle != "rows" || l.Task != "app/stuck" || l.Site != s {
		t.Fatalf("leak = %+v; want the rows at %s by app/stuck", l, s)
	}
	// The holder's rows fail from now on; closing them is harmless.
	for rows.Next() {
	}
	if rows.Err() == nil {
		t.Error("the reclaimed rows read on without an error")
	}
	rows.Close()
	if _, err := e.Pool.Acquire(t.Context()); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Acquire after Shutdown: %v; want ErrClosed", err)
	}
	pgxtrack.Lost(e.Pool).Unregister()
	pg.Until("the pool's backends are gone", func() bool { return len(pg.Backends()) == 0 })
}

// TestPostgresPoolStatsCountPgxpoolsIdleConnections checks what package
// metrics reads of a Pool: the ledger's counts, with pgxpool's idle
// connections, which only the driver's pool knows (unknown, -1, before).
func TestPostgresPoolStatsCountPgxpoolsIdleConnections(t *testing.T) {
	pg := pgtest.New(t)
	e := newPool(t, pg, "", 2, pgxtrack.Config{})
	if st := pgxtrack.PoolStats(e.Pool); st.Idle != 1 || st.InUse != 0 || st.MaxSize != 2 || st.IdleMin != 0 {
		t.Fatalf("after one ping: %+v; want 1 idle, 0 in use, max 2, min idle 0", st)
	}
	c, err := e.Pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st := pgxtrack.PoolStats(e.Pool); st.Idle != 0 || st.InUse != 1 {
		t.Fatalf("the conn held: %+v; want 0 idle, 1 in use", st)
	}
	c.Release()
	if st := pgxtrack.PoolStats(e.Pool); st.Idle != 1 || st.InUse != 0 {
		t.Fatalf("the conn released: %+v; want 1 idle, 0 in use", st)
	}
}
