package sqltrack_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
)

// openRows is a handler that leaks: it queries and returns without closing
// the rows, so the connection stays pinned.
//
//go:noinline
func openRows(ctx context.Context, db *sqltrack.DB) (*sqltrack.Rows, string) {
	rows, err := db.QueryContext(ctx, "SELECT id")
	site := testkit.Here(0)
	if err != nil {
		panic(err)
	}
	return rows, lineAbove(site)
}

// lineAbove returns the site one line above site.
func lineAbove(site string) string {
	var file string
	var line int
	for i := len(site) - 1; i >= 0; i-- {
		if site[i] == ':' {
			file = site[:i]
			fmt.Sscan(site[i+1:], &line)
			break
		}
	}
	return fmt.Sprintf("%s:%d", file, line-1)
}

func TestRowsLeftOpenTimesOutNamingLineAndTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 1, sqltrack.Config{AcquireTimeout: time.Second})
		handler := track.WithTask(context.Background(), &track.Task{Path: "app/http/orders"})
		rows, site := openRows(handler, e.DB)

		start := time.Now()
		var id int
		err := e.DB.QueryRowContext(context.Background(), "SELECT id").Scan(&id)
		waited := time.Since(start)
		te := wantTimeout(t, err)
		tick := time.Second / 100
		if waited < time.Second || waited > time.Second+tick {
			t.Errorf("the query waited %v; want AcquireTimeout (1s), up to a tick (%v) more", waited, tick)
		}
		if te.CallerDeadline || te.Pool != "test-db" || te.InUse != 1 || te.MaxSize != 1 || len(te.Holders) != 1 {
			t.Fatalf("TimeoutError = %+v; want AcquireTimeout on test-db, 1 of 1 held", te)
		}
		h := te.Holders[0]
		if h.Handle != "rows" || h.Task != "app/http/orders" || h.Site != site || h.HeldFor != waited {
			t.Errorf("holder = %+v; want rows held %v by app/http/orders, opened at %s", h, waited, site)
		}
		wantContains(t, "message", err.Error(), `pool "test-db": acquire timed out after`, "(AcquireTimeout)",
			"rows #1 held", "by task app/http/orders, opened at "+site)

		rows.Close()
		if err := e.DB.QueryRowContext(context.Background(), "SELECT id").Scan(&id); err != nil || id != 1 {
			t.Fatalf("after Close: %v, id %d; want the connection back", err, id)
		}
		if st := e.DB.Stats(); st.InUse != 0 || st.Timeouts != 1 || st.Acquires != 2 {
			t.Fatalf("Stats = %+v; want 0 in use, 1 timeout, 2 checkouts", st)
		}
	})
}

func TestOnlyTheWaitIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 1, sqltrack.Config{AcquireTimeout: time.Second})
		start := time.Now()
		var id int
		if err := e.DB.QueryRowContext(context.Background(), "SLEEP 5s").Scan(&id); err != nil {
			t.Fatalf("a query running 5s with AcquireTimeout 1s: %v", err)
		}
		if time.Since(start) != 5*time.Second {
			t.Fatalf("took %v", time.Since(start))
		}
		if _, err := e.DB.ExecContext(context.Background(), "SLEEP 3s"); err != nil {
			t.Fatalf("Exec running 3s: %v", err)
		}
		rows, err := e.DB.QueryContext(context.Background(), "SLEEP 2s")
		if err != nil {
			t.Fatalf("Query running 2s: %v", err)
		}
		rows.Close()
		tx, err := e.DB.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(context.Background(), "SLEEP 2s"); err != nil {
			t.Fatalf("a transaction's statement running 2s: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCallerCancelAndDeadlineWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 1, sqltrack.Config{AcquireTimeout: 10 * time.Second})
		c, err := e.DB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()

		// The caller's sooner deadline ends the wait: a TimeoutError that
		// says so.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err = e.DB.ExecContext(ctx, "SELECT id")
		te := wantTimeout(t, err)
		if !te.CallerDeadline || time.Since(start) != 2*time.Second || len(te.Holders) != 1 || te.Holders[0].Handle != "conn" {
			t.Fatalf("after %v: %+v; want the caller's deadline at 2s, naming the conn", time.Since(start), te)
		}

		// The caller's own cancellation comes back unchanged.
		ctx2, cancel2 := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := e.DB.QueryContext(ctx2, "SELECT id")
			done <- err
		}()
		synctest.Wait()
		if st := e.DB.Stats(); st.Waiting != 1 {
			t.Fatalf("Stats.Waiting = %d; want the query listed as waiting", st.Waiting)
		}
		cancel2()
		if err := <-done; err != context.Canceled {
			t.Fatalf("cancelled wait: %v; want context.Canceled unchanged", err)
		}
		// A ctx that is already done never waits.
		if _, err := e.DB.BeginTx(ctx2, nil); err != context.Canceled {
			t.Fatalf("BeginTx on a cancelled ctx: %v", err)
		}
		if st := e.DB.Stats(); st.Canceled != 2 || st.Timeouts != 1 || st.Waiting != 0 {
			t.Fatalf("Stats = %+v; want 2 cancelled, 1 timeout, none waiting", st)
		}
	})
}

func TestEveryHandlePinsItsConnectionUntilItEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 1, sqltrack.Config{AcquireTimeout: time.Second})
		ctx := context.Background()
		// blocked reports whether a checkout now would have to wait.
		blocked := func() bool {
			c2, err := e.DB.Conn(ctx)
			if err == nil {
				c2.Close()
				return false
			}
			wantTimeout(t, err)
			return true
		}

		c, _ := e.DB.Conn(ctx)
		if !blocked() {
			t.Fatal("an open Conn did not pin its connection")
		}
		// What is made on a Conn lives within it.
		var id int
		if err := c.QueryRowContext(ctx, "SELECT id").Scan(&id); err != nil || id != 1 {
			t.Fatalf("Conn.QueryRowContext: %v, %d", err, id)
		}
		if r, err := c.QueryContext(ctx, "SELECT id"); err != nil {
			t.Fatal(err)
		} else {
			r.Close()
		}
		if err := c.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		if tx, err := c.BeginTx(ctx, nil); err != nil {
			t.Fatal(err)
		} else {
			tx.Rollback()
		}
		if err := c.Raw(func(dc any) error {
			if _, ok := dc.(*fakeConn); !ok {
				t.Errorf("Raw gave %T", dc)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		c.Close()
		c.Close() // idempotent
		if blocked() {
			t.Fatal("a closed Conn still pins its connection")
		}

		rows, _ := e.DB.QueryContext(ctx, "SELECT id")
		if !blocked() {
			t.Fatal("open Rows did not pin the connection")
		}
		n := 0
		for rows.Next() {
			n++
		}
		if n != 1 || rows.Err() != nil {
			t.Fatalf("rows: %d, %v", n, rows.Err())
		}
		// Next returned false: the connection is back, as in database/sql.
		if blocked() {
			t.Fatal("Rows read to the end still pin the connection")
		}
		rows.Close()

		row := e.DB.QueryRowContext(ctx, "SELECT id")
		if !blocked() {
			t.Fatal("an unscanned Row did not pin the connection")
		}
		if err := row.Err(); err != nil {
			t.Fatal(err)
		}
		if err := row.Scan(&id); err != nil || id != 1 {
			t.Fatalf("Scan: %v, %d", err, id)
		}
		if blocked() {
			t.Fatal("a scanned Row still pins the connection")
		}
		if err := e.DB.QueryRowContext(ctx, "NOTHING").Scan(&id); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("Scan of no row: %v", err)
		}
		if err := e.DB.QueryRowContext(ctx, "FAIL").Scan(&id); err == nil {
			t.Fatal("a failing QueryRow scanned")
		}

		tx, _ := e.DB.BeginTx(ctx, nil)
		if !blocked() {
			t.Fatal("an open Tx did not pin the connection")
		}
		if err := tx.QueryRowContext(ctx, "SELECT id").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if r, err := tx.QueryContext(ctx, "SELECT id"); err != nil {
			t.Fatal(err)
		} else {
			r.Close()
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("Commit after Rollback: %v; want sql.ErrTxDone", err)
		}
		if blocked() {
			t.Fatal("an ended Tx still pins the connection")
		}
		if st := e.DB.Stats(); st.InUse != 0 || st.DB.InUse != 0 || st.DB.OpenConnections != 1 {
			t.Fatalf("Stats = %+v; want nothing in use, one connection open", st)
		}
	})
}

func TestBadConnectionIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 2, sqltrack.Config{})
		ctx := context.Background()
		for _, op := range []struct {
			name string
			run  func() error
		}{
			{"ExecContext", func() error { _, err := e.DB.ExecContext(ctx, "SELECT id"); return err }},
			{"QueryContext", func() error {
				r, err := e.DB.QueryContext(ctx, "SELECT id")
				if err == nil {
					r.Close()
				}
				return err
			}},
			{"QueryRowContext", func() error { var id int; return e.DB.QueryRowContext(ctx, "SELECT id").Scan(&id) }},
			{"BeginTx", func() error {
				tx, err := e.DB.BeginTx(ctx, nil)
				if err == nil {
					tx.Rollback()
				}
				return err
			}},
		} {
			if op.name == "BeginTx" {
				continue // the fake driver's Begin does not fail
			}
			e.Fake.BadNext(2)
			if err := op.run(); err != nil {
				t.Errorf("%s after 2 bad connections: %v; want it retried", op.name, err)
			}
			e.Fake.BadNext(3)
			if err := op.run(); !errors.Is(err, sql.ErrConnDone) && err.Error() != "driver: bad connection" {
				t.Errorf("%s after 3 bad connections: %v; want driver.ErrBadConn", op.name, err)
			}
		}
		if st := e.DB.Stats(); st.InUse != 0 {
			t.Fatalf("Stats.InUse = %d after the retries", st.InUse)
		}
	})
}

func TestConfigIsCheckedAtOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sqltrack.Config
		want []string
	}{
		{"no name", sqltrack.Config{}, []string{"Config.Name is empty"}},
		{"negative", sqltrack.Config{Name: "db", AcquireTimeout: -1, LeakAfter: -time.Second},
			[]string{`sqltrack "db": Config.AcquireTimeout is -1ns; set a positive duration, or 0 for the default (30s)`,
				`sqltrack "db": Config.LeakAfter is -1s; set a positive duration, or 0 to turn the check off`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqltrack.Open("sqlite", sqliteDSN(t), tc.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open accepted a bad Config")
			}
			wantContains(t, "Open's error", err.Error(), tc.want...)
			raw, _ := sql.Open("sqlite", sqliteDSN(t))
			defer raw.Close()
			if _, err := sqltrack.Wrap(raw, tc.cfg); err == nil {
				t.Fatal("Wrap accepted a bad Config")
			} else {
				wantContains(t, "Wrap's error", err.Error(), tc.want...)
			}
		})
	}
	_, err := sqltrack.Wrap(nil, sqltrack.Config{Name: "db"})
	if err == nil {
		t.Fatal("Wrap(nil) succeeded")
	}
	wantContains(t, "Wrap(nil)", err.Error(), `sqltrack "db": Wrap called with a nil *sql.DB`)
	if _, err := sqltrack.Open("no-such-driver", "", sqltrack.Config{Name: "db"}); err == nil {
		t.Fatal("Open with an unknown driver succeeded")
	} else {
		wantContains(t, "Open(unknown driver)", err.Error(), `sqltrack "db": sql: unknown driver "no-such-driver"`)
	}
}

