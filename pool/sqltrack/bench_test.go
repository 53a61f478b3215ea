package sqltrack_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
)

// benchDB is a database the benchmarks run on: SQLite in memory always,
// PostgreSQL when TETHER_TEST_POSTGRES is set.
type benchDB struct {
	name   string
	driver string
	dsn    func() string // a new database's DSN (SQLite) or the test schema's
	point  string        // the point query, with its placeholder
	setup  []string
}

func benchDBs(b *testing.B) []benchDB {
	rows := "INSERT INTO t SELECT n, 'value ' || n FROM generate_series(1, 1000) AS g(n)"
	dbs := []benchDB{{
		name:   "sqlite",
		driver: "sqlite",
		dsn:    func() string { return sqliteDSN(b) },
		point:  "SELECT v FROM t WHERE id = ?",
		setup: []string{
			"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
			"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000) INSERT INTO t SELECT n, 'value ' || n FROM g",
		},
	}}
	if os.Getenv(pgtest.EnvVar) != "" {
		pg := pgtest.New(b)
		dbs = append(dbs, benchDB{
			name:   "postgres",
			driver: "pgx",
			dsn:    pg.DSN,
			point:  "SELECT v FROM t WHERE id = $1",
			setup:  []string{"CREATE TABLE t (id int PRIMARY KEY, v text)", rows},
		})
	}
	return dbs
}

// open opens the database twice, once bare and once tracked, on the same
// data (SQLite: one in-memory database shared by its connections), each
// with at most maxOpen connections.
func (d benchDB) open(b *testing.B, maxOpen int, cfg sqltrack.Config) (*sql.DB, *sqltrack.DB) {
	b.Helper()
	dsn := d.dsn()
	raw, err := sql.Open(d.driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range d.setup {
		if _, err := raw.Exec(s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
	if cfg.Name == "" {
		cfg.Name = "bench"
	}
	tracked, err := sqltrack.Open(d.driver, dsn, cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, db := range []*sql.DB{raw, tracked.Raw()} {
		db.SetMaxOpenConns(maxOpen)
		db.SetMaxIdleConns(maxOpen)
	}
	b.Cleanup(func() {
		raw.Close()
		tracked.Close()
	})
	return raw, tracked
}

// BenchmarkPointQuery runs one point query (QueryRowContext and Scan of a
// row by primary key) through the bare *sql.DB and through sqltrack, side
// by side, on SQLite in memory and on PostgreSQL: what tracking costs on the
// path most services live on. Four connections, all goroutines querying.
func BenchmarkPointQuery(b *testing.B) {
	for _, d := range benchDBs(b) {
		raw, tracked := d.open(b, 4, sqltrack.Config{LeakAfter: time.Minute})
		impls := []struct {
			name  string
			query func(ctx context.Context, id int, v *string) error
		}{
			{"database-sql", func(ctx context.Context, id int, v *string) error {
				return raw.QueryRowContext(ctx, d.point, id).Scan(v)
			}},
			{"tether", func(ctx context.Context, id int, v *string) error {
				return tracked.QueryRowContext(ctx, d.point, id).Scan(v)
			}},
		}
		for _, impl := range impls {
			b.Run("db="+d.name+"/impl="+impl.name, func(b *testing.B) {
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
}

// BenchmarkCheckout takes a connection and gives it back, nothing else:
// sql.DB.Conn and Close, bare and through sqltrack (whose Conn is a tracked
// lease), with a ctx that cannot be cancelled and with one that can.
func BenchmarkCheckout(b *testing.B) {
	d := benchDBs(b)[0]
	raw, tracked := d.open(b, 4, sqltrack.Config{LeakAfter: time.Minute})
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"background", context.Background()}, {"cancelable", cancellable}} {
		impls := []struct {
			name  string
			cycle func(ctx context.Context) error
		}{
			{"database-sql", func(ctx context.Context) error {
				conn, err := raw.Conn(ctx)
				if err != nil {
					return err
				}
				return conn.Close()
			}},
			{"tether", func(ctx context.Context) error {
				conn, err := tracked.Conn(ctx)
				if err != nil {
					return err
				}
				return conn.Close()
			}},
		}
		for _, impl := range impls {
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
// a database of 2 connections, through a handler that leaves its rows
// open. The first two drain the pool; the rest wait. It reports how long
// until the first request fails (ms-to-first-failure) and whether that
// failure names the leaking line (named-holder, 1 or 0). Bare, the waiters
// hang until their own deadline and the error says only that; through
// sqltrack, they fail at AcquireTimeout (100ms) with the holders named.
func BenchmarkLeakingHandler(b *testing.B) {
	d := benchDBs(b)[0]
	const requests, conns = 8, 2
	const deadline = 2 * time.Second
	type leak func(ctx context.Context) (closeRows func(), err error)
	for _, impl := range []struct {
		name    string
		handler func(raw *sql.DB, tracked *sqltrack.DB) leak
	}{
		{"database-sql", func(raw *sql.DB, _ *sqltrack.DB) leak {
			return func(ctx context.Context) (func(), error) {
				rows, err := raw.QueryContext(ctx, "SELECT v FROM t") // BUG: never closed
				if err != nil {
					return nil, err
				}
				return func() { rows.Close() }, nil
			}
		}},
		{"tether", func(_ *sql.DB, tracked *sqltrack.DB) leak {
			return func(ctx context.Context) (func(), error) {
				rows, err := tracked.QueryContext(ctx, "SELECT v FROM t") // BUG: never closed
				if err != nil {
					return nil, err
				}
				return func() { rows.Close() }, nil
			}
		}},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			var first time.Duration
			named := 0
			for b.Loop() {
				raw, tracked := d.open(b, conns, sqltrack.Config{AcquireTimeout: 100 * time.Millisecond})
				handler := impl.handler(raw, tracked)
				firstErr, firstAt, cleanup := testkit.Requests(requests, deadline, handler)
				cleanup()
				first += firstAt
				var te *pool.TimeoutError
				if errors.As(firstErr, &te) && len(te.Holders) > 0 && te.Holders[0].Handle == "rows" &&
					strings.HasPrefix(te.Holders[0].Site, "bench_test.go:") {
					named++
				} else if impl.name == "tether" {
					b.Fatalf("tether's first failure: %v; want a *pool.TimeoutError naming the rows", firstErr)
				}
				raw.Close()
				tracked.Close()
				sqltrack.Lost(tracked).Unregister()
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-to-first-failure")
			b.ReportMetric(float64(named)/float64(b.N), "named-holder")
		})
	}
}
