// Package shutdown is a small service run under supervise.Main: an HTTP
// server, a group of workers and a SQLite database opened through
// pool/sqltrack. On SIGTERM, or when its context ends, it stops in order:
// the server stops taking requests and drains those in flight (a slow
// report that SIGTERM interrupts still completes, its database query
// included), the workers finish, then the Defers shut the database down
// and remove its files, last registered first. The leak report after that
// is clean.
//
// With leak set, a "reaper" task ignores its context while holding a
// connection: Main's output names the task that did not stop, the
// connection the database had to reclaim from it, and where each began.
package shutdown

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/pool/sqltrack"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

// Bug is what the -leak variant shows, in one line.
const Bug = "a background task ignores cancellation while holding a connection; shutdown cannot finish"

// Config is what Service needs from its caller.
type Config struct {
	Out     io.Writer       // progress lines; must be safe for concurrent writes
	Leak    bool            // start the buggy reaper task
	Release <-chan struct{} // ends the reaper (nil: never)
	Addr    chan<- string   // receives the server's address once it listens
	Report  chan<- struct{} // receives a value when GET /report has begun (nil: none)
	Logger  *slog.Logger    // the database's logger; nil means slog.Default()
}

// Service returns the run function for supervise.Main.
func Service(cfg Config) func(context.Context, *supervise.Group) error {
	w, leak, release, addr := cfg.Out, cfg.Leak, cfg.Release, cfg.Addr
	return func(ctx context.Context, g *supervise.Group) error {
		dsn, remove, err := exampledb.TempFile()
		if err != nil {
			return err
		}
		g.Defer("database files", func(context.Context) error {
			remove()
			fmt.Fprintln(w, "  stop: database files removed")
			return nil
		})
		db, err := sqltrack.Open("sqlite", dsn, sqltrack.Config{
			Name:           "shop-db",
			AcquireTimeout: time.Second,
			Logger:         cfg.Logger,
		})
		if err != nil {
			return err
		}
		g.Defer("database", func(ctx context.Context) error {
			err := db.Shutdown(ctx)
			fmt.Fprintln(w, "  stop: database shut down")
			return err
		})
		db.Raw().SetMaxOpenConns(4)
		if _, err := db.ExecContext(ctx, `CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)`); err != nil {
			return err
		}

		jobs := make(chan string, 16)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// The server is a task ("shop/http"), and each request a task named
		// by its route ("shop/POST /orders"): a lease a handler takes is
		// held by its request. When the group stops, the server stops
		// taking requests and lets those in flight finish: their contexts
		// stay alive until they end (or Main's ShutdownTimeout gives up).
		httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, routes(jobs, db, cfg.Report))}, httptask.Listener(ln))
		g.Defer("http server", func(context.Context) error {
			fmt.Fprintln(w, "  stop: http server stopped") // Defers run once every task, the server's included, has ended
			return nil
		})
		g.Go("jobs", func(ctx context.Context) error { return work(ctx, w, jobs, db) })
		if leak {
			g.Go("reaper", func(ctx context.Context) error { return reap(ctx, db, release) })
		}
		addr <- ln.Addr().String()
		fmt.Fprintln(w, "  started: http server, 2 workers, database"+map[bool]string{true: ", reaper", false: ""}[leak])
		return nil
	}
}

// reportTakes is how long GET /report works before it reads the database.
const reportTakes = 200 * time.Millisecond

// routes are the shop's HTTP routes. began, if not nil, receives a value
// when a report begins.
func routes(jobs chan<- string, db *sqltrack.DB, began chan<- struct{}) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(rw http.ResponseWriter, r *http.Request) {
		select {
		case jobs <- r.URL.Query().Get("item"):
			rw.WriteHeader(http.StatusAccepted)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /orders", func(rw http.ResponseWriter, r *http.Request) {
		var n int
		if err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM orders`).Scan(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, n)
	})
	// A slow report: it works for a while, then counts the orders. A
	// shutdown that begins meanwhile lets it finish.
	mux.HandleFunc("GET /report", func(rw http.ResponseWriter, r *http.Request) {
		select {
		case began <- struct{}{}: // a nil channel is never ready
		default:
		}
		timer := time.NewTimer(reportTakes)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			http.Error(rw, "report cancelled: "+context.Cause(r.Context()).Error(), http.StatusServiceUnavailable)
			return
		}
		var n int
		if err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM orders`).Scan(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(rw, "%d orders", n)
	})
	return mux
}