func TestMisuse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var nilDB *sqltrack.DB
		ctx := context.Background()
		if _, err := nilDB.QueryContext(ctx, "SELECT 1"); !errors.Is(err, pool.ErrClosed) {
			t.Errorf("QueryContext on a nil *DB: %v; want ErrClosed", err)
		}
		if err := nilDB.QueryRowContext(ctx, "SELECT 1").Scan(); !errors.Is(err, pool.ErrClosed) {
			t.Errorf("QueryRowContext on a nil *DB: %v", err)
		}
		if nilDB.Raw() != nil || nilDB.Shutdown(ctx) != nil || nilDB.Stats() != (sqltrack.Stats{}) {
			t.Error("Raw, Shutdown or Stats on a nil *DB")
		}
		e := newFake(t, 1, sqltrack.Config{})
		//lint:ignore SA1012 the nil ctx is the point
		if _, err := e.DB.ExecContext(nil, "SELECT id"); err == nil { //nolint:staticcheck
			t.Error("ExecContext with a nil ctx succeeded")
		} else {
			wantContains(t, "nil ctx", err.Error(), "nil Context")
		}
		var nilRows *sqltrack.Rows
		var nilTx *sqltrack.Tx
		var nilConn *sqltrack.Conn
		if nilRows.Close() != nil || nilConn.Close() != nil {
			t.Error("Close on a nil handle")
		}
		testkit.WantPanic(t, "Rows.Next on nil", func() { nilRows.Next() }, "sqltrack: Next called on a nil *Rows")
		testkit.WantPanic(t, "Tx.Commit on nil", func() { nilTx.Commit() }, "sqltrack: Commit called on a nil *Tx")
		testkit.WantPanic(t, "Conn.ExecContext on nil", func() { nilConn.ExecContext(ctx, "") }, "sqltrack: ExecContext called on a nil *Conn")

		c, _ := e.DB.Conn(ctx)
		c.Close()
		if _, err := c.ExecContext(ctx, "SELECT id"); !errors.Is(err, sql.ErrConnDone) {
			t.Errorf("ExecContext after Close: %v; want sql.ErrConnDone", err)
		}
		e.shutdown(t)
		if _, err := e.DB.ExecContext(ctx, "SELECT id"); !errors.Is(err, pool.ErrClosed) {
			t.Errorf("ExecContext after Shutdown: %v; want ErrClosed", err)
		} else {
			wantContains(t, "after Shutdown", err.Error(), `"test-db"`)
		}
		if err := e.DB.Raw().Ping(); err == nil {
			t.Error("the *sql.DB is still open after Shutdown")
		}
	})
}

// TestPoolStatsCountDatabaseSQLsIdleConnections checks what package
// metrics reads of a DB: the ledger's counts, with database/sql's idle
// connections, which only the driver's pool knows (unknown, -1, before).
func TestPoolStatsCountDatabaseSQLsIdleConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 2, sqltrack.Config{})
		if st := sqltrack.PoolStats(e.DB); st.Idle != 0 || st.InUse != 0 || st.MaxSize != 2 {
			t.Fatalf("new DB: %+v; want 0 idle, 0 in use, max 2", st)
		}
		c1, err := e.DB.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c2, err := e.DB.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c2.Close()
		if st := sqltrack.PoolStats(e.DB); st.Idle != 1 || st.InUse != 1 || st.IdleMax != -1 || st.IdleMin != -1 {
			t.Fatalf("one conn held, one returned: %+v; want 1 idle, 1 in use, idle limits unknown", st)
		}
		c1.Close()
		if st := sqltrack.PoolStats(e.DB); st.Idle != 2 || st.InUse != 0 {
			t.Fatalf("both returned: %+v; want 2 idle, 0 in use", st)
		}
	})
}
