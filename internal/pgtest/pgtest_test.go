package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tether-go/tether/internal/pgtest"
)

func TestEnvIsolatesAndCleansUp(t *testing.T) {
	var name string
	t.Run("env", func(t *testing.T) {
		pg := pgtest.New(t)
		name = pg.Name
		c, err := pgx.Connect(t.Context(), pg.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		// Unqualified names land in the test's schema.
		if _, err := c.Exec(t.Context(), `CREATE TABLE kv (k text PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		var schema string
		if err := c.QueryRow(t.Context(), `SELECT table_schema FROM information_schema.tables WHERE table_name = 'kv' AND table_schema = current_schema()`).Scan(&schema); err != nil || schema != pg.Name {
			t.Fatalf("kv is in schema %q (%v); want %q", schema, err, pg.Name)
		}
		pid := c.PgConn().PID()
		if st, ok := pg.Backends()[pid]; !ok || st != "idle" {
			t.Fatalf("Backends() = %v; want %d idle", pg.Backends(), pid)
		}
		pg.Terminate(pid)
		if _, ok := pg.Backends()[pid]; ok {
			t.Fatalf("backend %d still listed after Terminate", pid)
		}
		if err := c.Ping(t.Context()); err == nil {
			t.Fatal("Ping on a terminated backend succeeded")
		}
		dsn := pg.Role(1)
		held, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close(context.Background())
		_, err = pgx.Connect(t.Context(), dsn)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "53300" {
			t.Fatalf("second connection of a role limited to 1: %v; want SQLSTATE 53300", err)
		}
	})
	if name == "" {
		return // skipped
	}
	c, err := pgx.Connect(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(t.Context(),
		`SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1) + (SELECT count(*) FROM pg_roles WHERE rolname = $1 || '_r')`, name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema or role %s left after the test: %d (%v)", name, n, err)
	}
}

// fatalTB records Fatalf instead of failing the real test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func TestTerminateRefusesForeignBackends(t *testing.T) {
	pg := pgtest.New(t)
	other := pgtest.New(t)
	c, err := pgx.Connect(t.Context(), other.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	pid := c.PgConn().PID()
	// pg's Terminate must refuse a backend of another application_name.
	fake := &fatalTB{TB: t}
	refused := pgtest.WithTB(pg, fake)
	done := make(chan struct{})
	go func() {
		defer close(done)
		refused.Terminate(pid)
	}()
	<-done
	if !strings.Contains(fake.msg, "is not one of this test's") {
		t.Fatalf("Terminate of a foreign backend: %q; want a refusal", fake.msg)
	}
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("the foreign backend was hurt: %v", err)
	}
}

func TestSkipsWithoutTheVariable(t *testing.T) {
	t.Setenv(pgtest.EnvVar, "")
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		pgtest.New(t)
	})
	if !skipped {
		t.Fatal("New did not skip without " + pgtest.EnvVar)
	}
}

func TestExecCreatesInTheTestsSchema(t *testing.T) {
	pg := pgtest.New(t)
	pg.Exec("CREATE TABLE pgtest_probe (id int)")
	c, err := pgx.Connect(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var schema string
	if err := c.QueryRow(t.Context(), `SELECT table_schema FROM information_schema.tables WHERE table_name = 'pgtest_probe'`).Scan(&schema); err != nil || schema != pg.Name {
		t.Fatalf("Exec created pgtest_probe in schema %q (%v); want the test's, %q", schema, err, pg.Name)
	}
}
