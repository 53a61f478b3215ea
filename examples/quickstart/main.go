// Command quickstart is the service in the README: a database whose every
// connection is a tracked lease, workers under supervision, a guarded
// counter, an HTTP server whose requests are tasks, and supervise.Main for
// signals, shutdown and the leak report. It serves until Ctrl-C.
package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/pool/sqltrack"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
	_ "modernc.org/sqlite"
)

func main() {
	supervise.Main("app", func(ctx context.Context, g *supervise.Group) error {
		db, err := sqltrack.Open("sqlite", "file:quickstart?mode=memory&cache=shared", sqltrack.Config{
			Name: "db", AcquireTimeout: time.Second, LeakAfter: 10 * time.Second,
		})
		if err != nil {
			return err
		}
		g.Defer("database", db.Shutdown) // Defers run last-in first-out
		db.Raw().SetMaxOpenConns(4)      // database/sql's pool stays the pool
		queries := guard.New("queries", 0)
		for range 8 {
			g.Go("worker", func(ctx context.Context) error {
				if _, err := db.ExecContext(ctx, "SELECT 1"); err != nil {
					return err
				}
				_, err := queries.Update(ctx, func(n int) (int, error) { return n + 1, nil })
				return err
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
