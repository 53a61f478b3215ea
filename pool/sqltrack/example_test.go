package sqltrack_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"time"

	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
	"github.com/tether-go/tether/supervise"
)

// A handler leaves its rows open; the pool has one connection. The next
// query does not hang: after AcquireTimeout it fails with an error that
// names the rows, the task that opened them and the line.
func Example() {
	ctx := context.Background()
	db, err := sqltrack.Open("sqlite", "file:/example-orders?vfs=memdb", sqltrack.Config{
		Name:           "orders-db",
		AcquireTimeout: 100 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.Raw().SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT);
		INSERT INTO orders (item) VALUES ('tea'), ('cake')`); err != nil {
		log.Fatal(err)
	}

	g := supervise.New(ctx, "app", supervise.Logger(slog.New(slog.DiscardHandler)))
	var leaked *sqltrack.Rows
	g.Go("report", func(ctx context.Context) error {
		leaked, err = db.QueryContext(ctx, `SELECT item FROM orders`) // BUG: never closed
		return err
	})
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}

	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&n)
	var te *pool.TimeoutError
	if errors.As(err, &te) {
		h := te.Holders[0]
		fmt.Println("timed out; held by", h.Handle, "of task", h.Task, "opened in example_test.go:", strings.HasPrefix(h.Site, "example_test.go:"))
	}
	leaked.Close()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&n); err == nil {
		fmt.Println("after Close:", n, "orders")
	}
	// Output:
	// timed out; held by rows of task app/report opened in example_test.go: true
	// after Close: 2 orders
}

// Shutdown refuses new work at once and waits, until its ctx is done, for
// the handles still open. One still open then is reclaimed (its rows
// closed or its transaction rolled back, its connection closed) and
// Shutdown returns a *pool.LeakError naming its kind, task and line; leak
// reports keep listing the database afterwards. Here the transaction ends
// in time.
func ExampleDB_Shutdown() {
	ctx := context.Background()
	db, err := sqltrack.Open("sqlite", "file:/example-shutdown?vfs=memdb", sqltrack.Config{Name: "jobs-db"})
	if err != nil {
		log.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	committed := make(chan error)
	go func() {
		time.Sleep(10 * time.Millisecond) // the job finishes its work
		committed <- tx.Commit()
	}()

	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	fmt.Println(db.Shutdown(sctx), <-committed)

	_, err = db.ExecContext(ctx, `SELECT 1`)
	fmt.Println(errors.Is(err, pool.ErrClosed), err)
	// Output:
	// <nil> <nil>
	// true pool "jobs-db": acquire after Shutdown: pool: closed
}
