package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/guard/sqlstore"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
)

func taskCtx(path string) context.Context {
	return track.WithTask(context.Background(), &track.Task{Path: path})
}

func inc(n int) (int, error) { return n + 1, nil }

// TestMapOnStore is the round trip of a guard.Map through a table: rows
// hold the value, the version and who wrote it, from which process, where
// and when; a stale write is refused with a conflict naming all of it.
func TestMapOnStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		p := b.open(t)
		store := newStore[int](t, b, p, p.db(t), "scores")
		m := guard.NewMapIn("scores", store)
		a, bb := taskCtx("app/a"), taskCtx("app/b")

		if s, err := m.Load(a, "ada"); err != nil || s != (guard.Snapshot[int]{}) {
			t.Fatalf("Load(missing) = %+v, %v; want the zero snapshot", s, err)
		}
		before := time.Now().Add(-time.Second)
		siteB := testkit.Here(1)
		s, err := m.Update(bb, "ada", inc)
		if err != nil || s.Value != 1 || s.Version != 1 || s.Writer != "app/b" || s.Process != store.Process() {
			t.Fatalf("first Update = %+v, %v", s, err)
		}
		got, err := m.Load(a, "ada")
		if err != nil || got.Value != 1 || got.Version != 1 || got.Writer != "app/b" || got.Site.String() != siteB ||
			got.Process != store.Process() || !got.At.Equal(s.At) || got.At.Before(before) {
			t.Fatalf("Load = %+v (site %s), %v; want %+v written at %s", got, got.Site, err, s, siteB)
		}
		if want := fmt.Sprintf("pid %d on %s", os.Getpid(), hostname(t)); store.Process() != want {
			t.Fatalf("Process() = %q, want %q", store.Process(), want)
		}

		siteB2 := testkit.Here(1)
		m.Update(bb, "ada", inc)
		siteA := testkit.Here(1)
		cur, err := m.CompareAndSwap(a, "ada", got.Version, 50)
		want := fmt.Sprintf(`guard "scores" key "ada": stale write by app/a at %s: based on v1, but v2 is current, written by app/b at %s (%s)`,
			siteA, siteB2, store.Process())
		var ce *guard.ConflictError
		if !errors.As(err, &ce) || err.Error() != want || ce.WriterProcess != store.Process() {
			t.Fatalf("stale CompareAndSwap:\n got %v\nwant %s", err, want)
		}
		if cur.Value != 2 || cur.Version != 2 {
			t.Fatalf("returned %+v, want the current row", cur)
		}
		// Creating a key that exists is a conflict too.
		if _, err := m.CompareAndSwap(a, "ada", 0, 7); !errors.Is(err, guard.ErrConflict) ||
			!strings.Contains(err.Error(), "based on v0, but v2 is current") {
			t.Fatalf("create over an existing row: %v", err)
		}
		if err := m.Delete(a, "ada"); err != nil {
			t.Fatal(err)
		}
		if s, _ := m.Load(a, "ada"); s.Version != 0 {
			t.Fatalf("Load after Delete = %+v", s)
		}
		if _, err := m.CompareAndSwap(a, "ada", 2, 7); !errors.Is(err, guard.ErrConflict) ||
			!strings.HasSuffix(err.Error(), "based on v2, but the key no longer exists") {
			t.Fatalf("write based on a deleted row: %v", err)
		}
		if s, err := m.CompareAndSwap(a, "ada", 0, 7); err != nil || s.Version != 1 {
			t.Fatalf("recreating the row = %+v, %v; want v1", s, err)
		}
		if st := m.Stats(); st.Updates != 3 || st.Conflicts != 3 {
			t.Fatalf("Stats = %+v; want 3 updates and 3 conflicts", st)
		}
	})
}

