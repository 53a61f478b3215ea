// Package shutdown is a small service run under supervise.Main: an HTTP
// server, a group of workers and a connection pool over SQLite. On SIGTERM,
// or when its context ends, it stops in order: the server stops taking
// requests, the workers finish, then the Defers close the pool and the
// database, last registered first closed. The leak report after that is
// clean.
//
// With leak set, a "reaper" task ignores its context while holding a
// connection: Main's output names the task that did not stop, the lease the
// pool had to reclaim from it, and where each began.
package shutdown

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
)

// Bug is what the -leak variant shows, in one line.
const Bug = "a background task ignores cancellation while holding a connection; shutdown cannot finish"

// Config is what Service needs from its caller.
type Config struct {
	Out     io.Writer       // progress lines; must be safe for concurrent writes
	Leak    bool            // start the buggy reaper task
	Release <-chan struct{} // ends the reaper (nil: never)
	Addr    chan<- string   // receives the server's address once it listens
	Logger  *slog.Logger    // the pool's logger; nil means slog.Default()
}

// Service returns the run function for supervise.Main.
func Service(cfg Config) func(context.Context, *supervise.Group) error {
	w, leak, release, addr := cfg.Out, cfg.Leak, cfg.Release, cfg.Addr
	return func(ctx context.Context, g *supervise.Group) error {
		db, err := exampledb.Open(ctx, `CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)`)
		if err != nil {
			return err
		}
		g.Defer("database", func(context.Context) error {
			fmt.Fprintln(w, "  stop: database closed")
			return db.Close()
		})
		p, err := pool.New(pool.Config[*sql.Conn]{
			Name:           "shop-db",
			New:            func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
			Close:          func(c *sql.Conn) error { return c.Close() },
			MaxSize:        4,
			AcquireTimeout: time.Second,
			Logger:         cfg.Logger,
		})
		if err != nil {
			return err
		}
		g.Defer("db pool", func(ctx context.Context) error {
			err := p.Shutdown(ctx)
			fmt.Fprintln(w, "  stop: db pool shut down")
			return err
		})

		jobs := make(chan string, 16)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		g.Go("http", func(ctx context.Context) error { return serve(ctx, w, ln, jobs, p) })
		g.Go("jobs", func(ctx context.Context) error { return work(ctx, w, jobs, p) })
		if leak {
			g.Go("reaper", func(ctx context.Context) error { return reap(ctx, p, release) })
		}
		addr <- ln.Addr().String()
		fmt.Fprintln(w, "  started: http server, 2 workers, db pool"+map[bool]string{true: ", reaper", false: ""}[leak])
		return nil
	}
}

// serve runs the HTTP server until ctx ends, then shuts it down, letting
// requests in flight finish.
func serve(ctx context.Context, w io.Writer, ln net.Listener, jobs chan<- string, p *pool.Pool[*sql.Conn]) error {
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
		err := p.With(r.Context(), func(c *sql.Conn) error {
			return c.QueryRowContext(r.Context(), `SELECT count(*) FROM orders`).Scan(&n)
		})
		if err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, n)
	})
	// Requests run with the task's context, so a lease a handler takes is
	// held by the task "shop/http".
	srv := &http.Server{Handler: mux, BaseContext: func(net.Listener) context.Context { return ctx }}
	server := supervise.New(ctx, "server")
	server.Go("listen", func(context.Context) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := errors.Join(srv.Shutdown(sctx), server.Wait())
	fmt.Fprintln(w, "  stop: http server stopped")
	return err
}

// work runs two workers that store orders until ctx ends.
func work(ctx context.Context, w io.Writer, jobs <-chan string, p *pool.Pool[*sql.Conn]) error {
	workers := supervise.New(ctx, "workers")
	for range 2 {
		workers.Go("worker", func(ctx context.Context) error {
			for {
				select {
				case item := <-jobs:
					if err := p.With(ctx, func(c *sql.Conn) error {
						_, err := c.ExecContext(ctx, `INSERT INTO orders (item) VALUES (?)`, item)
						return err
					}); err != nil {
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
func reap(ctx context.Context, p *pool.Pool[*sql.Conn], release <-chan struct{}) error {
	lease, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer lease.Release()
	<-release // BUG: should also select on ctx.Done()
	return nil
}

// Result is what a run saw.
type Result struct {
	ExitCode int
	Stderr   string
	Orders   int // orders stored, as the server counted them before it stopped
}

// Run runs the service for duration with Main's exit and stderr captured,
// sends it a few orders, and stops it. Main runs on the calling goroutine,
// as in a real program, so its leak report sees only the service; a short
// client goroutine sends the requests and ends the run. The reaper of the
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
	//tether:allow nakedgo the client stands outside the service under Main, which must see only the service's own tasks
	go func() {
		defer stop()
		var a string
		select {
		case a = <-addr:
		case <-runCtx.Done():
			return
		}
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for i := range 5 {
			resp, err := client.Post("http://"+a+"/orders?item=widget-"+strconv.Itoa(i), "text/plain", nil)
			if err != nil {
				clientErr.Store(&err)
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
		fmt.Fprintln(out, "  SIGTERM (the run's context ends): shutting down")
	}()
	quiet := slog.New(slog.DiscardHandler)
	supervise.Main("shop", Service(Config{Out: out, Leak: leak, Release: release, Addr: addr, Logger: quiet}),
		supervise.MainContext(runCtx),
		supervise.GroupOptions(supervise.Logger(quiet)),
		supervise.Exit(func(code int) { res.ExitCode = code }),
		supervise.Stderr(&stderr),
		supervise.ShutdownTimeout(time.Second),
		supervise.Signals(),
	)
	close(release)
	if err := clientErr.Load(); err != nil {
		return nil, *err
	}
	res.Stderr = stderr.String()
	res.Orders = int(orders.Load())
	return res, nil
}