// work runs two workers that store orders until ctx ends.
func work(ctx context.Context, w io.Writer, jobs <-chan string, db *sqltrack.DB) error {
	workers := supervise.New(ctx, "workers")
	for range 2 {
		workers.Go("worker", func(ctx context.Context) error {
			for {
				select {
				case item := <-jobs:
					if _, err := db.ExecContext(ctx, `INSERT INTO orders (item) VALUES (?)`, item); err != nil {
						return err
					}
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
	}
	err := workers.Wait()
	fmt.Fprintln(w, "  stop: workers finished")
	return err
}

// reap is the buggy background task: it takes a connection for the whole
// run and waits for work without watching its context.
func reap(ctx context.Context, db *sqltrack.DB, release <-chan struct{}) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	<-release // BUG: should also select on ctx.Done()
	return nil
}

// Result is what a run saw.
type Result struct {
	ExitCode int
	Stderr   string
	Orders   int    // orders stored, as the server counted them before it stopped
	Report   string // what GET /report, in flight at SIGTERM, answered: status and body
}

// Run runs the service for duration with Main's exit and stderr captured,
// sends it a few orders, and stops it while a report is in flight. Main
// runs on the calling goroutine, as in a real program, so its leak report
// sees only the service; a short client goroutine sends the requests and
// ends the run, and another waits for the report. The reaper of the
// leak variant is released after Main returns, so the run leaves nothing
// behind.
func Run(ctx context.Context, w io.Writer, leak bool, duration time.Duration) (*Result, error) {
	res := &Result{}
	out := &lockedWriter{w: w}
	var stderr lockedBuffer
	release := make(chan struct{})
	addr := make(chan string, 1)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var orders atomic.Int64
	var clientErr atomic.Pointer[error]
	var report atomic.Pointer[string]
	reportBegan := make(chan struct{}, 1)
	reportDone := make(chan struct{})
	//tether:allow nakedgo the client stands outside the service under Main, which must see only the service's own tasks
	go func() {
		defer stop()
		var a string
		select {
		case a = <-addr:
		case <-runCtx.Done():
			close(reportDone)
			return
		}
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for i := range 5 {
			resp, err := client.Post("http://"+a+"/orders?item=widget-"+strconv.Itoa(i), "text/plain", nil)
			if err != nil {
				clientErr.Store(&err)
				close(reportDone)
				return
			}
			resp.Body.Close()
		}
		time.Sleep(duration)
		if resp, err := client.Get("http://" + a + "/orders"); err == nil {
			var n int64
			fmt.Fscan(resp.Body, &n)
			resp.Body.Close()
			orders.Store(n)
		}
		//tether:allow nakedgo the report's client stands outside the service, as the other client does
		go func() {
			defer close(reportDone)
			got := ""
			resp, err := client.Get("http://" + a + "/report")
			if err != nil {
				got = err.Error()
			} else {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				got = fmt.Sprintf("%d %s", resp.StatusCode, body)
			}
			report.Store(&got)
			fmt.Fprintln(out, "  drained: GET /report, in flight at SIGTERM, answered "+got)
		}()
		select {
		case <-reportBegan:
		case <-runCtx.Done():
		}
		fmt.Fprintln(out, "  SIGTERM (the run's context ends): shutting down")
	}()
	quiet := slog.New(slog.DiscardHandler)
	supervise.Main("shop", Service(Config{Out: out, Leak: leak, Release: release, Addr: addr, Logger: quiet, Report: reportBegan}),
		supervise.MainContext(runCtx),
		supervise.GroupOptions(supervise.Logger(quiet)),
		supervise.Exit(func(code int) { res.ExitCode = code }),
		supervise.Stderr(&stderr),
		supervise.ShutdownTimeout(time.Second),
		supervise.Signals(),
	)
	close(release)
	<-reportDone
	if err := clientErr.Load(); err != nil {
		return nil, *err
	}
	res.Stderr = stderr.String()
	res.Orders = int(orders.Load())
	if r := report.Load(); r != nil {
		res.Report = *r
	}
	return res, nil
}
