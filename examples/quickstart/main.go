// Command quickstart is the service in the README: a pool of database
// connections, workers under supervision, a guarded counter, an HTTP
// server whose requests are tasks, and supervise.Main for signals, shutdown
// and the leak report. It serves until Ctrl-C.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
	_ "modernc.org/sqlite"
)

func main() {
	supervise.Main("app", func(ctx context.Context, g *supervise.Group) error {
		db, err := sql.Open("sqlite", "file:quickstart?mode=memory&cache=shared")
		if err != nil {
			return err
		}
		g.Defer("database", func(context.Context) error { return db.Close() })
		conns, err := pool.New(pool.Config[*sql.Conn]{
			Name: "db", MaxSize: 4, AcquireTimeout: time.Second, LeakAfter: 10 * time.Second,
			New:   func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
			Close: (*sql.Conn).Close,
		})
		if err != nil {
			return err
		}
		g.Defer("db pool", conns.Shutdown) // Defers run last-in first-out
		queries := guard.New("queries", 0)
		for range 8 {
			g.Go("worker", func(ctx context.Context) error {
				return conns.With(ctx, func(c *sql.Conn) error {
					if _, err := c.ExecContext(ctx, "SELECT 1"); err != nil {
						return err
					}
					_, err := queries.Update(ctx, func(n int) (int, error) { return n + 1, nil })
					return err
				})
			})
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /queries", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, queries.Load().Value) // runs as the task "app/GET /queries"
		})
		srv := &http.Server{Addr: "localhost:8080", Handler: httptask.Handler(g, mux)}
		httptask.Serve(g, "http", srv) // on SIGINT or SIGTERM: stops taking requests, waits for those in flight
		g.Defer("report", func(context.Context) error {
			fmt.Println("queries:", queries.Load().Value) // 8, never fewer
			return nil
		})
		return nil
	})
}
