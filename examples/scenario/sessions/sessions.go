// Package sessions is the failure "a connection is never closed, the pool
// drains, requests hang": a session-cleanup handler borrows a database
// connection and forgets to give it back on one path.
//
// With tether the drain cannot go unnoticed. The lease is reported as held
// too long, naming the handler's line; the waiter that finds the pool empty
// fails after its deadline with an error naming who holds what; and once the
// forgotten lease is garbage-collected the pool closes its connection and
// gets the capacity back.
package sessions

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
)

// Bug is the failure this scenario shows, in one line.
const Bug = "a session-cleanup handler returns early without releasing its database connection; the pool drains"

// Result is what a run saw, for the tour and the tests.
type Result struct {
	Served   int         // requests that completed
	Failed   int         // requests that could not get a connection
	TimedOut string      // the first acquire error, naming the holders
	Leaks    []pool.Leak // every leak event tether raised, in order
	InUse    int         // leases outstanding at the end
	After    string      // what happened after the garbage collector ran
	Report   string      // the leak report's entries for the pool, after that
}

// expireSessions is the buggy handler: it deletes a user's expired
// sessions, but when there is none it returns without releasing the lease.
func expireSessions(ctx context.Context, db *pool.Pool[*sql.Conn], user string, now int64) (int64, error) {
	// tethervet: want leaserelease (the bug this scenario shows; cmd/tethervet TestModule checks it is reported)
	lease, err := db.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	conn := lease.Value()
	var expired int
	if err := conn.QueryRowContext(ctx,
		`SELECT count(*) FROM sessions WHERE user = ? AND expires < ?`, user, now).Scan(&expired); err != nil {
		lease.Release()
		return 0, err
	}
	if expired == 0 {
		return 0, nil // BUG: this path never releases the lease
	}
	res, err := conn.ExecContext(ctx, `DELETE FROM sessions WHERE user = ? AND expires < ?`, user, now)
	lease.Release()
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// expireSessionsFixed is the same handler written with Pool.With, which
// releases on every path, including a panic.
func expireSessionsFixed(ctx context.Context, db *pool.Pool[*sql.Conn], user string, now int64) (int64, error) {
	var deleted int64
	err := db.With(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `DELETE FROM sessions WHERE user = ? AND expires < ?`, user, now)
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	return deleted, err
}

// Run starts the service, sends it a burst of cleanup requests (the first
// users have nothing expired, which is the path that leaks), and reports
// what tether saw. fixed runs the corrected handler.
func Run(ctx context.Context, w io.Writer, fixed bool) (*Result, error) {
	db, err := exampledb.Open(ctx,
		`CREATE TABLE sessions (id INTEGER PRIMARY KEY, user TEXT, expires INTEGER)`)
	if err != nil {
		return nil, err
	}
	defer db.Close()
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

	res := &Result{}
	var mu sync.Mutex
	p, err := pool.New(pool.Config[*sql.Conn]{
		Name:           "sessions-db",
		New:            func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
		Close:          func(c *sql.Conn) error { return c.Close() },
		MaxSize:        3,
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
	defer p.Close()

	handler := expireSessions
	if fixed {
		handler = expireSessionsFixed
	}
	g := supervise.New(ctx, "sessions", supervise.ContinueOnError(), supervise.Logger(slog.New(slog.DiscardHandler)))
	g.Go("sweeper", func(ctx context.Context) error {
		for _, u := range users {
			n, err := handler(ctx, p, u, now)
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
	res.InUse = p.Stats().InUse

	// The handler has returned; its forgotten leases are garbage. Once the
	// collector finds them, the pool closes their connections and serves
	// again.
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().InUse > 0 && time.Now().Before(deadline) {
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
	if n, err := handler(ctx, p, "eve", now+1000); err == nil {
		res.After = fmt.Sprintf("after garbage collection the pool has %d leases out and serves again (expire eve: %d deleted)",
			p.Stats().InUse, n)
	} else {
		res.After = "after garbage collection the pool still cannot serve: " + err.Error()
	}
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}
