package sqltrack_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
)

// env is a tracked DB under test with its recorders.
type env struct {
	DB    *sqltrack.DB
	Fake  *fakeDB // nil on SQLite
	Leaks *pooltest.Leaks
	Log   *pooltest.Log
}

// fill sets cfg's unset Name, OnLeak and Logger to the env's recorders.
func (e *env) fill(cfg *sqltrack.Config) {
	if cfg.Name == "" {
		cfg.Name = "test-db"
	}
	if cfg.OnLeak == nil {
		cfg.OnLeak = e.Leaks.OnLeak
	}
	if cfg.Logger == nil {
		cfg.Logger = e.Log.Logger()
	}
}

// newFake opens a DB over the fake driver with at most maxOpen
// connections, and registers its Shutdown (giving handles 5s) with
// t.Cleanup, failing the test if that reports a leak. Call it inside the
// synctest bubble of a test that uses one.
func newFake(t testing.TB, maxOpen int, cfg sqltrack.Config) *env {
	t.Helper()
	e := &env{Fake: &fakeDB{}, Leaks: &pooltest.Leaks{}, Log: &pooltest.Log{}}
	e.fill(&cfg)
	raw := sql.OpenDB(e.Fake)
	raw.SetMaxOpenConns(maxOpen)
	raw.SetMaxIdleConns(maxOpen)
	db, err := sqltrack.Wrap(raw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.DB = db
	t.Cleanup(func() { e.shutdown(t) })
	return e
}

// sqliteDSN names an in-memory SQLite database of its own, shared by the
// connections of one *sql.DB.
func sqliteDSN(t testing.TB) string {
	return fmt.Sprintf("file:/%s-%d?vfs=memdb&_pragma=busy_timeout(5000)", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
}

// newSQLite opens a tracked in-memory SQLite database with at most maxOpen
// connections and runs schema.
func newSQLite(t testing.TB, maxOpen int, cfg sqltrack.Config, schema ...string) *env {
	t.Helper()
	e := &env{Leaks: &pooltest.Leaks{}, Log: &pooltest.Log{}}
	e.fill(&cfg)
	db, err := sqltrack.Open("sqlite", sqliteDSN(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	db.Raw().SetMaxOpenConns(maxOpen)
	db.Raw().SetMaxIdleConns(maxOpen)
	e.DB = db
	t.Cleanup(func() { e.shutdown(t) })
	for _, s := range schema {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return e
}

// shutdown shuts the DB down, failing t if a handle was still open.
func (e *env) shutdown(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.DB.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// wantTimeout returns err as a *pool.TimeoutError, failing t if it is not
// one.
func wantTimeout(t testing.TB, err error) *pool.TimeoutError {
	t.Helper()
	var te *pool.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v; want a *pool.TimeoutError", err)
	}
	if !errors.Is(err, pool.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want it to match pool.ErrTimeout and context.DeadlineExceeded", err)
	}
	return te
}

// wantContains fails unless s contains every one of subs.
func wantContains(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q\nwant it to contain %q", what, s, sub)
		}
	}
}
