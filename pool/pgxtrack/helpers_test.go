package pgxtrack_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-go/tether/internal/pgtest"
	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/pgxtrack"
)

// site returns "file.go:LINE" of the line above its caller: the line that
// opened a handle, when called right after it.
func site() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line-1)
}

// env is a tracked pool under test with its recorders.
type env struct {
	Pool  *pgxtrack.Pool
	PG    *pgtest.Env
	Leaks *pooltest.Leaks
	Log   *pooltest.Log
}

// newPool makes a tracked pool of at most maxConns connections on the
// test's own schema (or on dsn, if not empty), and registers its Shutdown
// (giving handles 5s) with t.Cleanup, failing the test if that reports a
// leak. It skips the test without TETHER_TEST_POSTGRES.
func newPool(t *testing.T, pg *pgtest.Env, dsn string, maxConns int32, cfg pgxtrack.Config) *env {
	t.Helper()
	e := &env{PG: pg, Leaks: &pooltest.Leaks{}, Log: &pooltest.Log{}}
	if cfg.Name == "" {
		cfg.Name = "test-pool"
	}
	if cfg.OnLeak == nil {
		cfg.OnLeak = e.Leaks.OnLeak
	}
	if cfg.Logger == nil {
		cfg.Logger = e.Log.Logger()
	}
	if dsn == "" {
		dsn = pg.DSN()
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = maxConns
	p, err := pgxtrack.New(context.Background(), pc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Pool = p
	t.Cleanup(func() { e.shutdown(t) })
	// Open the first connection untracked, so that tests with a short
	// AcquireTimeout do not time out on a slow dial.
	if err := p.Raw().Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

// shutdown shuts the pool down, failing t if a handle was still held.
func (e *env) shutdown(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Pool.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// pid returns the backend pid of a query run on the pool.
func (e *env) pid(ctx context.Context) (uint32, error) {
	var p uint32
	err := e.Pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&p)
	return p, err
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