// TestInsertRace has many writers create the same new key at once: the
// INSERT ... ON CONFLICT DO NOTHING lets exactly one win, and the others
// are told who did.
func TestInsertRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		p := b.open(t)
		m := guard.NewMapIn("race", newStore[string](t, b, p, p.db(t), "race"))
		const writers = 8
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			losers  []*guard.ConflictError
		)
		start := make(chan struct{})
		for i := range writers {
			who := "app/w" + strconv.Itoa(i)
			wg.Go(func() {
				<-start
				_, err := m.CompareAndSwap(taskCtx(who), "k", 0, who)
				mu.Lock()
				defer mu.Unlock()
				var ce *guard.ConflictError
				switch {
				case err == nil:
					winners = append(winners, who)
				case errors.As(err, &ce):
					losers = append(losers, ce)
				default:
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 || len(losers) != writers-1 {
			t.Fatalf("%d creates won and %d lost; want 1 and %d", len(winners), len(losers), writers-1)
		}
		for _, ce := range losers {
			if ce.Writer != winners[0] || ce.Current != 1 || ce.Base != 0 {
				t.Errorf("conflict %v does not name the winner %s at v1", ce, winners[0])
			}
		}
		if s, _ := m.Load(context.Background(), "k"); s.Value != winners[0] || s.Version != 1 {
			t.Fatalf("row = %+v, want the winner's value at v1", s)
		}
	})
}

// TestNoLostUpdatesInProcess has goroutines of one process increment a few
// keys through the table.
func TestNoLostUpdatesInProcess(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		const workers, increments, keys = 4, 50, 2
		p := b.open(t)
		m := guard.NewMapIn("counts", newStore[int](t, b, p, p.db(t), "counts"))
		var wg sync.WaitGroup
		for w := range workers {
			ctx := taskCtx("app/w" + strconv.Itoa(w))
			wg.Go(func() {
				for i := range increments {
					if _, err := m.Update(ctx, "k"+strconv.Itoa(i%keys), inc); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		total := 0
		err := m.Range(context.Background(), func(k string, s guard.Snapshot[int]) bool {
			if s.Value != int(s.Version) {
				t.Errorf("key %s: %d at v%d; every commit adds one", k, s.Value, s.Version)
			}
			total += s.Value
			return true
		})
		if err != nil || total != workers*increments {
			t.Fatalf("Range: %v; total %d, want %d", err, total, workers*increments)
		}
		if st := m.Stats(); st.Updates != workers*increments {
			t.Fatalf("Stats = %+v", st)
		}
	})
}

// onlyRow hides QueryContext, as a DB with only the two required methods
// would, so that Range reads one row per query.
type onlyRow struct{ db *sql.DB }

func (o onlyRow) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return o.db.ExecContext(ctx, q, args...)
}

func (o onlyRow) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return o.db.QueryRowContext(ctx, q, args...)
}

// TestRange reads more rows than one page, with and without QueryContext,
// while yield writes through the same Store on a database with a single
// connection.
func TestRange(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		p := b.open(t)
		db := p.db(t)
		db.SetMaxOpenConns(1)
		const n = 250 // two and a half pages
		for _, tc := range []struct {
			name string
			db   sqlstore.DB
		}{{"rows", db}, {"row-by-row", onlyRow{db}}} {
			t.Run("query="+tc.name, func(t *testing.T) {
				m := guard.NewMapIn("squares", newStore[int](t, b, p, tc.db, "squares_"+strings.ReplaceAll(tc.name, "-", "_")))
				ctx := context.Background()
				for i := range n {
					if _, err := m.CompareAndSwap(ctx, fmt.Sprintf("%03d", i), 0, i*i); err != nil {
						t.Fatal(err)
					}
				}
				var keys []string
				err := m.Range(ctx, func(k string, s guard.Snapshot[int]) bool {
					i, _ := strconv.Atoi(k)
					if s.Value != i*i || s.Version != 1 {
						t.Errorf("key %s = %+v", k, s)
					}
					keys = append(keys, k)
					_, err := m.Update(ctx, k, inc) // yield may write
					return err == nil
				})
				if err != nil || len(keys) != n || keys[0] != "000" || keys[n-1] != fmt.Sprintf("%03d", n-1) {
					t.Fatalf("Range: %v, %d keys (%v...)", err, len(keys), keys[:min(3, len(keys))])
				}
				calls := 0
				m.Range(ctx, func(string, guard.Snapshot[int]) bool { calls++; return calls < 3 })
				if calls != 3 {
					t.Fatalf("Range went on after yield returned false: %d calls", calls)
				}
			})
		}
	})
}
