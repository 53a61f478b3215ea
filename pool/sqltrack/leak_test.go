package sqltrack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
)

// leakHandle opens a handle of the given kind in task app/leaky and drops
// it without ending it. It returns the line that opened it.
//
//go:noinline
func leakHandle(t *testing.T, db *sqltrack.DB, kind string) string {
	ctx := track.WithTask(context.Background(), &track.Task{Path: "app/leaky"})
	var err error
	var site string
	switch kind {
	case "rows":
		_, err = db.QueryContext(ctx, "SELECT 1")
		site = lineAbove(testkit.Here(0))
	case "tx":
		_, err = db.BeginTx(ctx, nil)
		site = lineAbove(testkit.Here(0))
	case "row":
		r := db.QueryRowContext(ctx, "SELECT 1")
		site = lineAbove(testkit.Here(0))
		err = r.Err()
	case "conn":
		_, err = db.Conn(ctx)
		site = lineAbove(testkit.Here(0))
	}
	if err != nil {
		t.Fatal(err)
	}
	return site
}

// TestDroppedHandleIsReportedAndReclaimed runs in real time on SQLite: the
// garbage collector runs outside synctest's fake clock. For each kind of
// handle it leaks one on a database of one connection, and checks that a
// waiter gets the connection once the collector finds the handle, that the
// leak names the handle, the line and the task, and that the leak report
// still names that line afterwards.
func TestDroppedHandleIsReportedAndReclaimed(t *testing.T) {
	for _, kind := range []string{"rows", "tx", "row", "conn"} {
		t.Run("handle="+kind, func(t *testing.T) {
			e := newSQLite(t, 1, sqltrack.Config{Name: "leaky-" + kind, AcquireTimeout: time.Minute})
			site := leakHandle(t, e.DB, kind)

			// A waiter on the drained database: it gets the connection once
			// the leak is reclaimed, without anyone closing anything.
			got := make(chan error, 1)
			go func() {
				var n int
				got <- e.DB.QueryRowContext(context.Background(), "SELECT 2").Scan(&n)
			}()
			if !testkit.Collect(t, func() bool { return len(e.Leaks.Events()) > 0 }) {
				t.Fatalf("the dropped %s was not reported; Stats = %+v", kind, e.DB.Stats())
			}
			if err := <-got; err != nil {
				t.Fatalf("waiter: %v; want the reclaimed connection", err)
			}
			ev := e.Leaks.Events()
			if len(ev) != 1 || ev[0].Kind != pool.LeakCollected || ev[0].Handle != kind || ev[0].Site != site || ev[0].Task != "app/leaky" {
				t.Fatalf("events = %+v; want one collected-while-held %s at %s by app/leaky", ev, kind, site)
			}
			st := e.DB.Stats()
			if st.LeaksCollected != 1 || st.Reclaimed != 1 || st.InUse != 0 || st.DB.InUse != 0 {
				t.Fatalf("Stats = %+v", st)
			}
			state, _ := testkit.Registered(track.KindPool, "leaky-"+kind)
			want := "1 handle garbage-collected without Close (connections closed): 1 " + kind + " opened at " + site + " by task app/leaky"
			if len(state.Problems) != 1 || state.Problems[0] != want {
				t.Fatalf("problems in the leak report = %q; want [%q]", state.Problems, want)
			}
			e.shutdown(t)
			sqltrack.Lost(e.DB).Unregister()
		})
	}
}

func TestLiveHandlesAreInTheLeakReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 4, sqltrack.Config{Name: "reported"})
		ctx := track.WithTask(context.Background(), &track.Task{Path: "app/report"})
		rows, err := e.DB.QueryContext(ctx, "SELECT id")
		site := lineAbove(testkit.Here(0))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		tx, err := e.DB.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		time.Sleep(time.Second)
		state, ok := testkit.Registered(track.KindPool, "reported")
		if !ok || len(state.Items) != 2 {
			t.Fatalf("registered state = %+v, %v; want two items", state, ok)
		}
		it := state.Items[0]
		if it.Kind != track.ItemLease || it.Name != "rows #1" || it.Owner != "app/report" || it.Site.String() != site || it.State != "held" {
			t.Fatalf("item = %+v; want rows #1 held by app/report at %s", it, site)
		}
		if state.Items[1].Name != "tx #2" || state.Items[1].Owner != "" {
			t.Fatalf("item = %+v; want tx #2 held by no task", state.Items[1])
		}
		counters := map[string]int64{}
		for _, c := range state.Counters {
			counters[c.Name] = c.Value
		}
		if counters["in_use"] != 2 || counters["open"] != 2 || counters["max_size"] != 4 {
			t.Fatalf("counters = %v", counters)
		}
	})
}

func TestHeldTooLongIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 2, sqltrack.Config{LeakAfter: 5 * time.Second})
		ctx := track.WithTask(context.Background(), &track.Task{Path: "app/slow"})
		tx, err := e.DB.BeginTx(ctx, nil)
		site := lineAbove(testkit.Here(0))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5*time.Second - time.Millisecond)
		synctest.Wait()
		if ev := e.Leaks.Events(); len(ev) != 0 {
			t.Fatalf("events before LeakAfter: %+v", ev)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		ev := e.Leaks.Events()
		if len(ev) != 1 || ev[0].Kind != pool.LeakHeldTooLong || ev[0].Handle != "tx" || ev[0].Task != "app/slow" || ev[0].Site != site {
			t.Fatalf("events = %+v; want tx held too long by app/slow at %s", ev, site)
		}
		tx.Commit()
		if st := e.DB.Stats(); st.LeaksHeldTooLong != 1 || st.InUse != 0 {
			t.Fatalf("Stats = %+v", st)
		}
	})
}

func TestShutdownIsBoundedAndNamesWhatIsOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newFake(t, 2, sqltrack.Config{Name: "closing"})
		ctx := track.WithTask(context.Background(), &track.Task{Path: "app/stuck"})
		rows, err := e.DB.QueryContext(ctx, "SELECT id")
		site := lineAbove(testkit.Here(0))
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := e.DB.BeginTx(context.Background(), nil)
		// A waiter, blocked because both connections are out.
		waited := make(chan error, 1)
		go func() {
			_, err := e.DB.ExecContext(context.Background(), "SELECT id")
			waited <- err
		}()
		synctest.Wait()

		// The transaction ends in time; the rows do not.
		go func() {
			time.Sleep(500 * time.Millisecond)
			tx.Commit()
		}()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err = e.DB.Shutdown(sctx)
		if time.Since(start) != 2*time.Second {
			t.Errorf("Shutdown took %v; want its ctx's 2s", time.Since(start))
		}
		if err := <-waited; !errors.Is(err, pool.ErrClosed) {
			t.Errorf("the waiter got %v; want ErrClosed", err)
		}
		var le *pool.LeakError
		if !errors.As(err, &le) || len(le.Leaks) != 1 {
			t.Fatalf("Shutdown = %v; want a *pool.LeakError naming the rows", err)
		}
		l := le.Leaks[0]
		if l.Kind != pool.LeakAtShutdown || l.Handle != "rows" || l.Task != "app/stuck" || l.Site != site || l.HeldFor != 2*time.Second {
			t.Fatalf("leak = %+v; want rows at %s by app/stuck, held 2s", l, site)
		}
		wantContains(t, "Shutdown's error", err.Error(), "rows #1 held 2s by task app/stuck, opened at "+site)
		// The rows were closed and the database too.
		if rows.Next() || rows.Err() != nil && !strings.Contains(rows.Err().Error(), "closed") {
			t.Errorf("the reclaimed rows still read: err %v", rows.Err())
		}
		rows.Close()
		if e.Fake.Closed() != e.Fake.Made() {
			t.Errorf("%d of %d connections closed", e.Fake.Closed(), e.Fake.Made())
		}
		if err := e.DB.Shutdown(context.Background()); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
		sqltrack.Lost(e.DB).Unregister()
	})
}
