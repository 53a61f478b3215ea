// Package sessions is the failure "a connection is never closed, the pool
// drains, requests hang": a session-cleanup handler checks out a database
// connection and forgets to close it on one path.
//
// The database is opened through pool/sqltrack, so database/sql's own pool
// keeps the connections and every checkout is a tracked lease. The drain
// cannot go unnoticed: the connection is reported as held too long, naming
// the handler's line; the waiter that finds the pool empty fails after
// AcquireTimeout with an error naming who holds what; and once the
// forgotten *sqltrack.Conn is garbage-collected its connection is closed
// and the pool serves again.
package sessions

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
	"github.com/tether-go/tether/supervise"
)

// Bug is the failure this scenario shows, in one line.
const Bug = "a session-cleanup handler returns early without closing its database connection; the pool drains"

// Result is what a run saw, for the tour and the tests.
type Result struct {
	Served   int         // requests that completed
	Failed   int         // requests that could not get a connection
	TimedOut string      // the first acquire error, naming the holders
	Leaks    []pool.Leak // every leak event tether raised, in order
	InUse    int         // connections held when the handler had returned
	After    string      // what the garbage collector reclaimed, and whether the database serves again
	Report   string      // the leak report's entries for the pool, after the collector ran
}

// expireSessions is the buggy handler: it deletes a user's expired
// sessions on a connection of its own, but when there is none it returns
// without closing the connection.
func expireSessions(ctx context.Context, db *sqltrack.DB, user string, now int64) (int64, error) {
	// tethervet: want leaserelease
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	var expired int
	if err := conn.QueryRowContext(ctx,
		`SELECT count(*) FROM sessions WHERE user = ? AND expires < ?`, user, now).Scan(&expired); err != nil {
		conn.Close()
		return 0, err
	}
	if expired == 0 {
		return 0, nil // BUG: this path never closes the connection
	}
	res, err := conn.ExecContext(ctx, `DELETE FROM sessions WHERE user = ? AND expires < ?`, user, now)
	conn.Close()
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// expireSessionsFixed is the same handler without a connection of its own:
// the DB's ExecContext takes a connection and gives it back on every path.
func expireSessionsFixed(ctx context.Context, db *sqltrack.DB, user string, now int64) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE user = ? AND expires < ?`, user, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Run starts the service, sends it a burst of cleanup requests (the first
// users have nothing expired, which is the path that leaks), and reports
// what tether saw. fixed runs the corrected handler.
func Run(ctx context.Context, w io.Writer, fixed bool) (*Result, error) {
	res := &Result{}
	var mu sync.Mutex
	dsn, remove, err := exampledb.TempFile()
	if err != nil {
		return nil, err
	}
	defer remove()
	db, err := sqltrack.Open("sqlite", dsn, sqltrack.Config{
		Name:           "sessions-db",
		AcquireTimeout: 300 * time.Millisecond,
		LeakAfter:      100 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler), // the scenario prints the events itself
		OnLeak: func(l pool.Leak) {
			mu.Lock()
			res.Leaks = append(res.Leaks, l)
			mu.Unlock()
		},
	})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.Raw().SetMaxOpenConns(3)
	if _, err := db.ExecContext(ctx, `CREATE TABLE sessions (id INTEGER PRIMARY KEY, user TEXT, expires INTEGER)`); err != nil {
		return nil, err
	}
	const now = 1000
	users := []string{"ada", "bob", "cy", "dee", "eve", "fay"}
	for i, u := range users {
		// The first three users have only live sessions.
		expires := now + 100
		if i >= 3 {
			expires = now - 100
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO sessions (user, expires) VALUES (?, ?), (?, ?)`,
			u, expires, u, expires); err != nil {
			return nil, err
		}
	}

	handler := expireSessions
	if fixed {
		handler = expireSessionsFixed
	}
	g := supervise.New(ctx, "sessions", supervise.ContinueOnError(), supervise.Logger(slog.New(slog.DiscardHandler)))
	g.Go("sweeper", func(ctx context.Context) error {
		for _, u := range users {
			n, err := handler(ctx, db, u, now)
			if err != nil {
				res.Failed++
				if res.TimedOut == "" {
					res.TimedOut = err.Error()
				}
				fmt.Fprintf(w, "  expire %-4s failed: no connection within the deadline\n", u)
				continue
			}
			res.Served++
			fmt.Fprintf(w, "  expire %-4s ok, %d sessions deleted\n", u, n)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res.InUse = db.Stats().InUse

	// The handler has returned; its forgotten connections are garbage. Once
	// the collector finds them, their connections are closed and the
	// database serves again.
	deadline := time.Now().Add(5 * time.Second)
	for db.Stats().InUse > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	// A leak report taken now (or at shutdown, or on the live page) still
	// names the line that forgot to release.
	snap := leakcheck.Snapshot(leakcheck.Light())
	mine := &leakcheck.Report{Taken: snap.Taken, Mode: snap.Mode}
	for _, e := range snap.Entries {
		if e.ObjectName == "sessions-db" {
			mine.Entries = append(mine.Entries, e)
		}
	}
	res.Report = mine.String()
	switch {
	case res.InUse == 0:
		res.After = "the handler gave back every connection: 0 in use, nothing left for the garbage collector to close"
	default:
		// Eve's request failed while the pool was drained: send it again.
		n, err := handler(ctx, db, "eve", now)
		if err != nil {
			res.After = fmt.Sprintf("the garbage collector ran, but the database still cannot serve (%d connections in use): %v",
				db.Stats().InUse, err)
			break
		}
		res.After = fmt.Sprintf("the garbage collector found the %d connections the handler forgot, and tether closed them: "+
			"%d in use now; eve's request, which had failed, succeeds when sent again (expired sessions deleted: %d)",
			res.InUse, db.Stats().InUse, n)
	}
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}
