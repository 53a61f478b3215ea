// Package debugpage serves leakcheck's live page from a running service:
// tasks as a tree, the pool with its holders and a utilisation bar, the
// guard with its conflicts, and any goroutine no task owns. This is what an
// operator opens at 3 AM instead of reading a goroutine dump. Next to it,
// /metrics serves tether's OpenTelemetry instruments to Prometheus: the
// pool's connections by state, tasks by group, guard conflicts.
//
// The debug server runs as a task (httptask.Serve) and each request to it
// as a task named by its route (httptask.Handler): the page lists the
// request that is rendering it. It is mounted by the service itself, on a
// loopback port: leakcheck never registers it anywhere.
package debugpage

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

// Config is what Service needs from its caller.
type Config struct {
	Addr   chan<- string   // receives the page's URL once it listens
	Ready  chan<- struct{} // closed once the state worth seeing exists (nil: not told)
	Logger *slog.Logger    // the pool's logger; nil means slog.Default()
}

// Service returns the run function for supervise.Main: a ledger service
// whose report task holds a connection, whose ingest workers update
// balances through a guard.Map, and whose debug server serves the page.
func Service(cfg Config) func(context.Context, *supervise.Group) error {
	return func(ctx context.Context, g *supervise.Group) error {
		db, err := exampledb.Open(ctx, `CREATE TABLE entries (account TEXT, amount INTEGER)`)
		if err != nil {
			return err
		}
		g.Defer("database", func(context.Context) error { return db.Close() })
		p, err := pool.New(pool.Config[*sql.Conn]{
			Name:    "ledger-db",
			New:     func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
			Close:   func(c *sql.Conn) error { return c.Close() },
			MaxSize: 3,
			Logger:  cfg.Logger,
		})
		if err != nil {
			return err
		}
		g.Defer("db pool", p.Shutdown)
		balances := guard.NewMap[string, int]("balances")

		promMetrics, err := metricsHandler(g)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /debug/tether", leakcheck.Handler())
		mux.Handle("GET /metrics", promMetrics)
		httptask.Serve(g, "debug", &http.Server{Handler: httptask.Handler(g, mux)}, httptask.Listener(ln))

		// Ready is closed by whichever of the two events below comes last.
		var pending atomic.Int32
		pending.Store(2)
		arrived := func() {
			if pending.Add(-1) == 0 && cfg.Ready != nil {
				close(cfg.Ready)
			}
		}
		g.Go("report", func(ctx context.Context) error {
			// A month-end report holds a connection while it renders.
			lease, err := p.Acquire(ctx)
			if err != nil {
				return err
			}
			defer lease.Release()
			arrived()
			<-ctx.Done()
			return ctx.Err()
		})
		g.Go("ingest", func(ctx context.Context) error { return ingest(ctx, balances, arrived) })
		cfg.Addr <- "http://" + ln.Addr().String()
		return nil
	}
}

// ingest runs three workers that post to the same account, after staging
// one conflict so the page always has one to show.
func ingest(ctx context.Context, balances *guard.Map[string, int], conflicted func()) error {
	workers := supervise.New(ctx, "workers")
	var once sync.Once
	loaded := make(chan guard.Snapshot[int])
	committed := make(chan struct{})
	workers.Go("posting", func(ctx context.Context) error {
		snap := <-loaded
		if _, err := balances.CompareAndSwap(ctx, "acme", snap.Version, snap.Value+100); err != nil {
			return err
		}
		close(committed)
		return post(ctx, balances)
	})
	workers.Go("refund", func(ctx context.Context) error {
		snap, err := balances.Load(ctx, "acme")
		if err != nil {
			return err
		}
		loaded <- snap
		<-committed
		// Based on the version read before "posting" committed: refused,
		// and the conflict is recorded with both writers.
		_, err = balances.CompareAndSwap(ctx, "acme", snap.Version, snap.Value-30)
		if !errors.Is(err, guard.ErrConflict) {
			return err
		}
		once.Do(conflicted)
		return post(ctx, balances)
	})
	return workers.Wait()
}

// post keeps updating the balance, retrying conflicts, until ctx ends.
func post(ctx context.Context, balances *guard.Map[string, int]) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if _, err := balances.Update(ctx, "acme", func(v int) (int, error) { return v + 1, nil }); err != nil && ctx.Err() == nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Result is what the page showed.
type Result struct {
	URL      string            // the page's
	Report   *leakcheck.Report // the page's JSON form
	HTML     string            // the page
	Metrics  string            // GET /metrics: Prometheus's text format
	ExitCode int
}

// Run starts the service, fetches the page as HTML and as JSON once the
// interesting state exists, then stops the service.
func Run(ctx context.Context, w io.Writer) (*Result, error) {
	res := &Result{}
	addr := make(chan string, 1)
	ready := make(chan struct{})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var fetchErr error
	//tether:allow nakedgo the fetcher stands outside the service under Main, which must see only the service's own tasks
	go func() {
		defer stop()
		select {
		case res.URL = <-addr:
		case <-runCtx.Done():
			return
		}
		select {
		case <-ready:
		case <-runCtx.Done():
			return
		}
		res.Report, res.HTML, res.Metrics, fetchErr = fetch(res.URL)
		res.URL += pagePath
	}()
	quiet := slog.New(slog.DiscardHandler)
	supervise.Main("ledger", Service(Config{Addr: addr, Ready: ready, Logger: quiet}),
		supervise.MainContext(runCtx),
		supervise.Signals(),
		supervise.Exit(func(code int) { res.ExitCode = code }),
		supervise.Stderr(w),
		supervise.GroupOptions(supervise.Logger(quiet)),
	)
	if fetchErr != nil {
		return nil, fetchErr
	}
	if res.Report == nil {
		return nil, errors.New("debugpage: the service stopped before the page was fetched")
	}
	return res, nil
}
