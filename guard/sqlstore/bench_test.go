package sqlstore_test

// Run the store and a hand-written read-modify-write side by side:
//
//	TETHER_TEST_POSTGRES=postgres://... go test -run '^$' -bench . -benchmem -cpu 1,2 -count 6 ./guard/sqlstore/ | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl bench.txt

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/guard/sqlstore"
)

// incrementer adds one to a key's value in a table, with a version check.
type incrementer interface {
	inc(ctx context.Context, key string) error
	value(ctx context.Context, key string) (int, error)
}

// storeInc is guard.Map.Update through a Store: a SELECT of the row, then
// UPDATE ... WHERE key = $1 AND version = $2, and the writer's task, site,
// process and time recorded on the row.
type storeInc struct{ m *guard.Map[string, int] }

func (s storeInc) inc(ctx context.Context, key string) error {
	_, err := s.m.Update(ctx, key, inc)
	return err
}

func (s storeInc) value(ctx context.Context, key string) (int, error) {
	snap, err := s.m.Load(ctx, key)
	return snap.Value, err
}

// handInc is the same read-modify-write written by hand: a SELECT of value
// and version, then an UPDATE of both WHERE version is still the one read,
// retried on 0 rows. It records nothing about the writer. With prepared
// set it runs prepared statements, as the Store does on a *sql.DB;
// otherwise it sends the SQL text each time.
type handInc struct {
	db                  *sql.DB
	load, update, first string
	loadStmt, updStmt   *sql.Stmt
}

func (h handInc) prepared(tb testing.TB) handInc {
	var err error
	if h.loadStmt, err = h.db.Prepare(h.load); err != nil {
		tb.Fatal(err)
	}
	if h.updStmt, err = h.db.Prepare(h.update); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.loadStmt.Close(); h.updStmt.Close() })
	return h
}

func newHandInc(tb testing.TB, b backend, p place, db *sql.DB) handInc {
	table := p.Prefix + "hand"
	h := handInc{
		db:     db,
		load:   "SELECT value, version FROM " + table + " WHERE key = $1",
		update: "UPDATE " + table + " SET value = $3, version = version + 1 WHERE key = $1 AND version = $2",
		first:  "INSERT INTO " + table + " (key, value, version) VALUES ($1, 0, 1)",
	}
	create := "CREATE TABLE " + table + " (key text PRIMARY KEY, value bigint NOT NULL, version bigint NOT NULL)"
	if b.dialect == sqlstore.SQLite {
		r := strings.NewReplacer("$1", "?1", "$2", "?2", "$3", "?3")
		h.load, h.update, h.first = r.Replace(h.load), r.Replace(h.update), r.Replace(h.first)
	}
	if _, err := db.Exec(create); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(h.first, "k"); err != nil {
		tb.Fatal(err)
	}
	return h
}

func (h handInc) inc(ctx context.Context, key string) error {
	for {
		var v, version int64
		row := h.db.QueryRowContext
		exec := h.db.ExecContext
		if h.loadStmt != nil {
			row = func(ctx context.Context, _ string, args ...any) *sql.Row {
				return h.loadStmt.QueryRowContext(ctx, args...)
			}
			exec = func(ctx context.Context, _ string, args ...any) (sql.Result, error) {
				return h.updStmt.ExecContext(ctx, args...)
			}
		}
		if err := row(ctx, h.load, key).Scan(&v, &version); err != nil {
			return err
		}
		res, err := exec(ctx, h.update, key, version, v+1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
	}
}

func (h handInc) value(ctx context.Context, key string) (int, error) {
	var v, version int
	err := h.db.QueryRowContext(ctx, h.load, key).Scan(&v, &version)
	return v, err
}

// BenchmarkUpdate is one increment's round trip from one goroutine: the
// latency a request pays.
func BenchmarkUpdate(b *testing.B) {
	for _, be := range backends {
		b.Run("db="+be.name, func(b *testing.B) {
			p := be.open(b)
			db := p.db(b)
			ctx := taskCtx("app/bench")
			hand := newHandInc(b, be, p, db)
			impls := []struct {
				name string
				inc  incrementer
			}{
				{"sqlstore", storeInc{guard.NewMapIn("bench", newStore[int](b, be, p, db, "bench"))}},
				{"handwritten", hand},
				{"handwritten-prepared", hand.prepared(b)},
			}
			for _, impl := range impls {
				b.Run("impl="+impl.name, func(b *testing.B) {
					before, err := impl.inc.value(ctx, "k")
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if err := impl.inc.inc(ctx, "k"); err != nil {
							b.Fatal(err)
						}
					}
					if after, err := impl.inc.value(ctx, "k"); err != nil || after != before+b.N {
						b.Fatalf("%d after %d increments from %d: %v", after, b.N, before, err)
					}
				})
			}
		})
	}
}
