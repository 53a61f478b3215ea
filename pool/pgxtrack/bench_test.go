package pgxtrack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/pgxtrack"
)

// benchPools makes a bare pgxpool and a tracked one on the benchmark's own
// schema, each of at most maxConns connections, with a table t of 1000
// rows.
func benchPools(b *testing.B, pg *pgtest.Env, maxConns int32, cfg pgxtrack.Config) (*pgxpool.Pool, *pgxtrack.Pool) {
	b.Helper()
	pc, err := pgxpool.ParseConfig(pg.DSN())
	if err != nil {
		b.Fatal(err)
	}
	pc.MaxConns = maxConns
	bare, err := pgxpool.NewWithConfig(context.Background(), pc.Copy())
	if err != nil {
		b.Fatal(err)
	}
	if cfg.Name == "" {
		cfg.Name = "bench"
	}
	tracked, err := pgxtrack.New(context.Background(), pc, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		bare.Close()
		tracked.Close()
	})
	return bare, tracked
}

// benchSchema creates the table the benchmarks query.
func benchSchema(pg *pgtest.Env) {
	pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v text)")
	pg.Exec("INSERT INTO t SELECT n, 'value ' || n FROM generate_series(1, 1000) AS g(n)")
}

// BenchmarkPointQuery runs one point query (QueryRow and Scan of a row by
// primary key) through the bare pgxpool and through pgxtrack, side by side:
// what tracking costs on the path most services live on. Four connections,
// all goroutines querying.
func BenchmarkPointQuery(b *testing.B) {
	pg := pgtest.New(b)
	benchSchema(pg)
	bare, tracked := benchPools(b, pg, 4, pgxtrack.Config{LeakAfter: time.Minute})
	const q = "SELECT v FROM t WHERE id = $1"
	for _, impl := range []struct {
		name  string
		query func(ctx context.Context, id int, v *string) error
	}{
		{"pgxpool", func(ctx context.Context, id int, v *string) error { return bare.QueryRow(ctx, q, id).Scan(v) }},
		{"tether", func(ctx context.Context, id int, v *string) error { return tracked.QueryRow(ctx, q, id).Scan(v) }},
	} {
		b.Run("db=postgres/impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			defer testkit.ReportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				var v string
				id := 0
				for pb.Next() {
					id = id%1000 + 1
					if err := impl.query(context.Background(), id, &v); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkCheckout takes a connection and gives it back, nothing else:
// pgxpool's Acquire and Release, bare and through pgxtrack (whose Conn is
// a tracked lease), with a ctx that cannot be cancelled and with one that
// can.
func BenchmarkCheckout(b *testing.B) {
	pg := pgtest.New(b)
	bare, tracked := benchPools(b, pg, 4, pgxtrack.Config{LeakAfter: time.Minute})
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"background", context.Background()}, {"cancelable", cancellable}} {
		for _, impl := range []struct {
			name  string
			cycle func(ctx context.Context) error
		}{
			{"pgxpool", func(ctx context.Context) error {
				conn, err := bare.Acquire(ctx)
				if err != nil {
					return err
				}
				conn.Release()
				return nil
			}},
			{"tether", func(ctx context.Context) error {
				conn, err := tracked.Acquire(ctx)
				if err != nil {
					return err
				}
				conn.Release()
				return nil
			}},
		} {
			b.Run("ctx="+c.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				defer testkit.ReportCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := impl.cycle(c.ctx); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkLeakingHandler is the story tether began with, as a
// measurement: 8 concurrent requests, each with its own deadline of 2s, on
// a pool of 2 connections, through a handler that leaves its rows open.
// The first two drain the pool; the rest wait. It reports how long until
// the first request fails (ms-to-first-failure) and whether that failure
// names the leaking line (named-holder, 1 or 0). Bare, the waiters hang
// until their own deadline and the error says only that; through pgxtrack,
// they fail at AcquireTimeout (100ms) with the holders named.
func BenchmarkLeakingHandler(b *testing.B) {
	pg := pgtest.New(b)
	benchSchema(pg)
	const requests, conns = 8, 2
	const deadline = 2 * time.Second
	for _, impl := range []string{"pgxpool", "tether"} {
		b.Run("impl="+impl, func(b *testing.B) {
			var first time.Duration
			named := 0
			for b.Loop() {
				bare, tracked := benchPools(b, pg, conns, pgxtrack.Config{AcquireTimeout: 100 * time.Millisecond})
				warm(b, bare, conns)
				warm(b, tracked.Raw(), conns)
				handler := func(ctx context.Context) (func(), error) {
					if impl == "pgxpool" {
						rows, err := bare.Query(ctx, "SELECT v FROM t") // BUG: never closed
						if err != nil {
							return nil, err
						}
						return rows.Close, nil
					}
					rows, err := tracked.Query(ctx, "SELECT v FROM t") // BUG: never closed
					if err != nil {
						return nil, err
					}
					return rows.Close, nil
				}
				firstErr, firstAt, cleanup := testkit.Requests(requests, deadline, handler)
				cleanup()
				first += firstAt
				var te *pool.TimeoutError
				if errors.As(firstErr, &te) && len(te.Holders) > 0 && te.Holders[0].Handle == "rows" &&
					strings.HasPrefix(te.Holders[0].Site, "bench_test.go:") {
					named++
				} else if impl == "tether" {
					b.Fatalf("tether's first failure: %v; want a *pool.TimeoutError naming the rows", firstErr)
				}
				bare.Close()
				tracked.Close()
				pgxtrack.Lost(tracked).Unregister()
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-to-first-failure")
			b.ReportMetric(float64(named)/float64(b.N), "named-holder")
		})
	}
}

// warm opens n connections in p, so that the story measures the wait for
// a holder, not the dials.
func warm(b *testing.B, p *pgxpool.Pool, n int) {
	b.Helper()
	var conns []*pgxpool.Conn
	for range n {
		c, err := p.Acquire(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}
