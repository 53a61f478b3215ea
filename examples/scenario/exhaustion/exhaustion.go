// Package exhaustion is the failure "a waiter hangs forever on an exhausted
// resource": report renders hold the pool's connections through slow work
// that does not need them, and an API lookup waits behind them.
//
// The database is opened through pool/sqltrack, so every wait for a
// connection is bounded: the lookup fails after AcquireTimeout with an error
// that names each holder (its kind, its task, the line that opened it, how
// long it has held), instead of hanging until the renders finish, or
// forever if one never does.
package exhaustion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
	"github.com/tether-go/tether/supervise"
)

// Bug is the failure this scenario shows, in one line.
const Bug = "report renders hold database connections through slow work; an API lookup waits behind them"

// Result is what a run saw.
type Result struct {
	Lookup    string        // the lookup's result or error text
	TimedOut  bool          // the lookup failed with pool.ErrTimeout
	Holders   []string      // task paths named by the timeout error
	Waited    time.Duration // how long the lookup took
	Rendered  int           // renders that finished
	RenderFor time.Duration // how long each render works
}

// renderDuration is the slow part of a report: formatting, charts, upload.
const renderDuration = time.Second

// render is the buggy report task: it holds a connection of its own for
// the whole render, though it needs it only for the query.
func render(ctx context.Context, db *sqltrack.DB, holding chan<- struct{}) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var total int
	if err := conn.QueryRowContext(ctx, `SELECT sum(amount) FROM orders`).Scan(&total); err != nil {
		return err
	}
	holding <- struct{}{}
	return work(ctx, renderDuration) // BUG: the connection stays out during the slow part
}

// renderFixed queries through the database, which gives the connection
// back as soon as the row is scanned, before the slow part starts.
func renderFixed(ctx context.Context, db *sqltrack.DB, holding chan<- struct{}) error {
	var total int
	if err := db.QueryRowContext(ctx, `SELECT sum(amount) FROM orders`).Scan(&total); err != nil {
		return err
	}
	holding <- struct{}{}
	return work(ctx, renderDuration)
}

// work stands for slow work that honours cancellation.
func work(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lookup is the API request: one quick query.
func lookup(ctx context.Context, db *sqltrack.DB) (string, error) {
	var name string
	err := db.QueryRowContext(ctx, `SELECT customer FROM orders WHERE id = 1`).Scan(&name)
	return name, err
}

// Run starts two report renders on a database of two connections, then
// serves one API lookup, and reports how the lookup fared. fixed runs the
// render that gives its connection back before the slow part.
func Run(ctx context.Context, w io.Writer, fixed bool) (*Result, error) {
	dsn, remove, err := exampledb.TempFile()
	if err != nil {
		return nil, err
	}
	defer remove()
	db, err := sqltrack.Open("sqlite", dsn, sqltrack.Config{
		Name:           "orders-db",
		AcquireTimeout: 200 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.Raw().SetMaxOpenConns(2)
	if _, err := db.ExecContext(ctx, `CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount INTEGER);
		INSERT INTO orders (customer, amount) VALUES ('ada', 30), ('bob', 12)`); err != nil {
		return nil, err
	}

	quiet := supervise.Logger(slog.New(slog.DiscardHandler))
	reports := supervise.New(ctx, "reports", quiet)
	defer reports.Wait() // tethervet groupwait: the early return below must not leave the renders running
	holding := make(chan struct{}, 2)
	renderFn := render
	if fixed {
		renderFn = renderFixed
	}
	res := &Result{RenderFor: renderDuration}
	for range 2 {
		reports.Go("render", func(ctx context.Context) error { return renderFn(ctx, db, holding) })
	}
	<-holding
	<-holding
	fmt.Fprintf(w, "  two renders running (%v of slow work each); an API lookup arrives\n", renderDuration)

	api := supervise.New(ctx, "api", quiet)
	api.Go("lookup", func(ctx context.Context) error {
		start := time.Now()
		name, err := lookup(ctx, db)
		res.Waited = time.Since(start)
		if err != nil {
			res.Lookup = err.Error()
			var te *pool.TimeoutError
			if errors.As(err, &te) {
				res.TimedOut = true
				for _, h := range te.Holders {
					res.Holders = append(res.Holders, h.Task)
				}
			}
			return nil
		}
		res.Lookup = "customer " + name
		return nil
	})
	if err := api.Wait(); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "  the lookup returned after %v: %s\n", res.Waited.Round(time.Millisecond), res.Lookup)
	if err := reports.Wait(); err != nil {
		return nil, err
	}
	res.Rendered = 2
	return res, nil
}
